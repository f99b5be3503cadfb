// ReplicaSets (upstream apps/v1 SetDefaults_ReplicaSet, ValidateReplicaSet[Update|StatusUpdate]).
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateImmutableField, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, ensureObject, type Json } from '../group-validation.js';
import { defaultPodTemplateSpec } from '../defaults/pod.js';
import { num, validatePodTemplateSpec, validateSelectorMatchesTemplate, validateWorkloadSelector } from '../validation/pod.js';
import { validateReplicaStatus } from '../replicationcontrollers/strategy.js';

export function specOf(obj: Record<string, unknown>): Json {
  return asObject(obj.spec) ?? {};
}

/** Defaults every apps/v1 and batch/v1 workload shares: its pod template. */
export function defaultTemplate(spec: Json): void {
  defaultPodTemplateSpec(spec.template as PodTemplateSpec | undefined);
}

/** Upstream's ValidatePodTemplateSpecForReplicaSet: selector match, template, restartPolicy Always, no deadline. */
export function validateReplicatedTemplate(spec: Json, path: string, kind: string): FieldError[] {
  const template = asObject(spec.template);
  if (!template) return [fieldErr.required(path, '')];
  const errs = [
    ...validateSelectorMatchesTemplate(spec.selector, template, `${path}.metadata.labels`),
    ...validatePodTemplateSpec(template, path),
  ];
  const podSpec = asObject(template.spec) ?? {};
  if (podSpec.restartPolicy !== 'Always') errs.push(fieldErr.notSupported(`${path}.spec.restartPolicy`, podSpec.restartPolicy ?? '', ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(fieldErr.invalid(`${path}.spec.activeDeadlineSeconds`, podSpec.activeDeadlineSeconds, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
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
