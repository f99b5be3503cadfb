// RFC 6902 JSON patch (application/json-patch+json) with the checks and error texts of upstream's patch handler,
// which uses gopkg.in/evanphx/json-patch.v4: a body that is not a patch is 400, more than 10000 operations is 413,
// an operation that does not apply (including a failing `test`) is 422.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ApiError } from '../errors.js';
import { decodeBody, isMap, jsonEqual, JsonSyntaxError, unprocessable, type JsonMap, type PatchBody } from './json.js';

/** Upstream's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** Applies a JSON patch body to `target` (not modified) and returns the patched document. */
export function applyJsonPatch(target: JsonMap, body: PatchBody): unknown {
  const ops = decodeJsonPatch(body);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw ApiError.tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  let doc: unknown = structuredClone(target);
  for (const op of ops) {
    try {
      doc = applyOne(doc, op);
    } catch (e) {
      if (e instanceof PatchFailure) throw unprocessable(e.message);
      throw e;
    }
  }
  return doc;
}

type RawOperation = Record<string, unknown>;

function decodeJsonPatch(body: PatchBody): RawOperation[] {
  let decoded: unknown;
  try {
    decoded = decodeBody(body);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw ApiError.badRequest(e.message);
    throw e;
  }
  if (!Array.isArray(decoded)) {
    throw ApiError.badRequest(`json: cannot unmarshal ${jsonKind(decoded)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of decoded) {
    if (!isMap(op) && op !== null) {
      throw ApiError.badRequest(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  return decoded.map((op) => (op ?? {}) as RawOperation);
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** An operation that does not apply; the message is the library's text that upstream passes on. */
class PatchFailure extends Error {}

const MISSING = 'missing value';

function stringField(op: RawOperation, name: 'path' | 'from'): string {
  const v = op[name];
  if (typeof v !== 'string') throw new PatchFailure(`operation missing ${name} field: ${MISSING}`);
  return v;
}

function applyOne(doc: unknown, op: RawOperation): unknown {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  switch (kind) {
    case 'add': {
      const path = stringField(op, 'path');
      const found = findContainer(doc, path);
      if (!found) throw new PatchFailure(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      if (Array.isArray(found.container) && found.key !== '-') {
        const idx = arrayIndex(found.key, found.container.length + 1);
        if (idx === undefined) throw new PatchFailure(`error in add for path: '${path}': Unable to access invalid index: ${found.key}: invalid index referenced`);
        return mutate(doc, { op: 'add', path: replaceLast(path, String(idx)), value: op.value ?? null });
      }
      return mutate(doc, { op: 'add', path, value: op.value ?? null });
    }
    case 'remove': {
      const path = stringField(op, 'path');
      const found = findContainer(doc, path);
      if (!found) throw new PatchFailure(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      const idxPath = existingPath(found, path);
      if (idxPath === undefined) {
        const why = Array.isArray(found.container)
          ? `Unable to access invalid index: ${found.key}: invalid index referenced`
          : `Unable to remove nonexistent key: ${found.key}: ${MISSING}`;
        throw new PatchFailure(`error in remove for path: '${path}': ${why}`);
      }
      return mutate(doc, { op: 'remove', path: idxPath });
    }
    case 'replace': {
      const path = stringField(op, 'path');
      const found = findContainer(doc, path);
      if (!found) throw new PatchFailure(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
      const idxPath = existingPath(found, path);
      if (idxPath === undefined) throw new PatchFailure(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
      return mutate(doc, { op: 'replace', path: idxPath, value: op.value ?? null });
    }
    case 'move':
    case 'copy': {
      const from = stringField(op, 'from');
      const source = findContainer(doc, from);
      if (!source) throw new PatchFailure(`${kind} operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      const fromPath = existingPath(source, from);
      if (fromPath === undefined) throw new PatchFailure(`error in ${kind} for path: '${from}': ${missingWhy(source)}`);
      const value = structuredClone(jsonpatch.getValueByPointer(doc, fromPath) as unknown);
      let next = doc;
      if (kind === 'move') next = mutate(doc, { op: 'remove', path: fromPath });
      const path = stringField(op, 'path');
      if (!findContainer(next, path)) throw new PatchFailure(`${kind} operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      return applyOne(next, { op: 'add', path, value });
    }
    case 'test': {
      const path = stringField(op, 'path');
      const found = findContainer(doc, path);
      if (!found) throw new PatchFailure(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
      const idxPath = existingPath(found, path);
      const actual = idxPath === undefined ? null : (jsonpatch.getValueByPointer(doc, idxPath) as unknown);
      const expected = op.value ?? null;
      if (!jsonEqual(actual ?? null, expected)) throw new PatchFailure(`testing value ${path} failed: test failed`);
      return doc;
    }
    default:
      throw new PatchFailure(`Unexpected kind: ${kind}: unknown object type`);
  }
}

function missingWhy(found: Found): string {
  return Array.isArray(found.container) ? `Unable to access invalid index: ${found.key}: invalid index referenced` : `${MISSING}`;
}

function mutate(doc: unknown, op: Operation): unknown {
  try {
    return jsonpatch.applyOperation(doc, op, false, true).newDocument;
  } catch (e) {
    throw new PatchFailure(e instanceof Error ? e.message : String(e));
  }
}

interface Found {
  container: JsonMap | unknown[];
  key: string;
}

/** evanphx's findObject: the container holding the last path segment, if every step before it exists. */
function findContainer(doc: unknown, pointer: string): Found | undefined {
  const parts = pointer.split('/');
  if (parts.length < 2 || parts[0] !== '') return undefined;
  const keys = parts.slice(1).map(unescapeKey);
  let node: unknown = doc;
  for (const key of keys.slice(0, -1)) {
    if (Array.isArray(node)) {
      const idx = arrayIndex(key, node.length);
      if (idx === undefined) return undefined;
      node = node[idx];
    } else if (isMap(node)) {
      if (!(key in node)) return undefined;
      node = node[key];
    } else return undefined;
  }
  if (!Array.isArray(node) && !isMap(node)) return undefined;
  return { container: node, key: keys[keys.length - 1] };
}

/** The pointer to an existing element (negative array indices made absolute), or undefined. */
function existingPath(found: Found, pointer: string): string | undefined {
  if (Array.isArray(found.container)) {
    const idx = arrayIndex(found.key, found.container.length);
    return idx === undefined ? undefined : replaceLast(pointer, String(idx));
  }
  return found.key in found.container ? pointer : undefined;
}

/** An index below `limit`; negative indices count from the end as evanphx allows. */
function arrayIndex(key: string, limit: number): number | undefined {
  if (!/^-?\d+$/.test(key)) return undefined;
  let idx = Number(key);
  if (idx < 0) idx += limit;
  if (idx < 0 || idx >= limit) return undefined;
  return idx;
}

function replaceLast(pointer: string, last: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/') + 1) + last;
}

function unescapeKey(k: string): string {
  return k.replace(/~1/g, '/').replace(/~0/g, '~');
}
