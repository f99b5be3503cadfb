// authorization.k8s.io/v1 reviews, create-only and never stored (upstream's pkg/registry/authorization):
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview and LocalSubjectAccessReview (may a given user
// do this?), SelfSubjectRulesReview (`kubectl auth can-i --list`). Each asks the same authorizer chain as requests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { ApiError, fieldErr, type FieldError } from '../../../machinery/errors.js';
import type { ResourceInfo } from '../../../api/catalog.js';
import { isPlainObject } from '../../../api/object.js';
import { decodeObject, mediaTypeOf, negotiate, objectMediaType, readBody, writeJson } from '../../endpoints/negotiation.js';
import type { RequestInfo } from '../../request-info.js';
import type { AuthorizationAttributes, Authorizer } from '../authorizer.js';
import type { UserInfo } from '../user.js';
import { aggregateErrors, type ResolvedRules } from './resolver.js';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
const KINDS: Readonly<Record<string, string>> = {
  selfsubjectaccessreviews: 'SelfSubjectAccessReview',
  subjectaccessreviews: 'SubjectAccessReview',
  localsubjectaccessreviews: 'LocalSubjectAccessReview',
  selfsubjectrulesreviews: 'SelfSubjectRulesReview',
};

/** The four resources, for discovery. */
export const AUTHORIZATION_RESOURCES: readonly ResourceInfo[] = Object.entries(KINDS).map(([resource, kind]) => ({
  group: AUTHORIZATION_GROUP,
  version: 'v1',
  kind,
  resource,
  singular: '',
  namespaced: resource === 'localsubjectaccessreviews',
  shortNames: [],
  categories: [],
  verbs: ['create'],
  subresources: [],
}));

export interface ReviewDeps {
  authorizer: Authorizer;
  /** The rules a user holds in a namespace, as the authorizer chain lists them (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Whether this request is one of the reviews (then `serveReview` answers it). */
export function isReviewRequest(info: RequestInfo): boolean {
  return info.isResourceRequest && info.apiGroup === AUTHORIZATION_GROUP && info.apiVersion === 'v1' && Object.hasOwn(KINDS, info.resource);
}

function attributesOf(user: UserInfo, spec: Obj, kind: string): AuthorizationAttributes {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  const errs: FieldError[] = [];
  if (ra != null && nra != null) errs.push(fieldErr.invalid('spec.nonResourceAttributes', nra, 'cannot be specified in combination with resourceAttributes'));
  if (ra == null && nra == null) errs.push(fieldErr.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (errs.length) throw ApiError.invalid(AUTHORIZATION_GROUP, kind, '', errs);
  if (isPlainObject(ra)) {
    return {
      user,
      verb: str(ra.verb),
      apiGroup: str(ra.group),
      apiVersion: str(ra.version),
      resource: str(ra.resource),
      subresource: str(ra.subresource),
      namespace: str(ra.namespace),
      name: str(ra.name),
      path: '',
      isResourceRequest: true,
      ...(isPlainObject(ra.fieldSelector) && typeof ra.fieldSelector.rawSelector === 'string' ? { fieldSelector: ra.fieldSelector.rawSelector } : {}),
    };
  }
  const n = isPlainObject(nra) ? nra : {};
  return { user, verb: str(n.verb), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: str(n.path), isResourceRequest: false };
}

function userFromSpec(spec: Obj): UserInfo {
  const extra: Record<string, string[]> = {};
  if (isPlainObject(spec.extra)) for (const [k, v] of Object.entries(spec.extra)) extra[k] = strings(v);
  return { name: str(spec.user), groups: strings(spec.groups), ...(str(spec.uid) ? { uid: str(spec.uid) } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}

function toRuleStatus(resolved: ResolvedRules): Obj {
  const resourceRules: Obj[] = [];
  const nonResourceRules: Obj[] = [];
  const list = (v: string[] | undefined) => (v && v.length ? v : undefined);
  for (const { rule } of resolved.rules as { rule: PolicyRule }[]) {
    if (rule.resources?.length) {
      resourceRules.push({ verbs: rule.verbs, ...(list(rule.apiGroups) ? { apiGroups: rule.apiGroups } : {}), resources: rule.resources, ...(list(rule.resourceNames) ? { resourceNames: rule.resourceNames } : {}) });
    }
    if (rule.nonResourceURLs?.length) nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
  }
  return {
    resourceRules,
    nonResourceRules,
    incomplete: resolved.incomplete ?? false,
    ...(resolved.errors.length ? { evaluationError: aggregateErrors(resolved.errors) } : {}),
  };
}

/** POST /apis/authorization.k8s.io/v1/[namespaces/NS/]<review>: the review with its status, 201. */
export async function serveReview(deps: ReviewDeps, info: RequestInfo, req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
  const kind = KINDS[info.resource]!;
  if (info.verb !== 'create' || info.name || info.subresource) throw ApiError.methodNotAllowed();
  const namespaced = info.resource === 'localsubjectaccessreviews';
  if (namespaced !== Boolean(info.namespace)) throw ApiError.pageNotFound();
  const review = decodeObject(await readBody(req), objectMediaType(mediaTypeOf(req)), kind);
  const spec = isPlainObject(review.spec) ? review.spec : {};
  const metadata = isPlainObject(review.metadata) ? { ...review.metadata } : {};
  let status: Obj;
  if (info.resource === 'selfsubjectrulesreviews') {
    const ns = str(spec.namespace);
    if (!ns) throw ApiError.badRequest('no namespace on request');
    status = toRuleStatus(deps.rulesFor(user, ns));
  } else {
    let subject = user;
    if (info.resource !== 'selfsubjectaccessreviews') {
      subject = userFromSpec(spec);
      if (!subject.name && subject.groups.length === 0) {
        throw ApiError.invalid(AUTHORIZATION_GROUP, kind, '', [fieldErr.invalid('spec.user', subject.name, 'at least one of user or group must be specified')]);
      }
    }
    const attrs = attributesOf(subject, spec, kind);
    if (namespaced) {
      if (str(metadata.namespace) && str(metadata.namespace) !== info.namespace) throw ApiError.badRequest(`the namespace of the provided object does not match the namespace sent on the request`);
      if (!attrs.isResourceRequest || attrs.namespace !== info.namespace) {
        throw ApiError.badRequest(`spec.resourceAttributes.namespace must match namespace: ${info.namespace}`);
      }
      metadata.namespace = info.namespace;
    }
    const result = await deps.authorizer.authorize(attrs);
    status = { allowed: result.decision === 'allow', ...(result.decision === 'deny' ? { denied: true } : {}), ...(result.reason ? { reason: result.reason } : {}) };
  }
  writeJson(
    res,
    201,
    { kind, apiVersion: `${AUTHORIZATION_GROUP}/v1`, metadata: { ...metadata, creationTimestamp: null }, spec, status },
    { yaml: negotiate(req.headers.accept, null).yaml },
  );
}
