// PATCH request bodies: JSON patch, JSON merge patch and strategic merge patch, with upstream's errors.
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, SCHEMALESS_PATCH_TYPES, type StrategicMergeOptions } from './strategic.js';
export { unsupportedPatchType, type JsonMap, type PatchBody } from './json.js';
export {
  fieldSchema,
  isMapSchema,
  itemSchema,
  namedSchema,
  patchMergeKey,
  patchStrategies,
  resolveSchema,
  type SchemaMap,
  type SchemaObject,
} from './schema.js';
