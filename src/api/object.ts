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
  return cloneValue(v) as T;
}

/**
 * A deep copy of JSON-shaped data, as structuredClone makes it but several times faster on API objects (plain
 * objects, arrays and scalars are copied by hand; anything else, such as a Date, still goes to structuredClone).
 */
function cloneValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const out: unknown[] = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = cloneValue(v[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    // JSON.parse makes "__proto__" an own key; plain assignment would set the prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: cloneValue(src[k]), enumerable: true, writable: true, configurable: true });
    else out[k] = cloneValue(src[k]);
  }
  return out;
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
