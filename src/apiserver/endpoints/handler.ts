// Routes an authenticated, authorized request to discovery, OpenAPI or a resource verb.
import { handlePodLog, type KubeletClientConfig } from './pod-log.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, isApiError } from '../../machinery/errors.js';
import { deepClone } from '../../api/object.js';
import type { UserInfo } from '../auth/user.js';
import { requestInfoOf, searchParamsOf, type RequestInfo } from '../request-info.js';
import type { Registry, ServedResource } from '../registry/registry.js';
import type { Verb } from '../../api/catalog.js';
import { writeError, writeJson, readBody, decodeObject, mediaTypeOf, objectMediaType, negotiate } from './negotiation.js';
import {
  handleCreate,
  handleDelete,
  handleDeleteCollection,
  handleGet,
  handleList,
  handlePatch,
  handleUpdate,
  sendObject,
  type ResourceRequest,
} from './resource.js';
import { handleWatch, type WatchOptions } from './watch.js';
import { handleBinding, handleEviction, handleScale } from './subresources.js';
import { dryRunParam } from './params.js';
import { handleSelfSubjectReview, handleTokenRequest, handleTokenReview, type TokenIssuing } from './token-request.js';
import type { ApiServices } from './services.js';

/** A served document (discovery, OpenAPI): body plus the headers that go with it. */
export interface StaticDocument {
  body: Buffer | string;
  contentType: string;
  etag?: string;
  headers?: Record<string, string>;
}

export interface ApiHandlerDeps {
  registry: Registry;
  services: ApiServices;
  watch: WatchOptions;
  /** Discovery documents for /api, /apis, /api/v1, /apis/G, /apis/G/V. */
  discovery(path: string, accept: string | undefined): StaticDocument | undefined;
  /** The whole exchange for /openapi/* (status and caching headers included); undefined for unknown paths. */
  openapi(path: string, query: URLSearchParams, accept: string | undefined, ifNoneMatch: string | undefined): HttpAnswer | undefined;
  /** The client certificate the API server shows kubelets (pods/log); without it logs are unavailable. */
  kubeletClient?: KubeletClientConfig;
  /** metrics.k8s.io (served in-process from kubelet scrapes); absent: the group is not served. */
  metrics?: { group: string; handle(info: RequestInfo, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> };
  /** serviceaccounts/token and TokenReview; absent: no service account key. */
  tokenIssuing?: TokenIssuing;
}

/** A complete HTTP answer computed elsewhere (OpenAPI handles its own caching headers and redirects). */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

export type ApiHandler = (req: IncomingMessage, res: ServerResponse, user: UserInfo) => Promise<void>;

export function createApiHandler(deps: ApiHandlerDeps): ApiHandler {
  return async (req, res, user) => {
    try {
      await route(deps, req, res, user);
    } catch (err) {
      writeError(res, isApiError(err) ? err : ApiError.internal(err instanceof Error ? err.message : String(err), err));
    }
  };
}

function sendDocument(req: IncomingMessage, res: ServerResponse, doc: StaticDocument): void {
  const headers: Record<string, string> = { 'Content-Type': doc.contentType, ...doc.headers };
  if (doc.etag) {
    headers.ETag = `"${doc.etag}"`;
    const match = req.headers['if-none-match'];
    if (match && match.replace(/^W\//, '') === `"${doc.etag}"`) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
  }
  const body = typeof doc.body === 'string' ? Buffer.from(doc.body) : doc.body;
  headers['Content-Length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function route(deps: ApiHandlerDeps, req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
  const info = requestInfoOf(req);
  const query = searchParamsOf(req.url ?? '/');
  const method = req.method ?? 'GET';
  if (info.path === '/openapi/v2' || info.path === '/openapi/v3' || info.path.startsWith('/openapi/v3/')) {
    if (method !== 'GET' && method !== 'HEAD') throw ApiError.methodNotAllowed();
    const answer = deps.openapi(info.path, query, req.headers.accept, req.headers['if-none-match']);
    if (!answer) throw ApiError.pageNotFound();
    res.writeHead(answer.status, { ...answer.headers, ...(answer.body ? { 'Content-Length': String(answer.body.length) } : {}) });
    res.end(method === 'HEAD' ? undefined : answer.body);
    return;
  }
  if (!info.isResourceRequest) {
    const isDiscoveryPath = /^\/(api|apis)(\/[^/]+){0,2}\/?$/.test(info.path);
    if (isDiscoveryPath) {
      if (method !== 'GET' && method !== 'HEAD') throw ApiError.methodNotAllowed();
      const doc = deps.discovery(info.path.replace(/\/$/, ''), req.headers.accept);
      if (doc) {
        sendDocument(req, res, doc);
        return;
      }
    }
    throw ApiError.pageNotFound();
  }
  await routeResource(deps, info, query, req, res, user);
}

async function routeResource(
  deps: ApiHandlerDeps,
  info: RequestInfo,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  user: UserInfo,
): Promise<void> {
  if (deps.metrics && info.apiGroup === deps.metrics.group) return deps.metrics.handle(info, query, req, res);
  // POST /api/v1/namespaces/{ns}/bindings is the collection form of pods/binding.
  if (info.apiGroup === '' && info.apiVersion === 'v1' && info.resource === 'bindings') {
    if (info.verb !== 'create' || !info.namespace || info.name) throw ApiError.methodNotAllowed();
    const served = deps.registry.resolve('', 'v1', 'pods')!;
    await handleBinding(resourceRequest(deps, info, query, req, res, user, served), deps.registry);
    return;
  }
  // authentication.k8s.io/v1 reviews are create-only and never stored.
  if (info.apiGroup === 'authentication.k8s.io' && info.apiVersion === 'v1' && !info.namespace && !info.name && !info.subresource) {
    if (info.resource === 'selfsubjectreviews' || info.resource === 'tokenreviews') {
      if (info.verb !== 'create') throw ApiError.methodNotAllowed();
      return info.resource === 'tokenreviews' ? handleTokenReview(req, res, deps.tokenIssuing) : handleSelfSubjectReview(req, res, user);
    }
  }
  const served = deps.registry.resolve(info.apiGroup, info.apiVersion, info.resource);
  if (!served) throw ApiError.pageNotFound();
  if (!served.info.namespaced && info.namespace && info.resource !== 'namespaces') throw ApiError.pageNotFound();
  const r = resourceRequest(deps, info, query, req, res, user, served);
  if (info.parts.length > 3) throw ApiError.pageNotFound();
  if (info.subresource) {
    await routeSubresource(deps, info, r);
    return;
  }
  const allowed = (verb: Verb) => {
    if (!served.info.verbs.includes(verb)) throw ApiError.methodNotAllowed();
  };
  switch (info.verb) {
    case 'get':
      allowed('get');
      return handleGet(r);
    case 'list':
      allowed('list');
      return handleList(r);
    case 'watch':
      allowed('watch');
      if (info.name && !query.get('fieldSelector')) {
        // Legacy /watch/<resource>/<name> form: watch one object.
        query.set('fieldSelector', `metadata.name=${info.name}`);
        r.name = undefined;
      }
      return handleWatch(r, deps.watch);
    case 'create':
      allowed('create');
      if (served.info.namespaced && !info.namespace) throw ApiError.methodNotAllowed();
      if (info.name) throw ApiError.methodNotAllowed();
      return handleCreate(r);
    case 'update':
      allowed('update');
      if (!info.name) throw ApiError.methodNotAllowed();
      return handleUpdate(r);
    case 'patch':
      allowed('patch');
      if (!info.name) throw ApiError.methodNotAllowed();
      return handlePatch(r);
    case 'delete':
      allowed('delete');
      return handleDelete(r);
    case 'deletecollection':
      allowed('deletecollection');
      return handleDeleteCollection(r);
    default:
      throw ApiError.methodNotAllowed();
  }
}

function resourceRequest(
  deps: ApiHandlerDeps,
  info: RequestInfo,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  user: UserInfo,
  served: ServedResource,
): ResourceRequest {
  const namespaced = served.info.namespaced;
  return {
    req,
    res,
    user,
    query,
    served,
    namespace: namespaced ? info.namespace || undefined : undefined,
    name: info.name || (served.info.resource === 'namespaces' && info.namespace && !namespaced ? info.namespace : undefined),
    subresource: info.subresource,
    services: deps.services,
  };
}

async function routeSubresource(deps: ApiHandlerDeps, info: RequestInfo, r: ResourceRequest): Promise<void> {
  const sub = r.served.info.subresources.find((s) => s.name === info.subresource);
  if (!sub || !r.name) throw ApiError.pageNotFound();
  const method = r.req.method ?? 'GET';
  switch (sub.name) {
    case 'status':
      if (method === 'GET') return handleGet(r);
      if (method === 'PUT') return handleUpdate(r);
      if (method === 'PATCH') return handlePatch(r);
      throw ApiError.methodNotAllowed();
    case 'scale':
      return handleScale(r);
    case 'binding':
      if (method !== 'POST') throw ApiError.methodNotAllowed();
      return handleBinding(r, deps.registry, r.name);
    case 'eviction':
      if (method !== 'POST') throw ApiError.methodNotAllowed();
      return handleEviction(r, deps.registry);
    case 'finalize':
      if (method !== 'PUT') throw ApiError.methodNotAllowed();
      return handleFinalize(r);
    case 'approval':
    case 'ephemeralcontainers':
      if (method === 'GET') return handleGet(r);
      if (method === 'PUT') return handleUpdate(r);
      if (method === 'PATCH') return handlePatch(r);
      throw ApiError.methodNotAllowed();
    case 'token':
      if (method !== 'POST') throw ApiError.methodNotAllowed();
      return handleTokenRequest(r, deps.registry, deps.tokenIssuing);
    case 'log':
      if (r.served.info.resource !== 'pods') break;
      return handlePodLog(r, deps.registry, deps.kubeletClient);
    default:
      break;
  }
  // Streaming subresources (exec, attach, portforward, proxy) need a node agent to talk to.
  throw new ApiError({
    message: `${sub.name} is not available: pod ${r.name} has no node agent that serves it`,
    reason: 'BadRequest',
    code: 400,
  });
}

/** PUT namespaces/{name}/finalize changes only spec.finalizers (the namespace controller's last step). */
async function handleFinalize(r: ResourceRequest): Promise<void> {
  const body = await readBody(r.req);
  const input = decodeObject(body, objectMediaType(mediaTypeOf(r.req)), 'Namespace');
  const spec = (input.spec ?? {}) as { finalizers?: string[] };
  const dryRun = dryRunParam(r.query, 'UpdateOptions');
  const { object } = await r.served.store.update(
    r.namespace,
    r.name!,
    (current) => {
      if (!current) throw ApiError.notFound('', 'namespaces', r.name!);
      const next = deepClone(current);
      next.spec = { ...(next.spec as object), finalizers: spec.finalizers ?? [] };
      if (!(spec.finalizers ?? []).length) delete (next.spec as { finalizers?: string[] }).finalizers;
      delete next.metadata.resourceVersion;
      return next;
    },
    { user: r.user, dryRun, subresource: 'finalize' },
  );
  sendObject(r, 200, object, negotiate(r.req.headers.accept, null));
}

export { writeJson };
