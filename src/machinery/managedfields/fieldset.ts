// Sets of field paths as structured-merge-diff's fieldpath.Set: path elements are kept in their FieldsV1 spelling
// ("f:name", "k:{\"name\":\"x\"}", "v:\"a\"", "i:0"), ordered and serialized as upstream does.
import { isPlainObject } from '../../api/object.js';

/** One path element in FieldsV1 spelling. */
export type PathElement = string;
export type FieldPath = PathElement[];

export const fieldPE = (name: string): PathElement => `f:${name}`;
export const valuePE = (v: unknown): PathElement => `v:${JSON.stringify(v)}`;
export const indexPE = (i: number): PathElement => `i:${i}`;
/** A map-list item's key: fields sorted by name, as upstream's FieldList. */
export function keyPE(fields: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(fields).sort(compareStrings)) sorted[k] = fields[k];
  return `k:${JSON.stringify(sorted)}`;
}

export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    let node = path.length > 1 ? this.child(path[0]) : undefined;
    for (let i = 1; i < path.length - 1; i++) node = node!.child(path[i]);
    (node ?? this).members.add(path[path.length - 1]);
  }

  /** The subset at `path` (a chain of children), if it exists. */
  private at(path: FieldPath): FieldSet | undefined {
    return path.reduce<FieldSet | undefined>((n, pe) => n?.children.get(pe), this);
  }

  child(pe: PathElement): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  /** The subset under `pe`, if any. */
  get(pe: PathElement): FieldSet | undefined {
    return this.children.get(pe);
  }

  has(path: FieldPath): boolean {
    return !!this.at(path.slice(0, -1))?.members.has(path[path.length - 1]);
  }

  empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  clone(): FieldSet {
    return this.union(new FieldSet());
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const m of other.members) out.members.add(m);
    for (const [pe, c] of this.children) out.children.set(pe, c.union(other.children.get(pe) ?? new FieldSet()));
    for (const [pe, c] of other.children) if (!this.children.has(pe)) out.children.set(pe, c.union(new FieldSet()));
    out.prune();
    return out;
  }

  /** Members of `other` leave; children are subtracted recursively (a member does not remove what is below it). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      const d = o ? c.difference(o) : c.clone();
      if (!d.empty()) out.children.set(pe, d);
    }
    return out;
  }

  /** Whether difference(other) would be empty (without building it). */
  isSubsetOf(other: FieldSet): boolean {
    for (const m of this.members) if (!other.members.has(m)) return false;
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (o ? !c.isSubsetOf(o) : !c.empty()) return false;
    }
    return true;
  }

  /** Whether intersection(other) would be non-empty (without building it). */
  intersects(other: FieldSet): boolean {
    for (const m of this.members) if (other.members.has(m)) return true;
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (o && c.intersects(o)) return true;
    }
    return false;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (!o) continue;
      const i = c.intersection(o);
      if (!i.empty()) out.children.set(pe, i);
    }
    return out;
  }

  /** Removes every path that starts with one of `prefixes` (upstream's ExcludeFilter of reset fields). */
  withoutPrefixes(prefixes: FieldPath[]): FieldSet {
    const out = this.clone();
    for (const p of prefixes) {
      if (p.length === 0) return new FieldSet();
      const node = out.at(p.slice(0, -1));
      if (!node) continue;
      node.members.delete(p[p.length - 1]);
      node.children.delete(p[p.length - 1]);
    }
    out.prune();
    return out;
  }

  /** Every member path, in upstream's iteration order: this level's members, then each child. */
  paths(prefix: FieldPath = []): FieldPath[] {
    const out: FieldPath[] = [];
    for (const m of [...this.members].sort(comparePE)) out.push([...prefix, m]);
    for (const pe of [...this.children.keys()].sort(comparePE)) out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    return out;
  }

  private prune(): void {
    for (const [pe, c] of this.children) {
      c.prune();
      if (c.empty()) this.children.delete(pe);
    }
  }

  /** FieldsV1 JSON: `{"f:a":{},"f:b":{".":{},"f:c":{}}}`, keys in upstream's order. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false) ?? {};
  }

  /** This level's FieldsV1 (with "." when it is also a member of its parent), or undefined when the set is empty. */
  private emit(includeSelf: boolean): Record<string, unknown> | undefined {
    const entries: [PathElement, Record<string, unknown>][] = [];
    const withChildren = new Set<PathElement>();
    for (const [pe, c] of this.children) {
      const sub = c.emit(this.members.has(pe));
      if (!sub) continue;
      entries.push([pe, sub]);
      withChildren.add(pe);
    }
    for (const m of this.members) if (!withChildren.has(m)) entries.push([m, {}]);
    if (entries.length === 0) return undefined;
    entries.sort((a, b) => comparePE(a[0], b[0]));
    const out: Record<string, unknown> = {};
    if (includeSelf) out['.'] = {};
    for (const [pe, sub] of entries) out[pe] = sub;
    return out;
  }

  /** Parses FieldsV1; returns undefined for anything that is not FieldsV1 shaped. */
  static fromFieldsV1(v: unknown): FieldSet | undefined {
    if (!isPlainObject(v)) return undefined;
    const out = new FieldSet();
    for (const [k, child] of Object.entries(v)) {
      if (k === '.') continue;
      if (!/^[fkvi]:/.test(k) || !isPlainObject(child)) return undefined;
      const pe = normalizePE(k);
      if (pe === undefined) return undefined;
      const entries = Object.keys(child);
      if (entries.length === 0 || entries.includes('.')) out.members.add(pe);
      if (entries.some((e) => e !== '.')) {
        const sub = FieldSet.fromFieldsV1(child);
        if (!sub) return undefined;
        out.children.set(pe, sub);
      }
    }
    return out;
  }
}

/** Re-spells a parsed element canonically (keys sorted) so equal elements compare equal. */
function normalizePE(pe: string): PathElement | undefined {
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return pe;
    case 'i':
      return /^\d+$/.test(body) ? pe : undefined;
    case 'k':
    case 'v': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return undefined;
      }
      if (pe[0] === 'k') return isPlainObject(parsed) ? keyPE(parsed) : undefined;
      return valuePE(parsed);
    }
  }
  return undefined;
}

function compareStrings(a: string, b: string): number {
  // Go compares strings bytewise; for UTF-8 that is code point order. UTF-16 code units are in code point order too,
  // except that surrogates (U+D800-DFFF, which encode code points above U+FFFF) sort below U+E000-FFFF: at the first
  // difference, such a pair is put back in code point order.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const PE_KIND_ORDER = 'fkvi';

/** Upstream's PathElement.Compare: field names, then keys, then values, then indices. */
export function comparePE(a: PathElement, b: PathElement): number {
  // Two field names: the common "f:" prefix does not change their order.
  if (a.charCodeAt(0) === 0x66 && b.charCodeAt(0) === 0x66) return compareStrings(a, b);
  const ka = PE_KIND_ORDER.indexOf(a[0]);
  const kb = PE_KIND_ORDER.indexOf(b[0]);
  if (ka !== kb) return ka - kb;
  const ba = a.slice(2);
  const bb = b.slice(2);
  switch (a[0]) {
    case 'f':
      return compareStrings(ba, bb);
    case 'i':
      return Number(ba) - Number(bb);
    case 'k':
      return compareFieldLists(JSON.parse(ba) as Record<string, unknown>, JSON.parse(bb) as Record<string, unknown>);
    default:
      return compareValues(JSON.parse(ba), JSON.parse(bb));
  }
}

function compareFieldLists(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort(compareStrings);
  const kb = Object.keys(b).sort(compareStrings);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = compareStrings(ka[i], kb[i]);
    if (c !== 0) return c;
    const v = compareValues(a[ka[i]], b[kb[i]]);
    if (v !== 0) return v;
  }
  return ka.length - kb.length;
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isPlainObject(v)) return 4;
  return 5;
}

/** Upstream's value.Compare: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a)) {
    const bl = b as unknown[];
    for (let i = 0; i < Math.min(a.length, bl.length); i++) {
      const c = compareValues(a[i], bl[i]);
      if (c !== 0) return c;
    }
    return a.length - bl.length;
  }
  if (isPlainObject(a)) return compareFieldLists(a, b as Record<string, unknown>);
  return 0;
}

/** Upstream's Path.String(): `.spec.containers[name="web"].image`, `.finalizers[="a"]`. */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'i':
          return `[${body}]`;
        case 'k': {
          const fields = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.keys(fields)
            .map((k) => `${k}=${JSON.stringify(fields[k])}`)
            .join(',')}]`;
        }
        default:
          return `[=${body}]`;
      }
    })
    .join('');
}
