// coordination.k8s.io/v1 Lease: upstream's ValidateLeaseSpec (pkg/apis/coordination/validation).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import type { Strategy as KindStrategy } from '../strategy.js';

function validateLease(obj: KubeObject): FieldError[] {
  const spec = (obj as unknown as Lease).spec ?? {};
  const errs: FieldError[] = [];
  if (spec.leaseDurationSeconds != null && spec.leaseDurationSeconds <= 0) {
    errs.push(fieldErr.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions != null && spec.leaseTransitions < 0) {
    errs.push(fieldErr.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validateLease,
};
