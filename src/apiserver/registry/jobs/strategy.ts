// Jobs (upstream batch/v1 SetDefaults_Job, pkg/registry/batch/job/strategy.go and ValidateJob[Update|Status]).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isQualifiedName, validateImmutableField, validateLabelSelector, validateNonnegativeField } from '../../../machinery/validation.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, ensureObject, sameValue, type Json } from '../group-validation.js';
import { asStringMap, num, validatePodTemplateSpec, validateSelectorMatchesTemplate } from '../validation/pod.js';
import { defaultTemplate, specOf } from '../replicasets/strategy.js';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
const MAX_PARALLELISM_INDEXED = 100000;
const MAX_INT32 = 2147483647;
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const FAILURE_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const MAX_FAILURE_RULES = 20;
const MAX_EXIT_CODES = 255;
const POD_REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function validateOnExitCodes(req: Json, path: string, containerNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (isSet(req.containerName) && !containerNames.has(asString(req.containerName))) {
    errs.push(fieldErr.invalid(`${path}.containerName`, req.containerName, 'must be one of the container or initContainer names in the pod template'));
  }
  const op = asString(req.operator);
  if (op !== 'In' && op !== 'NotIn') errs.push(fieldErr.notSupported(`${path}.operator`, op, ['In', 'NotIn']));
  const values = asArray(req.values).map((v) => (typeof v === 'number' ? v : Number.NaN));
  const valuesPath = `${path}.values`;
  if (values.length === 0) errs.push(fieldErr.invalid(valuesPath, values, 'at least one value is required'));
  else if (values.length > MAX_EXIT_CODES) errs.push(fieldErr.tooMany(valuesPath, values.length, MAX_EXIT_CODES));
  values.forEach((v, i) => {
    if (op === 'In' && v === 0) errs.push(fieldErr.invalid(`${valuesPath}[${i}]`, v, 'must not be 0 for the In operator'));
    if (i > 0 && values[i - 1] === v) errs.push(fieldErr.duplicate(`${valuesPath}[${i}]`, v));
    else if (i > 0 && values[i - 1] > v) errs.push(fieldErr.invalid(`${valuesPath}[${i}]`, v, 'must be ordered'));
  });
  return errs;
}

/** Upstream's validatePodFailurePolicy. */
function validatePodFailurePolicy(spec: Json, policy: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = asArray(policy.rules);
  if (rules.length > MAX_FAILURE_RULES) errs.push(fieldErr.tooMany(`${path}.rules`, rules.length, MAX_FAILURE_RULES));
  const podSpec = asObject(asObject(spec.template)?.spec) ?? {};
  const containerNames = new Set([...asArray(podSpec.containers), ...asArray(podSpec.initContainers)].map((c) => asString(asObject(c)?.name)));
  rules.forEach((raw, i) => {
    const rule = asObject(raw) ?? {};
    const p = `${path}.rules[${i}]`;
    const action = asString(rule.action);
    if (action === 'FailIndex' && !isSet(spec.backoffLimitPerIndex)) {
      errs.push(fieldErr.invalid(`${p}.action`, action, 'requires the backoffLimitPerIndex to be set'));
    }
    if (!FAILURE_ACTIONS.includes(action)) errs.push(fieldErr.notSupported(`${p}.action`, action, FAILURE_ACTIONS));
    const onExitCodes = asObject(rule.onExitCodes);
    const onConditions = asArray(rule.onPodConditions);
    if (onExitCodes) errs.push(...validateOnExitCodes(onExitCodes, `${p}.onExitCodes`, containerNames));
    onConditions.forEach((rawCond, j) => {
      const cond = asObject(rawCond) ?? {};
      const cp = `${p}.onPodConditions[${j}]`;
      const status = asString(cond.status);
      if (!['True', 'False', 'Unknown'].includes(status)) errs.push(fieldErr.notSupported(`${cp}.status`, status, ['False', 'True', 'Unknown']));
      errs.push(...invalidEach(`${cp}.type`, asString(cond.type), isQualifiedName(asString(cond.type))));
    });
    if (onExitCodes && onConditions.length > 0) errs.push(fieldErr.invalid(p, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExitCodes && onConditions.length === 0) errs.push(fieldErr.invalid(p, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

/** Upstream's validateJobSpec: what a Job and a CronJob's jobTemplate share. */
export function validateJobSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) {
    if (isSet(spec[f])) errs.push(...validateNonnegativeField(num(spec[f]), `${path}.${f}`));
  }
  const mode = spec.completionMode;
  if (isSet(spec.backoffLimitPerIndex)) {
    errs.push(...validateNonnegativeField(num(spec.backoffLimitPerIndex), `${path}.backoffLimitPerIndex`));
    if (mode !== 'Indexed') errs.push(fieldErr.forbidden(`${path}.backoffLimitPerIndex`, 'requires indexed completion mode'));
  }
  if (isSet(spec.maxFailedIndexes) && !isSet(spec.backoffLimitPerIndex)) {
    errs.push(fieldErr.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  if (isSet(mode)) {
    if (!COMPLETION_MODES.includes(asString(mode))) errs.push(fieldErr.notSupported(`${path}.completionMode`, mode, COMPLETION_MODES));
    if (mode === 'Indexed') {
      if (!isSet(spec.completions)) errs.push(fieldErr.required(`${path}.completions`, 'when completion mode is Indexed'));
      if (isSet(spec.parallelism) && num(spec.parallelism) > MAX_PARALLELISM_INDEXED) {
        errs.push(fieldErr.invalid(`${path}.parallelism`, num(spec.parallelism), `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
    }
  }
  const failurePolicy = asObject(spec.podFailurePolicy);
  if (failurePolicy) errs.push(...validatePodFailurePolicy(spec, failurePolicy, `${path}.podFailurePolicy`));
  const replacement = spec.podReplacementPolicy;
  if (isSet(replacement)) {
    if (failurePolicy) {
      if (replacement !== 'Failed') errs.push(fieldErr.notSupported(`${path}.podReplacementPolicy`, replacement, ['Failed']));
    } else if (!POD_REPLACEMENT_POLICIES.includes(asString(replacement))) {
      errs.push(fieldErr.notSupported(`${path}.podReplacementPolicy`, replacement, POD_REPLACEMENT_POLICIES));
    }
  }
  const template = asObject(spec.template);
  errs.push(...validatePodTemplateSpec(template, `${path}.template`));
  const restartPolicy = asString(asObject(template?.spec)?.restartPolicy);
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(fieldErr.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(fieldErr.notSupported(rpPath, restartPolicy, ['OnFailure', 'Never']));
  else if (failurePolicy && restartPolicy !== 'Never') errs.push(fieldErr.invalid(rpPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** Upstream's generateSelector: pods carry the job's name and uid; the selector picks the uid. */
function generateSelector(obj: Record<string, unknown> & { metadata: { name?: string; uid?: string } }): void {
  const spec = ensureObject(obj, 'spec');
  const template = ensureObject(spec, 'template');
  const meta = ensureObject(template, 'metadata');
  const labels = ensureObject(meta, 'labels');
  const name = obj.metadata.name ?? '';
  const uid = obj.metadata.uid ?? '';
  // User-set labels are kept; a conflict is reported by validation.
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  const selector = ensureObject(spec, 'selector');
  const matchLabels = ensureObject(selector, 'matchLabels');
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}

function validateHasLabel(labels: Record<string, string>, key: string, expected: string, path: string): FieldError[] {
  if (!(key in labels)) return [fieldErr.required(`${path}[${key}]`, expected)];
  return labels[key] === expected ? [] : [fieldErr.invalid(`${path}[${key}]`, labels, `must be '${expected}'`)];
}

/** Upstream's validateGeneratedSelector: a generated selector must be exactly the job's own. */
function validateGeneratedSelector(obj: Record<string, unknown> & { metadata: { name?: string; uid?: string } }): FieldError[] {
  const spec = specOf(obj);
  const selector = asObject(spec.selector);
  if (spec.manualSelector === true || !selector) return [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  const errs: FieldError[] = [];
  if (!uid) errs.push(fieldErr.required('metadata.uid', ''));
  const labels = asStringMap(asObject(asObject(spec.template)?.metadata)?.labels);
  const path = 'spec.template.metadata.labels';
  errs.push(...validateHasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid, path), ...validateHasLabel(labels, LEGACY_JOB_NAME_LABEL, name, path));
  // Jobs created before the prefixed labels existed select on the legacy one.
  const prefixed = CONTROLLER_UID_LABEL in (asObject(selector.matchLabels) ?? {});
  const expectedKey = prefixed ? CONTROLLER_UID_LABEL : LEGACY_CONTROLLER_UID_LABEL;
  if (prefixed) errs.push(...validateHasLabel(labels, CONTROLLER_UID_LABEL, uid, path), ...validateHasLabel(labels, JOB_NAME_LABEL, name, path));
  if (!sameValue(selector, { matchLabels: { [expectedKey]: uid } })) errs.push(fieldErr.invalid('spec.selector', selector, '`selector` not auto-generated'));
  return errs;
}

/** Scheduling directives of a suspended, never-started job's template may change (upstream's JobMutableNodeSchedulingDirectives). */
function validateTemplateUpdate(spec: Json, oldSpec: Json, mutableScheduling: boolean): FieldError[] {
  const template = asObject(spec.template) ?? {};
  let oldTemplate: Json = asObject(oldSpec.template) ?? {};
  if (mutableScheduling) {
    const podSpec = asObject(template.spec) ?? {};
    const oldPodSpec: Json = { ...(asObject(oldTemplate.spec) ?? {}) };
    const affinity = asObject(podSpec.affinity);
    const oldAffinity = asObject(oldPodSpec.affinity);
    if (!affinity && oldAffinity) {
      const rest = { ...oldAffinity };
      delete rest.nodeAffinity;
      oldPodSpec.affinity = Object.keys(rest).length ? rest : undefined;
    } else if (affinity) {
      oldPodSpec.affinity = { ...(oldAffinity ?? {}), nodeAffinity: affinity.nodeAffinity };
    }
    for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) oldPodSpec[f] = podSpec[f];
    const meta = asObject(template.metadata) ?? {};
    oldTemplate = {
      ...oldTemplate,
      metadata: { ...(asObject(oldTemplate.metadata) ?? {}), labels: meta.labels, annotations: meta.annotations },
      spec: oldPodSpec,
    };
  }
  return validateImmutableField(template, oldTemplate, 'spec.template');
}

function validateStatus(statusValue: unknown): FieldError[] {
  const status: Json = asObject(statusValue) ?? {};
  const errs: FieldError[] = [];
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating']) {
    if (isSet(status[f])) errs.push(...validateNonnegativeField(num(status[f]), `status.${f}`));
  }
  return errs;
}

export const jobStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (!isSet(spec.completions) && !isSet(spec.parallelism)) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    if (!isSet(spec.parallelism)) spec.parallelism = 1;
    if (!isSet(spec.backoffLimit)) spec.backoffLimit = isSet(spec.backoffLimitPerIndex) ? MAX_INT32 : 6;
    const templateLabels = asStringMap(asObject(asObject(spec.template)?.metadata)?.labels);
    if (Object.keys(templateLabels).length && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...templateLabels };
    if (!isSet(spec.completionMode)) spec.completionMode = 'NonIndexed';
    if (!isSet(spec.suspend)) spec.suspend = false;
    const failurePolicy = asObject(spec.podFailurePolicy);
    for (const rule of asArray(failurePolicy?.rules)) {
      for (const cond of asArray(asObject(rule)?.onPodConditions)) {
        const c = asObject(cond);
        if (c && !c.status) c.status = 'True';
      }
    }
    if (!isSet(spec.podReplacementPolicy)) spec.podReplacementPolicy = failurePolicy ? 'Failed' : 'TerminatingOrFailed';
    defaultTemplate(spec);
  },
  prepareForCreate(obj) {
    if (specOf(obj).manualSelector === true) return;
    const hadLabels = Object.keys(obj.metadata.labels ?? {}).length > 0;
    const templateLabelsBefore = asStringMap(asObject(asObject(specOf(obj).template)?.metadata)?.labels);
    generateSelector(obj);
    // Defaulting copied the template's labels onto the job; upstream shares that map, so the job also shows the
    // generated labels.
    const templateLabels = asStringMap(asObject(asObject(specOf(obj).template)?.metadata)?.labels);
    if (!hadLabels || sameValue(obj.metadata.labels, templateLabelsBefore)) obj.metadata.labels = { ...templateLabels };
  },
  validate(obj) {
    const spec = specOf(obj);
    const errs = [...validateGeneratedSelector(obj), ...validateJobSpec(spec, 'spec')];
    if (!asObject(spec.selector)) errs.push(fieldErr.required('spec.selector', ''));
    else errs.push(...validateLabelSelector(asObject(spec.selector) as LabelSelector, 'spec.selector'));
    errs.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, 'spec.template.metadata.labels'));
    const completions = spec.completions;
    if (spec.completionMode === 'Indexed' && typeof completions === 'number' && completions > 0) {
      const hostname = `${obj.metadata.name ?? ''}-${completions - 1}`;
      if (hostname.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(hostname)) {
        errs.push(fieldErr.invalid('metadata.name', obj.metadata.name ?? '', `will not able to create pod with invalid DNS label: ${hostname}`));
      }
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const spec = specOf(obj);
    const oldSpec = specOf(old);
    const errs: FieldError[] = [];
    const indexed = spec.completionMode === 'Indexed' && oldSpec.completionMode === 'Indexed';
    if (indexed && isSet(spec.completions) && isSet(oldSpec.completions)) {
      // Elastic indexed jobs scale completions together with parallelism.
      if (spec.completions !== oldSpec.completions && spec.completions !== spec.parallelism) {
        errs.push(fieldErr.invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
      }
    } else errs.push(...validateImmutableField(spec.completions, oldSpec.completions, 'spec.completions'));
    errs.push(...validateImmutableField(spec.selector, oldSpec.selector, 'spec.selector'));
    const notStarted = !isSet(asObject(old.status)?.startTime);
    errs.push(...validateTemplateUpdate(spec, oldSpec, oldSpec.suspend === true && notStarted));
    for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
      errs.push(...validateImmutableField(spec[f], oldSpec[f], `spec.${f}`));
    }
    return errs;
  },
  validateStatusUpdate(obj) {
    return validateStatus(obj.status);
  },
  selectableFields(obj) {
    return { 'status.successful': String(num(asObject(obj.status)?.succeeded)) };
  },
};

export { jobStrategy as Strategy };
