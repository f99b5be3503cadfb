// Component schemas for a custom resource version, shaped as upstream's apiextensions OpenAPI builder publishes
// them: the CRD's structural schema with apiVersion/kind/metadata filled in, plus the list kind.
import { COMPONENT_REF_PREFIX, type SchemaObject } from './types.js';
import { META } from './document.js';

export interface CustomResourceNames {
  group: string;
  version: string;
  kind: string;
  listKind: string;
}

/** Upstream's component name for a custom resource kind: the group reversed, "com.example.stable.v1.CronTab". */
export function customSchemaName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

const API_VERSION_DOC =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.';
const KIND_DOC = 'Kind is a string value representing the REST resource this object represents. In CamelCase.';

/**
 * The kind and list components for one served version. Without a schema (no openAPIV3Schema) the object keeps
 * whatever fields it is given, as upstream does for such CRDs.
 */
export function customResourceSchemas(names: CustomResourceNames, openAPIV3Schema: SchemaObject | undefined): Record<string, SchemaObject> {
  const kindName = customSchemaName(names.group, names.version, names.kind);
  const listName = customSchemaName(names.group, names.version, names.listKind);
  const base: SchemaObject = openAPIV3Schema ? structuredClone(openAPIV3Schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const kind: SchemaObject = {
    ...base,
    type: 'object',
    properties: {
      ...base.properties,
      apiVersion: { description: API_VERSION_DOC, type: 'string' },
      kind: { description: KIND_DOC, type: 'string' },
      metadata: { allOf: [{ $ref: COMPONENT_REF_PREFIX + META + 'ObjectMeta' }], description: "Standard object's metadata." },
    },
    'x-kubernetes-group-version-kind': [{ group: names.group, kind: names.kind, version: names.version }],
  };
  const list: SchemaObject = {
    description: `${names.listKind} is a list of ${names.kind}`,
    properties: {
      apiVersion: { description: API_VERSION_DOC, type: 'string' },
      items: { description: `List of ${names.kind.toLowerCase()}s.`, items: { $ref: COMPONENT_REF_PREFIX + kindName }, type: 'array' },
      kind: { description: KIND_DOC, type: 'string' },
      metadata: { allOf: [{ $ref: COMPONENT_REF_PREFIX + META + 'ListMeta' }], description: 'Standard list metadata.' },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: names.group, kind: names.listKind, version: names.version }],
  };
  return { [kindName]: kind, [listName]: list };
}
