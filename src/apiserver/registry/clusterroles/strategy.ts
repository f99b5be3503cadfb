// rbac.authorization.k8s.io/v1 ClusterRole: upstream's ValidateClusterRole, including the aggregationRule.
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { isValidPathSegmentName, validateLabelSelector } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateRules } from '../roles/strategy.js';

function validateClusterRole(obj: KubeObject): FieldError[] {
  const role = obj as unknown as ClusterRole;
  const errs = validateRules(role.rules, false);
  const aggregation = role.aggregationRule;
  if (aggregation) {
    const selectors = aggregation.clusterRoleSelectors ?? [];
    if (selectors.length === 0) {
      errs.push(fieldErr.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    selectors.forEach((sel, i) => errs.push(...validateLabelSelector(sel, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validateClusterRole,
  validateName: isValidPathSegmentName,
};
