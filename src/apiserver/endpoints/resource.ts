// The REST verbs on one resource: get, list, create, update, patch, delete, deletecollection, and the status and
// scale subresources. Watch lives in watch.ts. Every write goes through the generic store, which runs defaulting,
// admission and validation; this layer decodes, negotiates, tracks field managers and encodes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, KubeList } from '../../api/object.js';
import { apiVersionOf, deepClone, isPlainObject } from '../../api/object.js';
import { ApiError } from '../../machinery/errors.js';
import type { UserInfo } from '../auth/user.js';
import type { ServedResource } from '../registry/registry.js';
import type { DeleteOptions, ListRequest, WriteContext } from '../registry/store.js';
import {
  decodeDocument,
  decodeObject,
  mediaTypeOf,
  negotiate,
  objectMediaType,
  patchMediaType,
  readBody,
  writeJson,
  type Negotiated,
} from './negotiation.js';
import { boolParam, dryRunParam, fieldManagerParam, fieldValidationParam, intParam, type FieldValidation } from './params.js';
import { compileFilter } from './filter.js';
import type { ApiServices } from './services.js';

export interface ResourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  user: UserInfo;
  query: URLSearchParams;
  served: ServedResource;
  namespace?: string;
  name?: string;
  subresource: string;
  services: ApiServices;
}

/** Resources upstream lets PUT create (AllowCreateOnUpdate). */
const CREATE_ON_UPDATE = new Set(['/endpoints', '/events', 'coordination.k8s.io/leases', 'events.k8s.io/events']);

function toServed(r: ResourceRequest, obj: KubeObject): KubeObject {
  return r.served.converter ? r.served.converter.fromStored(obj) : obj;
}
function toStored(r: ResourceRequest, obj: KubeObject): KubeObject {
  return r.served.converter ? r.served.converter.toStored(obj) : obj;
}

function writeCtx(r: ResourceRequest, dryRun: boolean, subresource = ''): WriteContext {
  return { user: r.user, dryRun, subresource };
}

/** Sends one object in the negotiated representation. */
export function sendObject(r: ResourceRequest, code: number, obj: KubeObject, neg: Negotiated, warnings: string[] = []): void {
  const headers = warningHeaders(warnings);
  if (neg.output === 'table') {
    const printer = r.services.tables.printerFor(r.served.info.group, r.served.info.resource);
    const table = r.services.tables.toTable(printer, [obj], { now: r.services.now(), includeObject: neg.includeObject });
    writeJson(r.res, code, table, { yaml: neg.yaml, headers });
    return;
  }
  if (neg.output === 'metadata') {
    writeJson(r.res, code, { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata }, { yaml: neg.yaml, headers });
    return;
  }
  writeJson(r.res, code, obj, { yaml: neg.yaml, headers });
}

function warningHeaders(warnings: string[]): Record<string, string> {
  if (!warnings.length) return {};
  // Node joins array header values with ", ", which is how multiple warn-values are listed.
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

function negotiated(r: ResourceRequest): Negotiated {
  return negotiate(r.req.headers.accept, r.query.get('includeObject'));
}

export async function handleGet(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const obj = await r.served.store.get(r.namespace, r.name!, r.query.get('resourceVersion') ?? undefined);
  sendObject(r, 200, toServed(r, obj), neg);
}

export function listRequest(r: ResourceRequest): ListRequest {
  const { filter, filtered } = compileFilter(r.served, r.query, r.services);
  const match = r.query.get('resourceVersionMatch') ?? '';
  if (match !== '' && match !== 'Exact' && match !== 'NotOlderThan') {
    throw ApiError.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (match && !r.query.get('resourceVersion')) {
    throw ApiError.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  }
  return {
    namespace: r.namespace,
    limit: intParam(r.query, 'limit'),
    continue: r.query.get('continue') ?? undefined,
    resourceVersion: r.query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: match as ListRequest['resourceVersionMatch'],
    filter,
    filtered,
  };
}

export async function handleList(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const list = await r.served.store.list(listRequest(r));
  const items = list.items.map((o) => toServed(r, o));
  sendList(r, neg, { ...list, apiVersion: apiVersionOf(r.served.info.group, r.served.info.version), items });
}

function sendList(r: ResourceRequest, neg: Negotiated, list: KubeList): void {
  if (neg.output === 'table') {
    const printer = r.services.tables.printerFor(r.served.info.group, r.served.info.resource);
    const table = r.services.tables.toTable(printer, list.items, {
      now: r.services.now(),
      includeObject: neg.includeObject,
      listMeta: list.metadata,
    });
    writeJson(r.res, 200, table, { yaml: neg.yaml });
    return;
  }
  if (neg.output === 'metadata') {
    writeJson(
      r.res,
      200,
      {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadataList',
        metadata: list.metadata,
        items: list.items.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata })),
      },
      { yaml: neg.yaml },
    );
    return;
  }
  writeJson(r.res, 200, list, { yaml: neg.yaml });
}

/** Reads and type-checks an object body: apiVersion/kind must name this resource. */
async function readObject(r: ResourceRequest, expectKind: string, expectApiVersion: string): Promise<KubeObject> {
  const body = await readBody(r.req);
  const raw = decodeObject(body, objectMediaType(mediaTypeOf(r.req)));
  checkTypeMeta(raw, expectKind, expectApiVersion);
  if (raw.metadata !== undefined && !isPlainObject(raw.metadata)) {
    throw ApiError.badRequest('metadata: expected an object');
  }
  return { ...raw, apiVersion: expectApiVersion, kind: expectKind, metadata: (raw.metadata ?? {}) as KubeObject['metadata'] } as KubeObject;
}

function checkTypeMeta(raw: Record<string, unknown>, kind: string, apiVersion: string): void {
  // Missing apiVersion/kind default to the endpoint's, as upstream's decoder does.
  if (raw.apiVersion !== undefined && raw.apiVersion !== '' && raw.apiVersion !== apiVersion) {
    throw ApiError.badRequest(`the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (raw.kind !== undefined && raw.kind !== '' && raw.kind !== kind) {
    throw ApiError.badRequest(`the kind in the data (${String(raw.kind)}) does not match the expected kind (${kind})`);
  }
}

/** fieldValidation: Strict refuses unknown fields (400), Warn returns them as warnings, Ignore drops nothing. */
function checkUnknownFields(r: ResourceRequest, obj: KubeObject, mode: FieldValidation): string[] {
  if (mode === 'Ignore') return [];
  const problems = r.services.unknownFields(r.served.info, obj);
  if (!problems.length) return [];
  if (mode === 'Strict') throw ApiError.badRequest(`strict decoding error: ${problems.join(', ')}`);
  return problems;
}

export async function handleCreate(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const info = r.served.info;
  const obj = await readObject(r, info.kind, apiVersionOf(info.group, info.version));
  const dryRun = dryRunParam(r.query);
  const warnings = checkUnknownFields(r, obj, fieldValidationParam(r.query));
  const manager = fieldManagerParam(r.query, r.req.headers['user-agent'], false);
  if (r.name !== undefined) throw ApiError.methodNotAllowed();
  stripUnknownFields(r, obj);
  r.services.fieldManager.trackUpdate(r.served.info, undefined, obj, manager, '');
  const created = await r.served.store.create(r.namespace, toStored(r, obj), writeCtx(r, dryRun));
  sendObject(r, 201, toServed(r, created), neg, warnings);
}

/** Unknown fields are dropped before storing, as upstream's decoder does (even when they were only warned about). */
function stripUnknownFields(r: ResourceRequest, obj: KubeObject): void {
  r.services.pruneUnknownFields(r.served.info, obj);
}

export async function handleUpdate(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const info = r.served.info;
  const sub = r.subresource === 'status' ? 'status' : '';
  const obj = await readObject(r, info.kind, apiVersionOf(info.group, info.version));
  const dryRun = dryRunParam(r.query);
  const warnings = checkUnknownFields(r, obj, fieldValidationParam(r.query));
  const manager = fieldManagerParam(r.query, r.req.headers['user-agent'], false);
  stripUnknownFields(r, obj);
  if (obj.metadata.name !== undefined && obj.metadata.name !== r.name) {
    throw ApiError.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${r.name})`);
  }
  const allowCreate = sub === '' && CREATE_ON_UPDATE.has(`${info.group}/${info.resource}`);
  const { object, created } = await r.served.store.update(
    r.namespace,
    r.name!,
    (current) => {
      const next = deepClone(obj);
      next.metadata.managedFields = current?.metadata.managedFields;
      r.services.fieldManager.trackUpdate(info, current ? toServed(r, current) : undefined, next, manager, sub);
      return toStored(r, next);
    },
    { ...writeCtx(r, dryRun, sub), allowCreate },
  );
  sendObject(r, created ? 201 : 200, toServed(r, object), neg, warnings);
}

export async function handlePatch(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const info = r.served.info;
  const sub = r.subresource === 'status' ? 'status' : '';
  const type = patchMediaType(mediaTypeOf(r.req));
  const body = await readBody(r.req);
  const dryRun = dryRunParam(r.query);
  const validation = fieldValidationParam(r.query);
  const force = boolParam(r.query, 'force');
  if (r.query.has('force') && type !== 'apply-patch') {
    throw ApiError.badRequest('force: Invalid value: "true": may not be specified for non-apply patch');
  }
  const manager = fieldManagerParam(r.query, r.req.headers['user-agent'], type === 'apply-patch');
  const patch = decodeDocument(body, type === 'apply-patch' ? 'yaml' : 'json');
  const apiVersion = apiVersionOf(info.group, info.version);
  let warnings: string[] = [];
  // A patch that names a resourceVersion is a precondition; otherwise the patch is re-applied on conflicts.
  const pinnedRv = patchResourceVersion(patch);
  const { object, created } = await r.served.store.update(
    r.namespace,
    r.name!,
    (current) => {
      const live = current ? toServed(r, current) : undefined;
      let next: KubeObject;
      if (type === 'apply-patch') {
        if (!isPlainObject(patch)) throw ApiError.badRequest('error decoding YAML: apply patch must be an object');
        const applied = patch as KubeObject;
        checkTypeMeta(applied, info.kind, apiVersion);
        if (!applied.apiVersion || !applied.kind) {
          throw ApiError.badRequest('invalid object type: /, Kind=');
        }
        warnings = checkUnknownFields(r, applied, validation);
        if (applied.metadata?.name !== undefined && applied.metadata.name !== r.name) {
          throw ApiError.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${r.name})`);
        }
        next = r.services.fieldManager.apply(info, live, applied, manager, force, sub);
      } else {
        if (!live) throw ApiError.notFound(info.group, info.resource, r.name!);
        next = r.services.patcher.patch(info, type, live, patch);
        next.apiVersion = apiVersion;
        next.kind = info.kind;
        warnings = checkUnknownFields(r, next, validation);
        r.services.fieldManager.trackUpdate(info, live, next, manager, sub);
      }
      stripUnknownFields(r, next);
      if (pinnedRv === undefined && next.metadata) {
        if (current) next.metadata.resourceVersion = current.metadata.resourceVersion;
        else delete next.metadata.resourceVersion;
      }
      return toStored(r, next);
    },
    { ...writeCtx(r, dryRun, sub), allowCreate: type === 'apply-patch' && sub === '' },
  );
  sendObject(r, created ? 201 : 200, toServed(r, object), neg, warnings);
}

function patchResourceVersion(patch: unknown): string | undefined {
  if (isPlainObject(patch) && isPlainObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string') {
    return patch.metadata.resourceVersion;
  }
  if (Array.isArray(patch)) {
    for (const op of patch) {
      if (isPlainObject(op) && op.path === '/metadata/resourceVersion' && typeof op.value === 'string') return op.value;
    }
  }
  return undefined;
}

async function readDeleteOptions(r: ResourceRequest): Promise<{ opts: DeleteOptions; dryRun: boolean }> {
  const body = await readBody(r.req);
  let raw: Record<string, unknown> = {};
  if (body.length) {
    const ct = mediaTypeOf(r.req);
    raw = decodeObject(body, ct === 'application/yaml' ? 'yaml' : 'json');
  }
  const pre = isPlainObject(raw.preconditions) ? raw.preconditions : {};
  const grace = intParam(r.query, 'gracePeriodSeconds') ?? (typeof raw.gracePeriodSeconds === 'number' ? raw.gracePeriodSeconds : undefined);
  const policy = r.query.get('propagationPolicy') ?? (typeof raw.propagationPolicy === 'string' ? raw.propagationPolicy : undefined);
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw ApiError.invalid('meta.k8s.io', 'DeleteOptions', '', [
      { type: 'FieldValueNotSupported', field: 'propagationPolicy', value: policy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' },
    ]);
  }
  const orphanQ = r.query.get('orphanDependents');
  const orphan = orphanQ !== null ? orphanQ === 'true' : typeof raw.orphanDependents === 'boolean' ? raw.orphanDependents : undefined;
  if (orphan !== undefined && policy !== undefined) {
    throw ApiError.invalid('meta.k8s.io', 'DeleteOptions', '', [
      { type: 'FieldValueInvalid', field: 'propagationPolicy', value: policy, detail: 'orphanDependents and deletionPropagation cannot be both set' },
    ]);
  }
  if (grace !== undefined && grace < 0) {
    throw ApiError.invalid('meta.k8s.io', 'DeleteOptions', '', [
      { type: 'FieldValueInvalid', field: 'gracePeriodSeconds', value: grace, detail: 'must be greater than or equal to 0' },
    ]);
  }
  return {
    opts: {
      preconditions: {
        uid: typeof pre.uid === 'string' ? pre.uid : undefined,
        resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
      },
      gracePeriodSeconds: grace,
      propagationPolicy: policy as DeleteOptions['propagationPolicy'],
      orphanDependents: orphan,
    },
    dryRun: dryRunParam(r.query, raw.dryRun),
  };
}

/** Pods return the deleted object itself; other resources a Success Status (upstream's ReturnDeletedObject). */
const RETURNS_DELETED_OBJECT = new Set(['/pods']);

export async function handleDelete(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const info = r.served.info;
  const { opts, dryRun } = await readDeleteOptions(r);
  const result = await r.served.store.delete(r.namespace, r.name!, opts, writeCtx(r, dryRun));
  const obj = toServed(r, result.object);
  if (!result.deleted) {
    sendObject(r, opts.orphanDependents === false ? 202 : 200, obj, neg);
    return;
  }
  if (RETURNS_DELETED_OBJECT.has(`${info.group}/${info.resource}`)) {
    sendObject(r, 200, obj, neg);
    return;
  }
  writeJson(r.res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: r.name, group: info.group, kind: info.resource, uid: obj.metadata.uid },
  });
}

export async function handleDeleteCollection(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const { opts, dryRun } = await readDeleteOptions(r);
  const list = await r.served.store.list({ ...listRequest(r), limit: undefined, continue: undefined });
  const deleted: KubeObject[] = [];
  for (const item of list.items) {
    try {
      const res = await r.served.store.delete(item.metadata.namespace, item.metadata.name!, opts, writeCtx(r, dryRun));
      deleted.push(toServed(r, res.object));
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) continue; // deleted meanwhile
      throw err;
    }
  }
  sendList(r, neg, {
    apiVersion: apiVersionOf(r.served.info.group, r.served.info.version),
    kind: `${r.served.info.kind}List`,
    metadata: { resourceVersion: list.metadata.resourceVersion },
    items: deleted,
  });
}
