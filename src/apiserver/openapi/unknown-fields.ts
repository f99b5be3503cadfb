// Finds fields of a decoded object that its schema does not declare, with the paths upstream's strict decoder
// reports for fieldValidation=Strict/Warn ("spec.template.spec.containers[0].foo").
import { isPlainObject } from '../../api/object.js';
import { COMPONENT_REF_PREFIX, type SchemaObject } from './types.js';

export type SchemaLookup = (name: string) => SchemaObject | undefined;

/** Follows $ref and single-element allOf wrappers to the schema that describes the value. */
export function resolveSchema(schema: SchemaObject | undefined, lookup: SchemaLookup): SchemaObject | undefined {
  let s = schema;
  for (let hops = 0; s && hops < 32; hops++) {
    if (s.$ref) {
      s = s.$ref.startsWith(COMPONENT_REF_PREFIX) ? lookup(s.$ref.slice(COMPONENT_REF_PREFIX.length)) : undefined;
    } else if (s.allOf?.length === 1 && !s.properties && !s.items && !s.additionalProperties) {
      s = s.allOf[0];
    } else {
      return s;
    }
  }
  return s;
}

/**
 * Fields of `value` unknown to `schema`, each as `unknown field "<path>"`, in document order; with `prune` they are
 * also deleted in place as they are found (one walk for a request body that is both checked and pruned).
 */
export function findUnknownFields(value: unknown, schema: SchemaObject | undefined, lookup: SchemaLookup, prune = false): string[] {
  const out: string[] = [];
  walk(value, schema, '', lookup, (obj, key, path) => {
    out.push(`unknown field ${JSON.stringify(path)}`);
    if (prune) delete obj[key];
  });
  return out;
}

/** Deletes, in place, the fields findUnknownFields reports (fieldValidation Ignore/Warn drop them as upstream's decoder does). */
export function pruneUnknownFields(value: unknown, schema: SchemaObject | undefined, lookup: SchemaLookup): void {
  walk(value, schema, '', lookup, (obj, key) => delete obj[key]);
}

const EMBEDDED_FIELDS: Readonly<Record<string, SchemaObject>> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { $ref: `${COMPONENT_REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` },
};

type OnUnknown = (obj: Record<string, unknown>, key: string, path: string) => void;

function walk(value: unknown, schema: SchemaObject | undefined, path: string, lookup: SchemaLookup, onUnknown: OnUnknown): void {
  const s = resolveSchema(schema, lookup);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (s.items) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) walk(item, s.items, `${path}[${i}]`, lookup, onUnknown);
      }
    }
    return;
  }
  if (!isPlainObject(value)) return;
  const props = s.properties;
  const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  // An object schema that declares nothing (RawExtension, FieldsV1, JSON) holds arbitrary content.
  if (!props && !extra) return;
  for (const key of Object.keys(value)) {
    // An embedded resource (x-kubernetes-embedded-resource) always takes apiVersion, kind and metadata.
    // Own properties only: a field named "constructor" or "__proto__" is not declared by Object.prototype.
    const declared = props && Object.hasOwn(props, key) ? props[key] : undefined;
    const embedded = s['x-kubernetes-embedded-resource'] && Object.hasOwn(EMBEDDED_FIELDS, key) ? EMBEDDED_FIELDS[key] : undefined;
    const propSchema = declared ?? embedded ?? extra;
    const v = value[key];
    if (propSchema) {
      // Only maps and lists hold fields: a scalar (or null) below a known field has nothing to report.
      if (typeof v === 'object' && v !== null) walk(v, propSchema, path ? `${path}.${key}` : key, lookup, onUnknown);
    } else if (s.additionalProperties !== true) onUnknown(value, key, path ? `${path}.${key}` : key);
  }
}
