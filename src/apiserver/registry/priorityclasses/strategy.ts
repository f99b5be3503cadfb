// scheduling.k8s.io/v1 PriorityClass: upstream's SetDefaults_PriorityClass and ValidatePriorityClass(Update).
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

/** The priority classes the API server creates itself; the only ones allowed the reserved prefix. */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; globalDefault: boolean; description: string }[] = [
  {
    name: 'system-node-critical',
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    globalDefault: false,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: SYSTEM_CRITICAL_PRIORITY,
    globalDefault: false,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

/** Upstream's IsKnownSystemPriorityClass: why a system- name is not acceptable, or undefined when it is. */
function systemClassProblem(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (known.globalDefault !== globalDefault) return `globalDefault of ${name} PriorityClass must be ${known.globalDefault}`;
  return undefined;
}

function validatePriorityClass(obj: KubeObject): FieldError[] {
  const pc = obj as unknown as PriorityClass;
  const errs: FieldError[] = [];
  const name = pc.metadata?.name ?? '';
  const value = pc.value ?? 0;
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const problem = systemClassProblem(name, value, pc.globalDefault ?? false);
    if (problem) {
      errs.push(
        fieldErr.forbidden(
          'metadata.name',
          `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${problem}`,
        ),
      );
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(fieldErr.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy != null) {
    if (pc.preemptionPolicy === '') errs.push(fieldErr.required('preemptionPolicy'));
    else if (!PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) {
      errs.push(fieldErr.notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
    }
  }
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const pc = obj as unknown as PriorityClass;
    if (pc.preemptionPolicy == null) pc.preemptionPolicy = 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
  validateUpdate(obj, old) {
    const pc = obj as unknown as PriorityClass;
    const oldPc = old as unknown as PriorityClass;
    const errs: FieldError[] = [];
    if ((pc.value ?? 0) !== (oldPc.value ?? 0)) errs.push(fieldErr.forbidden('value', 'may not be changed in an update.'));
    errs.push(...validateImmutableField(pc.preemptionPolicy, oldPc.preemptionPolicy, 'preemptionPolicy'));
    return errs;
  },
};
