// managedFields over the real OpenAPI schemas: a seeded corpus of generated objects (every field shape the schemas
// have: structs, zero structs, granular and atomic maps, set/map/atomic lists, nulls, empty containers, zero values
// and wrongly shaped values) checks that trackUpdate's results stay what they were (a digest recorded from the
// implementation that built the whole new object with zero structs and compared it against the zero object), and that
// the lazy comparison equals compare(before, withZeroStructs(after)) node for node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadOpenAPI } from './openapi/index.js';
import { trackUpdate } from '../machinery/managedfields/index.js';
import { TypedError, Typer } from '../machinery/managedfields/typed.js';
import { namedSchema, resolveSchema, fieldSchema, itemSchema, type SchemaMap, type SchemaObject } from '../machinery/patch/schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** mulberry32: a small seeded generator, so the corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: [string, string, string][] = [
  ['', 'v1', 'Pod'],
  ['apps', 'v1', 'Deployment'],
  ['apps', 'v1', 'StatefulSet'],
  ['', 'v1', 'Service'],
  ['', 'v1', 'ConfigMap'],
  ['', 'v1', 'Node'],
  ['', 'v1', 'Event'],
  ['events.k8s.io', 'v1', 'Event'],
  ['batch', 'v1', 'Job'],
  ['', 'v1', 'PersistentVolume'],
  ['networking.k8s.io', 'v1', 'NetworkPolicy'],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
];

class Gen {
  constructor(
    private readonly schemas: SchemaMap,
    private readonly r: () => number,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }

  scalar(s: SchemaObject | undefined): Json {
    const x = this.r();
    if (x < 0.08) return null;
    if (s?.['x-kubernetes-int-or-string']) return x < 0.5 ? Math.floor(this.r() * 3) : this.pick(['', '50%', 'http']);
    switch (s?.type) {
      case 'integer':
      case 'number':
        return this.pick([0, 1, 2, 42]);
      case 'boolean':
        return this.pick([false, true]);
      default:
        return this.pick(['', 'a', 'b', 'web', 'TCP', 'x/y']);
    }
  }

  value(schema: SchemaObject | undefined, depth: number): Json {
    const s = resolveSchema(this.schemas, schema);
    const x = this.r();
    // Sometimes the wrong shape, an empty container or null, wherever they may appear.
    if (x < 0.03) return this.pick([null, {}, [], 'oops', 7] as Json[]);
    if (!s) return this.scalar(undefined);
    if (s.type === 'array' || s.items) {
      const elem = itemSchema(this.schemas, s);
      const n = depth > 7 ? 0 : Math.floor(this.r() * 4);
      const keys = s['x-kubernetes-list-map-keys'] ?? (s['x-kubernetes-patch-merge-key'] ? [s['x-kubernetes-patch-merge-key']] : []);
      const out: Json[] = [];
      for (let i = 0; i < n; i++) {
        const item = this.value(elem, depth + 1);
        // Keyed items mostly carry their keys (small value sets, so duplicates happen too).
        if (item && typeof item === 'object' && !Array.isArray(item)) for (const k of keys) if (this.r() < 0.9) item[k] = this.scalar(fieldSchema(this.schemas, elem, k) ?? { type: 'string' }) ?? 'k';
        out.push(item);
      }
      return out;
    }
    if (s.properties || s.additionalProperties || s.type === 'object') {
      const out: { [k: string]: Json } = {};
      if (depth > 7) return out;
      for (const name of Object.keys(s.properties ?? {})) {
        if (name === 'managedFields' || name === 'status') continue;
        if (this.r() < 0.55 / (1 + depth * 0.35)) out[name] = this.value(fieldSchema(this.schemas, s, name), depth + 1);
      }
      const extra = s.additionalProperties;
      if (extra) {
        const n = Math.floor(this.r() * 3);
        for (let i = 0; i < n; i++) out[this.pick(['a', 'b', 'app', 'k8s.io/x'])] = this.value(typeof extra === 'object' ? extra : undefined, depth + 1);
      }
      if (!s.properties && !extra && this.r() < 0.5) out[this.pick(['free', 'form'])] = this.pick(['v', 1, { nested: [1, 2] }] as Json[]);
      return out;
    }
    return this.scalar(s);
  }
}

function corpus(seed: number, perKind: number) {
  const openapi = loadOpenAPI();
  const schemas = openapi.schemas() as SchemaMap;
  const gen = new Gen(schemas, rng(seed));
  const out: { root: string | undefined; apiVersion: string; obj: Record<string, Json> }[] = [];
  for (const [group, version, kind] of KINDS) {
    const root = openapi.schemaNameFor(group, version, kind);
    assert.ok(root, `${group}/${version} ${kind}`);
    const apiVersion = group ? `${group}/${version}` : version;
    for (let i = 0; i < perKind; i++) {
      const body = gen.value(namedSchema(schemas, root), 0);
      const obj = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, Json>;
      obj.apiVersion = apiVersion;
      obj.kind = kind;
      obj.metadata = { ...(obj.metadata && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata) ? obj.metadata : {}), name: `o${i}`, namespace: 'ns' };
      out.push({ root, apiVersion, obj });
    }
    // Schemaless objects (custom resources without a schema): maps granular, lists atomic.
  }
  for (let i = 0; i < perKind; i++) {
    out.push({ root: undefined, apiVersion: 'example.com/v1', obj: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: `w${i}` }, spec: gen.value(undefined, 0), data: { a: [1, { b: null }], c: {} } } });
  }
  return { schemas, out };
}

/** Every trackUpdate result over the corpus: creates, updates between neighbours, subresource writes. */
function results(seed: number, perKind: number): string[] {
  const { schemas, out } = corpus(seed, perKind);
  const lines: string[] = [];
  const opts = (root: string | undefined, apiVersion: string, manager: string, subresource?: string) => ({
    manager,
    apiVersion,
    now: '2026-11-27T10:00:00Z',
    schemas,
    rootSchema: root,
    ...(subresource ? { subresource } : {}),
  });
  for (let i = 0; i < out.length; i++) {
    const { root, apiVersion, obj } = out[i];
    const created = trackUpdate(undefined, structuredClone(obj), opts(root, apiVersion, 'creator'));
    lines.push(JSON.stringify(created));
    const next = i + 1 < out.length && out[i + 1].root === root ? out[i + 1].obj : obj;
    const old = { ...structuredClone(obj), metadata: { ...(obj.metadata as object), managedFields: created } };
    const updated = { ...structuredClone(next), metadata: { ...(next.metadata as object), managedFields: created } };
    lines.push(JSON.stringify(trackUpdate(old, updated, { ...opts(root, apiVersion, 'updater'), now: '2026-11-27T10:00:05Z' })));
    lines.push(JSON.stringify(trackUpdate(old, updated, { ...opts(root, apiVersion, 'kubelet', 'status'), now: '2026-11-27T10:00:07Z' })));
  }
  return lines;
}

test('trackUpdate over a generated corpus gives the results recorded from the whole-object implementation', () => {
  const lines = results(20261127, 40);
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex');
  // Non-trivial: most creates record fields, and some objects are refused by the typed walk (empty result).
  assert.ok(lines.filter((l) => l.includes('"f:spec"')).length > 100);
  assert.ok(lines.filter((l) => l === '[]').length > 10);
  // FIELDMANAGER_CORPUS_DUMP=<file> writes the results, to diff against a dump from another implementation.
  if (process.env.FIELDMANAGER_CORPUS_DUMP) writeFileSync(process.env.FIELDMANAGER_CORPUS_DUMP, lines.join('\n'));
  assert.equal(digest, GOLDEN);
});

test('the lazy comparison equals compare(before, withZeroStructs(after)) on creates and updates', () => {
  const { schemas, out } = corpus(7, 25);
  const typer = new Typer(schemas);
  let compared = 0;
  const setsOf = (f: () => { added: unknown; modified: unknown; removed: unknown }) => {
    try {
      const c = f() as { added: { toFieldsV1(): unknown }; modified: { toFieldsV1(): unknown }; removed: { toFieldsV1(): unknown } };
      return JSON.stringify([c.added.toFieldsV1(), c.modified.toFieldsV1(), c.removed.toFieldsV1()]);
    } catch (e) {
      if (e instanceof TypedError) return `TypedError: ${e.message}`;
      throw e;
    }
  };
  for (let i = 0; i < out.length; i++) {
    const root = namedSchema(schemas, out[i].root);
    const zero = typer.zeroObject(root);
    const prev = i > 0 && out[i - 1].root === out[i].root ? typer.withZeroStructs(out[i - 1].obj, root) : undefined;
    for (const before of [zero, prev, {}, undefined]) {
      const want = setsOf(() => typer.compare(before, typer.withZeroStructs(out[i].obj, root), root));
      const got = setsOf(() => typer.compareWithZeroStructs(before, out[i].obj, root));
      assert.equal(got, want, `object ${i}`);
      compared++;
    }
  }
  assert.ok(compared > 1000);
});

const GOLDEN = '74d327966f2d317ae2d2d28194d143216c8fce426f0578b01b5660b7ad9ec611';
