// policy/v1 PodDisruptionBudget: upstream's ValidatePodDisruptionBudget(Spec/StatusUpdate).
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateLabelSelector, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateNotMoreThan100Percent, validatePositiveIntOrPercent } from '../validation/pod.js';

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validateIntOrPercent(v: unknown, path: string): FieldError[] {
  return [...validatePositiveIntOrPercent(v, path), ...validateNotMoreThan100Percent(v, path)];
}

function validatePDB(obj: KubeObject): FieldError[] {
  const spec = (obj as unknown as PodDisruptionBudget).spec ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable != null && spec.maxUnavailable != null) {
    errs.push(fieldErr.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (spec.minAvailable != null) errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable'));
  if (spec.maxUnavailable != null) errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy != null && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    errs.push(fieldErr.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

function validateStatus(obj: KubeObject): FieldError[] {
  const status: Partial<PodDisruptionBudgetStatus> = (obj as unknown as PodDisruptionBudget).status ?? {};
  const errs: FieldError[] = [];
  for (const f of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
    errs.push(...validateNonnegativeField(status[f] ?? 0, `status.${f}`));
  }
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validatePDB,
  validateStatusUpdate: validateStatus,
};
