// metadata.managedFields bookkeeping as upstream's fieldmanager over structured-merge-diff: Update operations
// (create, replace, patch) record what changed for their manager; server-side apply merges the applied
// configuration, prunes what the applier dropped, and refuses (409) to change fields other managers own unless forced.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { isPlainObject, parseApiVersion } from '../../api/object.js';
import { ApiError } from '../errors.js';
import { jsonEqual, unknownError } from '../patch/json.js';
import { namedSchema, type SchemaMap, type SchemaObject } from '../patch/schema.js';
import { FieldSet, fieldPE, pathString, type FieldPath } from './fieldset.js';
import { TypedError, Typer } from './typed.js';

type JsonMap = Record<string, unknown>;

export type { ManagedFieldsEntry };

interface CommonOptions {
  /** Field manager name, e.g. "kubectl-client-side-apply", "kubectl". */
  manager: string;
  /** Version of the request, e.g. "apps/v1" or "v1". */
  apiVersion: string;
  /** Time of the operation; RFC 3339 text or a Date. */
  now: string | Date;
  /** Subresource of the request ("status", "scale"), if any. */
  subresource?: string;
  /** Component schemas of the group-version. */
  schemas: SchemaMap;
  /** Schema name of the kind; undefined for schemaless objects (maps granular, lists atomic). */
  rootSchema: string | undefined;
  /**
   * Field paths (field names from the root) this endpoint never records, upstream's reset fields.
   * Default: ["status"] for the main resource, ["spec"] for the status subresource, none otherwise.
   */
  resetFields?: string[][];
}

export interface TrackUpdateOptions extends CommonOptions {
  operation?: 'Update';
}

export interface ApplyOptions extends CommonOptions {
  /** Take ownership of conflicting fields instead of failing. */
  force: boolean;
}

/** Fields upstream never tracks (its stripMeta manager): exact paths, so nothing below them is affected. */
const STRIPPED: FieldPath[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', fieldPE(f)]),
];
const STRIP_SET = FieldSet.of(...STRIPPED);

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time: string | undefined;
  set: FieldSet;
  /** The FieldsV1 this entry was read from, while `set` is still the set decoded from it (then encoding reuses it). */
  decoded?: { set: FieldSet; fieldsV1: ManagedFieldsEntry['fieldsV1'] };
}

type Managers = Map<string, Manager>;

/** Upstream's BuildManagerIdentifier: appliers are one manager whatever version they apply. */
function identifier(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource]);
}

class DecodeError extends Error {}

/**
 * Reads metadata.managedFields; entries with the same identity are merged. With `canonical`, an entry whose fieldsV1
 * is how this server encodes its set keeps that FieldsV1 for encoding while its set does not change: `canonical`
 * names those entries (all of a stored object's, which this server wrote; or a test per entry).
 */
export function decodeManagedFields(entries: unknown, canonical?: boolean | ((e: ManagedFieldsEntry) => boolean)): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new DecodeError('managedFields must be a list');
  for (const raw of entries) {
    if (!isPlainObject(raw)) throw new DecodeError('managedFields entries must be objects');
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new DecodeError(`unsupported operation ${JSON.stringify(e.operation ?? '')}`);
    if (e.fieldsType !== 'FieldsV1') throw new DecodeError(`invalid fieldsType ${JSON.stringify(e.fieldsType ?? '')}`);
    const set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    if (!set) throw new DecodeError('invalid fieldsV1');
    const m: Manager = {
      manager: e.manager ?? '',
      operation: e.operation,
      apiVersion: e.apiVersion ?? '',
      subresource: e.subresource ?? '',
      time: e.time,
      set,
    };
    const id = identifier(m);
    const prev = out.get(id);
    if (!prev && (canonical === true || (typeof canonical === 'function' && canonical(e)))) m.decoded = { set, fieldsV1: e.fieldsV1 };
    out.set(id, prev ? { ...m, set: prev.set.union(set), time: latest(prev.time, m.time) } : m);
  }
  return out;
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** Writes managers in upstream's order: operation, time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.empty());
  const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  list.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
  return list.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.decoded?.set === m.set ? m.decoded.fieldsV1 : m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** metav1.Time text: RFC 3339 in UTC with whole seconds. */
function timeText(now: string | Date): string {
  const d = typeof now === 'string' ? new Date(now) : now;
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw unknownError(`invalid time ${String(now)}`);
  // Writes come many per second: the text of the current second is kept.
  const second = Math.floor(ms / 1000);
  if (second !== lastTime.second) lastTime = { second, text: d.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return lastTime.text;
}
let lastTime = { second: NaN, text: '' };

function resetFields(opts: CommonOptions): string[][] {
  return opts.resetFields ?? (opts.subresource === undefined || opts.subresource === '' ? [['status']] : opts.subresource === 'status' ? [['spec']] : []);
}

/** The reset fields that are top-level fields. */
function topLevel(resets: string[][]): string[] {
  return resets.filter((p) => p.length === 1).map((p) => p[0]);
}

function resetPrefixes(opts: CommonOptions): FieldPath[] {
  return resetFields(opts).map((p) => p.map(fieldPE));
}

/**
 * The object as compared: without metadata.managedFields and without the top-level fields in `drop`. Nothing below
 * the top level is copied: the comparison only reads it (withZeroStructs builds new maps).
 */
function withoutManagedFields(obj: JsonMap, drop: readonly string[] = []): JsonMap {
  const copy: JsonMap = { ...obj };
  for (const name of drop) delete copy[name];
  if (isPlainObject(copy.metadata)) {
    const { managedFields: _mf, ...meta } = copy.metadata;
    copy.metadata = meta;
  }
  return copy;
}

function withoutTopLevel(obj: JsonMap, drop: readonly string[]): JsonMap {
  for (const name of drop) delete obj[name];
  return obj;
}

/**
 * The zero object of a root schema, built once per schema (every create compares against it). It is only read: the
 * comparison never writes, and callers drop top-level fields from a shallow copy.
 */
const zeroObjects = new WeakMap<SchemaObject, JsonMap>();
function zeroObjectOf(typer: Typer, root: SchemaObject | undefined): JsonMap {
  if (!root) return typer.zeroObject(root);
  let zero = zeroObjects.get(root);
  if (!zero) zeroObjects.set(root, (zero = typer.zeroObject(root)));
  return zero;
}

function context(opts: CommonOptions): { typer: Typer; root: SchemaObject | undefined } {
  return { typer: Typer.for(opts.schemas), root: namedSchema(opts.schemas, opts.rootSchema) };
}

/**
 * Removes from every other manager the fields that changed, and removes removed fields from all;
 * returns the conflicting fields per manager (those an applier would overwrite).
 */
function takeOwnership(managers: Managers, skip: string, changed: FieldSet, removed: FieldSet): Map<string, FieldSet> {
  const conflicts = new Map<string, FieldSet>();
  for (const [id, m] of managers) {
    if (id === skip) continue;
    const conflict = m.set.intersection(changed);
    if (!conflict.empty()) conflicts.set(id, conflict);
    // Untouched sets stay the same object (their stored FieldsV1 is reused).
    if (m.set.intersects(changed) || m.set.intersects(removed)) m.set = m.set.difference(changed).difference(removed);
  }
  return conflicts;
}

function finish(managers: Managers): ManagedFieldsEntry[] {
  for (const m of managers.values()) if (m.set.intersects(STRIP_SET)) m.set = m.set.difference(STRIP_SET);
  return encodeManagedFields(managers);
}

/**
 * The managedFields after an Update-type write (create, update, patch) by `manager`: the fields that changed
 * between `oldObj` (undefined on create) and `newObj` go to that manager's Update entry and leave every other one.
 * The result is empty when nothing is tracked; callers then omit metadata.managedFields.
 */
export function trackUpdate(oldObj: JsonMap | undefined, newObj: JsonMap, opts: TrackUpdateOptions): ManagedFieldsEntry[] {
  const { typer, root } = context(opts);
  // A create that sends no managedFields: the one entry's FieldsV1 depends only on the object's shape.
  if (oldObj === undefined && root && isPlainObject(newObj.metadata) && (newObj.metadata.managedFields === undefined || newObj.metadata.managedFields === null)) {
    return trackCreate(typer, root, newObj, opts);
  }
  return trackChanges(typer, root, oldObj, newObj, opts);
}

/** Shapes remembered per typer and root schema; a full table is emptied (workloads repeat a few shapes). */
const CREATE_SHAPES_MAX = 256;
/** Longer shape keys are not remembered (objects that large are rarely created twice alike). */
const CREATE_SHAPE_KEY_MAX = 64 * 1024;
const createShapes = new WeakMap<Typer, WeakMap<SchemaObject, Map<string, Record<string, unknown> | null>>>();

/**
 * trackUpdate for a create without managedFields: managers start empty, so the result is at most the writer's own
 * entry, whose FieldsV1 is a function of the object's shape (see shapeKey) under the root schema and reset fields.
 * The first object of a shape is tracked in full; later ones copy the FieldsV1 it produced (null: no entry).
 */
function trackCreate(typer: Typer, root: SchemaObject, newObj: JsonMap, opts: TrackUpdateOptions): ManagedFieldsEntry[] {
  const resets = resetFields(opts);
  // The top-level reset fields are left out of the comparison (see trackChanges), so out of the shape too.
  const shape = shapeKey(withoutManagedFields(newObj, topLevel(resets)), '');
  const key = shape === undefined ? undefined : JSON.stringify(resets) + shape;
  let byRoot = createShapes.get(typer);
  if (!byRoot) createShapes.set(typer, (byRoot = new WeakMap()));
  let shapes = byRoot.get(root);
  if (!shapes) byRoot.set(root, (shapes = new Map()));
  const known = key === undefined ? undefined : shapes.get(key);
  if (known === null) return [];
  if (known === undefined) {
    const entries = trackChanges(typer, root, undefined, newObj, opts);
    if (key !== undefined && key.length <= CREATE_SHAPE_KEY_MAX && entries.length <= 1) {
      if (shapes.size >= CREATE_SHAPES_MAX) shapes.clear();
      shapes.set(key, entries.length ? copyFieldsV1(entries[0].fieldsV1 as Record<string, unknown>) : null);
    }
    return entries;
  }
  const e: ManagedFieldsEntry = { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, time: timeText(opts.now), fieldsType: 'FieldsV1', fieldsV1: copyFieldsV1(known) };
  if (opts.subresource) e.subresource = opts.subresource;
  return [e];
}

/** A FieldsV1 tree (maps of maps) copied, so no two objects share one. */
function copyFieldsV1(tree: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(tree)) out[k] = copyFieldsV1(tree[k] as Record<string, unknown>);
  return out;
}

/**
 * What the field set of a created object depends on, as text: maps by their keys in order (values by their shape),
 * scalars outside lists by their kind only (a comparison against the zero object, which holds only structs and
 * nulls, never looks further at a string, number or boolean), lists with every value exactly (their items are named by
 * keys and set values). `exact` is set inside lists. Undefined for values JSON does not make (then nothing is kept).
 */
function shapeKey(v: unknown, exact: '' | 'x'): string | undefined {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'string':
      return exact ? `s${v.length}:${v}` : 's';
    case 'number':
      return exact ? `d${Object.is(v, -0) ? '-0' : String(v)};` : 'd';
    case 'boolean':
      return exact ? (v ? 't' : 'f') : 'b';
    case 'undefined':
      return 'u';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (Array.isArray(v)) {
    let out = `[${v.length}:`;
    for (const item of v) {
      // A hole and an undefined item are walked differently: neither is JSON, neither is remembered.
      if (item === undefined) return undefined;
      const k = shapeKey(item, 'x');
      if (k === undefined) return undefined;
      out += k;
    }
    return `${out}]`;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  let out = '{';
  for (const [name, value] of Object.entries(v as JsonMap)) {
    const k = shapeKey(value, exact);
    if (k === undefined) return undefined;
    out += `${name.length}:${name}${k}`;
  }
  return `${out}}`;
}

/** trackUpdate in full: the comparison of the old and new object and every manager's entry. */
function trackChanges(typer: Typer, root: SchemaObject | undefined, oldObj: JsonMap | undefined, newObj: JsonMap, opts: TrackUpdateOptions): ManagedFieldsEntry[] {
  let managers: Managers;
  try {
    managers = managersForUpdate(oldObj, newObj, !!opts.subresource);
  } catch (e) {
    if (e instanceof DecodeError) return [];
    throw e;
  }
  // Top-level fields whose changes are reset anyway (status for the main resource, spec for status) are left out of
  // the comparison: it would report them only for withoutPrefixes to drop them again.
  const dropped = topLevel(resetFields(opts));
  const before = oldObj ? typer.withZeroStructs(withoutManagedFields(oldObj, dropped), root) : withoutTopLevel({ ...zeroObjectOf(typer, root) }, dropped);
  let changed: FieldSet;
  let removed: FieldSet;
  try {
    // The new object is completed with its zero structs while it is compared, not copied first.
    const c = typer.compareWithZeroStructs(before, withoutManagedFields(newObj, dropped), root);
    const reset = resetPrefixes(opts);
    // A create modifies little (only fields the zero object holds as null): then the added set is the union.
    changed = (c.modified.empty() ? c.added : c.added.union(c.modified)).withoutPrefixes(reset);
    removed = c.removed.withoutPrefixes(reset);
  } catch (e) {
    // Upstream drops managedFields rather than keep entries it cannot maintain.
    if (e instanceof TypedError) return [];
    throw e;
  }
  takeOwnership(managers, '', changed, removed);
  if (!changed.isSubsetOf(STRIP_SET)) {
    const self: Manager = { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource ?? '', time: timeText(opts.now), set: changed };
    const id = identifier(self);
    const prev = managers.get(id);
    managers.set(id, { ...self, set: prev ? prev.set.union(changed) : changed });
  }
  capUpdateManagers(managers);
  return finish(managers);
}

/** Upstream's DefaultMaxUpdateManagers and the bucket older Update entries are folded into. */
const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';

/** Folds the oldest Update entries into one "ancient-changes" entry per version while there are too many. */
function capUpdateManagers(managers: Managers): void {
  const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update' && !m.set.empty());
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const [id, m] = updaters[i];
    const bucket: Manager = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion, subresource: '', time: m.time, set: new FieldSet() };
    const bucketId = identifier(bucket);
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managers.has(bucketId)) {
      const firstEntry = managers.get(first)!;
      managers.delete(first);
      managers.set(bucketId, { ...bucket, time: firstEntry.time, set: firstEntry.set });
    }
    const current = managers.get(bucketId)!;
    managers.set(bucketId, { ...current, time: m.time, set: m.set.union(current.set) });
    managers.delete(id);
    length--;
  }
}

/** Upstream's decodeLiveOrNew: managedFields sent with the new object win unless empty; `[{}]` resets them. */
function managersForUpdate(oldObj: JsonMap | undefined, newObj: JsonMap, isSubresource: boolean): Managers {
  const liveEntries = isPlainObject(oldObj?.metadata) ? oldObj.metadata.managedFields : undefined;
  if (isSubresource) return decodeManagedFields(liveEntries, true);
  const newEntries = isPlainObject(newObj.metadata) ? newObj.metadata.managedFields : undefined;
  if (Array.isArray(newEntries) && newEntries.length === 1 && isPlainObject(newEntries[0]) && Object.keys(newEntries[0]).length === 0) return new Map();
  try {
    const fromNew = decodeManagedFields(newEntries, sameAsStored(liveEntries));
    if (fromNew.size > 0) return fromNew;
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  return decodeManagedFields(liveEntries, true);
}

/** Whether a sent entry's FieldsV1 is the stored one of the same manager (what a client read and sends back). */
function sameAsStored(liveEntries: unknown): (e: ManagedFieldsEntry) => boolean {
  const stored = new Map<string, unknown>();
  if (Array.isArray(liveEntries)) for (const l of liveEntries) if (isPlainObject(l)) stored.set(entryIdentifier(l as ManagedFieldsEntry), l.fieldsV1);
  return (e) => {
    const s = stored.get(entryIdentifier(e));
    return s !== undefined && sameTree(s, e.fieldsV1);
  };
}

/** Equal FieldsV1 with the keys in the same order (the encoding, not only the set). */
function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameTree(a[ka[i]], b[kb[i]])) return false;
  return true;
}

function entryIdentifier(e: ManagedFieldsEntry): string {
  return identifier({ manager: e.manager ?? '', operation: e.operation === 'Apply' ? 'Apply' : 'Update', apiVersion: e.apiVersion ?? '', subresource: e.subresource ?? '' });
}

/**
 * Server-side apply of `applied` (the request body, decoded) onto `live` (undefined when the object does not exist
 * yet). Returns the new object with metadata.managedFields set. Throws 409 Conflict naming the conflicting fields
 * unless `force`, and 400 for configurations upstream rejects.
 */
export function apply(live: JsonMap | undefined, applied: unknown, opts: ApplyOptions): JsonMap {
  if (!isPlainObject(applied)) throw ApiError.badRequest('error decoding YAML: the applied configuration must be an object');
  const patchVersion = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  if (!sameGroupVersion(patchVersion, opts.apiVersion)) {
    throw ApiError.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${patchVersion}, expected: ${opts.apiVersion}`);
  }
  if (isPlainObject(applied.metadata) && applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw ApiError.badRequest('metadata.managedFields must be nil');
  }
  const { typer, root } = context(opts);
  let managers: Managers;
  try {
    managers = decodeManagedFields(isPlainObject(live?.metadata) ? live.metadata.managedFields : undefined, true);
  } catch (e) {
    if (e instanceof DecodeError) throw unknownError(`failed to decode managed fields: ${e.message}`);
    throw e;
  }
  // A deep copy: the merge below may share parts of it with the result it then changes.
  const liveObj = live ? withoutManagedFields(structuredClone(live)) : {};
  if (live && managers.size === 0) {
    // Upstream's skipNonAppliedManager: fields of an untracked object belong to "before-first-apply".
    managers = decodeManagedFields(trackUpdate(undefined, liveObj, { ...opts, manager: BEFORE_FIRST_APPLY, subresource: undefined }));
  }
  const base = live ? typer.withZeroStructs(liveObj, root) : typer.zeroObject(root);
  const reset = resetPrefixes(opts);
  const self: Manager = { manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion, subresource: opts.subresource ?? '', time: undefined, set: new FieldSet() };
  const id = identifier(self);

  let appliedSet: FieldSet;
  try {
    appliedSet = typer.toFieldSet(applied, root).withoutPrefixes(reset);
    rejectDuplicates(typer, applied, root);
  } catch (e) {
    if (e instanceof TypedError) throw unknownError(`failed to create typed patch object (${gvknn(applied)}): ${e.message}`);
    throw e;
  }

  let merged: JsonMap;
  let conflicts: Map<string, FieldSet>;
  try {
    merged = dropNulls(typer.merge(liveObj, applied, root)) as JsonMap;
    const last = managers.get(id);
    managers.set(id, { ...self, apiVersion: opts.apiVersion, time: last?.time, set: appliedSet });
    if (last && !last.set.empty()) merged = prune(typer, root, merged, managers, last.set);
    const c = typer.compare(base, typer.withZeroStructs(merged, root), root);
    const changed = c.added.union(c.modified).withoutPrefixes(reset);
    const removed = c.removed.withoutPrefixes(reset);
    const snapshot = new Map([...managers].map(([k, m]) => [k, { ...m }]));
    conflicts = takeOwnership(snapshot, id, changed, removed);
    if (conflicts.size > 0 && !opts.force) {
      // kubectl's own server-side apply may take over what its client-side apply recorded (upgrade path).
      const allowed = opts.manager === KUBECTL ? lastAppliedFields(typer, root, liveObj) : undefined;
      const remaining = new Map([...conflicts].map(([k, set]) => [k, allowed ? set.difference(allowed) : set] as const).filter(([, set]) => !set.empty()));
      if (remaining.size > 0) throw conflictError(remaining, managers);
    }
    managers = snapshot;
  } catch (e) {
    if (e instanceof TypedError) throw unknownError(`failed to create typed live object (${gvknn(applied)}): ${e.message}`);
    throw e;
  }

  if (opts.manager === KUBECTL) syncLastApplied(merged, applied);
  // Upstream stamps the applier's time only when the object changed.
  if (!live || !jsonEqual(withoutManagedFields(merged), liveObj)) managers.get(id)!.time = timeText(opts.now);
  const entries = finish(managers);
  const meta = isPlainObject(merged.metadata) ? merged.metadata : (merged.metadata = {});
  if (entries.length > 0) meta.managedFields = entries;
  else delete meta.managedFields;
  return merged;
}

const KUBECTL = 'kubectl';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Upstream's TotalAnnotationSizeLimitB. */
const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

function annotationsOf(obj: JsonMap): Record<string, string> | undefined {
  const meta = obj.metadata;
  return isPlainObject(meta) && isPlainObject(meta.annotations) ? (meta.annotations as Record<string, string>) : undefined;
}

/**
 * Fields of the client-side apply annotation whose values still match the live object: conflicts on them do not
 * stop kubectl's server-side apply (upstream's lastAppliedManager).
 */
function lastAppliedFields(typer: Typer, root: SchemaObject | undefined, live: JsonMap): FieldSet | undefined {
  const text = annotationsOf(live)?.[LAST_APPLIED];
  if (!text) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(lastApplied)) return undefined;
  try {
    const c = typer.compare(lastApplied, typer.withZeroStructs(live, root), root);
    return typer.toFieldSet(lastApplied, root).difference(c.modified).difference(c.added).difference(c.removed);
  } catch (e) {
    if (e instanceof TypedError) return undefined;
    throw e;
  }
}

/** kubectl's server-side apply keeps an existing client-side apply annotation in step (upstream's lastAppliedUpdater). */
function syncLastApplied(merged: JsonMap, applied: JsonMap): void {
  const annotations = annotationsOf(merged);
  if (!annotations || !(LAST_APPLIED in annotations)) return;
  const config = structuredClone(applied);
  const configAnnotations = annotationsOf(config);
  if (configAnnotations) delete configAnnotations[LAST_APPLIED];
  const value = `${goJson(config)}\n`;
  annotations[LAST_APPLIED] = value;
  const size = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (size > ANNOTATIONS_SIZE_LIMIT) delete annotations[LAST_APPLIED];
}

/** encoding/json's output for a decoded value: map keys sorted, <, > and & escaped. */
function goJson(v: unknown): string {
  const sortKeys = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (!isPlainObject(x)) return x;
    const out: JsonMap = {};
    for (const k of Object.keys(x).sort()) out[k] = sortKeys(x[k]);
    return out;
  };
  return JSON.stringify(sortKeys(v)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sameGroupVersion(a: string, b: string): boolean {
  const pa = parseApiVersion(a);
  const pb = parseApiVersion(b);
  return pa.group === pb.group && pa.version === pb.version;
}

/** "apps/v1, Kind=Deployment; default/web" as upstream's objectGVKNN prints it. */
function gvknn(obj: JsonMap): string {
  const { group, version } = parseApiVersion(typeof obj.apiVersion === 'string' ? obj.apiVersion : '');
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  return `${group}/${version}, Kind=${typeof obj.kind === 'string' ? obj.kind : ''}; ${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
}

/** Applied configurations may not list the same set value or map key twice. */
function rejectDuplicates(typer: Typer, value: unknown, schema: SchemaObject | undefined, path: FieldPath = []): void {
  const t = typer.typeOf(schema, value);
  if (t.kind === 'list' && !t.atomic && Array.isArray(value)) {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const pe = typer.itemPE(t, item, path, i);
      if (seen.has(pe)) throw new TypedError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      seen.add(pe);
      rejectDuplicates(typer, item, t.elem, [...path, pe]);
    });
  } else if (t.kind === 'map' && !t.atomic && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) rejectDuplicates(typer, v, typer.child(t, schema, k).schema, [...path, fieldPE(k)]);
  }
}

/** Removes fields the applier owned last time and no longer applies, unless some manager still owns them. */
function prune(typer: Typer, root: SchemaObject | undefined, merged: JsonMap, managers: Managers, lastSet: FieldSet): JsonMap {
  const named = (s: FieldSet) => typer.ensureNamedFieldsAreMembers(s, root);
  const remove = (s: FieldSet) => (typer.removeItems(merged, s, root) ?? {}) as JsonMap;
  const last = named(lastSet);
  let owned = new FieldSet();
  for (const m of managers.values()) owned = owned.union(m.set);
  const mergedSet = named(typer.toFieldSet(merged, root));
  const firstPass = named(typer.toFieldSet(remove(last), root));
  const ownedBack = remove(mergedSet.difference(firstPass.union(named(owned))));
  const kept = named(typer.toFieldSet(ownedBack, root));
  return remove(mergedSet.difference(kept).intersection(last));
}

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isPlainObject(v)) {
    const out: JsonMap = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/** Upstream's printManager: `"name"`, with subresource, and `using <version>` for Update managers. */
function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

/** 409 with upstream's message and one FieldManagerConflict cause per field. */
function conflictError(conflicts: Map<string, FieldSet>, managers: Managers): ApiError {
  const list: { manager: Manager; path: FieldPath }[] = [];
  const ids = [...conflicts.keys()].sort((a, b) => cmp(managers.get(a)!.manager, managers.get(b)!.manager) || cmp(a, b));
  for (const id of ids) for (const path of conflicts.get(id)!.paths()) list.push({ manager: managers.get(id)!, path });
  let message: string;
  if (list.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(list[0].manager)}: ${pathString(list[0].path)}`;
  } else {
    const lines: string[] = [];
    for (const id of ids) {
      lines.push(`conflicts with ${printManager(managers.get(id)!)}:`);
      for (const path of conflicts.get(id)!.paths()) lines.push(`- ${pathString(path)}`);
    }
    message = `Apply failed with ${list.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError({
    message,
    reason: 'Conflict',
    code: 409,
    details: { causes: list.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) })) },
  });
}
