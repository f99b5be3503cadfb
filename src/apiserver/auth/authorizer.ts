// Authorization: a decision per request from its attributes (user, verb, resource or path), asked of a chain of
// Authorizers (rbac/chain.ts builds kube-apiserver's from --authorization-mode).
import { ApiError } from '../../machinery/errors.js';
import type { RequestInfo } from '../request-info.js';
import type { UserInfo } from './user.js';

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
  isResourceRequest: boolean;
  /** list/watch: the request's field selector, unparsed. */
  fieldSelector?: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why, appended to the 403 message when present. */
  reason?: string;
}

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> | AuthorizationResult;
}

export function attributesFor(user: UserInfo, info: RequestInfo): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
    path: info.path,
    isResourceRequest: info.isResourceRequest,
    ...(info.fieldSelector ? { fieldSelector: info.fieldSelector } : {}),
  };
}

/** Paths anyone may GET, even unauthenticated: upstream's system:public-info-viewer role. */
const PUBLIC_INFO_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

export function isPublicInfoPath(path: string): boolean {
  return PUBLIC_INFO_PATHS.some((p) => path === p || path === `${p}/` || path.startsWith(`${p}/`));
}

/** Asks each authorizer in turn; the first allow or deny decides (upstream's union authorizer). */
export class UnionAuthorizer implements Authorizer {
  constructor(private readonly authorizers: readonly Authorizer[]) {}
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> | AuthorizationResult {
    const reasons: string[] = [];
    for (let i = 0; i < this.authorizers.length; i++) {
      const r = this.authorizers[i]!.authorize(attrs);
      // Most authorizers answer at once: only a pending answer makes the chain asynchronous.
      if (r instanceof Promise) return this.rest(attrs, r, i, reasons);
      if (r.decision !== 'no-opinion') return r;
      if (r.reason) reasons.push(r.reason);
    }
    return noOpinion(reasons);
  }

  private async rest(attrs: AuthorizationAttributes, pending: Promise<AuthorizationResult>, at: number, reasons: string[]): Promise<AuthorizationResult> {
    let r = await pending;
    for (let i = at; ; ) {
      if (r.decision !== 'no-opinion') return r;
      if (r.reason) reasons.push(r.reason);
      if (++i >= this.authorizers.length) return noOpinion(reasons);
      r = await this.authorizers[i]!.authorize(attrs);
    }
  }
}

/** Upstream joins the reasons of every authorizer that had no opinion with newlines. */
const noOpinion = (reasons: string[]): AuthorizationResult => ({ decision: 'no-opinion', ...(reasons.length ? { reason: reasons.join('\n') } : {}) });

/** Public-info paths for everyone (GET only), as the bootstrap role system:public-info-viewer grants. */
export class PublicInfoAuthorizer implements Authorizer {
  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    return !attrs.isResourceRequest && attrs.verb === 'get' && isPublicInfoPath(attrs.path) ? { decision: 'allow' } : { decision: 'no-opinion' };
  }
}

/** The 403 upstream writes for a denied request, with its exact wording. */
export function forbiddenError(attrs: AuthorizationAttributes, reason?: string): ApiError {
  let msg: string;
  if (!attrs.isResourceRequest) {
    msg = `User ${JSON.stringify(attrs.user.name)} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  } else {
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    const where = attrs.namespace ? `in the namespace ${JSON.stringify(attrs.namespace)}` : 'at the cluster scope';
    msg = `User ${JSON.stringify(attrs.user.name)} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup)} ${where}`;
  }
  if (reason) msg += `: ${reason}`;
  if (!attrs.resource) {
    return new ApiError({ message: `forbidden: ${msg}`, reason: 'Forbidden', code: 403, details: {} });
  }
  return ApiError.forbidden(attrs.apiGroup, attrs.resource, attrs.name, msg);
}
