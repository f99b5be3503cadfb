// ReplicaSets (upstream apps/v1 SetDefaults_ReplicaSet, ValidateReplicaSet[Update|StatusUpdate]).
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateImmutableField, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, ensureObject, type Json } from '../group-validation.js';
import { defaultPodTemplateSpec } from '../defaults/pod.js';
import { asStringMap, num, validatePodTemplateSpec, validateSelectorMatchesTemplate, validateWorkloadSelector } from '../validation/pod.js';
import { validateReplicaStatus } from '../replicationcontrollers/strategy.js';

export function specOf(obj: Record<string, unknown>): Json {
  return asObject(obj.spec) ?? {};
}

/** Defaults every apps/v1 and batch/v1 workload shares: its pod template. */
export function defaultTemplate(spec: Json): void {
  defaultPodTemplateSpec(spec.template as PodTemplateSpec | undefined);
}

/**
 * Upstream's ValidatePodTemplateSpecForReplicaSet (also DaemonSet's template rules): selector match, template,
 * restartPolicy Always, no deadline. A missing selector matches nothing, as LabelSelectorAsSelector(nil) does.
 */
export function validateReplicatedTemplate(spec: Json, path: string, kind: string): FieldError[] {
  const template = asObject(spec.template);
  if (!template) return [fieldErr.required(path, '')];
  const errs = [
    ...(spec.selector === undefined || spec.selector === null
      ? [fieldErr.invalid(`${path}.metadata.labels`, asStringMap(asObject(template.metadata)?.labels), '`selector` does not match template `labels`')]
      : validateSelectorMatchesTemplate(spec.selector, template, `${path}.metadata.labels`)),
    ...validatePodTemplateSpec(template, path),
  ];
  const podSpec = asObject(template.spec) ?? {};
  if (podSpec.restartPolicy !== 'Always') errs.push(fieldErr.notSupported(`${path}.spec.restartPolicy`, podSpec.restartPolicy ?? '', ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(fieldErr.forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** status.collisionCount may never go down (upstream's IsDecremented check). */
export function validateCollisionCountNotDecremented(obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  const next = asObject(obj.status)?.collisionCount;
  const prev = asObject(old.status)?.collisionCount;
  if (typeof prev !== 'number' || (typeof next === 'number' && next >= prev)) return [];
  return [fieldErr.invalid('status.collisionCount', typeof next === 'number' ? next : 0, 'cannot be decremented')];
}

/** apps/v1 selectors never change after creation. */
export function validateSelectorImmutable(obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  return validateImmutableField(specOf(obj).selector, specOf(old).selector, 'spec.selector');
}

export const replicaSetStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    defaultTemplate(spec);
  },
  validate(obj) {
    const spec = specOf(obj);
    return [
      ...validateNonnegativeField(num(spec.replicas), 'spec.replicas'),
      ...validateNonnegativeField(num(spec.minReadySeconds), 'spec.minReadySeconds'),
      ...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'),
      ...validateReplicatedTemplate(spec, 'spec.template', 'ReplicaSet'),
    ];
  },
  validateUpdate: validateSelectorImmutable,
  validateStatusUpdate(obj) {
    return validateReplicaStatus(obj.status);
  },
  selectableFields(obj) {
    return { 'status.replicas': String(num(asObject(obj.status)?.replicas)) };
  },
};

export { replicaSetStrategy as Strategy };
