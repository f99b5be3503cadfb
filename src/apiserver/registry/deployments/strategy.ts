// Deployments (upstream apps/v1 SetDefaults_Deployment, ValidateDeployment[Update|StatusUpdate]).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, ensureObject, type Json } from '../group-validation.js';
import {
  intOrPercentValue,
  num,
  validateNotMoreThan100Percent,
  validatePositiveIntOrPercent,
  validateWorkloadSelector,
} from '../validation/pod.js';
import { defaultTemplate, specOf, validateCollisionCountNotDecremented, validateReplicatedTemplate, validateSelectorImmutable } from '../replicasets/strategy.js';

function validateStrategy(strategyValue: unknown): FieldError[] {
  const strategy = asObject(strategyValue) ?? {};
  const path = 'spec.strategy';
  switch (strategy.type) {
    case 'Recreate':
      return strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null
        ? [fieldErr.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")]
        : [];
    case 'RollingUpdate': {
      const ru = asObject(strategy.rollingUpdate);
      if (!ru) return [fieldErr.required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const p = `${path}.rollingUpdate`;
      const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`)];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(fieldErr.invalid(`${p}.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      return errs;
    }
    default:
      return [fieldErr.notSupported(path, strategy, ['Recreate', 'RollingUpdate'])];
  }
}

/** Status counters are non-negative and consistent (upstream's ValidateDeploymentStatus). */
function validateStatus(statusValue: unknown): FieldError[] {
  const status: Json = asObject(statusValue) ?? {};
  const errs: FieldError[] = [];
  for (const f of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) {
    errs.push(...validateNonnegativeField(num(status[f]), `status.${f}`));
  }
  if (status.collisionCount !== undefined) errs.push(...validateNonnegativeField(num(status.collisionCount), 'status.collisionCount'));
  const replicas = num(status.replicas);
  const msg = 'cannot be greater than status.replicas';
  if (num(status.updatedReplicas) > replicas) errs.push(fieldErr.invalid('status.updatedReplicas', num(status.updatedReplicas), msg));
  if (num(status.readyReplicas) > replicas) errs.push(fieldErr.invalid('status.readyReplicas', num(status.readyReplicas), msg));
  if (num(status.availableReplicas) > replicas) errs.push(fieldErr.invalid('status.availableReplicas', num(status.availableReplicas), msg));
  if (num(status.availableReplicas) > num(status.readyReplicas)) {
    errs.push(fieldErr.invalid('status.availableReplicas', num(status.availableReplicas), 'cannot be greater than readyReplicas'));
  }
  return errs;
}

export const deploymentStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    const strategy = ensureObject(spec, 'strategy');
    if (!strategy.type) strategy.type = 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = ensureObject(strategy, 'rollingUpdate');
      if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = '25%';
      if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = '25%';
    }
    if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
    if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
    defaultTemplate(spec);
  },
  validate(obj) {
    const spec = specOf(obj);
    const errs = [
      ...validateNonnegativeField(num(spec.replicas), 'spec.replicas'),
      ...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'),
      ...validateReplicatedTemplate(spec, 'spec.template', 'ReplicaSet'),
      ...validateStrategy(spec.strategy),
      ...validateNonnegativeField(num(spec.minReadySeconds), 'spec.minReadySeconds'),
    ];
    if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
      errs.push(...validateNonnegativeField(num(spec.revisionHistoryLimit), 'spec.revisionHistoryLimit'));
    }
    if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
      const pds = num(spec.progressDeadlineSeconds);
      errs.push(...validateNonnegativeField(pds, 'spec.progressDeadlineSeconds'));
      if (pds <= num(spec.minReadySeconds)) errs.push(fieldErr.invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
    }
    return errs;
  },
  validateUpdate: validateSelectorImmutable,
  // Upstream's deploymentStatusStrategy keeps the spec and labels; annotations (the controller's revision) go through.
  prepareForStatusUpdate(obj, old) {
    if (old.metadata.labels !== undefined) obj.metadata.labels = old.metadata.labels;
    else delete obj.metadata.labels;
  },
  validateStatusUpdate(obj, old) {
    return [...validateStatus(obj.status), ...validateCollisionCountNotDecremented(obj, old)];
  },
};

export { deploymentStrategy as Strategy };
