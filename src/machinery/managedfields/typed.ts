// Schema-aware walks over objects as structured-merge-diff's typed values: the field set an object holds, the
// comparison of two objects, the apply merge, and item removal. List and map semantics come from the OpenAPI
// extensions exactly as kube-openapi converts them (x-kubernetes-list-type, else the patch strategy and merge key).
import { isPlainObject } from '../../api/object.js';
import { jsonEqual } from '../patch/json.js';
import { fieldSchema, itemSchema, resolveSchema, type SchemaMap, type SchemaObject } from '../patch/schema.js';
import { FieldSet, fieldPE, keyPE, valuePE, type FieldPath, type PathElement } from './fieldset.js';

type JsonMap = Record<string, unknown>;

/** A value the typed walk cannot handle (upstream's typed-conversion errors). */
export class TypedError extends Error {}

interface ListType {
  kind: 'list';
  atomic: boolean;
  keys: string[] | undefined;
  elem: SchemaObject | undefined;
}
interface MapType {
  kind: 'map';
  atomic: boolean;
  fields: Record<string, SchemaObject> | undefined;
  elem: SchemaObject | undefined;
}
type Type = { kind: 'scalar' } | ListType | MapType;

/** Walks values against component schemas; an undefined schema is upstream's "deduced" type (unstructured). */
export class Typer {
  /** Types and struct fillers derived from a schema object, which never changes once loaded. */
  private readonly types = new WeakMap<SchemaObject, Type>();
  private readonly fillers = new WeakMap<SchemaObject, Filler[]>();

  constructor(readonly schemas: SchemaMap) {}

  /** One typer per set of schemas, so what it derives is kept across calls. */
  static for(schemas: SchemaMap): Typer {
    let typer = typers.get(schemas);
    if (!typer) typers.set(schemas, (typer = new Typer(schemas)));
    return typer;
  }

  /** The type of `value` under `schema`; `value` only matters for deduced (schemaless) parts. */
  typeOf(schema: SchemaObject | undefined, value: unknown): Type {
    if (!schema || isDeduced(schema)) {
      if (Array.isArray(value)) return DEDUCED_LIST;
      if (isPlainObject(value)) return DEDUCED_MAP;
      return SCALAR;
    }
    let t = this.types.get(schema);
    if (!t) this.types.set(schema, (t = this.deriveType(schema)));
    return t;
  }

  /**
   * The declared fields withZeroStructs may fill in a struct, in declared order: non-pointer structs (`default: {}`
   * with properties) and required fields.
   */
  private fillersOf(schema: SchemaObject, t: MapType): Filler[] {
    let list = this.fillers.get(schema);
    if (list) return list;
    list = [];
    for (const name of Object.keys(t.fields ?? {})) {
      const prop = fieldSchema(this.schemas, schema, name);
      const zeroStruct = !!prop && isPlainObject(prop.default) && !!prop.properties;
      const required = !!schema.required?.includes(name);
      if (zeroStruct || required) list.push({ name, prop, zeroStruct, required });
    }
    this.fillers.set(schema, list);
    return list;
  }

  private deriveType(schema: SchemaObject): Type {
    if (schema['x-kubernetes-int-or-string']) return { kind: 'scalar' };
    if (schema.type === 'array' || schema.items) {
      const elem = itemSchema(this.schemas, schema);
      const listType = schema['x-kubernetes-list-type'];
      if (listType === 'atomic') return { kind: 'list', atomic: true, keys: undefined, elem };
      if (listType === 'set') return { kind: 'list', atomic: false, keys: undefined, elem };
      if (listType === 'map') return { kind: 'list', atomic: false, keys: schema['x-kubernetes-list-map-keys'] ?? [], elem };
      const strategy = schema['x-kubernetes-patch-strategy'];
      if (strategy === 'merge' || strategy === 'merge,retainKeys') {
        const key = schema['x-kubernetes-patch-merge-key'];
        return { kind: 'list', atomic: false, keys: key ? [key] : undefined, elem };
      }
      return { kind: 'list', atomic: true, keys: undefined, elem };
    }
    if (schema.properties || schema.additionalProperties || schema.type === 'object') {
      const extra = schema.additionalProperties;
      return {
        kind: 'map',
        atomic: schema['x-kubernetes-map-type'] === 'atomic',
        fields: schema.properties,
        elem: extra && typeof extra === 'object' ? resolveSchema(this.schemas, extra) : undefined,
      };
    }
    return { kind: 'scalar' };
  }

  /** Schema of a map entry and whether it is a declared struct field (map keys are not). */
  child(t: MapType, parent: SchemaObject | undefined, key: string): { schema: SchemaObject | undefined; declared: boolean } {
    if (t.fields && key in t.fields) return { schema: fieldSchema(this.schemas, parent, key), declared: true };
    return { schema: t.elem, declared: false };
  }

  /** The path element naming a list item: `v:` for sets, `k:` for maps with keys (defaults fill missing keys). */
  itemPE(t: ListType, item: unknown, path: FieldPath, index: number): PathElement {
    if (!t.keys) {
      if (isPlainObject(item)) throw new TypedError(`${pathText(path)}: element ${index}: associative list without keys has an element that's a map type`);
      return valuePE(item);
    }
    if (!isPlainObject(item)) throw new TypedError(`${pathText(path)}: element ${index}: associative list with keys has an element that is not a map type`);
    const key: JsonMap = {};
    for (const k of t.keys) {
      if (item[k] !== undefined && item[k] !== null) key[k] = item[k];
      else {
        const def = fieldSchema(this.schemas, t.elem, k)?.default;
        if (def === undefined) {
          throw new TypedError(`${pathText(path)}: element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
        }
        key[k] = def;
      }
    }
    return keyPE(key);
  }

  /** Upstream's ToFieldSet: leaves, list items, and map entries that are null, empty or not declared fields. */
  toFieldSet(value: unknown, schema: SchemaObject | undefined): FieldSet {
    const out = new FieldSet();
    this.collect(value, schema, [], out);
    return out;
  }

  private collect(value: unknown, schema: SchemaObject | undefined, path: FieldPath, out: FieldSet): void {
    const t = this.typeOf(schema, value);
    if (t.kind === 'scalar' || t.atomic || !shapeMatches(t, value)) {
      out.insert(path);
      return;
    }
    if (t.kind === 'list') {
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => {
        const p = [...path, this.itemPE(t, item, path, i)];
        this.collect(item, t.elem, p, out);
        out.insert(p);
      });
      return;
    }
    if (!isPlainObject(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const c = this.child(t, schema, k);
      const p = [...path, fieldPE(k)];
      this.collect(v, c.schema, p, out);
      if (v === null || (isPlainObject(v) && Object.keys(v).length === 0) || !c.declared) out.insert(p);
    }
  }

  /** Upstream's TypedValue.Compare: what changed from `lhs` to `rhs` (undefined is "absent"). */
  compare(lhs: unknown, rhs: unknown, schema: SchemaObject | undefined): Comparison {
    const res: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
    this.compareAt(lhs, rhs, schema, [], res);
    return res;
  }

  private compareAt(l: unknown, r: unknown, schema: SchemaObject | undefined, path: FieldPath, res: Comparison): void {
    const t = this.typeOf(schema, r !== undefined && r !== null ? r : l);
    let leaf = t.kind === 'scalar' || t.atomic || !shapeMatches(t, l) || !shapeMatches(t, r);
    if (!leaf && t.kind === 'map') {
      const lm = isPlainObject(l) ? l : undefined;
      const rm = isPlainObject(r) ? r : undefined;
      if (isEmptyMap(lm) && isEmptyMap(rm)) leaf = true;
      else {
        for (const k of unionKeys(lm, rm)) this.compareAt(lm?.[k], rm?.[k], this.child(t, schema, k).schema, [...path, fieldPE(k)], res);
      }
    } else if (!leaf && t.kind === 'list') {
      const ll = Array.isArray(l) ? l : [];
      const rl = Array.isArray(r) ? r : [];
      if (ll.length === 0 && rl.length === 0) leaf = true;
      else {
        const li = this.indexItems(t, ll, path);
        const ri = this.indexItems(t, rl, path);
        const order = [...li.keys(), ...[...ri.keys()].filter((pe) => !li.has(pe))];
        for (const pe of order) this.compareAt(li.get(pe), ri.get(pe), t.elem, [...path, pe], res);
      }
    }
    if (leaf) {
      if (l === undefined) res.added.insert(path);
      else if (r === undefined) res.removed.insert(path);
      else if (!jsonEqual(l, r)) res.modified.insert(path);
    }
    if (l === undefined) res.added.insert(path);
    else if (r === undefined) res.removed.insert(path);
  }

  /**
   * compare(lhs, withZeroStructs(rhs), schema) without building the right side: the zero structs withZeroStructs would
   * add are visited where they would be, and only leaves compared against a value on the left are completed.
   */
  compareWithZeroStructs(lhs: unknown, rhs: unknown, schema: SchemaObject | undefined): Comparison {
    const res: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
    this.compareLazy(lhs, rhs, schema, 0, [], res);
    return res;
  }

  /** compareAt(l, withZeroStructs(r, schema, false, depth), schema, path, res). */
  private compareLazy(l: unknown, r: unknown, schema: SchemaObject | undefined, depth: number, path: FieldPath, res: Comparison): void {
    // Where withZeroStructs changes nothing, the plain comparison takes over.
    if (depth > 64 || !schema || r === undefined || r === null) {
      this.compareAt(l, r, schema, path, res);
      return;
    }
    // withZeroStructs keeps arrays arrays and maps maps, so the type read from r is the type of its completed form.
    const t = this.typeOf(schema, r);
    let leaf = t.kind === 'scalar' || t.atomic || !shapeMatches(t, l) || !shapeMatches(t, r);
    if (!leaf && t.kind === 'map' && isPlainObject(r)) {
      const lm = isPlainObject(l) ? l : undefined;
      const added = this.missingZeroStructs(t, schema, r);
      if (isEmptyMap(lm) && Object.keys(r).length === 0 && added.length === 0) leaf = true;
      else {
        // unionKeys(lm, completed r): the left's keys, then the right's own, then the zero structs it would get.
        const visit = (k: string, rv: unknown, childSchema: SchemaObject | undefined) => this.compareLazy(lm?.[k], rv, childSchema, depth + 1, [...path, fieldPE(k)], res);
        if (lm) {
          for (const k of Object.keys(lm)) {
            if (Object.hasOwn(r, k)) visit(k, r[k], this.child(t, schema, k).schema);
            else {
              const z = added.indexOf(k);
              if (z >= 0) visit(k, {}, fieldSchema(this.schemas, schema, k));
              else this.compareAt(lm[k], undefined, this.child(t, schema, k).schema, [...path, fieldPE(k)], res);
            }
          }
        }
        for (const k of Object.keys(r)) if (!lm || !(k in lm)) visit(k, r[k], this.child(t, schema, k).schema);
        for (const k of added) if (!lm || !(k in lm)) visit(k, {}, fieldSchema(this.schemas, schema, k));
      }
    } else if (!leaf && t.kind === 'list' && Array.isArray(r)) {
      const ll = Array.isArray(l) ? l : [];
      if (ll.length === 0 && r.length === 0) leaf = true;
      else if (this.itemsChangeWhenCompleted(t, r)) {
        // Path elements read from completed items could differ: compare the completed list.
        this.compareAt(l, this.withZeroStructs(r, schema, false, depth), schema, path, res);
        return;
      } else {
        const li = this.indexItems(t, ll, path);
        const ri = this.indexItems(t, r, path);
        for (const [pe, item] of li) {
          if (ri.has(pe)) this.compareLazy(item, ri.get(pe), t.elem, depth + 1, [...path, pe], res);
          else this.compareAt(item, undefined, t.elem, [...path, pe], res);
        }
        for (const [pe, item] of ri) if (!li.has(pe)) this.compareLazy(undefined, item, t.elem, depth + 1, [...path, pe], res);
      }
    }
    if (leaf) {
      if (l === undefined) res.added.insert(path);
      else if (!jsonEqual(l, this.withZeroStructs(r, schema, false, depth))) res.modified.insert(path);
    }
    if (l === undefined) res.added.insert(path);
  }

  /**
   * Whether completing the items could change their path elements: a key (or set value) that is itself a map or
   * list, or a key field that is a zero struct (never so in upstream's schemas; then the completed list is compared).
   */
  private itemsChangeWhenCompleted(t: ListType, items: unknown[]): boolean {
    if (!t.keys) return items.some((item) => Array.isArray(item));
    for (const k of t.keys) {
      const prop = fieldSchema(this.schemas, t.elem, k);
      if (prop && isPlainObject(prop.default) && prop.properties) return true;
    }
    return items.some((item) => isPlainObject(item) && t.keys!.some((k) => typeof item[k] === 'object' && item[k] !== null));
  }

  /** The declared zero-struct fields withZeroStructs adds to the map `value` (those it lacks). */
  private missingZeroStructs(t: MapType, schema: SchemaObject, value: JsonMap): string[] {
    const out: string[] = [];
    for (const f of this.fillersOf(schema, t)) {
      // withZeroStructs tests `name in` a fresh object holding value's own keys.
      if (!f.zeroStruct || Object.hasOwn(value, f.name) || f.name in Object.prototype) continue;
      out.push(f.name);
    }
    return out;
  }

  /** Items by path element, first occurrence winning, in list order. */
  private indexItems(t: ListType, list: unknown[], path: FieldPath): Map<PathElement, unknown> {
    const out = new Map<PathElement, unknown>();
    list.forEach((item, i) => {
      const pe = this.itemPE(t, item, path, i);
      if (!out.has(pe)) out.set(pe, item);
    });
    return out;
  }

  /** Upstream's TypedValue.Merge with the applied config on the right: its values win, lists merge by key. */
  merge(lhs: unknown, rhs: unknown, schema: SchemaObject | undefined, path: FieldPath = []): unknown {
    if (rhs === undefined) return lhs;
    if (lhs === undefined) return rhs;
    const t = this.typeOf(schema, rhs);
    if (t.kind === 'scalar' || t.atomic || !shapeMatches(t, lhs) || !shapeMatches(t, rhs) || lhs === null || rhs === null) return rhs;
    if (t.kind === 'map') {
      const l = lhs as JsonMap;
      const r = rhs as JsonMap;
      if (Object.keys(l).length === 0 && Object.keys(r).length === 0) return r;
      const out: JsonMap = {};
      for (const k of unionKeys(l, r)) {
        const merged = this.merge(l[k], r[k], this.child(t, schema, k).schema, [...path, fieldPE(k)]);
        if (merged !== undefined && r[k] !== null) out[k] = merged;
      }
      return out;
    }
    return this.mergeList(t, lhs as unknown[], rhs as unknown[], path);
  }

  /** Upstream's list merge order: live order, with applied items placed where the applied list puts them. */
  private mergeList(t: ListType, lhs: unknown[], rhs: unknown[], path: FieldPath): unknown[] {
    if (lhs.length === 0 && rhs.length === 0) return rhs;
    const lPEs = lhs.map((x, i) => this.itemPE(t, x, path, i));
    const rPEs = rhs.map((x, i) => this.itemPE(t, x, path, i));
    const observedL = firstByPE(lPEs, lhs);
    const observedR = firstByPE(rPEs, rhs);
    const sharedOrder = rPEs.filter((pe) => observedL.has(pe));
    let nextShared = sharedOrder.shift();
    const mergedR = new Set<PathElement>();
    const out: unknown[] = [];
    const mergeItem = (pe: PathElement, l: unknown, r: unknown) => {
      const v = this.merge(l, r, t.elem, [...path, pe]);
      if (v !== undefined) out.push(v);
    };
    let li = 0;
    let ri = 0;
    while (li < lPEs.length || ri < rPEs.length) {
      if (li < lPEs.length && ri < rPEs.length) {
        const pe = lPEs[li];
        if (pe === rPEs[ri]) {
          mergedR.add(pe);
          mergeItem(pe, observedL.get(pe), observedR.get(pe));
          li++;
          ri++;
          nextShared = sharedOrder.shift();
          continue;
        }
        if (observedR.has(pe) && nextShared !== undefined && nextShared !== lPEs[li]) {
          li++;
          continue;
        }
      }
      if (li < lPEs.length) {
        const pe = lPEs[li];
        if (!observedR.has(pe)) {
          mergeItem(pe, lhs[li], undefined);
          li++;
          continue;
        } else if (mergedR.has(pe)) {
          li++;
          continue;
        }
      }
      if (ri < rPEs.length) {
        const pe = rPEs[ri];
        mergedR.add(pe);
        mergeItem(pe, observedL.get(pe), observedR.get(pe));
        ri++;
        if (nextShared !== undefined && nextShared === pe) nextShared = sharedOrder.shift();
      }
    }
    return out;
  }

  /** Removes the fields and list items that are members of `set`; containers emptied by it go too. */
  removeItems(value: unknown, set: FieldSet, schema: SchemaObject | undefined, path: FieldPath = []): unknown {
    const t = this.typeOf(schema, value);
    if (t.kind === 'scalar' || t.atomic) return value;
    if (t.kind === 'list') {
      if (!Array.isArray(value) || value.length === 0) return value;
      const out: unknown[] = [];
      value.forEach((item, i) => {
        const pe = this.itemPE(t, item, path, i);
        if (set.members.has(pe)) return;
        const sub = set.get(pe);
        const kept = sub ? this.removeItems(item, sub, t.elem, [...path, pe]) : item;
        if (kept !== undefined) out.push(kept);
      });
      return out.length === 0 ? undefined : out;
    }
    if (!isPlainObject(value) || Object.keys(value).length === 0) return value;
    const out: JsonMap = {};
    for (const [k, v] of Object.entries(value)) {
      const pe = fieldPE(k);
      if (set.members.has(pe)) continue;
      const sub = set.get(pe);
      const kept = sub ? this.removeItems(v, sub, this.child(t, schema, k).schema, [...path, pe]) : v;
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }

  /** Upstream's EnsureNamedFieldsAreMembers: struct fields with owned children count as owned themselves. */
  ensureNamedFieldsAreMembers(set: FieldSet, schema: SchemaObject | undefined): FieldSet {
    const out = new FieldSet();
    for (const m of set.members) out.members.add(m);
    const t = schema && !isDeduced(schema) ? this.typeOf(schema, undefined) : undefined;
    for (const [pe, child] of set.children) {
      let childSchema: SchemaObject | undefined;
      if (t?.kind === 'map' && pe.startsWith('f:')) {
        const c = this.child(t, schema, pe.slice(2));
        childSchema = c.schema;
        if (c.declared) out.members.add(pe);
      } else if (t?.kind === 'list') childSchema = t.elem;
      out.children.set(pe, this.ensureNamedFieldsAreMembers(child, childSchema));
    }
    return out;
  }

  /**
   * The empty object of a kind as upstream's typed conversion sees it: non-pointer structs (`default: {}`) present
   * and empty, other required (non-omitempty) fields null. Comparisons against it decide which fields are "added".
   */
  zeroObject(schema: SchemaObject | undefined): JsonMap {
    return this.withZeroStructs({}, schema, true) as JsonMap;
  }

  /**
   * `value` as upstream's typed objects serialize it: non-pointer struct fields (schemas with `default: {}`) are
   * always present, so comparing such fields never reports them "added" on their own.
   */
  withZeroStructs(value: unknown, schema: SchemaObject | undefined, nullRequired = false, depth = 0): unknown {
    if (depth > 64 || !schema) return value;
    const t = this.typeOf(schema, value);
    if (t.kind === 'list' && Array.isArray(value)) return value.map((item) => this.withZeroStructs(item, t.elem, false, depth + 1));
    if (t.kind !== 'map' || !isPlainObject(value)) return value;
    const out: JsonMap = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.withZeroStructs(v, this.child(t, schema, k).schema, false, depth + 1);
    for (const f of this.fillersOf(schema, t)) {
      if (f.name in out) continue;
      if (f.zeroStruct) out[f.name] = this.withZeroStructs({}, f.prop, nullRequired, depth + 1);
      else if (nullRequired && f.required) out[f.name] = null;
    }
    return out;
  }
}

interface Filler {
  name: string;
  prop: SchemaObject | undefined;
  zeroStruct: boolean;
  required: boolean;
}

const typers = new WeakMap<SchemaMap, Typer>();
const SCALAR: Type = { kind: 'scalar' };
const DEDUCED_LIST: Type = { kind: 'list', atomic: true, keys: undefined, elem: undefined };
const DEDUCED_MAP: Type = { kind: 'map', atomic: false, fields: undefined, elem: undefined };

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

function isDeduced(schema: SchemaObject): boolean {
  return !!schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties && !schema.items;
}

function shapeMatches(t: Type, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (t.kind === 'list') return Array.isArray(v);
  if (t.kind === 'map') return isPlainObject(v);
  return true;
}

function isEmptyMap(m: JsonMap | undefined): boolean {
  return !m || Object.keys(m).length === 0;
}

function unionKeys(a: JsonMap | undefined, b: JsonMap | undefined): string[] {
  const keys = Object.keys(a ?? {});
  for (const k of Object.keys(b ?? {})) if (!a || !(k in a)) keys.push(k);
  return keys;
}

function firstByPE(pes: PathElement[], items: unknown[]): Map<PathElement, unknown> {
  const out = new Map<PathElement, unknown>();
  pes.forEach((pe, i) => {
    if (!out.has(pe)) out.set(pe, items[i]);
  });
  return out;
}

function pathText(path: FieldPath): string {
  return path.map((pe) => (pe.startsWith('f:') ? `.${pe.slice(2)}` : `[${pe.slice(2)}]`)).join('');
}
