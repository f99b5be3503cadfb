// Builds the OpenAPI v3 document of one group-version: a path item per resource URL with upstream's operation ids,
// actions, parameters and request/response bodies, plus the component schemas those operations reach.
// Used at build time (scripts/gen-openapi.mjs, for the built-in group-versions) and at run time (custom resources).
import { createHash } from 'node:crypto';
import type { ResourceInfo, SubresourceInfo } from '../../api/catalog.js';
import type { GroupVersionKind } from '../../api/object.js';
import {
  COMPONENT_REF_PREFIX,
  kindKey,
  type HttpMethod,
  type KindSchemaIndex,
  type OpenAPIDocument,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type ResponseObject,
  type SchemaObject,
} from './types.js';

export interface GroupVersionSource {
  group: string;
  version: string;
  resources: readonly ResourceInfo[];
  /** Every component the document may reference (built-in and, for custom resources, their own). */
  schemas: Readonly<Record<string, SchemaObject>>;
  kinds: Readonly<KindSchemaIndex>;
  /** Custom resources take no strategic merge patch. */
  strategicMergePatch: boolean;
}

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const ref = (name: string): SchemaObject => ({ $ref: COMPONENT_REF_PREFIX + name });

/** The JSON of a document and upstream's ETag for it: the upper-case hex SHA-512 of the body. */
export function serializeDocument(doc: unknown): { body: Buffer; hash: string } {
  const body = Buffer.from(JSON.stringify(doc));
  return { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

/** Operation-id fragment of a group: "" -> "Core", "rbac.authorization.k8s.io" -> "RbacAuthorization". */
export function groupIdentifier(group: string): string {
  if (group === '') return 'Core';
  const trimmed = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return trimmed
    .split(/[.-]/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);

// Query parameters, described in our own words; names and types are upstream's.
const q = (name: string, description: string, schema: SchemaObject = { type: 'string', uniqueItems: true }): ParameterObject => ({
  name,
  in: 'query',
  description,
  schema,
});
const bool = { type: 'boolean', uniqueItems: true } as const satisfies SchemaObject;
const int = { type: 'integer', uniqueItems: true } as const satisfies SchemaObject;

const P = {
  pretty: q('pretty', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'When present, the request is processed without persisting anything. The only valid value is All.'),
  fieldManager: q('fieldManager', 'Name of the actor making these changes, recorded in managedFields (at most 128 printable characters).'),
  fieldManagerPatch: q(
    'fieldManager',
    'Name of the actor making these changes, recorded in managedFields. Required for apply patches, optional for the other patch types.',
  ),
  fieldValidation: q(
    'fieldValidation',
    'How to treat unknown or duplicate fields in the body: Ignore drops them, Warn drops them and returns a warning per field, Strict rejects the request.',
  ),
  force: q('force', 'Re-acquire fields owned by other managers when they conflict. Only valid for apply patches.', bool),
  allowWatchBookmarks: q('allowWatchBookmarks', 'Ask for BOOKMARK watch events.', bool),
  continue: q('continue', 'Token from a previous list response to fetch the next chunk.'),
  fieldSelector: q('fieldSelector', 'Restrict the returned objects by their fields.'),
  labelSelector: q('labelSelector', 'Restrict the returned objects by their labels.'),
  limit: q('limit', 'Maximum number of items to return; the response carries a continue token when more exist.', int),
  resourceVersion: q('resourceVersion', 'Which resource version the request is served from; see the API concepts documentation.'),
  resourceVersionMatch: q('resourceVersionMatch', 'How resourceVersion applies to list calls: Exact or NotOlderThan.'),
  sendInitialEvents: q('sendInitialEvents', 'With watch=true, start the stream with synthetic ADDED events for existing objects.', bool),
  timeoutSeconds: q('timeoutSeconds', 'Timeout for the list/watch call, in seconds.', int),
  watch: q('watch', 'Watch for changes instead of listing.', bool),
  gracePeriodSeconds: q('gracePeriodSeconds', 'Seconds before the object is deleted; zero deletes immediately.', int),
  orphanDependents: q('orphanDependents', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.', bool),
  propagationPolicy: q('propagationPolicy', 'Garbage collection of dependents: Orphan, Background or Foreground.'),
};
const listParams = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
const deleteParams = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const pathParam = (name: string, description: string): ParameterObject => ({
  name,
  in: 'path',
  description,
  required: true,
  schema: { type: 'string', uniqueItems: true },
});
const namespaceParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

const connectParams: Partial<Record<SubresourceInfo['name'], ParameterObject[]>> = {
  exec: [
    q('command', 'Command to run, one argument per parameter.'),
    q('container', 'Container in which to run the command; defaults to the only container.'),
    q('stderr', 'Redirect standard error.', bool),
    q('stdin', 'Redirect standard input.', bool),
    q('stdout', 'Redirect standard output.', bool),
    q('tty', 'Allocate a terminal.', bool),
  ],
  attach: [
    q('container', 'Container to attach to; defaults to the only container.'),
    q('stderr', 'Attach standard error.', bool),
    q('stdin', 'Attach standard input.', bool),
    q('stdout', 'Attach standard output.', bool),
    q('tty', 'The container has a terminal.', bool),
  ],
  portforward: [q('ports', 'Ports to forward.', int)],
  proxy: [q('path', 'Path to forward to the target.')],
};
const logParams = [
  q('container', 'Container whose log to read; defaults to the only container.'),
  q('follow', 'Stream the log as it grows.', bool),
  q('insecureSkipTLSVerifyBackend', 'Skip verifying the kubelet serving certificate.', bool),
  q('limitBytes', 'Stop after this many bytes.', int),
  q('previous', 'Read the log of the previous, terminated container instance.', bool),
  q('sinceSeconds', 'Only lines newer than this many seconds.', int),
  q('tailLines', 'Only this many lines from the end.', int),
  q('timestamps', 'Prefix each line with an RFC3339 timestamp.', bool),
];

const RESPONSE_MEDIA = ['application/json', 'application/yaml'];
const PATCH_MEDIA = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];
const SMP_MEDIA = 'application/strategic-merge-patch+json';

function content(schema: SchemaObject, media = RESPONSE_MEDIA): Record<string, { schema: SchemaObject }> {
  return Object.fromEntries(media.map((m) => [m, { schema }]));
}
function responses(codes: Record<string, string>, schema: SchemaObject | undefined): Record<string, ResponseObject> {
  const out: Record<string, ResponseObject> = {};
  for (const [code, description] of Object.entries(codes)) out[code] = schema ? { description, content: content(schema) } : { description };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

interface OpInput {
  verb: 'read' | 'list' | 'create' | 'replace' | 'patch' | 'delete' | 'deletecollection' | 'connect-get' | 'connect-post' | 'connect-put' | 'connect-delete' | 'connect-patch';
  idSuffix: string;
  gvk: GroupVersionKind;
  kindSchema: SchemaObject | undefined;
  listSchema?: SchemaObject | undefined;
  description: string;
  extraParams?: ParameterObject[];
  smp: boolean;
}

function operation(tag: string, groupVersionId: string, op: OpInput): OperationObject {
  const id = (prefix: string) => `${prefix}${groupVersionId}${op.idSuffix}`;
  const status = { $ref: COMPONENT_REF_PREFIX + META + 'Status' } satisfies SchemaObject;
  const body = (schema: SchemaObject | undefined, media = RESPONSE_MEDIA) =>
    schema ? { requestBody: { content: content(schema, media), required: true } } : {};
  const base = { description: op.description, tags: [tag], 'x-kubernetes-group-version-kind': op.gvk };
  switch (op.verb) {
    case 'read':
      return { ...base, operationId: id('read'), parameters: op.extraParams, responses: responses({ 200: 'OK' }, op.kindSchema), 'x-kubernetes-action': 'get' };
    case 'list':
      return {
        ...base,
        operationId: id('list'),
        parameters: listParams,
        responses: responses({ 200: 'OK' }, op.listSchema),
        'x-kubernetes-action': 'list',
      };
    case 'create':
      return {
        ...base,
        operationId: id('create'),
        parameters: writeParams,
        ...body(op.kindSchema),
        responses: responses({ 200: 'OK', 201: 'Created', 202: 'Accepted' }, op.kindSchema),
        'x-kubernetes-action': 'post',
      };
    case 'replace':
      return {
        ...base,
        operationId: id('replace'),
        parameters: writeParams,
        ...body(op.kindSchema),
        responses: responses({ 200: 'OK', 201: 'Created' }, op.kindSchema),
        'x-kubernetes-action': 'put',
      };
    case 'patch':
      return {
        ...base,
        operationId: id('patch'),
        parameters: [P.dryRun, P.fieldManagerPatch, P.fieldValidation, P.force],
        ...body(ref(META + 'Patch'), op.smp ? [...PATCH_MEDIA, SMP_MEDIA] : PATCH_MEDIA),
        responses: responses({ 200: 'OK', 201: 'Created' }, op.kindSchema),
        'x-kubernetes-action': 'patch',
      };
    case 'delete':
      return {
        ...base,
        operationId: id('delete'),
        parameters: deleteParams,
        ...body(ref(META + 'DeleteOptions'), ['application/json']),
        responses: responses({ 200: 'OK', 202: 'Accepted' }, status),
        'x-kubernetes-action': 'delete',
      };
    case 'deletecollection':
      return {
        ...base,
        operationId: `delete${groupVersionId}Collection${op.idSuffix}`,
        parameters: [...listParams.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'), ...deleteParams],
        ...body(ref(META + 'DeleteOptions'), ['application/json']),
        responses: responses({ 200: 'OK' }, status),
        'x-kubernetes-action': 'deletecollection',
      };
    default: {
      const method = op.verb.slice('connect-'.length);
      return {
        ...base,
        operationId: `connect${groupVersionId}${cap(method)}${op.idSuffix}`,
        parameters: op.extraParams,
        responses: { 200: { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } }, 401: { description: 'Unauthorized' } },
        'x-kubernetes-action': 'connect',
      };
    }
  }
}

const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Upstream's order of HTTP methods within a path item, so documents are stable. */
const METHOD_ORDER: HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch'];

function addOp(paths: Record<string, PathItemObject>, path: string, method: HttpMethod, op: OperationObject, params: ParameterObject[]): void {
  const item = (paths[path] ??= { parameters: params });
  item[method] = op;
}

/** Path items for one resource and its subresources. */
function resourcePaths(src: GroupVersionSource, r: ResourceInfo, paths: Record<string, PathItemObject>): void {
  const prefix = src.group === '' ? `/api/${src.version}` : `/apis/${src.group}/${src.version}`;
  const gvId = `${groupIdentifier(src.group)}${cap(src.version)}`;
  const tag = `${src.group === '' ? 'core' : groupIdentifier(src.group).replace(/^./, (c) => c.toLowerCase())}_${src.version}`;
  const schemaRef = (group: string, version: string, kind: string): SchemaObject | undefined => {
    const name = src.kinds[kindKey(group, version, kind)];
    return name ? ref(name) : undefined;
  };
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const kindSchema = schemaRef(r.group, r.version, r.kind);
  const listSchema = schemaRef(r.group, r.version, `${r.kind}List`);
  const ns = r.namespaced ? 'Namespaced' : '';
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
  const item = `${collection}/{name}`;
  const baseParams = r.namespaced ? [namespaceParam, P.pretty] : [P.pretty];
  const itemParams = [pathParam('name', `name of the ${r.kind}`), ...baseParams];
  const has = (v: string) => (r.verbs as string[]).includes(v);
  const common = { gvk, kindSchema, listSchema, smp: src.strategicMergePatch };
  const what = `${r.kind}`;

  if (has('list')) {
    addOp(paths, collection, 'get', operation(tag, gvId, { ...common, verb: 'list', idSuffix: `${ns}${r.kind}`, description: `list or watch objects of kind ${what}` }), baseParams);
    if (r.namespaced)
      addOp(
        paths,
        `${prefix}/${r.resource}`,
        'get',
        operation(tag, gvId, { ...common, verb: 'list', idSuffix: `${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${what}` }),
        [P.pretty],
      );
  }
  if (has('create')) addOp(paths, collection, 'post', operation(tag, gvId, { ...common, verb: 'create', idSuffix: `${ns}${r.kind}`, description: `create a ${what}` }), baseParams);
  if (has('deletecollection'))
    addOp(paths, collection, 'delete', operation(tag, gvId, { ...common, verb: 'deletecollection', idSuffix: `${ns}${r.kind}`, description: `delete collection of ${what}` }), baseParams);
  if (has('get')) addOp(paths, item, 'get', operation(tag, gvId, { ...common, verb: 'read', idSuffix: `${ns}${r.kind}`, description: `read the specified ${what}` }), itemParams);
  if (has('update')) addOp(paths, item, 'put', operation(tag, gvId, { ...common, verb: 'replace', idSuffix: `${ns}${r.kind}`, description: `replace the specified ${what}` }), itemParams);
  if (has('delete')) addOp(paths, item, 'delete', operation(tag, gvId, { ...common, verb: 'delete', idSuffix: `${ns}${r.kind}`, description: `delete a ${what}` }), itemParams);
  if (has('patch')) addOp(paths, item, 'patch', operation(tag, gvId, { ...common, verb: 'patch', idSuffix: `${ns}${r.kind}`, description: `partially update the specified ${what}` }), itemParams);

  for (const sub of r.subresources) {
    const subPath = `${item}/${sub.name}`;
    const subId = `${ns}${r.kind}${cap(sub.name)}`;
    const subGvk = { group: sub.kind.group, version: sub.kind.version, kind: sub.kind.kind };
    const subCommon = { gvk: subGvk, kindSchema: schemaRef(sub.kind.group, sub.kind.version, sub.kind.kind), smp: src.strategicMergePatch };
    const subWhat = `${sub.name} of the specified ${r.kind}`;
    if (CONNECT_SUBRESOURCES.has(sub.name)) {
      const extraParams = connectParams[sub.name];
      for (const v of sub.verbs) {
        const method: HttpMethod = v === 'get' ? 'get' : v === 'create' ? 'post' : v === 'update' ? 'put' : v === 'delete' ? 'delete' : 'patch';
        const verb = `connect-${method}` as OpInput['verb'];
        addOp(paths, subPath, method, operation(tag, gvId, { ...subCommon, verb, idSuffix: subId, extraParams, description: `connect ${method.toUpperCase()} requests to ${subWhat}` }), itemParams);
      }
      continue;
    }
    for (const v of sub.verbs) {
      if (v === 'get') {
        const logOp = sub.name === 'log';
        const op = operation(tag, gvId, { ...subCommon, verb: 'read', idSuffix: subId, description: `read ${subWhat}`, extraParams: logOp ? logParams : undefined });
        if (logOp) op.responses['200'] = { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } };
        addOp(paths, subPath, 'get', op, itemParams);
      } else if (v === 'update') {
        addOp(paths, subPath, 'put', operation(tag, gvId, { ...subCommon, verb: 'replace', idSuffix: subId, description: `replace ${subWhat}` }), itemParams);
      } else if (v === 'patch') {
        addOp(paths, subPath, 'patch', operation(tag, gvId, { ...subCommon, verb: 'patch', idSuffix: subId, description: `partially update ${subWhat}` }), itemParams);
      } else if (v === 'create') {
        addOp(paths, subPath, 'post', operation(tag, gvId, { ...subCommon, verb: 'create', idSuffix: subId, description: `create ${subWhat}` }), itemParams);
      }
    }
  }
}

/** Every component reachable from `roots` through $refs. */
export function schemaClosure(roots: unknown, schemas: Readonly<Record<string, SchemaObject>>): Record<string, SchemaObject> {
  const out: Record<string, SchemaObject> = {};
  const pending: string[] = [];
  const scan = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) scan(x);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith(COMPONENT_REF_PREFIX)) pending.push(x.slice(COMPONENT_REF_PREFIX.length));
        else scan(x);
      }
    }
  };
  scan(roots);
  while (pending.length) {
    const name = pending.pop() as string;
    if (name in out) continue;
    const s = schemas[name];
    if (!s) continue;
    out[name] = s;
    scan(s);
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

export function buildGroupVersionDocument(src: GroupVersionSource): OpenAPIDocument {
  const raw: Record<string, PathItemObject> = {};
  const prefix = src.group === '' ? `/api/${src.version}` : `/apis/${src.group}/${src.version}`;
  const gvId = `${groupIdentifier(src.group)}${cap(src.version)}`;
  raw[`${prefix}/`] = {
    get: {
      description: 'get available resources',
      operationId: `get${gvId}APIResources`,
      tags: [`${src.group === '' ? 'core' : groupIdentifier(src.group).replace(/^./, (c) => c.toLowerCase())}_${src.version}`],
      responses: { 200: { description: 'OK', content: content(ref(META + 'APIResourceList')) }, 401: { description: 'Unauthorized' } },
      'x-kubernetes-action': 'get',
    },
  };
  for (const r of [...src.resources].sort((a, b) => a.resource.localeCompare(b.resource))) resourcePaths(src, r, raw);
  // Stable key order (paths sorted, methods in a fixed order) keeps the hash stable across runs.
  const paths: Record<string, PathItemObject> = {};
  for (const p of Object.keys(raw).sort()) {
    const item = raw[p];
    const ordered: PathItemObject = {};
    for (const m of METHOD_ORDER) if (item[m]) ordered[m] = item[m];
    if (item.parameters) ordered.parameters = item.parameters;
    paths[p] = ordered;
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.31.0' },
    paths,
    components: {
      schemas: schemaClosure(paths, src.schemas),
      securitySchemes: { BearerToken: { type: 'apiKey', in: 'header', name: 'authorization', description: 'Bearer token authentication' } },
    },
  };
}
