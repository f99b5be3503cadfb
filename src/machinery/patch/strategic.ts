// Strategic merge patch (application/strategic-merge-patch+json) with the semantics of
// k8s.io/apimachinery/pkg/util/strategicpatch as the API server applies it (MergeParallelList and
// IgnoreUnmatchedNulls on): merge keys, patch strategies, `$patch`, `$setElementOrder/`, `$retainKeys`,
// `$deleteFromPrimitiveList/`. Field metadata comes from OpenAPI v3 schemas (x-kubernetes-patch-*).
import { ApiError } from '../errors.js';
import { decodeBody, goFormat, goTypeName, isMap, JsonSyntaxError, unknownError, unprocessable, unsupportedPatchType, type JsonMap, type PatchBody } from './json.js';
import { fieldSchema, itemSchema, namedSchema, patchMergeKey, patchStrategies, type SchemaMap, type SchemaObject } from './schema.js';

/** Patch types upstream accepts for objects without Go types (custom resources): no strategic merge patch. */
export const SCHEMALESS_PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/** mergepatch's sentinel errors: upstream maps each to a status code (interpretStrategicMergePatchError). */
const BAD_REQUEST_ERRORS = {
  badJsonDoc: 'invalid JSON document',
  primitiveList: 'invalid patch format of primitive list',
  retainKeys: 'invalid patch format of retainKeys',
  setElementOrder: 'invalid patch format of setElementOrder list',
  unsupported: 'strategic merge patch format is not supported',
} as const;
const UNPROCESSABLE_ERRORS = {
  listOfLists: 'lists of lists are not supported',
  retainKeysMismatch: "patch content doesn't match retainKeys list",
} as const;

/** A failure inside the merge; `kind` picks the status upstream answers with. */
class SmpError extends Error {
  constructor(
    message: string,
    readonly kind: 'badRequest' | 'unprocessable' | 'unknown' = 'unknown',
  ) {
    super(message);
  }
}

const badArgType = (expected: string, actual: unknown) => new SmpError(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const noMergeKey = (m: JsonMap, key: string) => new SmpError(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const badPatchType = (t: unknown, m: JsonMap) => new SmpError(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);

export interface StrategicMergeOptions {
  /** Component schemas of the group-version, keyed like "io.k8s.api.core.v1.Pod". */
  schemas: SchemaMap;
  /**
   * Schema name of the patched kind. Undefined means the kind has no Go type (custom resources): upstream refuses
   * strategic merge patch for those with 415. A name missing from `schemas` patches without metadata.
   */
  rootSchema: string | undefined;
}

/**
 * Applies a strategic merge patch body to `original` (not modified) and returns the patched object.
 * Throws ApiError with upstream's status for malformed patches.
 */
export function applyStrategicMergePatch(original: JsonMap, body: PatchBody, opts: StrategicMergeOptions): JsonMap {
  if (opts.rootSchema === undefined) throw unsupportedPatchType(SCHEMALESS_PATCH_TYPES);
  let patch: unknown;
  try {
    patch = decodeBody(body);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw ApiError.badRequest(e.message);
    throw e;
  }
  if (!isMap(patch)) {
    throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch} into Go value of type map[string]interface {}`);
  }
  try {
    return mergeMap(structuredClone(original), patch, new PatchMeta(opts.schemas, namedSchema(opts.schemas, opts.rootSchema)));
  } catch (e) {
    if (!(e instanceof SmpError)) throw e;
    if (e.kind === 'badRequest') throw ApiError.badRequest(e.message);
    if (e.kind === 'unprocessable') throw unprocessable(e.message);
    throw unknownError(e.message);
  }
}

/** Patch metadata of one struct (or map) level, like upstream's LookupPatchMeta over OpenAPI. */
class PatchMeta {
  constructor(
    readonly schemas: SchemaMap,
    readonly schema: SchemaObject | undefined,
  ) {}

  /** Metadata for a map-valued field: the nested level and the field's strategies. */
  forStruct(key: string): { sub: PatchMeta; strategy: string } {
    const field = fieldSchema(this.schemas, this.schema, key);
    return { sub: new PatchMeta(this.schemas, field), strategy: retainKeysStrategy(patchStrategies(field)).strategy };
  }

  /** Metadata for a list-valued field: the element level, strategy and merge key. */
  forSlice(key: string): { elem: PatchMeta; strategy: string; mergeKey: string } {
    const field = fieldSchema(this.schemas, this.schema, key);
    return {
      elem: new PatchMeta(this.schemas, itemSchema(this.schemas, field)),
      strategy: retainKeysStrategy(patchStrategies(field)).strategy,
      mergeKey: patchMergeKey(field),
    };
  }
}

/** Splits "retainKeys" off the strategies list as extractRetainKeysPatchStrategy does. */
function retainKeysStrategy(strategies: string[]): { retainKeys: boolean; strategy: string } {
  if (strategies.length === 0) return { retainKeys: false, strategy: '' };
  if (strategies.length === 1) return strategies[0] === 'retainKeys' ? { retainKeys: true, strategy: '' } : { retainKeys: false, strategy: strategies[0] };
  if (strategies.length === 2) {
    if (strategies[0] === 'retainKeys') return { retainKeys: true, strategy: strategies[1] };
    if (strategies[1] === 'retainKeys') return { retainKeys: true, strategy: strategies[0] };
  }
  throw new SmpError(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

/** Go's reflect kind of a decoded value, with integers apart from floats as upstream decodes them. */
function typeOf(v: unknown): string {
  return goTypeName(v);
}

function mergeMap(original: JsonMap | undefined, patch: JsonMap, meta: PatchMeta): JsonMap {
  if (DIRECTIVE in patch) return directiveInMap(patch[DIRECTIVE], patch);
  const out: JsonMap = original ?? {};
  applyRetainKeys(out, patch);
  mergeSetElementOrder(out, patch, meta);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[key];
      continue;
    }
    if (!(key in out) || typeOf(out[key]) !== typeOf(patchV)) {
      if (!isDeleteList) {
        discardNulls(patchV);
        const cleaned = removeDirectives(patchV);
        if (cleaned.keep) out[key] = cleaned.value;
        else delete out[key];
      }
      continue;
    }
    const current = out[key];
    if (isMap(current)) {
      const { sub, strategy } = meta.forStruct(key);
      out[key] = strategy === 'replace' ? replacement(patchV) : mergeMap(current, patchV as JsonMap, sub);
    } else if (Array.isArray(current)) {
      const { elem, strategy, mergeKey } = meta.forSlice(key);
      out[key] = mergeSliceHandler(current, patchV as unknown[], elem, strategy, mergeKey, isDeleteList);
    } else {
      const cleaned = removeDirectives(patchV);
      if (cleaned.keep) out[key] = cleaned.value;
      else delete out[key];
    }
  }
  return out;
}

function directiveInMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === 'replace') {
    const copy = { ...patch };
    delete copy[DIRECTIVE];
    return copy;
  }
  if (directive === 'delete') return {};
  throw badPatchType(directive, patch);
}

/** Drops null fields from a value the patch adds wholesale: nothing is there for them to delete. */
function discardNulls(v: unknown): void {
  if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else discardNulls(x);
    }
  } else if (Array.isArray(v)) v.forEach(discardNulls);
}

/** Strips directives from a value copied in wholesale; a map that is itself a directive is not kept. */
function removeDirectives(v: unknown): { value: unknown; keep: boolean } {
  if (isMap(v)) {
    if (DIRECTIVE in v) return { value: undefined, keep: false };
    for (const [k, x] of Object.entries(v)) {
      const r = removeDirectives(x);
      if (r.keep) v[k] = r.value;
      else delete v[k];
    }
    return { value: v, keep: true };
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const r = removeDirectives(x);
      if (r.keep) out.push(r.value);
    }
    return { value: out, keep: true };
  }
  return { value: v, keep: true };
}

function extractKey(s: string, prefix: string): string {
  const i = s.indexOf('/');
  if (i < 0 || s.slice(0, i) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) throw new SmpError(BAD_REQUEST_ERRORS.primitiveList, 'badRequest');
    throw new SmpError(BAD_REQUEST_ERRORS.setElementOrder, 'badRequest');
  }
  return s.slice(i + 1);
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!(RETAIN_KEYS in patch)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw new SmpError(BAD_REQUEST_ERRORS.retainKeys, 'badRequest');
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw new SmpError(BAD_REQUEST_ERRORS.retainKeys, 'badRequest');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Processes `$setElementOrder/<field>` with its list: merge, then order by directive, patch, live list. */
function mergeSetElementOrder(original: JsonMap, patch: JsonMap, meta: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = field in original;
    const foundPatch = field in patch;
    const originalList = original[field];
    const patchList = patch[field];
    if (foundOriginal && !Array.isArray(originalList)) throw badArgType('[]interface {}', originalList);
    if (foundPatch && !Array.isArray(patchList)) throw badArgType('[]interface {}', patchList);
    // The live list is merged in place (see mergeSlice): the ordering below reads the aliased array.
    const originalItems = (originalList as unknown[] | undefined) ?? [];
    const patchItems = (patchList as unknown[] | undefined) ?? [];
    const { elem, strategy, mergeKey } = meta.forSlice(field);
    validatePatchWithSetOrderList(patchItems, order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalItems;
    else if (!foundOriginal && foundPatch) merged = patchItems;
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalItems, patchItems, elem, strategy, mergeKey, false);
    else continue;

    const [inOrder, serverOnly] = mergeKey ? partitionMaps(merged, order, mergeKey) : partitionPrimitives(merged, order);
    const kind = sliceElementType(originalItems, patchItems);
    original[field] = normalizeElementOrder(inOrder, serverOnly, order, originalItems, mergeKey, kind);
    delete patch[field];
  }
}

function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? splitDeletes(patchList)[0] : patchList;
  let p = 0;
  let o = 0;
  while (p < nonDelete.length && o < order.length) {
    if (isMap(nonDelete[p]) && DIRECTIVE in (nonDelete[p] as JsonMap)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[p], order[o], mergeKey)) p++;
    o++;
  }
  if (p < nonDelete.length && o >= order.length) {
    throw new SmpError(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isMap(left)) throw badArgType('map[string]interface {}', left);
  if (!isMap(right)) throw badArgType('map[string]interface {}', right);
  if (!(mergeKey in left)) throw noMergeKey(left, mergeKey);
  if (!(mergeKey in right)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(original: unknown[], patch: unknown[], elem: PatchMeta, strategy: string, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (strategy === 'merge' || isDeleteList) return mergeSlice(original, patch, elem, mergeKey, isDeleteList);
  return replacement(patch) as unknown[];
}

/** A patch value that replaces the live one outright: directives and nulls have nothing to act on. */
function replacement(v: unknown): unknown {
  discardNulls(v);
  return removeDirectives(v).value;
}

/**
 * Merges two lists. `original` is mutated the way upstream's Go code mutates the backing array of the live list
 * (deletions shift it left, appended items land in freed slots), because upstream then orders the result by that
 * aliased array; reproducing the aliasing reproduces upstream's element order.
 */
function mergeSlice(original: unknown[], patch: unknown[], elem: PatchMeta, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementType(original, patch);
  let merged: unknown[];
  let base = original;
  let patchRest = patch;
  if (kind !== 'map[string]interface {}') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new SmpError('cannot merge lists without merge key for type map');
    const special = mergeSliceWithSpecialElements(original, patch, mergeKey);
    patchRest = special.patch;
    if (special.replace) {
      base = special.patch;
      patchRest = [];
      merged = [...base];
    } else {
      merged = mergeSliceWithoutSpecialElements(original, special.length, patchRest, mergeKey, elem);
      base = original.slice(0, special.length);
    }
  }
  const [inPatch, serverOnly] = mergeKey ? partitionMaps(merged, patchRest, mergeKey) : partitionPrimitives(merged, patchRest);
  return normalizeElementOrder(inPatch, serverOnly, patchRest, base, mergeKey, kind);
}

/** Applies `$patch: delete` elements in place and reports the live list's remaining length and the plain patch elements. */
function mergeSliceWithSpecialElements(backing: unknown[], patch: unknown[], mergeKey: string): { length: number; patch: unknown[]; replace: boolean } {
  const plain: unknown[] = [];
  let replace = false;
  let length = backing.length;
  for (const v of patch) {
    const m = v as JsonMap;
    if (!(DIRECTIVE in m)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === 'delete') {
      if (!(mergeKey in m)) throw noMergeKey(m, mergeKey);
      for (;;) {
        const idx = findByMergeKey(backing.slice(0, length), mergeKey, m[mergeKey]);
        if (idx < 0) break;
        backing.copyWithin(idx, idx + 1, length);
        length--;
      }
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new SmpError('merging lists cannot yet be specified in the patch');
    } else throw badPatchType(directive, m);
  }
  return { length, patch: plain, replace };
}

function mergeSliceWithoutSpecialElements(backing: unknown[], length: number, patch: unknown[], mergeKey: string, elem: PatchMeta): unknown[] {
  const out = backing.slice(0, length);
  for (const v of patch) {
    const m = v as JsonMap;
    if (!(mergeKey in m)) throw noMergeKey(m, mergeKey);
    const idx = findByMergeKey(out, mergeKey, m[mergeKey]);
    if (idx >= 0) {
      out[idx] = mergeMap(out[idx] as JsonMap, m, elem);
      backing[idx] = out[idx];
    } else {
      discardNulls(m);
      const cleaned = removeDirectives(m);
      if (!cleaned.keep) continue;
      if (out.length < backing.length) backing[out.length] = cleaned.value;
      out.push(cleaned.value);
    }
  }
  return out;
}

function findByMergeKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (!isMap(x)) throw new SmpError(`value for key ${i} is not a map.`);
    if (mergeKey in x && x[mergeKey] === value) return i;
  }
  return -1;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const drop = new Set(toDelete);
  return current.filter((v) => !drop.has(v));
}

/** Keeps the first of equal scalars, moving the last element into each removed slot as upstream's loop does. */
function deduplicateScalars(s: unknown[]): unknown[] {
  const out = [...s];
  let length = out.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (out[i] === out[j]) {
        out[j] = out[length];
        out.length = length;
        length--;
        j--;
      }
    }
  }
  return out;
}

/** The shared element type of the given lists; lists of lists and mixed types are refused. */
function sliceElementType(...lists: unknown[][]): string {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = typeOf(v);
      if (prev === undefined) {
        prev = t;
        if (Array.isArray(v)) throw new SmpError(UNPROCESSABLE_ERRORS.listOfLists, 'unprocessable');
      } else if (prev !== t) {
        throw new SmpError(`list element types are not identical: ${lists.map(goFormat).join(' ')}`);
      }
    }
  }
  if (prev === undefined) throw new SmpError('no elements in any of the given slices');
  return prev;
}

function partitionPrimitives(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inBy = new Set(by);
  const a: unknown[] = [];
  const b: unknown[] = [];
  for (const v of list) (inBy.has(v) ? a : b).push(v);
  return [a, b];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const a: unknown[] = [];
  const b: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw badArgType('map[string]interface {}', v);
    if (!(mergeKey in v)) throw noMergeKey(v, mergeKey);
    (findByMergeKey(by, mergeKey, v[mergeKey]) >= 0 ? a : b).push(v);
  }
  return [a, b];
}

function splitDeletes(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw badArgType('map[string]interface {}', v);
    (v[DIRECTIVE] === 'delete' ? del : keep).push(v);
  }
  return [keep, del];
}

function normalizeElementOrder(patch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: string): unknown[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: string): number {
  const get = kind === 'map[string]interface {}' ? (x: unknown) => (isMap(x) ? x[mergeKey] : undefined) : (x: unknown) => x;
  const want = get(v);
  for (let i = 0; i < list.length; i++) if (get(list[i]) === want) return i;
  return -1;
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: string): unknown[] {
  let items = [...toSort];
  let deletes: unknown[] = [];
  if (kind === 'map[string]interface {}') {
    for (const list of [items, order]) {
      for (const x of list) {
        if (!isMap(x)) throw badArgType('map[string]interface {}', x);
        if (!(mergeKey in x)) throw noMergeKey(x, mergeKey);
      }
    }
    [items, deletes] = splitDeletes(items);
  }
  // Upstream's comparator is not a strict order (unknown items compare "less"), so the result depends on Go's
  // exact stable sort; goSliceStable reproduces it.
  goSliceStable(items, (a, b) => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = indexIn(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  });
  return [...items, ...deletes];
}

function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), reproduced for identical results. */
export function goSliceStable<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessAt = (i: number, j: number) => less(data[i], data[j]);
  const swap = (i: number, j: number) => {
    const t = data[i];
    data[i] = data[j];
    data[j] = t;
  };
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, count: number) => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number) => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
