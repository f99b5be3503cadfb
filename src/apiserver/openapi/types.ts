// The subset of OpenAPI v3 the API server publishes: component schemas with Kubernetes' x-kubernetes-* extensions,
// and path items for each resource's operations.
import type { GroupVersionKind, JsonValue } from '../../api/object.js';
import type { FieldExtensions, TypeExtensions } from '../../api/schema-extensions.js';

// A type alias rather than an interface so it stays assignable to index-signature shapes (Record<string, unknown>).
export type SchemaObject = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaObject>;
  additionalProperties?: SchemaObject | boolean;
  items?: SchemaObject;
  required?: string[];
  allOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  anyOf?: SchemaObject[];
  $ref?: string;
  default?: JsonValue;
  enum?: JsonValue[];
  nullable?: boolean;
  uniqueItems?: boolean;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-merge-key'?: FieldExtensions['x-kubernetes-patch-merge-key'];
  'x-kubernetes-patch-strategy'?: FieldExtensions['x-kubernetes-patch-strategy'];
  'x-kubernetes-list-type'?: FieldExtensions['x-kubernetes-list-type'];
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: FieldExtensions['x-kubernetes-map-type'];
  'x-kubernetes-unions'?: TypeExtensions['x-kubernetes-unions'];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  /** Other extensions (e.g. x-kubernetes-validations of CRD schemas) pass through untouched. */
  [extension: `x-${string}`]: unknown;
};

export interface ParameterObject {
  name: string;
  in: 'query' | 'path' | 'header';
  description?: string;
  required?: boolean;
  schema: SchemaObject;
}

export interface MediaTypeObject {
  schema: SchemaObject;
}

export interface ResponseObject {
  description: string;
  content?: Record<string, MediaTypeObject>;
}

export interface OperationObject {
  description: string;
  operationId: string;
  tags: string[];
  parameters?: ParameterObject[];
  requestBody?: { content: Record<string, MediaTypeObject>; required: boolean };
  responses: Record<string, ResponseObject>;
  'x-kubernetes-action': 'get' | 'list' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'post' | 'watch' | 'connect';
  'x-kubernetes-group-version-kind'?: GroupVersionKind;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

export type PathItemObject = { [M in HttpMethod]?: OperationObject } & { parameters?: ParameterObject[] };

export interface OpenAPIDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, PathItemObject>;
  components: { schemas: Record<string, SchemaObject>; securitySchemes?: Record<string, JsonValue> };
}

/** Where the component schema of every served kind lives, keyed "group/version/Kind" (core: "/v1/Pod"). */
export type KindSchemaIndex = Record<string, string>;

export function kindKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** "api/v1" or "apis/apps/v1": the key of a group-version in the /openapi/v3 root and in generated file names. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

export const COMPONENT_REF_PREFIX = '#/components/schemas/';
