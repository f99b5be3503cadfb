// admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration: upstream's v1 defaults (SetDefaults_ValidatingWebhook,
// _Rule, _ServiceReference) and ValidateValidatingWebhookConfiguration. Rules, client config, admission review
// versions and match conditions are shared with mutating webhooks and admission policies.
import type {
  MatchCondition,
  RuleWithOperations,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
  WebhookClientConfig,
} from 'kubernetes-types/admissionregistration/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  invalidEach,
  isDNS1035Label,
  isDNS1123Subdomain,
  isFullyQualifiedName,
  isQualifiedName,
  isValidPortNum,
  validateLabelSelector,
} from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

export const FAILURE_POLICIES = ['Fail', 'Ignore'];
export const MATCH_POLICIES = ['Equivalent', 'Exact'];
const SIDE_EFFECT_CLASSES = ['None', 'NoneOnDryRun'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const ACCEPTED_ADMISSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const MAX_MATCH_CONDITIONS = 64;
const URL_FORM = '; desired format: https://host[/path]';

/** RuleWithOperations with its embedded Rule fields (kubernetes-types leaves these out). */
export type Rule = RuleWithOperations & { resources?: string[]; scope?: string };

/** The fields every webhook kind shares; defaults and checks below work on this common shape. */
export type Webhook = ValidatingWebhook & { reinvocationPolicy?: string };

/** Upstream's SetDefaults_Rule: an unscoped rule matches all scopes. */
export function defaultRules(rules: Rule[] | undefined): void {
  for (const r of rules ?? []) r.scope ??= '*';
}

export function defaultWebhook(hook: Webhook): void {
  hook.failurePolicy ??= 'Fail';
  hook.matchPolicy ??= 'Equivalent';
  hook.namespaceSelector ??= {};
  hook.objectSelector ??= {};
  hook.timeoutSeconds ??= 10;
  defaultRules(hook.rules);
  if (hook.clientConfig?.service) hook.clientConfig.service.port ??= 443;
}

const hasWildcard = (xs: string[]) => xs.includes('*');

function validateResources(resources: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(fieldErr.required(path));
  const wildcardSubresourceOf = new Set<string>();
  const wildcardResourceFor = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  let plainResource = false;
  resources.forEach((resSub, i) => {
    if (resSub === '') {
      errs.push(fieldErr.required(`${path}[${i}]`));
      return;
    }
    if (resSub === '*/*') doubleWildcard = true;
    if (resSub === '*') singleWildcard = true;
    const slash = resSub.indexOf('/');
    if (slash < 0) {
      plainResource = resSub !== '*';
      return;
    }
    const res = resSub.slice(0, slash);
    const sub = resSub.slice(slash + 1);
    if (wildcardSubresourceOf.has(res)) errs.push(fieldErr.invalid(`${path}[${i}]`, resSub, `if '${res}/*' is present, must not specify ${resSub}`));
    if (wildcardResourceFor.has(sub)) errs.push(fieldErr.invalid(`${path}[${i}]`, resSub, `if '*/${sub}' is present, must not specify ${resSub}`));
    if (sub === '*') wildcardSubresourceOf.add(res);
    if (res === '*') wildcardResourceFor.add(sub);
  });
  if (resources.length > 1 && doubleWildcard) errs.push(fieldErr.invalid(path, resources, "if '*/*' is present, must not specify other resources"));
  if (singleWildcard && plainResource) errs.push(fieldErr.invalid(path, resources, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

/** Upstream's validateRuleWithOperations (with validateRule, subresources allowed). */
export function validateRuleWithOperations(rule: Rule, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = rule.operations ?? [];
  if (ops.length === 0) errs.push(fieldErr.required(`${path}.operations`));
  if (ops.length > 1 && hasWildcard(ops)) errs.push(fieldErr.invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op)) errs.push(fieldErr.notSupported(`${path}.operations[${i}]`, op, OPERATIONS));
  });
  const groups = rule.apiGroups ?? [];
  if (groups.length === 0) errs.push(fieldErr.required(`${path}.apiGroups`));
  if (groups.length > 1 && hasWildcard(groups)) errs.push(fieldErr.invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other API groups"));
  const versions = rule.apiVersions ?? [];
  if (versions.length === 0) errs.push(fieldErr.required(`${path}.apiVersions`));
  if (versions.length > 1 && hasWildcard(versions)) {
    errs.push(fieldErr.invalid(`${path}.apiVersions`, versions, "if '*' is present, must not specify other API versions"));
  }
  versions.forEach((v, i) => {
    if (v.length === 0) errs.push(fieldErr.required(`${path}.apiVersions[${i}]`));
  });
  errs.push(...validateResources(rule.resources ?? [], `${path}.resources`));
  if (rule.scope != null && !SCOPES.includes(rule.scope)) errs.push(fieldErr.notSupported(`${path}.scope`, rule.scope, SCOPES));
  return errs;
}

/** Upstream's webhook.ValidateWebhookURL (https only). */
function validateWebhookURL(raw: string, path: string): FieldError[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    return [fieldErr.required(path, `url must be a valid URL: ${(e as Error).message}${URL_FORM}`)];
  }
  const errs: FieldError[] = [];
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'https') errs.push(fieldErr.invalid(path, scheme, `'https' is the only allowed URL scheme${URL_FORM}`));
  if (u.host === '') errs.push(fieldErr.invalid(path, u.host, `host must be specified${URL_FORM}`));
  if (u.username || u.password) errs.push(fieldErr.invalid(path, u.password ? `${u.username}:${u.password}` : u.username, 'user information is not permitted in the URL'));
  if (u.hash.length > 1) errs.push(fieldErr.invalid(path, u.hash.slice(1), 'fragments are not permitted in the URL'));
  if (u.search.length > 1) errs.push(fieldErr.invalid(path, u.search.slice(1), 'query parameters are not permitted in the URL'));
  return errs;
}

/** Upstream's webhook.ValidateWebhookService: name, namespace, port, and a path of DNS-subdomain segments. */
function validateWebhookService(svc: NonNullable<WebhookClientConfig['service']>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  // Upstream passes name and namespace in swapped order (kubernetes#141353), so a missing name is reported
  // at .namespace and vice versa; kept so the errors match.
  if (!svc.namespace) errs.push(fieldErr.required(`${path}.name`));
  if (!svc.name) errs.push(fieldErr.required(`${path}.namespace`));
  const port = svc.port ?? 443;
  const portErrs = isValidPortNum(port);
  if (portErrs.length > 0) errs.push(fieldErr.invalid(`${path}.port`, port, `port is not valid: ${portErrs.join(', ')}`));
  const urlPath = svc.path;
  if (urlPath == null || urlPath === '/' || urlPath === '') return errs;
  if (urlPath === '//') return [...errs, fieldErr.invalid(`${path}.path`, urlPath, 'segment[0] may not be empty')];
  if (!urlPath.startsWith('/')) errs.push(fieldErr.invalid(`${path}.path`, urlPath, "must start with a '/'"));
  let rest = urlPath.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  rest.split('/').forEach((step, i) => {
    if (step.length === 0) {
      errs.push(fieldErr.invalid(`${path}.path`, urlPath, `segment[${i}] may not be empty`));
      return;
    }
    for (const msg of isDNS1123Subdomain(step)) errs.push(fieldErr.invalid(`${path}.path`, urlPath, `segment[${i}]: ${msg}`));
  });
  return errs;
}

/** Exactly one of url (https) or service; shared with CRD conversion webhooks. */
export function validateClientConfig(cc: WebhookClientConfig | undefined, path: string): FieldError[] {
  const url = cc?.url;
  const service = cc?.service;
  if ((url == null) === (service == null)) return [fieldErr.required(path, 'exactly one of url or service is required')];
  return url != null ? validateWebhookURL(url, `${path}.url`) : validateWebhookService(service!, `${path}.service`);
}

function validateAdmissionReviewVersions(versions: string[] | undefined, path: string): FieldError[] {
  if (!versions?.length) return [fieldErr.required(path, `must specify one of ${ACCEPTED_ADMISSION_REVIEW_VERSIONS.join(', ')}`)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let accepted = false;
  versions.forEach((v, i) => {
    if (seen.has(v)) {
      errs.push(fieldErr.invalid(`${path}[${i}]`, v, 'duplicate version'));
      return;
    }
    seen.add(v);
    errs.push(...invalidEach(`${path}[${i}]`, v, isDNS1035Label(v)));
    if (ACCEPTED_ADMISSION_REVIEW_VERSIONS.includes(v)) accepted = true;
  });
  if (!accepted) errs.push(fieldErr.invalid(path, versions, `must include at least one of ${ACCEPTED_ADMISSION_REVIEW_VERSIONS.join(', ')}`));
  return errs;
}

/** Upstream's validateMatchConditions, without compiling the CEL expressions. */
export function validateMatchConditions(conditions: MatchCondition[] | undefined, path: string): FieldError[] {
  const list = conditions ?? [];
  if (list.length > MAX_MATCH_CONDITIONS) return [fieldErr.tooMany(path, list.length, MAX_MATCH_CONDITIONS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    if ((c.expression ?? '').trim() === '') errs.push(fieldErr.required(`${path}[${i}].expression`));
    const name = c.name ?? '';
    if (name === '') errs.push(fieldErr.required(`${path}[${i}].name`));
    else errs.push(...invalidEach(`${path}[${i}].name`, name, isQualifiedName(name)));
    if (name.length > 0) {
      if (names.has(name)) errs.push(fieldErr.duplicate(`${path}[${i}].name`, name));
      names.add(name);
    }
  });
  return errs;
}

const REINVOCATION_POLICIES = ['IfNeeded', 'Never'];

/** Checks shared by validating and mutating webhooks, in upstream's order; only mutating ones have reinvocation. */
export function validateWebhook(hook: Webhook, path: string, mutating: boolean): FieldError[] {
  const errs = isFullyQualifiedName(`${path}.name`, hook.name ?? '');
  (hook.rules ?? []).forEach((r, i) => errs.push(...validateRuleWithOperations(r, `${path}.rules[${i}]`)));
  if (hook.failurePolicy != null && !FAILURE_POLICIES.includes(hook.failurePolicy)) {
    errs.push(fieldErr.notSupported(`${path}.failurePolicy`, hook.failurePolicy, FAILURE_POLICIES));
  }
  if (hook.matchPolicy != null && !MATCH_POLICIES.includes(hook.matchPolicy)) errs.push(fieldErr.notSupported(`${path}.matchPolicy`, hook.matchPolicy, MATCH_POLICIES));
  if (hook.sideEffects == null) errs.push(fieldErr.required(`${path}.sideEffects`, `must specify one of ${SIDE_EFFECT_CLASSES.join(', ')}`));
  else if (!SIDE_EFFECT_CLASSES.includes(hook.sideEffects)) errs.push(fieldErr.notSupported(`${path}.sideEffects`, hook.sideEffects, SIDE_EFFECT_CLASSES));
  const timeout = hook.timeoutSeconds;
  if (timeout != null && (timeout > 30 || timeout < 1)) {
    errs.push(fieldErr.invalid(`${path}.timeoutSeconds`, timeout, 'the timeout value must be between 1 and 30 seconds'));
  }
  errs.push(...validateLabelSelector(hook.namespaceSelector, `${path}.namespaceSelector`));
  errs.push(...validateLabelSelector(hook.objectSelector, `${path}.objectSelector`));
  if (mutating && hook.reinvocationPolicy != null && !REINVOCATION_POLICIES.includes(hook.reinvocationPolicy)) {
    errs.push(fieldErr.notSupported(`${path}.reinvocationPolicy`, hook.reinvocationPolicy, REINVOCATION_POLICIES));
  }
  errs.push(...validateClientConfig(hook.clientConfig, `${path}.clientConfig`));
  errs.push(...validateMatchConditions(hook.matchConditions, `${path}.matchConditions`));
  return errs;
}

/** A whole configuration: each webhook, its admission review versions, unique names. */
export function validateWebhooks(hooks: Webhook[] | undefined, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (hooks ?? []).forEach((hook, i) => {
    const path = `webhooks[${i}]`;
    errs.push(...validateWebhook(hook, path, mutating));
    errs.push(...validateAdmissionReviewVersions(hook.admissionReviewVersions, `${path}.admissionReviewVersions`));
    const name = hook.name ?? '';
    if (name.length > 0) {
      if (names.has(name)) errs.push(fieldErr.duplicate(`${path}.name`, name));
      names.add(name);
    }
  });
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    for (const hook of (obj as unknown as ValidatingWebhookConfiguration).webhooks ?? []) defaultWebhook(hook);
  },
  validate: (obj: KubeObject) => validateWebhooks((obj as unknown as ValidatingWebhookConfiguration).webhooks, false),
};
