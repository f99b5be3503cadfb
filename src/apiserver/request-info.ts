// What a request is about, derived from its method and path the way upstream's RequestInfoFactory does it. The
// authorizer, metrics and the REST handlers all read this one parse.
import type { IncomingMessage } from 'node:http';

export interface RequestInfo {
  /** True for /api/... and /apis/... paths naming at least a group version; false for /version, /healthz, ... */
  isResourceRequest: boolean;
  /** URL path without the query string. */
  path: string;
  /**
   * Resource requests: get, list, watch, create, update, patch, delete, deletecollection, proxy (or '' for an unknown
   * method). Non-resource requests: the lower-cased HTTP method.
   */
  verb: string;
  /** "api" or "apis" for resource requests, '' otherwise. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the version (and namespace), e.g. ["pods", "web-0", "log"]. */
  parts: string[];
  /** list/watch: the fieldSelector query parameter, for authorizers that look at it (the node authorizer). */
  fieldSelector?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Legacy path prefixes that override the verb: /api/v1/watch/pods, /api/v1/proxy/... */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);

function methodVerb(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

function nonResource(path: string, method: string): RequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
}

/**
 * The query parameters of a request target, as `new URL(target, base).searchParams` gives them (the text after the
 * first "?", up to a "#"), without parsing and normalizing the whole URL.
 */
export function searchParamsOf(url: string): URLSearchParams {
  const hash = url.indexOf('#');
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf('?');
  return q < 0 || q > end ? new URLSearchParams() : new URLSearchParams(url.slice(q + 1, end));
}

/** Parses method + URL (path and query) into a RequestInfo. Never throws. */
export function parseRequestInfo(method: string, url: string): RequestInfo {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // The query is parsed only when a collection GET or a list needs it.
  let parsedQuery: URLSearchParams | undefined;
  const query = () => (parsedQuery ??= searchParamsOf(url));
  const segs = path.split('/');
  // Empty segments ("//", leading and trailing "/") name nothing; escapes are decoded (most paths have none).
  let kept = 0;
  try {
    for (const s of segs) if (s !== '') segs[kept++] = s.includes('%') ? decodeURIComponent(s) : s;
  } catch {
    // A malformed escape cannot name a resource; let the handler answer 404 for the raw path.
    return nonResource(path, method);
  }
  segs.length = kept;

  const prefix = segs[0];
  let apiGroup = '';
  let apiVersion: string;
  let rest: string[];
  if (prefix === 'api' && segs.length >= 2) {
    apiVersion = segs[1];
    rest = segs.slice(2);
  } else if (prefix === 'apis' && segs.length >= 3) {
    apiGroup = segs[1];
    apiVersion = segs[2];
    rest = segs.slice(3);
  } else {
    return nonResource(path, method);
  }

  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: '',
    apiPrefix: prefix,
    apiGroup,
    apiVersion,
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  // "/api/v1" and "/apis/apps/v1" themselves are discovery documents, not resource requests.
  if (rest.length === 0) {
    info.verb = method.toLowerCase();
    return info;
  }
  info.isResourceRequest = true;

  if (SPECIAL_VERBS.has(rest[0])) {
    if (rest.length < 2) {
      // "/api/v1/watch" alone names nothing.
      info.isResourceRequest = false;
      info.verb = method.toLowerCase();
      return info;
    }
    info.verb = rest[0];
    rest = rest.slice(1);
  } else {
    info.verb = methodVerb(method);
  }

  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1];
      // "/namespaces/ns/pods/..." addresses pods; "/namespaces/ns/status" addresses the namespace itself.
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  info.parts = rest;
  if (rest.length >= 3) info.subresource = rest[2];
  if (rest.length >= 2) info.name = rest[1];
  if (rest.length >= 1) info.resource = rest[0];

  if (info.name === '' && info.verb === 'get') {
    info.verb = isTrue(query().get('watch')) ? 'watch' : 'list';
    // A collection request narrowed to one name by field selector is authorized as that name (so RBAC
    // resourceNames rules work for `kubectl get pod x -w`).
    const selected = exactNameSelector(query().get('fieldSelector'));
    if (selected !== undefined) info.name = selected;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  const fieldSelector = info.verb === 'list' || info.verb === 'watch' ? query().get('fieldSelector') : null;
  if (fieldSelector) info.fieldSelector = fieldSelector;
  return info;
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

function exactNameSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = /^\s*metadata\.name\s*(?:==|=)\s*(.*?)\s*$/.exec(term);
    if (m && isValidPathSegmentName(m[1])) return m[1];
  }
  return undefined;
}

function isValidPathSegmentName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** Upstream's notion of long-running requests: watches and streaming subresources (exec, logs -f, proxy, ...). */
export function isLongRunning(info: RequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  if (info.verb === 'watch' || info.verb === 'proxy') return true;
  return ['exec', 'attach', 'portforward', 'proxy', 'log'].includes(info.subresource);
}

/**
 * A value carried by each request under a symbol private to the slot (no other code can name it; it is no enumerable
 * string key): what a WeakMap keyed by request gives, without a weak entry per request for every collection to process.
 */
export function requestSlot<T>(description: string): { set(req: IncomingMessage, value: T): void; get(req: IncomingMessage): T | undefined } {
  const key = Symbol(description);
  type Carrier = IncomingMessage & { [key]?: T };
  return {
    set: (req, value) => {
      (req as Carrier)[key] = value;
    },
    get: (req) => (req as Carrier)[key],
  };
}

const infoSlot = requestSlot<RequestInfo>('skiff.requestInfo');

/** Attaches the parsed RequestInfo to a request (done once by the server pipeline). */
export function setRequestInfo(req: IncomingMessage, info: RequestInfo): void {
  infoSlot.set(req, info);
}

/** The RequestInfo the pipeline parsed for this request (parsed on demand if the pipeline did not run). */
export function requestInfoOf(req: IncomingMessage): RequestInfo {
  let info = infoSlot.get(req);
  if (!info) {
    info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
    infoSlot.set(req, info);
  }
  return info;
}
