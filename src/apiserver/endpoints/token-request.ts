// serviceaccounts/token (authentication.k8s.io/v1 TokenRequest): a signed, audience- and time-bound token for a
// ServiceAccount, optionally bound to a Pod, Secret or Node of the cluster, as upstream's TokenREST. Also the
// authentication.k8s.io reviews a token's holder can ask about itself (SelfSubjectReview, for `kubectl auth whoami`)
// and TokenReview (what an API client learns about another's token).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import { isPlainObject } from '../../api/object.js';
import { ApiError, fieldErr as field, isNotFound, type FieldError } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import type { Registry } from '../registry/registry.js';
import type { UserInfo } from '../auth/user.js';
import { nodeIdentity } from '../auth/node.js';
import {
  DEFAULT_EXPIRATION_SECONDS,
  EXTENDED_EXPIRATION_SECONDS,
  MAX_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  WARN_ONLY_EXPIRATION_SECONDS,
  type ServiceAccountTokenAuthenticator,
  type ServiceAccountTokens,
} from '../auth/serviceaccount.js';
import { decodeObject, mediaTypeOf, negotiate, objectMediaType, readBody, writeJson } from './negotiation.js';
import type { ResourceRequest } from './resource.js';

/** How the API server issues tokens (kube-apiserver's --service-account-* flags). */
export interface TokenIssuing {
  tokens: ServiceAccountTokens;
  /** --service-account-max-token-expiration in seconds; 0 or unset: no cap beyond 2^32. */
  maxExpirationSeconds?: number;
  /** --service-account-extend-token-expiration (default true): the kubelet's 3607 s tokens live a year, with warnafter. */
  extendExpiration?: boolean;
  /** Verifies tokens for TokenReview. */
  authenticator?: ServiceAccountTokenAuthenticator;
}

interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/** A core object, or undefined when it does not exist. */
export async function getIfExists(registry: Registry, resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await registry.store('', resource).get(namespace, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function handleTokenRequest(r: ResourceRequest, registry: Registry, issuing: TokenIssuing | undefined): Promise<void> {
  if (!issuing) throw ApiError.pageNotFound();
  const body = await readBody(r.req);
  const req = decodeObject(body, objectMediaType(mediaTypeOf(r.req)), 'TokenRequest');
  const name = r.name!;
  const namespace = r.namespace ?? '';
  const meta = isPlainObject(req.metadata) ? req.metadata : {};
  const spec = isPlainObject(req.spec) ? req.spec : {};
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
  let expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : DEFAULT_EXPIRATION_SECONDS;
  const boundRef: BoundObjectRef | undefined = isPlainObject(spec.boundObjectRef) ? (spec.boundObjectRef as BoundObjectRef) : undefined;

  const errs: FieldError[] = [];
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) errs.push(field.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
    errs.push({ type: 'FieldValueTooLong', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' });
  }
  if (errs.length) throw ApiError.invalid('authentication.k8s.io', 'TokenRequest', typeof meta.name === 'string' ? meta.name : '', errs);

  // NodeRestriction: a node asks only for tokens bound to pods it runs.
  const node0 = nodeIdentity(r.user);
  const forbidden = (why: string) => ApiError.forbidden('', 'serviceaccounts', name, why);
  if (node0 !== undefined) {
    if (!boundRef) throw forbidden('node requested token not bound to a pod');
    if (boundRef.kind !== 'Pod' || boundRef.apiVersion !== 'v1') throw forbidden(`node requested token bound to a ${boundRef.kind ?? ''}`);
    if (!boundRef.uid) throw forbidden('node requested token with a pod binding without a uid');
  }
  const sa = await registry.store('', 'serviceaccounts').get(namespace, name);
  let pod: KubeObject | undefined;
  let secret: KubeObject | undefined;
  let node: KubeObject | undefined;
  if (boundRef) {
    const kind = boundRef.kind ?? '';
    const apiVersion = boundRef.apiVersion ?? '';
    const refName = boundRef.name ?? '';
    const gvk = `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
    let resource: 'pods' | 'secrets' | 'nodes';
    if (apiVersion === 'v1' && kind === 'Pod') resource = 'pods';
    else if (apiVersion === 'v1' && kind === 'Secret') resource = 'secrets';
    else if (apiVersion === 'v1' && kind === 'Node') resource = 'nodes';
    else throw ApiError.badRequest(`cannot bind token to object of type ${gvk.replace(/^\//, '')}`);
    const obj = await registry.store('', resource).get(resource === 'nodes' ? undefined : namespace, refName);
    if (boundRef.uid && obj.metadata.uid !== boundRef.uid) {
      throw ApiError.conflict(
        '',
        kind,
        refName,
        `the UID in the bound object reference (${boundRef.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    if (resource === 'pods') {
      pod = obj;
      if (node0 !== undefined && (obj.spec as { nodeName?: string } | undefined)?.nodeName !== node0) {
        throw forbidden('node requested token bound to a pod scheduled on a different node');
      }
      const podSa = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default';
      if (podSa !== name) throw ApiError.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      // ServiceAccountTokenPodNodeInfo: a pod-bound token names the pod's node when it has one.
      const nodeName = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
      if (nodeName) node = await getIfExists(registry, 'nodes', undefined, nodeName);
    } else if (resource === 'secrets') secret = obj;
    else node = obj;
  }

  // --service-account-max-token-expiration caps what may be asked; the kubelet's 3607 s tokens are extended.
  if (issuing.maxExpirationSeconds && expirationSeconds > issuing.maxExpirationSeconds) expirationSeconds = issuing.maxExpirationSeconds;
  const effectiveAudiences = audiences.length ? audiences : [...issuing.tokens.apiAudiences];
  let exp = expirationSeconds;
  let warnAfterSeconds: number | undefined;
  const kubeAudiences = effectiveAudiences.every((a) => issuing.tokens.apiAudiences.includes(a));
  if ((issuing.extendExpiration ?? true) && pod && expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && kubeAudiences) {
    warnAfterSeconds = expirationSeconds;
    exp = Math.max(EXTENDED_EXPIRATION_SECONDS, issuing.maxExpirationSeconds ?? 0);
  }
  const nowMs = r.services.now().getTime();
  const claims = issuing.tokens.claims({ serviceAccount: sa, audiences: effectiveAudiences, expirationSeconds: exp, warnAfterSeconds, pod, secret, node, nowMs });
  const token = issuing.tokens.sign(claims);
  const out = {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences: effectiveAudiences, expirationSeconds, boundObjectRef: boundRef ?? null },
    status: { token, expirationTimestamp: formatTime(new Date(nowMs + expirationSeconds * 1000)) },
  };
  if (!boundRef) delete (out.spec as { boundObjectRef?: unknown }).boundObjectRef;
  writeJson(r.res, 201, out, { yaml: negotiate(r.req.headers.accept, null).yaml });
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews: who the caller is (`kubectl auth whoami`). */
export async function handleSelfSubjectReview(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
  decodeObject(await readBody(req), objectMediaType(mediaTypeOf(req)), 'SelfSubjectReview');
  writeJson(
    res,
    201,
    {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      status: { userInfo: userInfoJson(user) },
    },
    { yaml: negotiate(req.headers.accept, null).yaml },
  );
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews: whether a service account token authenticates, and as whom. */
export async function handleTokenReview(req: IncomingMessage, res: ServerResponse, issuing: TokenIssuing | undefined): Promise<void> {
  const review = decodeObject(await readBody(req), objectMediaType(mediaTypeOf(req)), 'TokenReview');
  const spec = isPlainObject(review.spec) ? review.spec : {};
  const token = typeof spec.token === 'string' ? spec.token : '';
  if (!token) throw ApiError.invalid('authentication.k8s.io', 'TokenReview', '', [field.required('spec.token', 'token is required')]);
  const result = issuing?.authenticator ? await issuing.authenticator.authenticateToken(token) : { kind: 'none' as const };
  const status =
    result.kind === 'ok'
      ? { authenticated: true, user: userInfoJson(result.user), audiences: [...(issuing?.tokens.apiAudiences ?? [])] }
      : { user: {}, error: result.kind === 'invalid' ? '[invalid bearer token, ' + result.reason + ']' : '[invalid bearer token]' };
  writeJson(res, 201, { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status }, {
    yaml: negotiate(req.headers.accept, null).yaml,
  });
}

function userInfoJson(user: UserInfo): Record<string, unknown> {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}
