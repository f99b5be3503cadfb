// StatefulSets (upstream apps/v1 SetDefaults_StatefulSet, ValidateStatefulSet[Update|Status]).
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { nameIsDNSLabel, validateAnnotations, validateLabels, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, ensureObject, sameValue, type Json } from '../group-validation.js';
import { defaultPersistentVolumeClaim } from '../defaults/pod.js';
import {
  asStringMap,
  intOrPercentValue,
  num,
  validateNotMoreThan100Percent,
  validatePositiveIntOrPercent,
  validateSelectorMatchesTemplate,
  validateWorkloadSelector,
} from '../validation/pod.js';
import { defaultTemplate, specOf, validateCollisionCountNotDecremented } from '../replicasets/strategy.js';

const RETENTION = ['Retain', 'Delete'];
const MUTABLE_SPEC_FIELDS = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'];
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
      if (!r) break;
      const p = 'spec.updateStrategy.rollingUpdate';
      errs.push(...validateNonnegativeField(num(r.partition), `${p}.partition`));
      if (r.maxUnavailable !== undefined && r.maxUnavailable !== null) {
        errs.push(...validatePositiveIntOrPercent(r.maxUnavailable, `${p}.maxUnavailable`));
        if (intOrPercentValue(r.maxUnavailable) === 0) errs.push(fieldErr.invalid(`${p}.maxUnavailable`, r.maxUnavailable, 'cannot be 0'));
        errs.push(...validateNotMoreThan100Percent(r.maxUnavailable, `${p}.maxUnavailable`));
      }
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
  // Upstream checks only the template's labels and annotations here (its pod spec is left to pod creation).
  const template = asObject(spec.template);
  const meta = asObject(template?.metadata);
  errs.push(
    ...validateSelectorMatchesTemplate(spec.selector, template, 'spec.template.metadata.labels'),
    ...validateLabels(asStringMap(meta?.labels), 'spec.template.labels'),
    ...validateAnnotations(asStringMap(meta?.annotations), 'spec.template.annotations'),
  );
  const podSpec = asObject(template?.spec) ?? {};
  if (podSpec.restartPolicy !== 'Always') errs.push(fieldErr.notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']));
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(fieldErr.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
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
  // Pods are named "<statefulset>-<ordinal>" and must be DNS labels.
  validateName: nameIsDNSLabel,
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
    return [...validateStatus(obj.status), ...validateCollisionCountNotDecremented(obj, old)];
  },
};

export { statefulSetStrategy as Strategy };
