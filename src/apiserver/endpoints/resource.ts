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
  decodePatch,
  decodeObject,
  mediaTypeOf,
  negotiate,
  objectMediaType,
  type ObjectMediaType,
  patchMediaType,
  readBody,
  writeJson,
  wireStatus,
  type Negotiated,
  writeJsonItems,
  writeJsonText,
} from './negotiation.js';
import { boolParam, intParam, validateListOptions, writeOptions, type FieldValidation, type WriteOptions } from './params.js';
import { summarizeBody, typeMetaError } from './go-decode.js';
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
  if (neg.output === 'object' && !neg.yaml && !r.served.converter) {
    // Plain JSON of a stored object: its stored text as it is (with its resourceVersion), not decoded and re-encoded.
    writeJsonText(r.res, 200, await r.served.store.getJson(r.namespace, r.name!, r.query.get('resourceVersion') ?? undefined));
    return;
  }
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
  validateListOptions(r.query);
  const req = listRequest(r);
  if (neg.output === 'object' && !neg.yaml && !r.served.converter && !req.filter) {
    // Plain JSON of stored objects, unfiltered: the stored text goes out as it is (with its resourceVersion).
    const { metadata, items } = await r.served.store.listJson(req);
    const info = r.served.info;
    const head = `{"apiVersion":${JSON.stringify(apiVersionOf(info.group, info.version))},"kind":${JSON.stringify(`${info.kind}List`)},"metadata":${JSON.stringify(metadata)},"items":[`;
    await writeJsonItems(r.res, head, items, ']}');
    return;
  }
  const list = await r.served.store.list(req);
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

/** The package upstream's internal (hub) type of a group lives in, as Go prints it in conversion errors. */
function internalPackage(group: string): string {
  return group === '' || group === 'events.k8s.io' ? 'core' : group.split('.')[0];
}

/**
 * Reads an object body and checks it as upstream's typed decoder does: apiVersion/kind (missing ones default to the
 * endpoint's) must name this resource's kind, and field values must have the schema's types.
 */
function decodeTyped(r: ResourceRequest, body: Buffer, format: ObjectMediaType): KubeObject {
  const info = r.served.info;
  const raw = decodeObject(body, format, info.kind);
  const expected = apiVersionOf(info.group, info.version);
  const apiVersion = typeof raw.apiVersion === 'string' && raw.apiVersion ? raw.apiVersion : expected;
  const kind = typeof raw.kind === 'string' && raw.kind ? raw.kind : info.kind;
  const gv = apiVersion.split('/');
  if (gv.length > 2) {
    throw ApiError.badRequest(
      `the object provided is unrecognized (must be of type ${info.kind}): unexpected GroupVersion string: ${apiVersion} (${summarizeBody(body)})`,
    );
  }
  const [group, version] = gv.length === 2 ? gv : ['', gv[0]];
  const cannot = (why: string) => ApiError.badRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${info.kind}: ${why}`);
  const builtin = r.services.knownKind?.(info.group, info.version, info.kind) ?? false;
  if (apiVersion !== expected || kind !== info.kind) {
    if (!builtin) {
      if (apiVersion !== expected) {
        throw ApiError.badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected})`);
      }
      throw ApiError.badRequest(`the kind in the data (${kind}) does not match the expected kind (${info.kind})`);
    }
    if (!r.services.knownKind?.(group, version, kind)) {
      throw cannot(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    if (kind === info.kind && internalPackage(group) === internalPackage(info.group)) {
      throw ApiError.badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected})`);
    }
    throw cannot(`converting (${version}.${kind}) to (${internalPackage(info.group)}.${info.kind}): unknown conversion`);
  }
  const typeError = r.services.typeError?.(info, raw);
  if (typeError) throw cannot(typeError);
  if (raw.metadata !== undefined && raw.metadata !== null && !isPlainObject(raw.metadata)) {
    throw cannot(`json: cannot unmarshal ${Array.isArray(raw.metadata) ? 'array' : typeof raw.metadata} into Go struct field ${info.kind}.metadata of type v1.ObjectMeta`);
  }
  return { ...raw, apiVersion: expected, kind: info.kind, metadata: (raw.metadata ?? {}) as KubeObject['metadata'] } as KubeObject;
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

/**
 * fieldValidation: Strict refuses unknown fields (400), Warn returns them as warnings, Ignore reports nothing.
 * `decodePrefix` is what upstream's decoder puts before a strict error on create and update. With `prune`, the same
 * walk drops the unknown fields (as upstream's decoder does, whether they were warned about or ignored).
 */
function checkUnknownFields(r: ResourceRequest, obj: KubeObject, mode: FieldValidation, decodePrefix = '', prune = false): string[] {
  if (mode === 'Ignore') {
    if (prune) stripUnknownFields(r, obj);
    return [];
  }
  const problems = r.services.unknownFields(r.served.info, obj, prune);
  if (!problems.length) return [];
  if (mode === 'Strict') throw ApiError.badRequest(`${decodePrefix}strict decoding error: ${problems.join(', ')}`);
  return problems;
}

/** The prefix of upstream's decode errors once apiVersion/kind are known (they equal the endpoint's here). */
function decodePrefix(r: ResourceRequest): string {
  const info = r.served.info;
  return `${info.kind} in version ${JSON.stringify(info.version)} cannot be handled as a ${info.kind}: `;
}

/** Reads a create/update body in upstream's order: media type (415), size (413), options (422), decoding (400). */
async function readWrite(r: ResourceRequest, kind: 'CreateOptions' | 'UpdateOptions'): Promise<{ obj: KubeObject; opts: WriteOptions; warnings: string[] }> {
  const format = objectMediaType(mediaTypeOf(r.req));
  const body = await readBody(r.req);
  const opts = writeOptions(r.query, kind, r.req.headers['user-agent']);
  const obj = decodeTyped(r, body, format);
  const warnings = checkUnknownFields(r, obj, opts.fieldValidation, decodePrefix(r), true);
  return { obj, opts, warnings };
}

export async function handleCreate(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  if (r.name !== undefined) throw ApiError.methodNotAllowed();
  const { obj, opts, warnings } = await readWrite(r, 'CreateOptions');
  r.services.fieldManager.trackUpdate(r.served.info, undefined, obj, opts.fieldManager, '');
  const created = await r.served.store.create(r.namespace, toStored(r, obj), writeCtx(r, opts.dryRun));
  // Plain JSON: the text the object was stored as (with its resourceVersion), not encoded a second time.
  const text = neg.output === 'object' && !neg.yaml && !r.served.converter ? r.served.store.writtenJson(created) : undefined;
  if (text !== undefined) {
    writeJsonText(r.res, 201, text, warningHeaders(warnings));
    return;
  }
  sendObject(r, 201, toServed(r, created), neg, warnings);
}

/** Unknown fields are dropped before storing, as upstream's decoder does (even when they were only warned about). */
function stripUnknownFields(r: ResourceRequest, obj: KubeObject): void {
  r.services.pruneUnknownFields(r.served.info, obj);
}

export async function handleUpdate(r: ResourceRequest): Promise<void> {
  const neg = negotiated(r);
  const info = r.served.info;
  // Routing sends only the main resource and the status/approval subresources here.
  const sub = r.subresource;
  const { obj, opts, warnings } = await readWrite(r, 'UpdateOptions');
  const { dryRun, fieldManager: manager } = opts;
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
  // Routing sends only the main resource and the status/approval subresources here.
  const sub = r.subresource;
  const type = patchMediaType(mediaTypeOf(r.req));
  const body = await readBody(r.req);
  const opts = writeOptions(r.query, 'PatchOptions', r.req.headers['user-agent'], { applyPatch: type === 'apply-patch' });
  const { dryRun, fieldValidation: validation, fieldManager: manager } = opts;
  const force = boolParam(r.query, 'force');
  const patch = decodePatch(body, type);
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
        const notObject = typeMetaError(next);
        if (notObject) throw patchInvalid(next, `couldn't get version/kind; json parse error: ${notObject}`);
        next.apiVersion = apiVersion;
        next.kind = info.kind;
        warnings = checkPatched(r, next, validation);
        r.services.fieldManager.trackUpdate(info, live, next, manager, sub);
      }
      if (type === 'apply-patch') stripUnknownFields(r, next);
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

/**
 * The result of a JSON, merge or strategic merge patch is decoded into the kind's type as upstream does: a type
 * error, or an unknown field under fieldValidation=Strict, is 422 Invalid on the field "patch".
 */
function checkPatched(r: ResourceRequest, next: KubeObject, validation: FieldValidation): string[] {
  const typeError = r.services.typeError?.(r.served.info, next);
  if (typeError) throw patchInvalid(next, typeError);
  if (validation === 'Strict') {
    // The error shows the patched object as it was, unknown fields included (and there is nothing to drop otherwise).
    const problems = r.services.unknownFields(r.served.info, next);
    if (problems.length) throw patchInvalid(next, `strict decoding error: ${problems.join(', ')}`);
    return [];
  }
  // Warn and Ignore: the walk that finds the unknown fields also drops them (the result is stored without them).
  return checkUnknownFields(r, next, validation, '', true);
}

/** Upstream's error for a patched object that does not decode: Invalid on "patch", whose value is the result. */
function patchInvalid(patched: unknown, why: string): ApiError {
  const body = `Invalid value: ${JSON.stringify(JSON.stringify(patched))}: ${why}`;
  return new ApiError({
    message: ` "" is invalid: patch: ${body}`,
    reason: 'Invalid',
    code: 422,
    details: { causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }] },
  });
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
    raw = decodeObject(body, ct === 'application/yaml' ? 'yaml' : 'json', 'DeleteOptions');
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
    dryRun: writeOptions(r.query, 'DeleteOptions', undefined, { bodyDryRun: raw.dryRun }).dryRun,
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
  writeJson(
    r.res,
    200,
    wireStatus({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: r.name, group: info.group, kind: info.resource, uid: obj.metadata.uid },
    }),
  );
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
