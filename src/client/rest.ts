// Typed REST client, the client-go equivalent of a dynamic/typed clientset: one ResourceClient per resource, paths from
// the built-in catalog, every failure surfaced as an ApiError carrying the server's metav1.Status.
import type { Status } from 'kubernetes-types/meta/v1.js';
import type { ObjectMeta as ReadonlyObjectMeta } from 'kubernetes-types/meta/v1.js';
import { findResource, type ResourceInfo } from '../api/catalog.js';
import { isPlainObject, type ListMeta } from '../api/object.js';
import { ApiError, type StatusReason } from '../machinery/errors.js';
import { loadKubeconfig } from './kubeconfig.js';
import { HttpsTransport, type HttpMethod, type Transport, type TransportRequest, type TransportResponse } from './transport.js';
import { realClock, type Clock } from './clock.js';

/** Anything with object metadata: kubernetes-types kinds and the generic KubeObject alike. */
export interface ObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ReadonlyObjectMeta;
}

export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T } | { type: 'ERROR'; object: Status };

/** An open watch: iterate its events; the iteration ends when the server closes the stream or stop() is called. */
export interface Watcher<T> extends AsyncIterable<WatchEvent<T>> {
  stop(): void;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
}

export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

export interface WriteOptions {
  namespace?: string;
  fieldManager?: string;
  dryRun?: boolean;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  type: PatchType;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  subresource?: string;
}

export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The server's Status for a failed call, or one made from the code and body when the reply is not a Status. */
export function errorFromResponse(status: number, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isPlainObject(parsed) && parsed.kind === 'Status') return new ApiError({ ...(parsed as Status), code: (parsed.code as number | undefined) ?? status });
  const message = body.trim() || `the server responded with HTTP ${status}`;
  return new ApiError({ message, reason: REASON_BY_CODE[status] ?? 'InternalError', code: status });
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Splits a newline-delimited JSON stream into watch events. */
async function* parseWatchEvents<T>(chunks: AsyncIterable<string>): AsyncGenerator<WatchEvent<T>> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield decodeEvent<T>(line);
    }
  }
  if (buffer.trim()) yield decodeEvent<T>(buffer.trim());
}

function decodeEvent<T>(line: string): WatchEvent<T> {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    throw new Error(`watch: undecodable event: ${line.slice(0, 200)}`);
  }
  if (!isPlainObject(ev) || typeof ev.type !== 'string' || !isPlainObject(ev.object)) throw new Error(`watch: malformed event: ${line.slice(0, 200)}`);
  if (!['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].includes(ev.type)) throw new Error(`watch: unknown event type ${ev.type}`);
  return ev as unknown as WatchEvent<T>;
}

export interface RestClientOptions {
  /** Retries of a call answered 429 (or 5xx) with a Retry-After header (client-go: 10). */
  maxRetries?: number;
  /** Longest wait honoured from one Retry-After (default 60 s); larger values are capped to it. */
  maxRetryAfterMs?: number;
  clock?: Clock;
}

/**
 * Seconds a reply asks us to wait before trying again, as client-go's checkWait: only 429 and 5xx replies, only with a
 * Retry-After of whole seconds; undefined means "do not retry".
 */
export function retryAfterSeconds(res: Pick<TransportResponse, 'status' | 'headers'>): number | undefined {
  if (res.status !== 429 && (res.status < 500 || res.status > 599)) return undefined;
  const raw = res.headers['retry-after'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

export class RestClient {
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;

  constructor(
    readonly transport: Transport,
    opts: RestClientOptions = {},
  ) {
    this.maxRetries = opts.maxRetries ?? 10;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    this.clock = opts.clock ?? realClock;
  }

  /** A client for the cluster of a kubeconfig file (its current context unless `context` is given). */
  static async fromKubeconfig(path: string, context?: string): Promise<RestClient> {
    return new RestClient(new HttpsTransport(await loadKubeconfig(path, context)));
  }

  /** One request, repeated (at most maxRetries times) while the server answers 429/5xx with a Retry-After. */
  private async send(req: TransportRequest): Promise<TransportResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.transport.request(req);
      const wait = retryAfterSeconds(res);
      if (wait === undefined || attempt >= this.maxRetries || req.signal?.aborted) return res;
      await this.clock.sleep(Math.min(wait * 1000, this.maxRetryAfterMs), req.signal);
    }
  }

  /** A client for one resource of the built-in catalog, e.g. resource<Deployment>({group:'apps',version:'v1',resource:'deployments'}). */
  resource<T extends ObjectLike>(gvr: GroupVersionResource): ResourceClient<T> {
    const info = findResource(gvr.group, gvr.version, gvr.resource);
    if (!info) throw new Error(`unknown resource ${gvr.resource} in ${gvr.group ? `${gvr.group}/` : ''}${gvr.version}`);
    return new ResourceClient<T>(this, info);
  }

  /** One call; non-2xx replies reject with ApiError, 2xx bodies are parsed JSON. */
  async call<R>(method: HttpMethod, path: string, body?: unknown, contentType = 'application/json'): Promise<R> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.send({ method, path, body: data, headers: data !== undefined ? { 'Content-Type': contentType } : {} });
    if (res.status < 200 || res.status > 299) throw errorFromResponse(res.status, res.body);
    try {
      return JSON.parse(res.body) as R;
    } catch {
      throw new Error(`${method} ${path}: HTTP ${res.status} with a body that is not JSON: ${res.body.slice(0, 200)}`);
    }
  }

  async watch<T>(path: string): Promise<Watcher<T>> {
    let res = await this.transport.stream({ method: 'GET', path });
    for (let attempt = 0; res.status < 200 || res.status > 299; attempt++) {
      let body = '';
      for await (const c of res.chunks) body += c;
      const wait = retryAfterSeconds(res);
      if (wait === undefined || attempt >= this.maxRetries) throw errorFromResponse(res.status, body);
      await this.clock.sleep(Math.min(wait * 1000, this.maxRetryAfterMs));
      res = await this.transport.stream({ method: 'GET', path });
    }
    const events = parseWatchEvents<T>(res.chunks);
    return {
      [Symbol.asyncIterator]: () => events,
      stop: () => res.close(),
    };
  }

  close(): void {
    this.transport.close();
  }
}

export class ResourceClient<T extends ObjectLike> {
  constructor(
    private readonly client: RestClient,
    readonly info: ResourceInfo,
  ) {}

  /** Collection path, e.g. /apis/apps/v1/namespaces/ns/deployments (cluster-wide when namespace is unset). */
  path(namespace?: string, name?: string, subresource?: string): string {
    const { group, version, resource, namespaced } = this.info;
    let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
    if (namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${resource}`;
    if (name !== undefined) {
      if (!name) throw new Error(`${resource}: resource name may not be empty`);
      p += `/${encodeURIComponent(name)}`;
    }
    if (subresource) p += `/${subresource}`;
    return p;
  }

  private objectPath(obj: T, opts: { namespace?: string }, subresource?: string): string {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${this.info.resource}: object has no metadata.name`);
    return this.path(this.namespaceFor(opts.namespace ?? obj.metadata?.namespace), name, subresource);
  }

  private namespaceFor(namespace: string | undefined): string | undefined {
    if (this.info.namespaced && !namespace) throw new Error(`${this.info.resource} is namespaced: a namespace is required`);
    return this.info.namespaced ? namespace : undefined;
  }

  private writeQuery(o: WriteOptions, extra: Record<string, string | boolean | undefined> = {}): string {
    return query({ fieldManager: o.fieldManager, fieldValidation: o.fieldValidation, dryRun: o.dryRun ? 'All' : undefined, ...extra });
  }

  get(name: string, opts: { namespace?: string; subresource?: string } = {}): Promise<T> {
    return this.client.call('GET', this.path(this.namespaceFor(opts.namespace), name, opts.subresource));
  }

  /** One page (or everything, without `limit`); a namespaced resource without a namespace lists all namespaces. */
  list(opts: ListOptions = {}): Promise<ObjectList<T>> {
    const q = query({
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      timeoutSeconds: opts.timeoutSeconds,
    });
    return this.client.call('GET', this.path(opts.namespace) + q);
  }

  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.call('POST', this.path(this.namespaceFor(opts.namespace ?? obj.metadata?.namespace)) + this.writeQuery(opts), obj);
  }

  /** PUT the whole object; its metadata.resourceVersion makes it a compare-and-swap (409 Conflict when stale). */
  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.call('PUT', this.objectPath(obj, opts) + this.writeQuery(opts), obj);
  }

  /** PUT to the status subresource: only .status changes. */
  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.call('PUT', this.objectPath(obj, opts, 'status') + this.writeQuery(opts), obj);
  }

  patch(name: string, patch: unknown, opts: PatchOptions): Promise<T> {
    if (opts.type === 'apply' && !opts.fieldManager) throw new Error('server-side apply requires a fieldManager');
    const path = this.path(this.namespaceFor(opts.namespace), name, opts.subresource) + this.writeQuery(opts, { force: opts.force });
    return this.client.call('PATCH', path, patch, PATCH_CONTENT_TYPES[opts.type]);
  }

  /** Returns the deleted object, the object still terminating (finalizers, graceful deletion), or a Success Status. */
  delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return this.client.call('DELETE', this.path(this.namespaceFor(opts.namespace), name) + query({ dryRun: opts.dryRun ? 'All' : undefined }), deleteBody(opts));
  }

  deleteCollection(opts: DeleteOptions & Pick<ListOptions, 'labelSelector' | 'fieldSelector'> = {}): Promise<ObjectList<T> | Status> {
    const q = query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, dryRun: opts.dryRun ? 'All' : undefined });
    return this.client.call('DELETE', this.path(opts.namespace) + q, deleteBody(opts));
  }

  watch(opts: WatchOptions = {}): Promise<Watcher<T>> {
    const q = query({
      watch: true,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      sendInitialEvents: opts.sendInitialEvents,
      timeoutSeconds: opts.timeoutSeconds,
    });
    return this.client.watch<T>(this.path(opts.namespace) + q);
  }
}

function deleteBody(opts: DeleteOptions): object {
  return {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
  };
}
