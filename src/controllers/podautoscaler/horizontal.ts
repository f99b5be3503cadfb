// Upstream's horizontal pod autoscaler controller ("horizontalpodautoscaling"), autoscaling/v2: every sync period each
// HPA reads its target's /scale, asks the replica calculator for a proposal per metric (Resource and
// ContainerResource by utilization or average value, Pods, Object, External), takes the largest, stabilizes it
// (the 5-minute downscale window, or spec.behavior's windows and rate policies), clamps it to min/max and writes the
// /scale subresource; status (currentReplicas, desiredReplicas, currentMetrics, lastScaleTime) and the conditions
// AbleToScale / ScalingActive / ScalingLimited carry upstream's reasons and messages.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type {
  HPAScalingRules,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerBehavior,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { Quantity } from '../../machinery/quantity.js';
import { everything, labelSelectorAsSelector, parseSelector, type Selector } from '../../machinery/labels.js';
import { formatTime } from '../../machinery/time.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, metaNamespaceKey, type ObjectLike, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import {
  DEFAULT_HPA_CPU_INITIALIZATION_PERIOD_MS,
  DEFAULT_HPA_DOWNSCALE_STABILIZATION_MS,
  DEFAULT_HPA_INITIAL_READINESS_DELAY_MS,
  DEFAULT_HPA_SYNC_PERIOD_MS,
  DEFAULT_HPA_TOLERANCE,
} from '../options.js';
import { runQueueController } from '../run.js';
import { RestMetricsSource, type MetricsSource } from './metrics.js';
import { ReplicaCalculator } from './replica-calculator.js';

const HPAS = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
const PODS = { group: '', version: 'v1', resource: 'pods' };

const SCALE_UP_LIMIT_FACTOR = 2.0;
const SCALE_UP_LIMIT_MINIMUM = 4.0;
const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

interface Scale extends ObjectLike {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

interface TimestampedRecommendation {
  recommendation: number;
  timestamp: number;
}

interface ScaleEvent {
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';

interface MetricProposal {
  replicas: number;
  metricName: string;
  timestamp: number;
  status: MetricStatus;
}

class MetricError extends Error {
  constructor(
    message: string,
    readonly condition: { type: ConditionType; status: 'True' | 'False'; reason: string; message: string },
  ) {
    super(message);
  }
}

/** The behavior with upstream's defaults for anything unset (the API server fills them too). */
export function behaviorWithDefaults(b: HorizontalPodAutoscalerBehavior, downscaleWindowSeconds: number): { scaleUp: HPAScalingRules; scaleDown: HPAScalingRules } {
  const scaleUp: HPAScalingRules = {
    stabilizationWindowSeconds: b.scaleUp?.stabilizationWindowSeconds ?? 0,
    selectPolicy: b.scaleUp?.selectPolicy ?? 'Max',
    policies: b.scaleUp?.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
  const scaleDown: HPAScalingRules = {
    stabilizationWindowSeconds: b.scaleDown?.stabilizationWindowSeconds ?? downscaleWindowSeconds,
    selectPolicy: b.scaleDown?.selectPolicy ?? 'Max',
    policies: b.scaleDown?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
  return { scaleUp, scaleDown };
}

export class HorizontalController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly recorder: CoreEventRecorder;
  private readonly hpaInformer: SharedIndexInformer<HorizontalPodAutoscaler>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly calculator: ReplicaCalculator;
  private readonly syncPeriodMs: number;
  private readonly downscaleWindowMs: number;
  readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  constructor(
    private readonly ctx: ControllerContext,
    metrics: MetricsSource = new RestMetricsSource(ctx.client),
  ) {
    const o = ctx.options ?? {};
    this.syncPeriodMs = o.hpaSyncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.downscaleWindowMs = o.hpaDownscaleStabilizationMs ?? DEFAULT_HPA_DOWNSCALE_STABILIZATION_MS;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'horizontal-pod-autoscaler', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.hpaInformer = ctx.informers.informerFor<HorizontalPodAutoscaler>(HPAS);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    this.calculator = new ReplicaCalculator(metrics, (ns, sel) => this.podInformer.lister().namespace(ns).list(sel), {
      tolerance: o.hpaTolerance ?? DEFAULT_HPA_TOLERANCE,
      cpuInitializationPeriodMs: o.hpaCpuInitializationPeriodMs ?? DEFAULT_HPA_CPU_INITIALIZATION_PERIOD_MS,
      delayOfInitialReadinessStatusMs: o.hpaInitialReadinessDelayMs ?? DEFAULT_HPA_INITIAL_READINESS_DELAY_MS,
      now: () => ctx.clock.now(),
    });
    // As upstream's fixed-interval limiter: an HPA is looked at once per sync period, changes included.
    const enqueue = (h: HorizontalPodAutoscaler) => this.queue.addAfter(metaNamespaceKey(h), this.syncPeriodMs);
    this.hpaInformer.addEventHandler({
      onAdd: (h) => this.queue.add(metaNamespaceKey(h)),
      onUpdate: (o, h) => {
        // Our own status writes do not need another pass.
        if (JSON.stringify(o.spec) !== JSON.stringify(h.spec)) enqueue(h);
      },
      onDelete: (h) => this.queue.add(metaNamespaceKey(deletedObject(h))),
    });
  }

  private synced = async (): Promise<boolean> => (await Promise.all([this.hpaInformer.waitForCacheSync(), this.podInformer.waitForCacheSync()])).every(Boolean);

  async run(signal: AbortSignal): Promise<void> {
    await runQueueController(
      {
        name: 'horizontal-pod-autoscaler',
        waitForSync: this.synced,
        queue: this.queue,
        workers: 5,
        sync: async (key) => {
          try {
            await this.sync(key);
          } finally {
            if (this.hpaInformer.lister().namespace(key.split('/')[0]).get(key.split('/')[1])) this.queue.addAfter(key, this.syncPeriodMs);
          }
        },
        log: this.ctx.log,
      },
      signal,
    );
    await this.recorder.flush();
  }

  private now(): string {
    return formatTime(new Date(this.ctx.clock.now()));
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const cached = this.hpaInformer.lister().namespace(namespace).get(name);
    if (!cached) {
      this.recommendations.delete(key);
      this.scaleUpEvents.delete(key);
      this.scaleDownEvents.delete(key);
      return;
    }
    await this.reconcile(key, structuredClone(cached));
  }

  private setCondition(hpa: HorizontalPodAutoscaler, type: ConditionType, status: 'True' | 'False', reason: string, message: string): void {
    const conditions: HorizontalPodAutoscalerCondition[] = [...(hpa.status?.conditions ?? [])];
    const i = conditions.findIndex((c) => c.type === type);
    const old = i >= 0 ? conditions[i] : undefined;
    const next: HorizontalPodAutoscalerCondition = { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : this.now() };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
    Object.assign(hpa, { status: { ...hpa.status, conditions } });
  }

  private scaleClient(hpa: HorizontalPodAutoscaler) {
    const ref = hpa.spec!.scaleTargetRef;
    const [group, version] = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/') : ['', ref.apiVersion ?? 'v1'];
    const info =
      BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.kind === ref.kind && r.subresources.some((s) => s.name === 'scale')) ??
      BUILTIN_RESOURCES.find((r) => r.group === group && r.kind === ref.kind && r.subresources.some((s) => s.name === 'scale'));
    if (!info) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    return this.ctx.client.resource<Scale>(info);
  }

  private async reconcile(key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const original = structuredClone(hpa.status);
    const ref = hpa.spec!.scaleTargetRef;
    const namespace = hpa.metadata!.namespace!;
    const reference = `${ref.kind}/${namespace}/${ref.name}`;
    let scale: Scale;
    let scales;
    try {
      scales = this.scaleClient(hpa);
      scale = await scales.get(ref.name, { namespace, subresource: 'scale' });
    } catch (err) {
      const msg = (err as Error).message;
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      this.recorder.event(hpa, 'Warning', 'FailedGetScale', msg);
      await this.updateStatusIfNeeded(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${msg}`);
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestamp: this.ctx.clock.now() }]);

    let metricStatuses: MetricStatus[] = [];
    let desiredReplicas = 0;
    let rescaleReason = '';
    const minReplicas = hpa.spec!.minReplicas ?? 1;
    const maxReplicas = hpa.spec!.maxReplicas;
    let rescale = true;
    if (currentReplicas === 0 && minReplicas !== 0) {
      desiredReplicas = 0;
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, hpa.spec!.metrics ?? []);
      metricStatuses = computed.statuses;
      if (computed.error && computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        this.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error.message);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error.message}`);
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metricName;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = hpa.spec!.behavior
        ? this.normalizeWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas)
        : this.normalize(hpa, key, currentReplicas, desiredReplicas, minReplicas);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.ctx.client.call('PUT', scales.path(namespace, ref.name, 'scale'), { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (err) {
        const msg = (err as Error).message;
        this.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${msg}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        throw new Error(`failed to rescale ${reference}: ${msg}`);
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.storeScaleEvent(hpa.spec!.behavior, key, currentReplicas, desiredReplicas);
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
  }

  private setStatus(hpa: HorizontalPodAutoscaler, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[], rescale: boolean): void {
    const status: HorizontalPodAutoscalerStatus = {
      currentReplicas,
      desiredReplicas,
      ...(hpa.status?.lastScaleTime ? { lastScaleTime: hpa.status.lastScaleTime } : {}),
      ...(metrics.length ? { currentMetrics: metrics } : {}),
      ...(hpa.status?.conditions ? { conditions: hpa.status.conditions } : {}),
      ...(hpa.status?.observedGeneration !== undefined ? { observedGeneration: hpa.status.observedGeneration } : {}),
    };
    if (rescale) Object.assign(status, { lastScaleTime: this.now() });
    Object.assign(hpa, { status });
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscalerStatus | undefined, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (JSON.stringify(original ?? {}) === JSON.stringify(hpa.status ?? {})) return;
    try {
      await this.ctx.client.resource<HorizontalPodAutoscaler>(HPAS).updateStatus(hpa);
    } catch (err) {
      this.recorder.event(hpa, 'Warning', 'FailedUpdateStatus', (err as Error).message);
      throw new Error(`failed to update status for ${hpa.metadata?.name}: ${(err as Error).message}`);
    }
  }

  // ---- metrics ----

  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    scale: Scale,
    specs: readonly MetricSpec[],
  ): Promise<{ replicas: number; metricName: string; statuses: MetricStatus[]; error?: Error }> {
    const selectorText = scale.status?.selector ?? '';
    if (!selectorText) {
      const msg = 'selector is required';
      this.recorder.event(hpa, 'Warning', 'SelectorRequired', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metricName: '', statuses: [], error: new Error(msg) };
    }
    let selector: Selector;
    try {
      selector = parseSelector(selectorText);
    } catch (e) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${(e as Error).message}`;
      this.recorder.event(hpa, 'Warning', 'InvalidSelector', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', msg);
      return { replicas: -1, metricName: '', statuses: [], error: new Error(msg) };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const statusReplicas = scale.status?.replicas ?? 0;
    const statuses: MetricStatus[] = [];
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const spec of specs) {
      try {
        const p = await this.computeReplicasForMetric(hpa, spec, specReplicas, statusReplicas, selector);
        statuses.push(p.status);
        if (replicas === 0 || p.replicas > replicas) {
          replicas = p.replicas;
          metricName = p.metricName;
        }
      } catch (e) {
        statuses.push({ type: spec.type });
        const err = e instanceof MetricError ? e : new MetricError((e as Error).message, { type: 'ScalingActive', status: 'False', reason: 'InvalidMetricSourceType', message: (e as Error).message });
        if (invalid === 0) firstError = err;
        invalid++;
      }
    }
    const error = firstError ? new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`) : undefined;
    if (firstError && (invalid >= specs.length || replicas < specReplicas)) {
      const c = firstError.condition;
      this.setCondition(hpa, c.type, c.status, c.reason, c.message);
      return { replicas: -1, metricName: '', statuses, error };
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metricName}`);
    return { replicas, metricName, statuses, error };
  }

  private fail(hpa: HorizontalPodAutoscaler, reason: string, err: unknown): never {
    const msg = (err as Error).message;
    this.recorder.event(hpa, 'Warning', reason, msg);
    throw new MetricError(msg, { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${msg}` });
  }

  private async computeReplicasForMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, specReplicas: number, statusReplicas: number, selector: Selector): Promise<MetricProposal> {
    const namespace = hpa.metadata!.namespace!;
    const milli = (q: string | number | undefined) => (q === undefined ? 0 : Quantity.parse(String(q)).milliValue());
    const qty = (m: number) => Quantity.fromMilli(m).toString();
    switch (spec.type) {
      case 'Object': {
        const o = spec.object!;
        const metricSelector = o.metric.selector ? labelSelectorAsSelector(o.metric.selector) : everything();
        const metricName = `${o.describedObject.kind} metric ${o.metric.name}`;
        try {
          if (o.target.type === 'Value' && o.target.value !== undefined) {
            const r = await this.calculator.getObjectMetricReplicas(specReplicas, milli(o.target.value), o.metric.name, namespace, o.describedObject, selector, metricSelector);
            return { replicas: r.replicas, metricName, timestamp: r.timestamp, status: { type: 'Object', object: { describedObject: o.describedObject, metric: o.metric, current: { value: qty(r.usage) } } } };
          }
          if (o.target.type === 'AverageValue' && o.target.averageValue !== undefined) {
            const r = await this.calculator.getObjectPerPodMetricReplicas(statusReplicas, milli(o.target.averageValue), o.metric.name, namespace, o.describedObject, metricSelector);
            return { replicas: r.replicas, metricName, timestamp: r.timestamp, status: { type: 'Object', object: { describedObject: o.describedObject, metric: o.metric, current: { averageValue: qty(r.usage) } } } };
          }
          throw new Error('invalid object metric source: neither a value target nor an average value target was set');
        } catch (e) {
          return this.fail(hpa, 'FailedGetObjectMetric', e);
        }
      }
      case 'Pods': {
        const p = spec.pods!;
        const metricSelector = p.metric.selector ? labelSelectorAsSelector(p.metric.selector) : everything();
        try {
          const r = await this.calculator.getMetricReplicas(specReplicas, milli(p.target.averageValue), p.metric.name, namespace, selector, metricSelector);
          return { replicas: r.replicas, metricName: `pods metric ${p.metric.name}`, timestamp: r.timestamp, status: { type: 'Pods', pods: { metric: p.metric, current: { averageValue: qty(r.usage) } } } };
        } catch (e) {
          return this.fail(hpa, 'FailedGetPodsMetric', e);
        }
      }
      case 'Resource':
      case 'ContainerResource': {
        const isContainer = spec.type === 'ContainerResource';
        const src = isContainer ? spec.containerResource! : spec.resource!;
        const container = isContainer ? spec.containerResource!.container : '';
        const reason = isContainer ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
        const prefix = isContainer ? `${src.name} container resource` : `${src.name} resource`;
        const wrap = (current: { averageUtilization?: number; averageValue: string }): MetricStatus =>
          isContainer ? { type: 'ContainerResource', containerResource: { name: src.name, container, current } } : { type: 'Resource', resource: { name: src.name, current } };
        try {
          if (src.target.averageValue !== undefined) {
            const r = await this.calculator.getRawResourceReplicas(specReplicas, milli(src.target.averageValue), src.name, namespace, selector, container);
            return { replicas: r.replicas, metricName: prefix, timestamp: r.timestamp, status: wrap({ averageValue: qty(r.usage) }) };
          }
          if (src.target.averageUtilization === undefined) throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
          const r = await this.calculator.getResourceReplicas(specReplicas, src.target.averageUtilization, src.name, namespace, selector, container);
          return {
            replicas: r.replicas,
            metricName: `${prefix} utilization (percentage of request)`,
            timestamp: r.timestamp,
            status: wrap({ averageUtilization: r.utilization, averageValue: qty(r.rawUtilization) }),
          };
        } catch (e) {
          return this.fail(hpa, reason, e);
        }
      }
      case 'External': {
        const x = spec.external!;
        const metricSelector = x.metric.selector ? labelSelectorAsSelector(x.metric.selector) : everything();
        const metricName = `external metric ${x.metric.name}(${x.metric.selector ? JSON.stringify(x.metric.selector) : 'nil'})`;
        try {
          if (x.target.averageValue !== undefined) {
            const r = await this.calculator.getExternalPerPodMetricReplicas(statusReplicas, milli(x.target.averageValue), x.metric.name, namespace, metricSelector);
            return { replicas: r.replicas, metricName, timestamp: r.timestamp, status: { type: 'External', external: { metric: x.metric, current: { averageValue: qty(r.usage) } } } };
          }
          if (x.target.value !== undefined) {
            const r = await this.calculator.getExternalMetricReplicas(specReplicas, milli(x.target.value), x.metric.name, namespace, metricSelector, selector);
            return { replicas: r.replicas, metricName, timestamp: r.timestamp, status: { type: 'External', external: { metric: x.metric, current: { value: qty(r.usage) } } } };
          }
          throw new Error('invalid external metric source: neither a value target nor an average value target was set');
        } catch (e) {
          return this.fail(hpa, 'FailedGetExternalMetric', e);
        }
      }
      default: {
        const msg = `unknown metric source type "${spec.type}"`;
        this.recorder.event(hpa, 'Warning', 'InvalidMetricSourceType', 'unknown metric source type');
        throw new MetricError(msg, { type: 'ScalingActive', status: 'False', reason: 'InvalidMetricSourceType', message: `the HPA was unable to compute the replica count: ${msg}` });
      }
    }
  }

  // ---- normalization without behavior ----

  private normalize(hpa: HorizontalPodAutoscaler, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const stabilized = this.stabilizeRecommendation(key, prenormalized);
    if (stabilized !== prenormalized) {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const { replicas, condition, reason } = convertDesiredReplicasWithRules(currentReplicas, stabilized, minReplicas, hpa.spec!.maxReplicas);
    this.setCondition(hpa, 'ScalingLimited', replicas === stabilized ? 'False' : 'True', condition, reason);
    return replicas;
  }

  private stabilizeRecommendation(key: string, prenormalized: number): number {
    let max = prenormalized;
    const now = this.ctx.clock.now();
    const cutoff = now - this.downscaleWindowMs;
    const recs = this.recommendations.get(key) ?? [];
    let oldIndex = -1;
    recs.forEach((r, i) => {
      if (r.timestamp < cutoff) oldIndex = i;
      else if (r.recommendation > max) max = r.recommendation;
    });
    if (oldIndex >= 0) recs[oldIndex] = { recommendation: prenormalized, timestamp: now };
    else recs.push({ recommendation: prenormalized, timestamp: now });
    this.recommendations.set(key, recs);
    return max;
  }

  // ---- normalization with behavior ----

  private normalizeWithBehaviors(hpa: HorizontalPodAutoscaler, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const { scaleUp, scaleDown } = behaviorWithDefaults(hpa.spec!.behavior!, Math.round(this.downscaleWindowMs / 1000));
    const maxReplicas = hpa.spec!.maxReplicas;
    const { recommendation, reason, message } = this.stabilizeWithBehaviors(key, currentReplicas, prenormalized, scaleUp, scaleDown);
    if (recommendation !== prenormalized) this.setCondition(hpa, 'AbleToScale', 'True', reason, message);
    else this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    const limited = this.convertDesiredReplicasWithBehaviorRate(key, currentReplicas, recommendation, minReplicas, maxReplicas, scaleUp, scaleDown);
    this.setCondition(hpa, 'ScalingLimited', limited.replicas === recommendation ? 'False' : 'True', limited.reason, limited.message);
    return limited.replicas;
  }

  private stabilizeWithBehaviors(key: string, currentReplicas: number, desired: number, scaleUp: HPAScalingRules, scaleDown: HPAScalingRules): { recommendation: number; reason: string; message: string } {
    const now = this.ctx.clock.now();
    const upCutoff = now - (scaleUp.stabilizationWindowSeconds ?? 0) * 1000;
    const downCutoff = now - (scaleDown.stabilizationWindowSeconds ?? 0) * 1000;
    let up = desired;
    let down = desired;
    let oldIndex = -1;
    const recs = this.recommendations.get(key) ?? [];
    recs.forEach((r, i) => {
      if (r.timestamp > upCutoff) up = Math.min(r.recommendation, up);
      if (r.timestamp > downCutoff) down = Math.max(r.recommendation, down);
      if (r.timestamp < upCutoff && r.timestamp < downCutoff) oldIndex = i;
    });
    let recommendation = currentReplicas;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    if (oldIndex >= 0) recs[oldIndex] = { recommendation: desired, timestamp: now };
    else recs.push({ recommendation: desired, timestamp: now });
    this.recommendations.set(key, recs);
    return desired >= currentReplicas
      ? { recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private convertDesiredReplicasWithBehaviorRate(
    key: string,
    currentReplicas: number,
    desired: number,
    minReplicas: number,
    maxReplicas: number,
    scaleUp: HPAScalingRules,
    scaleDown: HPAScalingRules,
  ): { replicas: number; reason: string; message: string } {
    const now = this.ctx.clock.now();
    if (desired > currentReplicas) {
      let limit = scaleUpLimitWithRules(currentReplicas, this.scaleUpEvents.get(key) ?? [], scaleUp, now);
      if (limit < currentReplicas) limit = currentReplicas;
      let maximum = maxReplicas;
      let reason: string;
      let message: string;
      if (maximum > limit) {
        maximum = limit;
        reason = 'ScaleUpLimit';
        message = 'the desired replica count is increasing faster than the maximum scale rate';
      } else {
        reason = 'TooManyReplicas';
        message = 'the desired replica count is more than the maximum replica count';
      }
      if (desired > maximum) return { replicas: maximum, reason, message };
    } else if (desired < currentReplicas) {
      let limit = scaleDownLimitWithRules(currentReplicas, this.scaleDownEvents.get(key) ?? [], scaleDown, now);
      if (limit > currentReplicas) limit = currentReplicas;
      let minimum = minReplicas;
      let reason: string;
      let message: string;
      if (minimum < limit) {
        minimum = limit;
        reason = 'ScaleDownLimit';
        message = 'the desired replica count is decreasing faster than the maximum scale rate';
      } else {
        reason = 'TooFewReplicas';
        message = 'the desired replica count is less than the minimum replica count';
      }
      if (desired < minimum) return { replicas: minimum, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  private storeScaleEvent(behavior: HorizontalPodAutoscalerBehavior | undefined, key: string, prev: number, next: number): void {
    if (!behavior) return;
    const { scaleUp, scaleDown } = behaviorWithDefaults(behavior, Math.round(this.downscaleWindowMs / 1000));
    const now = this.ctx.clock.now();
    const up = next > prev;
    const rules = up ? scaleUp : scaleDown;
    const store = up ? this.scaleUpEvents : this.scaleDownEvents;
    const events = store.get(key) ?? [];
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds));
    for (const e of events) if (e.timestamp < now - longest * 1000) e.outdated = true;
    const change = up ? next - prev : prev - next;
    const slot = events.findIndex((e) => e.outdated);
    if (slot >= 0) events[slot] = { replicaChange: change, timestamp: now, outdated: false };
    else events.push({ replicaChange: change, timestamp: now, outdated: false });
    store.set(key, events);
  }
}

/** convertDesiredReplicasWithRules: min/max and the 2x-or-4 scale-up limit (no behavior). */
export function convertDesiredReplicasWithRules(currentReplicas: number, desired: number, minReplicas: number, maxReplicas: number): { replicas: number; condition: string; reason: string } {
  const scaleUpLimit = Math.trunc(Math.max(SCALE_UP_LIMIT_FACTOR * currentReplicas, SCALE_UP_LIMIT_MINIMUM));
  let maximum: number;
  let condition: string;
  let reason: string;
  if (maxReplicas > scaleUpLimit) {
    maximum = scaleUpLimit;
    condition = 'ScaleUpLimit';
    reason = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maximum = maxReplicas;
    condition = 'TooManyReplicas';
    reason = 'the desired replica count is more than the maximum replica count';
  }
  if (desired < minReplicas) return { replicas: minReplicas, condition: 'TooFewReplicas', reason: 'the desired replica count is less than the minimum replica count' };
  if (desired > maximum) return { replicas: maximum, condition, reason };
  return { replicas: desired, condition: 'DesiredWithinRange', reason: 'the desired count is within the acceptable range' };
}

function replicasChangePerPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.timestamp > cutoff) sum += e.replicaChange;
  return sum;
}

export function scaleUpLimitWithRules(currentReplicas: number, events: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const minChange = rules.selectPolicy === 'Min';
  let result = minChange ? MAX_INT32 : MIN_INT32;
  for (const p of rules.policies ?? []) {
    const start = currentReplicas - replicasChangePerPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = minChange ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

export function scaleDownLimitWithRules(currentReplicas: number, events: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const minChange = rules.selectPolicy === 'Min';
  let result = minChange ? MIN_INT32 : MAX_INT32;
  for (const p of rules.policies ?? []) {
    const start = currentReplicas + replicasChangePerPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = minChange ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The descriptor, with the metrics APIs as the source (tests build one over a FakeMetricsSource). */
export function horizontalPodAutoscalerDescriptor(metrics?: MetricsSource): ControllerDescriptor {
  return { name: 'horizontalpodautoscaling', create: (ctx) => new HorizontalController(ctx, metrics) };
}

export const horizontalPodAutoscalerControllerDescriptor = horizontalPodAutoscalerDescriptor();
