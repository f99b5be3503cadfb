// ReplicationControllers (upstream SetDefaults_ReplicationController, ValidateReplicationController[Status]).
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateLabels, validateNonnegativeField } from '../../../machinery/validation.js';
import { selectorFromSet } from '../../../machinery/labels.js';
import type { Strategy } from '../strategy.js';
import { asObject, ensureObject, type Json } from '../group-validation.js';
import { defaultPodTemplateSpec } from '../defaults/pod.js';
import { asStringMap, num, validatePodTemplateSpec } from '../validation/pod.js';

/** Upstream's replica-count status rules, shared by ReplicationControllers and ReplicaSets. */
export function validateReplicaStatus(statusValue: unknown): FieldError[] {
  const more = 'cannot be greater than status.replicas';
  const status = asObject(statusValue) ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) {
    errs.push(...validateNonnegativeField(num(status[f]), `status.${f}`));
  }
  const replicas = num(status.replicas);
  if (num(status.fullyLabeledReplicas) > replicas) errs.push(fieldErr.invalid('status.fullyLabeledReplicas', num(status.fullyLabeledReplicas), more));
  if (num(status.readyReplicas) > replicas) errs.push(fieldErr.invalid('status.readyReplicas', num(status.readyReplicas), more));
  if (num(status.availableReplicas) > replicas) errs.push(fieldErr.invalid('status.availableReplicas', num(status.availableReplicas), more));
  if (num(status.availableReplicas) > num(status.readyReplicas)) {
    errs.push(fieldErr.invalid('status.availableReplicas', num(status.availableReplicas), 'cannot be greater than readyReplicas'));
  }
  return errs;
}

export const replicationControllerStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    const template = asObject(spec.template);
    const templateLabels = asObject(asObject(template?.metadata)?.labels);
    // An RC without a selector (or labels) takes its template's labels.
    if (templateLabels && Object.keys(templateLabels).length > 0) {
      if (Object.keys(asObject(spec.selector) ?? {}).length === 0) spec.selector = { ...templateLabels };
      if (Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = asStringMap(templateLabels);
    }
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    defaultPodTemplateSpec(template as PodTemplateSpec | undefined);
  },
  validate(obj) {
    const spec: Json = asObject(obj.spec) ?? {};
    const selector = asStringMap(spec.selector);
    const errs = [...validateNonnegativeField(num(spec.minReadySeconds), 'spec.minReadySeconds')];
    if (Object.keys(selector).length === 0) errs.push(fieldErr.required('spec.selector', ''));
    errs.push(...validateLabels(selector, 'spec.selector'), ...validateNonnegativeField(num(spec.replicas), 'spec.replicas'));
    const template = asObject(spec.template);
    if (!template) {
      errs.push(fieldErr.required('spec.template', ''));
      return errs;
    }
    const labels = asStringMap(asObject(template.metadata)?.labels);
    if (Object.keys(selector).length > 0 && !selectorFromSet(selector).matches(labels)) {
      errs.push(fieldErr.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    }
    errs.push(...validatePodTemplateSpec(template, 'spec.template'));
    const podSpec = asObject(template.spec) ?? {};
    if (podSpec.restartPolicy !== 'Always') errs.push(fieldErr.notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']));
    if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
      errs.push(fieldErr.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
    }
    return errs;
  },
  validateStatusUpdate(obj) {
    return validateReplicaStatus(obj.status);
  },
  selectableFields(obj) {
    return { 'status.replicas': String(num(asObject(obj.status)?.replicas)) };
  },
};

export { replicationControllerStrategy as Strategy };
