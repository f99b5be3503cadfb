// Conversion between autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers, as upstream's
// pkg/apis/autoscaling/v1/conversion.go does it. v1 only has targetCPUUtilizationPercentage; every other v2 field
// travels through v1 in annotations (metrics, current metrics, conditions, behavior), so v2 -> v1 -> v2 loses
// nothing. The metric annotations use the older v2beta1-style shapes that upstream's v1 package defines.
import type { CrossVersionObjectReference, HorizontalPodAutoscaler as V1HPA } from 'kubernetes-types/autoscaling/v1.js';
import type {
  HorizontalPodAutoscaler as V2HPA,
  HorizontalPodAutoscalerBehavior,
  HorizontalPodAutoscalerCondition,
  MetricSpec,
  MetricStatus,
  MetricTarget,
  MetricValueStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { deepClone } from '../../../api/object.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

type Quantity = string;

/** autoscaling/v1's MetricSpec as serialized into the metrics annotation. */
export interface V1MetricSpec {
  type: string;
  object?: { target: CrossVersionObjectReference; metricName: string; targetValue?: Quantity; selector?: LabelSelector; averageValue?: Quantity };
  pods?: { metricName: string; targetAverageValue?: Quantity; selector?: LabelSelector };
  resource?: { name: string; targetAverageUtilization?: number; targetAverageValue?: Quantity };
  containerResource?: { name: string; container: string; targetAverageUtilization?: number; targetAverageValue?: Quantity };
  external?: { metricName: string; metricSelector?: LabelSelector; targetValue?: Quantity; targetAverageValue?: Quantity };
}

/** autoscaling/v1's MetricStatus as serialized into the current-metrics annotation. */
export interface V1MetricStatus {
  type: string;
  object?: { target: CrossVersionObjectReference; metricName: string; currentValue?: Quantity; selector?: LabelSelector; averageValue?: Quantity };
  pods?: { metricName: string; currentAverageValue?: Quantity; selector?: LabelSelector };
  resource?: { name: string; currentAverageUtilization?: number; currentAverageValue?: Quantity };
  containerResource?: { name: string; container: string; currentAverageUtilization?: number; currentAverageValue?: Quantity };
  external?: { metricName: string; metricSelector?: LabelSelector; currentValue?: Quantity; currentAverageValue?: Quantity };
}

/** Copies only the defined values, so converted objects carry no `undefined` fields. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function isCPUUtilization(m: MetricSpec): boolean {
  return m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.averageUtilization != null;
}

// ---- metric specs -------------------------------------------------------------------------------------------

function metricSpecToV1(m: MetricSpec): V1MetricSpec {
  const out: V1MetricSpec = { type: m.type };
  if (m.object) {
    out.object = compact({
      target: m.object.describedObject,
      metricName: m.object.metric?.name,
      targetValue: m.object.target?.value,
      selector: m.object.metric?.selector,
      averageValue: m.object.target?.averageValue,
    });
  }
  if (m.pods) {
    out.pods = compact({ metricName: m.pods.metric?.name, targetAverageValue: m.pods.target?.averageValue, selector: m.pods.metric?.selector });
  }
  if (m.resource) {
    out.resource = compact({
      name: m.resource.name,
      targetAverageUtilization: m.resource.target?.averageUtilization,
      targetAverageValue: m.resource.target?.averageValue,
    });
  }
  if (m.containerResource) {
    out.containerResource = compact({
      name: m.containerResource.name,
      container: m.containerResource.container,
      targetAverageUtilization: m.containerResource.target?.averageUtilization,
      targetAverageValue: m.containerResource.target?.averageValue,
    });
  }
  if (m.external) {
    out.external = compact({
      metricName: m.external.metric?.name,
      metricSelector: m.external.metric?.selector,
      targetValue: m.external.target?.value,
      targetAverageValue: m.external.target?.averageValue,
    });
  }
  return out;
}

/** v1 resource targets: a utilization when given, else a raw average value. */
function resourceTarget(utilization: number | undefined, averageValue: Quantity | undefined): MetricTarget {
  return compact({ type: utilization == null ? 'AverageValue' : 'Utilization', averageUtilization: utilization, averageValue });
}

function metricSpecFromV1(m: V1MetricSpec): MetricSpec {
  const out: MetricSpec = { type: m.type };
  if (m.object) {
    out.object = {
      describedObject: m.object.target,
      metric: compact({ name: m.object.metricName, selector: m.object.selector }),
      target: compact({ type: m.object.averageValue == null ? 'Value' : 'AverageValue', value: m.object.targetValue, averageValue: m.object.averageValue }),
    };
  }
  if (m.pods) {
    out.pods = {
      metric: compact({ name: m.pods.metricName, selector: m.pods.selector }),
      target: compact({ type: 'AverageValue', averageValue: m.pods.targetAverageValue }),
    };
  }
  if (m.resource) {
    out.resource = { name: m.resource.name, target: resourceTarget(m.resource.targetAverageUtilization, m.resource.targetAverageValue) };
  }
  if (m.containerResource) {
    out.containerResource = {
      name: m.containerResource.name,
      container: m.containerResource.container,
      target: resourceTarget(m.containerResource.targetAverageUtilization, m.containerResource.targetAverageValue),
    };
  }
  if (m.external) {
    out.external = {
      metric: compact({ name: m.external.metricName, selector: m.external.metricSelector }),
      target: compact({
        type: m.external.targetValue == null ? 'AverageValue' : 'Value',
        value: m.external.targetValue,
        averageValue: m.external.targetAverageValue,
      }),
    };
  }
  return out;
}

// ---- metric statuses ----------------------------------------------------------------------------------------

function metricStatusToV1(m: MetricStatus): V1MetricStatus {
  const out: V1MetricStatus = { type: m.type };
  if (m.object) {
    out.object = compact({
      target: m.object.describedObject,
      metricName: m.object.metric?.name,
      currentValue: m.object.current?.value,
      selector: m.object.metric?.selector,
      averageValue: m.object.current?.averageValue,
    });
  }
  if (m.pods) {
    out.pods = compact({ metricName: m.pods.metric?.name, currentAverageValue: m.pods.current?.averageValue, selector: m.pods.metric?.selector });
  }
  if (m.resource) {
    out.resource = compact({
      name: m.resource.name,
      currentAverageUtilization: m.resource.current?.averageUtilization,
      currentAverageValue: m.resource.current?.averageValue,
    });
  }
  if (m.containerResource) {
    out.containerResource = compact({
      name: m.containerResource.name,
      container: m.containerResource.container,
      currentAverageUtilization: m.containerResource.current?.averageUtilization,
      currentAverageValue: m.containerResource.current?.averageValue,
    });
  }
  if (m.external) {
    out.external = compact({
      metricName: m.external.metric?.name,
      metricSelector: m.external.metric?.selector,
      currentValue: m.external.current?.value,
      currentAverageValue: m.external.current?.averageValue,
    });
  }
  return out;
}

function metricStatusFromV1(m: V1MetricStatus): MetricStatus {
  const out: MetricStatus = { type: m.type };
  const current = (c: MetricValueStatus) => compact(c);
  if (m.object) {
    out.object = {
      describedObject: m.object.target,
      metric: compact({ name: m.object.metricName, selector: m.object.selector }),
      current: current({ value: m.object.currentValue, averageValue: m.object.averageValue }),
    };
  }
  if (m.pods) {
    out.pods = { metric: compact({ name: m.pods.metricName, selector: m.pods.selector }), current: current({ averageValue: m.pods.currentAverageValue }) };
  }
  if (m.resource) {
    out.resource = {
      name: m.resource.name,
      current: current({ averageValue: m.resource.currentAverageValue, averageUtilization: m.resource.currentAverageUtilization }),
    };
  }
  if (m.containerResource) {
    out.containerResource = {
      name: m.containerResource.name,
      container: m.containerResource.container,
      current: current({ averageValue: m.containerResource.currentAverageValue, averageUtilization: m.containerResource.currentAverageUtilization }),
    };
  }
  if (m.external) {
    out.external = {
      metric: compact({ name: m.external.metricName, selector: m.external.metricSelector }),
      current: current({ value: m.external.currentValue, averageValue: m.external.currentAverageValue }),
    };
  }
  return out;
}

// ---- whole objects --------------------------------------------------------------------------------------------

/** The annotations without the round-trip ones; undefined when nothing is left (upstream omits an empty map). */
function dropRoundTripAnnotations(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const out = { ...annotations };
  for (const k of ROUND_TRIP_ANNOTATIONS) delete out[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

function withAnnotations<T extends { metadata?: { annotations?: Record<string, string> } }>(obj: T, annotations: Record<string, string> | undefined): T {
  const metadata = { ...(obj.metadata ?? {}) };
  if (annotations) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...obj, metadata };
}

/** Parses a round-trip annotation; a malformed one is a conversion error, as upstream's json.Unmarshal failure is. */
function parseAnnotation<T>(annotations: Record<string, string> | undefined, key: string): T | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new Error(`invalid ${key} annotation: ${(e as Error).message}`, { cause: e });
  }
}

/** autoscaling/v2 -> autoscaling/v1; the input is not modified. */
export function hpaV2ToV1(hpa: V2HPA): V1HPA {
  const src = deepClone(hpa);
  const spec = src.spec;
  const annotations: Record<string, string> = { ...(dropRoundTripAnnotations(src.metadata?.annotations) ?? {}) };
  const metrics = spec?.metrics ?? [];
  const cpu = metrics.find(isCPUUtilization);
  const others = metrics.filter((m) => !isCPUUtilization(m)).map(metricSpecToV1);
  if (others.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  if (spec?.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);

  const status = src.status;
  const currentMetrics = status?.currentMetrics ?? [];
  // All current metrics are kept, CPU included, so the raw value survives alongside the percentage.
  if (currentMetrics.length > 0) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1));
  if (status?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  const currentCPU = currentMetrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current?.averageUtilization;

  return withAnnotations(
    {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: src.metadata ?? {},
      ...(spec
        ? {
            spec: compact({
              scaleTargetRef: spec.scaleTargetRef,
              minReplicas: spec.minReplicas,
              maxReplicas: spec.maxReplicas,
              targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization,
            }) as NonNullable<V1HPA['spec']>,
          }
        : {}),
      ...(status
        ? {
            status: compact({
              observedGeneration: status.observedGeneration,
              lastScaleTime: status.lastScaleTime,
              currentReplicas: status.currentReplicas,
              desiredReplicas: status.desiredReplicas,
              currentCPUUtilizationPercentage: currentCPU,
            }) as NonNullable<V1HPA['status']>,
          }
        : {}),
    },
    Object.keys(annotations).length > 0 ? annotations : undefined,
  );
}

/** autoscaling/v1 -> autoscaling/v2. Throws an Error when a round-trip annotation is not valid JSON. */
export function hpaV1ToV2(hpa: V1HPA): V2HPA {
  const src = deepClone(hpa);
  const annotations = src.metadata?.annotations;
  const spec = src.spec;
  const status = src.status;

  let metrics: MetricSpec[] | undefined;
  if (spec?.targetCPUUtilizationPercentage != null) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  }
  const others = parseAnnotation<V1MetricSpec[]>(annotations, METRIC_SPECS_ANNOTATION);
  // Upstream puts the annotation's metrics first and the CPU target last.
  if (others) metrics = [...others.map(metricSpecFromV1), ...(metrics ?? [])];
  const behavior = parseAnnotation<HorizontalPodAutoscalerBehavior>(annotations, BEHAVIOR_ANNOTATION);

  let currentMetrics: MetricStatus[] | undefined;
  if (status?.currentCPUUtilizationPercentage != null) {
    currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  }
  const statusAnnotation = parseAnnotation<V1MetricStatus[]>(annotations, METRIC_STATUSES_ANNOTATION);
  if (statusAnnotation) currentMetrics = statusAnnotation.map(metricStatusFromV1);
  const conditions = parseAnnotation<HorizontalPodAutoscalerCondition[]>(annotations, CONDITIONS_ANNOTATION);

  return withAnnotations(
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: src.metadata ?? {},
      ...(spec
        ? {
            spec: compact({
              scaleTargetRef: spec.scaleTargetRef,
              minReplicas: spec.minReplicas,
              maxReplicas: spec.maxReplicas,
              metrics,
              behavior,
            }) as NonNullable<V2HPA['spec']>,
          }
        : {}),
      ...(status
        ? {
            status: compact({
              observedGeneration: status.observedGeneration,
              lastScaleTime: status.lastScaleTime,
              currentReplicas: status.currentReplicas,
              desiredReplicas: status.desiredReplicas,
              currentMetrics,
              conditions,
            }) as NonNullable<V2HPA['status']>,
          }
        : {}),
    },
    dropRoundTripAnnotations(annotations),
  );
}
