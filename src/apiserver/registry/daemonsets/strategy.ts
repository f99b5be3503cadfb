// DaemonSets (upstream apps/v1 SetDefaults_DaemonSet, ValidateDaemonSet[Update|Status]).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateLabelSelector, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, ensureObject, type Json } from '../group-validation.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { jsonEqual } from '../../../machinery/patch/json.js';
import { intOrPercentValue, num, validateNotMoreThan100Percent, validatePositiveIntOrPercent } from '../validation/pod.js';
import {
  defaultTemplate,
  specOf,
  validateCollisionCountNotDecremented,
  validateReplicatedTemplate,
  validateSelectorImmutable,
} from '../replicasets/strategy.js';

function validateUpdateStrategy(value: unknown): FieldError[] {
  const strategy = asObject(value) ?? {};
  const path = 'spec.updateStrategy';
  switch (strategy.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = asObject(strategy.rollingUpdate);
      if (!ru) return [fieldErr.required(`${path}.rollingUpdate`, '')];
      const p = `${path}.rollingUpdate`;
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable ?? 0, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(ru.maxSurge ?? 0, `${p}.maxSurge`),
        ...validateNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...validateNotMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`),
      ];
      const unavailable = (intOrPercentValue(ru.maxUnavailable) || 0) !== 0;
      const surge = (intOrPercentValue(ru.maxSurge) || 0) !== 0;
      if (unavailable && surge) errs.push(fieldErr.invalid(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      if (!unavailable && !surge) errs.push(fieldErr.required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [fieldErr.notSupported(path, strategy, ['RollingUpdate', 'OnDelete'])];
  }
}

function validateStatus(statusValue: unknown): FieldError[] {
  const status: Json = asObject(statusValue) ?? {};
  const errs: FieldError[] = [];
  for (const f of [
    'currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
    'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable',
  ]) {
    errs.push(...validateNonnegativeField(num(status[f]), `status.${f}`));
  }
  if (status.collisionCount !== undefined) errs.push(...validateNonnegativeField(num(status.collisionCount), 'status.collisionCount'));
  return errs;
}

/** apps/v1 keeps the internal spec.templateGeneration in this annotation. */
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

function setTemplateGeneration(obj: Json, generation: number): void {
  const metadata = ensureObject(obj, 'metadata');
  const annotations = ensureObject(metadata, 'annotations');
  annotations[TEMPLATE_GENERATION_ANNOTATION] = String(generation);
}

function templateGenerationOf(obj: Json): number {
  const v = asObject(asObject(obj.metadata)?.annotations)?.[TEMPLATE_GENERATION_ANNOTATION];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : 0;
}

export const daemonSetStrategy: Strategy = {
  // PrepareForCreate: templateGeneration starts at 1.
  prepareForCreate(obj) {
    setTemplateGeneration(obj, Math.max(1, templateGenerationOf(obj)));
  },
  // PrepareForUpdate: a changed template bumps templateGeneration; otherwise it is kept.
  prepareForUpdate(obj, old) {
    const oldGeneration = Math.max(1, templateGenerationOf(old));
    const changed = !jsonEqual(specOf(obj).template, specOf(old).template);
    setTemplateGeneration(obj, changed ? oldGeneration + 1 : oldGeneration);
  },
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    const us = ensureObject(spec, 'updateStrategy');
    if (!us.type) us.type = 'RollingUpdate';
    if (us.type === 'RollingUpdate') {
      const ru = ensureObject(us, 'rollingUpdate');
      if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = 1;
      if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = 0;
    }
    if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
    defaultTemplate(spec);
  },
  validate(obj) {
    const spec = specOf(obj);
    const errs = [
      ...validateLabelSelector(asObject(spec.selector) as LabelSelector | undefined, 'spec.selector'),
      ...validateReplicatedTemplate(spec, 'spec.template', 'DaemonSet'),
      ...validateNonnegativeField(num(spec.minReadySeconds), 'spec.minReadySeconds'),
      ...validateUpdateStrategy(spec.updateStrategy),
    ];
    const selector = asObject(spec.selector);
    if (selector && Object.keys(asObject(selector.matchLabels) ?? {}).length + asArray(selector.matchExpressions).length === 0) {
      errs.splice(1, 0, fieldErr.invalid('spec.selector', selector, 'empty selector is invalid for daemonset'));
    }
    if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
      errs.push(...validateNonnegativeField(num(spec.revisionHistoryLimit), 'spec.revisionHistoryLimit'));
    }
    return errs;
  },
  validateUpdate: validateSelectorImmutable,
  validateStatusUpdate(obj, old) {
    return [...validateStatus(obj.status), ...validateCollisionCountNotDecremented(obj, old)];
  },
};

export { daemonSetStrategy as Strategy };
