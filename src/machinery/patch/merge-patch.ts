// RFC 7386 JSON merge patch (application/merge-patch+json) as gopkg.in/evanphx/json-patch.v4's MergePatch, which
// upstream's patch handler uses: a body that is not JSON, or is null or a scalar, is 400 "Invalid JSON Patch".
import { ApiError } from '../errors.js';
import { decodeBody, isMap, JsonSyntaxError, type JsonMap, type PatchBody } from './json.js';

const BAD_PATCH = 'Invalid JSON Patch';

/** Applies a merge patch body to `target` (not modified). An array patch replaces the document, as upstream. */
export function applyMergePatch(target: JsonMap, body: PatchBody): unknown {
  let patch: unknown;
  try {
    patch = decodeBody(body);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw ApiError.badRequest(BAD_PATCH);
    throw e;
  }
  if (Array.isArray(patch)) return patch.map(pruneNulls);
  if (!isMap(patch)) throw ApiError.badRequest(BAD_PATCH);
  return mergeValue(structuredClone(target), patch);
}

/** Merges `patch` into `doc` per RFC 7386: null deletes, objects recurse, anything else replaces. */
export function mergeValue(doc: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return pruneNulls(patch);
  const out: JsonMap = isMap(doc) ? doc : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeValue(out[k], v);
  }
  return out;
}

function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneNulls);
  if (isMap(v)) {
    const out: JsonMap = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}
