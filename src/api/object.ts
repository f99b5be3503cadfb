// The shape every stored API object shares. Concrete kinds come from `kubernetes-types`; the API server works on
// this generic shape and per-kind strategies narrow it where they need to.
import type {
  ObjectMeta as ReadonlyObjectMeta,
  ListMeta as ReadonlyListMeta,
  Status,
  StatusDetails,
  StatusCause,
} from 'kubernetes-types/meta/v1.js';

/** Removes `readonly`: the server is the one party that writes the server-set fields. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type ObjectMeta = Mutable<ReadonlyObjectMeta>;
export type ListMeta = Mutable<ReadonlyListMeta>;
export type { Status, StatusDetails, StatusCause };

/** Any API object as stored: apiVersion/kind set, metadata present, everything else kind-specific. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** A plain JSON value, as decoded from a request body. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy of a JSON-compatible value. Cached objects are never mutated: callers clone first. */
export function deepClone<T>(v: T): T {
  return structuredClone(v);
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
