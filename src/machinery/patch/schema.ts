// Per-field metadata from upstream-shaped OpenAPI v3 component schemas, shared by strategic merge patch and
// server-side apply. The schemas are passed in by the caller; this module never loads them itself.

/**
 * The subset of an OpenAPI v3 schema object that patching and field management read. A type alias without an index
 * signature, so richer schema types (the published OpenAPI documents) are assignable to it.
 */
export type SchemaObject = {
  type?: string;
  format?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  additionalProperties?: SchemaObject | boolean;
  $ref?: string;
  allOf?: SchemaObject[];
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  required?: string[];
};

/** Component schemas keyed like "io.k8s.api.core.v1.PodSpec". */
export type SchemaMap = Record<string, SchemaObject>;

const REF_PREFIX = '#/components/schemas/';

/**
 * Follows `$ref` and single-element `allOf: [{$ref}]` wrappers. Keywords written beside the reference (upstream puts
 * `default`, `description` and sometimes list/map extensions there) win over the referenced schema's own.
 */
export function resolveSchema(schemas: SchemaMap, schema: SchemaObject | undefined, depth = 0): SchemaObject | undefined {
  if (!schema || depth > 32) return schema;
  if (!schema.$ref && !schema.allOf?.length) return schema;
  // Schemas are immutable once loaded, so each wrapper resolves once (this runs for every field of every write).
  let cache = resolved.get(schemas);
  if (!cache) resolved.set(schemas, (cache = new WeakMap()));
  const hit = cache.get(schema);
  if (hit) return hit;
  const result = resolveUncached(schemas, schema, depth);
  if (result) cache.set(schema, result);
  return result;
}

const resolved = new WeakMap<SchemaMap, WeakMap<SchemaObject, SchemaObject>>();

function resolveUncached(schemas: SchemaMap, schema: SchemaObject, depth: number): SchemaObject | undefined {
  let target: SchemaObject | undefined;
  if (schema.$ref) target = schemas[refName(schema.$ref)];
  else if (schema.allOf && schema.allOf.length > 0) {
    // Upstream only wraps a single reference; several entries are merged in order.
    target = {};
    for (const part of schema.allOf) Object.assign(target, resolveSchema(schemas, part, depth + 1) ?? {});
  } else return schema;
  const resolved = resolveSchema(schemas, target, depth + 1) ?? {};
  const local: SchemaObject = { ...schema };
  delete local.$ref;
  delete local.allOf;
  return { ...resolved, ...local };
}

function refName(ref: string): string {
  return ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref;
}

/** The resolved schema of a named component, e.g. "io.k8s.api.apps.v1.Deployment". */
export function namedSchema(schemas: SchemaMap, name: string | undefined): SchemaObject | undefined {
  if (!name) return undefined;
  return resolveSchema(schemas, schemas[name]);
}

/** Schema of field `key` inside an object schema: a declared property, or the value schema of a map. */
export function fieldSchema(schemas: SchemaMap, parent: SchemaObject | undefined, key: string): SchemaObject | undefined {
  if (!parent) return undefined;
  const declared = parent.properties?.[key];
  if (declared) return resolveSchema(schemas, declared);
  const extra = parent.additionalProperties;
  if (extra && typeof extra === 'object') return resolveSchema(schemas, extra);
  return undefined;
}

/** Schema of the elements of an array schema. */
export function itemSchema(schemas: SchemaMap, list: SchemaObject | undefined): SchemaObject | undefined {
  return list?.items ? resolveSchema(schemas, list.items) : undefined;
}

/** True when the schema describes a map with arbitrary keys (additionalProperties) rather than a struct. */
export function isMapSchema(schema: SchemaObject | undefined): boolean {
  return !!schema && !schema.properties && !!schema.additionalProperties && typeof schema.additionalProperties === 'object';
}

/** Patch strategies as upstream's struct tags list them ("merge", "replace", "retainKeys", "merge,retainKeys"). */
export function patchStrategies(schema: SchemaObject | undefined): string[] {
  const s = schema?.['x-kubernetes-patch-strategy'];
  return s ? s.split(',') : [];
}

export function patchMergeKey(schema: SchemaObject | undefined): string {
  return schema?.['x-kubernetes-patch-merge-key'] ?? '';
}
