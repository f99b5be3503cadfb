// rbac.authorization.k8s.io/v1 Role: upstream's ValidateRole; the policy-rule checks are shared with ClusterRole.
import type { PolicyRule, Role } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { isValidPathSegmentName } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Upstream's validatePolicyRule; namespaced rules (Roles) may not name non-resource URLs. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs?.length) errs.push(fieldErr.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced) errs.push(fieldErr.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      errs.push(fieldErr.invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!rule.apiGroups?.length) errs.push(fieldErr.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) errs.push(fieldErr.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  if ((rule.resourceNames?.length ?? 0) > 0 && (rule.resources?.length ?? 0) > 1) {
    errs.push(fieldErr.required(`${path}.resourceNames`, 'resource names cannot apply to multiple resources'));
  }
  return errs;
}

export function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

export const Strategy: KindStrategy = {
  validate: (obj: KubeObject) => validateRules((obj as unknown as Role).rules, true),
  // RBAC names only have to be usable as a URL path segment (upstream's minimalNameRequirements).
  validateName: isValidPathSegmentName,
};
