// metadata.managedFields and server-side apply.
export { apply, trackUpdate, decodeManagedFields, encodeManagedFields, type ApplyOptions, type TrackUpdateOptions, type ManagedFieldsEntry } from './managed.js';
export { FieldSet, pathString, type FieldPath, type PathElement } from './fieldset.js';
