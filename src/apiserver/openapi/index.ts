// Serves the OpenAPI documents: the /openapi/v3 root with each group-version's hash, the group-version documents
// (pre-built at build time by scripts/gen-openapi.mjs, read on first request), /openapi/v2, and the schema lookups
// that patching and field validation need. Custom resources add their group-versions at run time.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResourceInfo } from '../../api/catalog.js';
import { ApiError } from '../../machinery/errors.js';
import { allowsJson } from '../discovery/accept.js';
import { buildGroupVersionDocument, serializeDocument } from './document.js';
import { findUnknownFields, pruneUnknownFields, resolveSchema } from './unknown-fields.js';
import { groupVersionPath, kindKey, type KindSchemaIndex, type OpenAPIDocument, type SchemaObject } from './types.js';
import { buildV2Document } from './v2.js';

export type { SchemaObject, OpenAPIDocument } from './types.js';
export { resolveSchema } from './unknown-fields.js';
export { customResourceSchemas, customSchemaName, type CustomResourceNames } from './custom.js';

/** Where gen-openapi.mjs writes: dist/generated/openapi, three levels above this compiled file. */
export const DEFAULT_OPENAPI_DIR = fileURLToPath(new URL('../../../generated/openapi/', import.meta.url));

export interface ServedDocument {
  body: Buffer;
  /** Upper-case hex SHA-512 of the body, as upstream; sent quoted as the ETag header. */
  etag: string;
  contentType: 'application/json';
}

/** An HTTP answer for the /openapi/* endpoints, headers included. */
export interface OpenAPIAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A group-version of custom resources (CRDs): its resources and the component schemas of its kinds. */
export interface CustomGroupVersion {
  group: string;
  version: string;
  resources: readonly ResourceInfo[];
  /** Component name -> schema; kinds and lists carry x-kubernetes-group-version-kind. */
  schemas: Readonly<Record<string, SchemaObject>>;
}

export interface OpenAPI {
  /** The /openapi/v3 root: every group-version with its hash-pinned URL. */
  root(): { paths: Record<string, { serverRelativeURL: string }> };
  /** A group-version document by "api/v1" or "apis/apps/v1" (a leading "/openapi/v3/" is allowed). */
  groupVersion(path: string): ServedDocument | undefined;
  /** The whole /openapi/v3[/...] exchange: 404 as undefined, 301 for a stale hash, 304, caching headers, 406. */
  respondV3(path: string, query: URLSearchParams, headers?: { accept?: string; ifNoneMatch?: string }): OpenAPIAnswer | undefined;
  /** /openapi/v2 in JSON; a protobuf-only Accept gets 406. */
  respondV2(headers?: { accept?: string; ifNoneMatch?: string }): OpenAPIAnswer;
  /** Every component schema, built-in and custom. */
  schemas(): Readonly<Record<string, SchemaObject>>;
  schema(name: string): SchemaObject | undefined;
  schemaNameFor(group: string, version: string, kind: string): string | undefined;
  /** `unknown field "spec.foo"` for each field of obj that the schema does not declare (with `prune`, also removed). */
  unknownFields(obj: unknown, schemaName: string, prune?: boolean): string[];
  /** Removes those fields from obj in place. */
  pruneUnknownFields(obj: unknown, schemaName: string): void;
  addGroupVersion(gv: CustomGroupVersion): void;
  removeGroupVersion(group: string, version: string): void;
}

interface GeneratedIndex {
  groupVersions: Record<string, { file: string; hash: string }>;
  kinds: KindSchemaIndex;
}

interface Entry {
  hash: string;
  /** Built-in: read from this file on first use; custom group-versions are served from memory. */
  file?: string;
  served?: ServedDocument;
}

/** Lookup by own key only, so names like "constructor" never reach Object.prototype. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function normalizePath(path: string): string {
  return path.replace(/^\/?(openapi\/v3\/?)?/, '').replace(/\/$/, '');
}

export function loadOpenAPI(dir: string = DEFAULT_OPENAPI_DIR): OpenAPI {
  const indexFile = join(dir, 'index.json');
  if (!existsSync(indexFile)) throw new Error(`OpenAPI documents missing at ${dir}: run \`npm run build\` (scripts/gen-openapi.mjs)`);
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as GeneratedIndex;
  const entries = new Map<string, Entry>(Object.entries(index.groupVersions).map(([p, e]) => [p, { hash: e.hash, file: e.file }]));
  const kinds: KindSchemaIndex = { ...index.kinds };
  const custom = new Map<string, CustomGroupVersion>();
  let builtinSchemas: Record<string, SchemaObject> | undefined;
  let allSchemas: Record<string, SchemaObject> | undefined;
  let rootCache: Buffer | undefined;
  let v2Cache: ServedDocument | undefined;

  const builtin = (): Record<string, SchemaObject> =>
    (builtinSchemas ??= JSON.parse(readFileSync(join(dir, 'schemas.json'), 'utf8')) as Record<string, SchemaObject>);
  const schemas = (): Record<string, SchemaObject> => {
    if (!allSchemas) {
      allSchemas = { ...builtin() };
      for (const gv of custom.values()) Object.assign(allSchemas, gv.schemas);
    }
    return allSchemas;
  };
  const invalidate = (): void => {
    allSchemas = undefined;
    rootCache = undefined;
    v2Cache = undefined;
  };

  function served(path: string): ServedDocument | undefined {
    const e = entries.get(normalizePath(path));
    if (!e) return undefined;
    if (!e.served && e.file) e.served = { body: readFileSync(join(dir, e.file)), etag: e.hash, contentType: 'application/json' };
    return e.served;
  }

  function root(): { paths: Record<string, { serverRelativeURL: string }> } {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const p of [...entries.keys()].sort()) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${entries.get(p)?.hash}` };
    return { paths };
  }

  const notAcceptable = (accepted: string): OpenAPIAnswer => ({
    status: 406,
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify(ApiError.notAcceptable(`only the following media types are accepted: ${accepted}`).status)),
  });
  const notModified = (etag: string, ifNoneMatch: string | undefined): boolean =>
    !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${etag}"` || t.trim() === '*');

  function documents(): OpenAPIDocument[] {
    return [...entries.keys()].sort().map((p) => JSON.parse((served(p) as ServedDocument).body.toString('utf8')) as OpenAPIDocument);
  }

  return {
    root,
    groupVersion: served,
    respondV3(path, query, headers = {}) {
      const p = normalizePath(path);
      if (!allowsJson(headers.accept)) return notAcceptable('application/json');
      if (p === '') {
        rootCache ??= Buffer.from(JSON.stringify(root()));
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body: rootCache };
      }
      const doc = served(p);
      if (!doc) return undefined;
      const hash = query.get('hash');
      if (hash && hash !== doc.etag) return { status: 301, headers: { Location: `/openapi/v3/${p}?hash=${doc.etag}` } };
      const out: Record<string, string> = { 'Content-Type': doc.contentType, ETag: `"${doc.etag}"`, Vary: 'Accept' };
      // A hash-pinned URL never changes content, so clients may cache it for good (upstream: one year).
      if (hash) {
        out['Cache-Control'] = 'public, immutable';
        out.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
      }
      if (notModified(doc.etag, headers.ifNoneMatch)) return { status: 304, headers: out };
      return { status: 200, headers: out, body: doc.body };
    },
    respondV2(headers = {}) {
      if (!allowsJson(headers.accept)) return notAcceptable('application/json');
      if (!v2Cache) {
        const { body, hash } = serializeDocument(buildV2Document(documents()));
        v2Cache = { body, etag: hash, contentType: 'application/json' };
      }
      const out = { 'Content-Type': 'application/json', ETag: `"${v2Cache.etag}"`, Vary: 'Accept' };
      if (notModified(v2Cache.etag, headers.ifNoneMatch)) return { status: 304, headers: out };
      return { status: 200, headers: out, body: v2Cache.body };
    },
    schemas,
    schema: (name) => own(schemas(), name),
    schemaNameFor: (group, version, kind) => own(kinds, kindKey(group, version, kind)),
    unknownFields(obj, schemaName, prune) {
      const all = schemas();
      const s = own(all, schemaName);
      if (!s) return [];
      return findUnknownFields(obj, s, (n) => own(all, n), prune);
    },
    pruneUnknownFields(obj, schemaName) {
      const all = schemas();
      const s = own(all, schemaName);
      if (s) pruneUnknownFields(obj, s, (n) => own(all, n));
    },
    addGroupVersion(gv) {
      const path = groupVersionPath(gv.group, gv.version);
      if (entries.get(path)?.file) throw new Error(`OpenAPI: ${path} is a built-in group-version`);
      custom.set(path, gv);
      for (const [name, s] of Object.entries(gv.schemas)) {
        for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) kinds[kindKey(gvk.group, gvk.version, gvk.kind)] = name;
      }
      invalidate();
      const document = buildGroupVersionDocument({
        group: gv.group,
        version: gv.version,
        resources: gv.resources,
        schemas: schemas(),
        kinds,
        strategicMergePatch: false,
      });
      const { body, hash } = serializeDocument(document);
      entries.set(path, { hash, served: { body, etag: hash, contentType: 'application/json' } });
    },
    removeGroupVersion(group, version) {
      const path = groupVersionPath(group, version);
      const gv = custom.get(path);
      if (!gv) return;
      custom.delete(path);
      entries.delete(path);
      for (const [k, name] of Object.entries(kinds)) if (name in gv.schemas && !index.kinds[k]) delete kinds[k];
      invalidate();
    },
  };
}

/** The schema that describes a property path (e.g. ["spec", "template"]) below a component, if any. */
export function schemaAt(api: Pick<OpenAPI, 'schema'>, schemaName: string, path: readonly string[]): SchemaObject | undefined {
  let s = resolveSchema(api.schema(schemaName), (n) => api.schema(n));
  for (const seg of path) {
    if (!s) return undefined;
    const next: SchemaObject | undefined =
      s.properties?.[seg] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined) ?? (/^\d+$/.test(seg) ? s.items : undefined);
    s = resolveSchema(next, (n) => api.schema(n));
  }
  return s;
}
