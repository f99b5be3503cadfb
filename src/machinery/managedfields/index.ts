// metadata.managedFields and server-side apply, as upstream's fieldmanager.
//
// How the API server uses it:
// - create (POST), update (PUT), and PATCH with json/merge/strategic patches: after building the new object, set
//   `metadata.managedFields = trackUpdate(old | undefined, newObj, { manager, apiVersion, now, subresource, schemas,
//   rootSchema })` (omit the field when the result is empty). `manager` is the fieldManager query parameter or the
//   user agent's prefix (upstream's managerOrUserAgent).
// - PATCH with application/apply-patch+yaml: `apply(live | undefined, body, { manager, force, apiVersion, now, ... })`
//   returns the object to store, managedFields included; it throws 409 on conflicts and 400 on bad configurations.
export {
  apply,
  trackUpdate,
  type ApplyOptions,
  type TrackUpdateOptions,
  type ManagedFieldsEntry,
} from './managed.js';
export { FieldSet, pathString, type FieldPath, type PathElement } from './fieldset.js';
