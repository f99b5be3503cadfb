// StatefulSets (upstream apps/v1 SetDefaults_StatefulSet, ValidateStatefulSet[Update|Status]).
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, ensureObject, sameValue, type Json } from '../group-validation.js';
import { defaultPersistentVolumeClaim } from '../defaults/pod.js';
import { num, validatePodTemplateSpec, validateSelectorMatchesTemplate, validateWorkloadSelector } from '../validation/pod.js';
import { defaultTemplate, specOf } from '../replicasets/strategy.js';

const RETENTION = ['Retain', 'Delete'];
const MUTABLE_SPEC_FIELDS = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy'];
const FORBIDDEN_UPDATE =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

function validateSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = asString(spec.podManagementPolicy);
  if (!pmp) errs.push(fieldErr.required('spec.podManagementPolicy', ''));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(fieldErr.invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = asObject(spec.updateStrategy) ?? {};
  const ru = us.rollingUpdate;
  switch (asString(us.type)) {
    case '':
      errs.push(fieldErr.required('spec.updateStrategy', ''));
      break;
    case 'OnDelete':
      if (ru !== undefined && ru !== null) errs.push(fieldErr.invalid('spec.updateStrategy.rollingUpdate', ru, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate': {
      const r = asObject(ru);
      if (r) errs.push(...validateNonnegativeField(num(r.partition), 'spec.updateStrategy.rollingUpdate.partition'));
      break;
    }
    default:
      errs.push(fieldErr.invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = asObject(spec.persistentVolumeClaimRetentionPolicy);
  if (retention) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      const v = asString(retention[f]);
      if (!RETENTION.includes(v)) errs.push(fieldErr.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, RETENTION));
    }
  }
  errs.push(...validateNonnegativeField(num(spec.replicas), 'spec.replicas'), ...validateNonnegativeField(num(spec.minReadySeconds), 'spec.minReadySeconds'));
  const ordinals = asObject(spec.ordinals);
  if (ordinals) errs.push(...validateNonnegativeField(num(ordinals.start), 'spec.ordinals.start'));
  errs.push(...validateWorkloadSelector(spec.selector, 'spec.selector', 'statefulset'));
  const template = asObject(spec.template);
  errs.push(
    ...validateSelectorMatchesTemplate(spec.selector, template, 'spec.template.metadata.labels'),
    ...validatePodTemplateSpec(template, 'spec.template'),
  );
  const podSpec = asObject(template?.spec) ?? {};
  if (podSpec.restartPolicy !== 'Always') errs.push(fieldErr.notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(fieldErr.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
    errs.push(...validateNonnegativeField(num(spec.revisionHistoryLimit), 'spec.revisionHistoryLimit'));
  }
  return errs;
}

function validateStatus(statusValue: unknown): FieldError[] {
  const status: Json = asObject(statusValue) ?? {};
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration']) {
    errs.push(...validateNonnegativeField(num(status[f]), `status.${f}`));
  }
  if (status.collisionCount !== undefined) errs.push(...validateNonnegativeField(num(status.collisionCount), 'status.collisionCount'));
  const replicas = num(status.replicas);
  const msg = 'cannot be greater than status.replicas';
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    if (num(status[f]) > replicas) errs.push(fieldErr.invalid(`status.${f}`, num(status[f]), msg));
  }
  if (num(status.availableReplicas) > num(status.readyReplicas)) {
    errs.push(fieldErr.invalid('status.availableReplicas', num(status.availableReplicas), 'cannot be greater than status.readyReplicas'));
  }
  return errs;
}

export const statefulSetStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
    const us = ensureObject(spec, 'updateStrategy');
    if (!us.type) {
      us.type = 'RollingUpdate';
      ensureObject(us, 'rollingUpdate');
    }
    const ru = asObject(us.rollingUpdate);
    if (us.type === 'RollingUpdate' && ru && (ru.partition === undefined || ru.partition === null)) ru.partition = 0;
    const retention = ensureObject(spec, 'persistentVolumeClaimRetentionPolicy');
    if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
    if (!retention.whenScaled) retention.whenScaled = 'Retain';
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
    for (const claim of asArray(spec.volumeClaimTemplates)) defaultPersistentVolumeClaim(claim as PersistentVolumeClaim);
    defaultTemplate(spec);
  },
  validate(obj) {
    return validateSpec(specOf(obj));
  },
  validateUpdate(obj, old) {
    const spec = { ...specOf(obj) };
    const oldSpec = specOf(old);
    for (const f of MUTABLE_SPEC_FIELDS) spec[f] = oldSpec[f];
    return sameValue(spec, oldSpec) ? [] : [fieldErr.forbidden('spec', FORBIDDEN_UPDATE)];
  },
  validateStatusUpdate(obj, old) {
    const errs = validateStatus(obj.status);
    const next = asObject(obj.status)?.collisionCount;
    const prev = asObject(old.status)?.collisionCount;
    if (typeof prev === 'number' && (typeof next !== 'number' || next < prev)) {
      errs.push(fieldErr.invalid('status.collisionCount', next ?? null, 'cannot be decremented'));
    }
    return errs;
  },
};

export { statefulSetStrategy as Strategy };
