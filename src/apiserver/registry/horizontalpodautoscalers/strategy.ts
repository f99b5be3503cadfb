// autoscaling/v2 HorizontalPodAutoscaler (the stored version): upstream's v2 SetDefaults_HorizontalPodAutoscaler
// and ValidateHorizontalPodAutoscaler(Update/StatusUpdate). autoscaling/v1 bodies are converted (convert.ts) first.
import type {
  CrossVersionObjectReference,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerSpec,
  HPAScalingRules,
  MetricIdentifier,
  MetricSpec,
  MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Label, isValidPathSegmentName, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { decodeQuantity } from '../group-validation.js';

export const DEFAULT_CPU_UTILIZATION = 80;
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const SCALING_POLICY_TYPES = ['Percent', 'Pods'];

function defaultScaleUpRules(): HPAScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** Scale-down keeps stabilizationWindowSeconds unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies. */
function defaultScaleDownRules(): HPAScalingRules {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

function fillRules(rules: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (!rules) return defaults;
  if (rules.selectPolicy != null) defaults.selectPolicy = rules.selectPolicy;
  if (rules.stabilizationWindowSeconds != null) defaults.stabilizationWindowSeconds = rules.stabilizationWindowSeconds;
  if (rules.policies != null) defaults.policies = rules.policies;
  return defaults;
}

export function defaultHPA(obj: KubeObject): void {
  const hpa = obj as unknown as HorizontalPodAutoscaler;
  const spec = (hpa.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, defaultScaleUpRules());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, defaultScaleDownRules());
  }
}

export function validateCrossVersionObjectReference(ref: Partial<CrossVersionObjectReference> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['kind', 'name'] as const) {
    const v = ref?.[key] ?? '';
    if (v === '') errs.push(fieldErr.required(`${path}.${key}`));
    else errs.push(...invalidEach(`${path}.${key}`, v, isValidPathSegmentName(v)));
  }
  return errs;
}

/** Sign of a quantity field, or undefined (with errors) when it does not parse. */
function quantitySign(v: unknown, path: string, errs: FieldError[]): number | undefined {
  const { quantity, errs: parseErrs } = decodeQuantity(v, path);
  errs.push(...parseErrs);
  return quantity?.sign();
}

function validateMetricTarget(t: Partial<MetricTarget>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!t.type) errs.push(fieldErr.required(`${path}.type`, 'must specify a metric target type'));
  if (t.type !== 'Utilization' && t.type !== 'Value' && t.type !== 'AverageValue') {
    errs.push(fieldErr.invalid(`${path}.type`, t.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  }
  for (const key of ['value', 'averageValue'] as const) {
    const v = t[key];
    if (v == null) continue;
    const sign = quantitySign(v, `${path}.${key}`, errs);
    if (sign !== undefined && sign !== 1) errs.push(fieldErr.invalid(`${path}.${key}`, v, 'must be positive'));
  }
  if (t.averageUtilization != null && t.averageUtilization < 1) {
    errs.push(fieldErr.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
  return errs;
}

function validateMetricIdentifier(id: Partial<MetricIdentifier> | undefined, path: string): FieldError[] {
  const name = id?.name ?? '';
  const errs: FieldError[] = [];
  if (name === '') errs.push(fieldErr.required(`${path}.name`, 'must specify a metric name'));
  else errs.push(...invalidEach(`${path}.name`, name, isValidPathSegmentName(name)));
  return errs;
}

/** Resource and ContainerResource targets: exactly one of a utilization or a raw average value. */
function validateResourceTarget(t: Partial<MetricTarget>, path: string): FieldError[] {
  const errs = validateMetricTarget(t, `${path}.target`);
  if (t.averageUtilization == null && t.averageValue == null) {
    errs.push(fieldErr.required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  }
  if (t.averageUtilization != null && t.averageValue != null) {
    errs.push(fieldErr.forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function validateMetricSource(spec: MetricSpec, key: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (key) {
    case 'object': {
      const src = spec.object!;
      errs.push(...validateCrossVersionObjectReference(src.describedObject, `${path}.describedObject`));
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      const t = src.target ?? ({} as MetricTarget);
      errs.push(...validateMetricTarget(t, `${path}.target`));
      if (t.value == null && t.averageValue == null) errs.push(fieldErr.required(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
      break;
    }
    case 'pods': {
      const src = spec.pods!;
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      const t = src.target ?? ({} as MetricTarget);
      errs.push(...validateMetricTarget(t, `${path}.target`));
      if (t.averageValue == null) errs.push(fieldErr.required(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
      break;
    }
    case 'external': {
      const src = spec.external!;
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      const t = src.target ?? ({} as MetricTarget);
      errs.push(...validateMetricTarget(t, `${path}.target`));
      if (t.value == null && t.averageValue == null) {
        errs.push(fieldErr.required(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      }
      if (t.value != null && t.averageValue != null) {
        errs.push(fieldErr.forbidden(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
      }
      break;
    }
    case 'resource': {
      const src = spec.resource!;
      if (!src.name) errs.push(fieldErr.required(`${path}.name`, 'must specify a resource name'));
      errs.push(...validateResourceTarget(src.target ?? {}, path));
      break;
    }
    case 'containerResource': {
      const src = spec.containerResource!;
      if (!src.name) errs.push(fieldErr.required(`${path}.name`, 'must specify a resource name'));
      if (!src.container) errs.push(fieldErr.required(`${path}.container`, 'must specify a container'));
      else errs.push(...invalidEach(`${path}.container`, src.container, isDNS1123Label(src.container)));
      errs.push(...validateResourceTarget(src.target ?? {}, path));
      break;
    }
  }
  return errs;
}

/** Metric source fields by type, in the order upstream checks them. */
const SOURCE_KEYS: Record<string, string> = {
  Object: 'object',
  External: 'external',
  Pods: 'pods',
  Resource: 'resource',
  ContainerResource: 'containerResource',
};

function validateMetricSpec(spec: MetricSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = spec.type ?? '';
  if (type === '') errs.push(fieldErr.required(`${path}.type`, 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(type)) errs.push(fieldErr.notSupported(`${path}.type`, type, METRIC_SOURCE_TYPES));
  // Upstream validates only the first populated source, then complains about the others.
  const present = Object.values(SOURCE_KEYS).filter((k) => (spec as unknown as Record<string, unknown>)[k] != null);
  if (present.length > 0) errs.push(...validateMetricSource(spec, present[0], `${path}.${present[0]}`));
  const expected = SOURCE_KEYS[type];
  if (expected === undefined) {
    // Upstream's type switch reports an unknown type a second time.
    errs.push(fieldErr.notSupported(`${path}.type`, type, METRIC_SOURCE_TYPES));
  } else if (!present.includes(expected)) {
    errs.push(fieldErr.required(`${path}.${expected}`, 'must populate information for the given metric source'));
  }
  if (present.length !== 1) {
    for (const k of present.filter((p) => p !== expected)) errs.push(fieldErr.forbidden(`${path}.${k}`, 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: HPAScalingRules | undefined, path: string): FieldError[] {
  if (!rules) return [];
  const errs: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (window != null && window < 0) errs.push(fieldErr.invalid(`${path}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
  if (window != null && window > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(fieldErr.invalid(`${path}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (rules.selectPolicy != null && !SELECT_POLICIES.includes(rules.selectPolicy)) {
    errs.push(fieldErr.notSupported(`${path}.selectPolicy`, rules.selectPolicy, SELECT_POLICIES));
  }
  const policies = rules.policies ?? [];
  if (policies.length === 0) errs.push(fieldErr.required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const ppath = `${path}.policies[${i}]`;
    if (!SCALING_POLICY_TYPES.includes(p.type)) errs.push(fieldErr.notSupported(`${ppath}.type`, p.type ?? '', SCALING_POLICY_TYPES));
    if (!((p.value ?? 0) > 0)) errs.push(fieldErr.invalid(`${ppath}.value`, p.value ?? 0, 'must be greater than zero'));
    const period = p.periodSeconds ?? 0;
    if (period <= 0) errs.push(fieldErr.invalid(`${ppath}.periodSeconds`, period, 'must be greater than zero'));
    if (period > MAX_PERIOD_SECONDS) errs.push(fieldErr.invalid(`${ppath}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

function validateSpec(spec: Partial<HorizontalPodAutoscalerSpec>): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  // Scaling to zero (HPAScaleToZero) is an alpha feature upstream, off by default.
  if (min != null && min < 1) errs.push(fieldErr.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min != null && max < min) errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  (spec.metrics ?? []).forEach((m, i) => errs.push(...validateMetricSpec(m, `spec.metrics[${i}]`)));
  if (spec.behavior) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export const Strategy: KindStrategy = {
  defaults: defaultHPA,
  validate: (obj) => validateSpec((obj as unknown as HorizontalPodAutoscaler).spec ?? {}),
  validateStatusUpdate(obj) {
    const status = (obj as unknown as HorizontalPodAutoscaler).status;
    return [
      ...validateNonnegativeField(status?.currentReplicas ?? 0, 'status.currentReplicas'),
      ...validateNonnegativeField(status?.desiredReplicas ?? 0, 'status.desiredReplicas'),
    ];
  },
};
