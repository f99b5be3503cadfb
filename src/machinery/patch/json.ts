// JSON helpers that reproduce what upstream's Go code prints: decoding errors and `%v` renderings of decoded values
// appear verbatim in upstream's patch error messages.
import { ApiError } from '../errors.js';

export type JsonMap = Record<string, unknown>;

/** A request body as the API server received it, or an already decoded value. */
export type PatchBody = string | Uint8Array | unknown;

export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes a patch body; raw text that is not JSON yields the Go decoder's wording. */
export function decodeBody(body: PatchBody): unknown {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return structuredClone(body);
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonSyntaxError(goSyntaxMessage(text));
  }
}

export class JsonSyntaxError extends Error {}

/** Approximates encoding/json's syntax error text for the first offending character. */
function goSyntaxMessage(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'unexpected end of JSON input';
  const first = trimmed[0];
  if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
  return 'unexpected end of JSON input';
}

/** The Go type name a decoded JSON value has (`reflect.TypeOf(v)` printed), integers kept apart as upstream does. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

/** Go's `%v` rendering of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Deep equality of JSON values; a key whose value is undefined counts as absent, as it serializes. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    if (ka.length !== Object.keys(b).filter((k) => b[k] !== undefined).length) return false;
    return ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The error upstream's PatchResource returns for a patch content type the resource does not accept. */
export function unsupportedPatchType(accepted: string[]): ApiError {
  return new ApiError({
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    reason: 'UnsupportedMediaType',
    code: 415,
  });
}

/** An error upstream does not convert to a Status: the handler answers 500 with reason Unknown and the raw text. */
export function unknownError(message: string): ApiError {
  return new ApiError({ message, code: 500 });
}

/** Upstream's NewGenericServerResponse(422, ...) used for patches that cannot be applied. */
export function unprocessable(serverMessage: string): ApiError {
  return new ApiError({
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    code: 422,
    details: { causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }] },
  });
}
