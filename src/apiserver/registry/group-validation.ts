// Helpers shared by the non-core group strategies: safe accessors for request bodies that may have any JSON
// shape, and JSON-semantics equality for immutability checks.
import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from '../../api/object.js';
import { fieldErr, type FieldError } from '../../machinery/errors.js';
import { Quantity, QuantityParseError, quantityFromJSON } from '../../machinery/quantity.js';
import { validateNonnegativeQuantity } from '../../machinery/validation.js';

export type Json = Record<string, unknown>;

/** The value as an object, or undefined when it is missing or not an object. */
export function asObject(v: unknown): Json | undefined {
  return isPlainObject(v) ? v : undefined;
}

/** The value as an array; anything else (missing, null, wrong type) is the empty list. */
export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value as a string; anything else is "". Go's zero value, which upstream validation tests against. */
export function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The value as a string array (non-strings dropped). */
export function asStrings(v: unknown): string[] {
  return asArray(v).filter((x): x is string => typeof x === 'string');
}

/** The child object at `key`, created when absent, so defaulting can fill nested fields. */
export function ensureObject(parent: Json, key: string): Json {
  const cur = parent[key];
  if (isPlainObject(cur)) return cur;
  const created: Json = {};
  parent[key] = created;
  return created;
}

/** Deep equality with JSON semantics: a missing field equals undefined. */
export function sameValue(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalize(a), normalize(b));
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (isPlainObject(v)) {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = normalize(x);
    return out;
  }
  return v;
}

/** True when `v` is an integer number (JSON has no separate integer type). */
export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/**
 * Decodes a quantity field. Upstream rejects unparsable quantities while decoding the body; here they surface
 * as an Invalid error on the field instead, with the parser's message.
 */
export function decodeQuantity(v: unknown, path: string): { quantity?: Quantity; errs: FieldError[] } {
  try {
    return { quantity: quantityFromJSON(v), errs: [] };
  } catch (e) {
    if (e instanceof QuantityParseError) return { errs: [fieldErr.invalid(path, v, e.message)] };
    throw e;
  }
}

/** A quantity field in a request body that must decode and not be negative (upstream's ValidateNonnegativeQuantity). */
export function validateNonnegativeQuantityField(v: unknown, path: string): FieldError[] {
  const { quantity, errs } = decodeQuantity(v, path);
  return quantity ? validateNonnegativeQuantity(quantity, path) : errs;
}
