// Upstream's ReplicaCalculator: proposed replica counts from metrics, with the tolerance (no change within ±10 %),
// pods grouped into ready / unready / missing-metrics / ignored, and the conservative re-computation that assumes 0 %
// for unready and missing pods on a scale-up and 100 % of request (or the target) for missing pods on a scale-down.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CrossVersionObjectReference } from 'kubernetes-types/autoscaling/v2.js';
import { Quantity } from '../../machinery/quantity.js';
import type { Selector } from '../../machinery/labels.js';
import type { MetricsSource, PodMetricsInfo } from './metrics.js';

export interface ReplicaCalculatorOptions {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  now: () => number;
}

const parseTime = (t: string | undefined | null): number => (t ? Date.parse(t) : 0);

export class ReplicaCalculator {
  constructor(
    private readonly metrics: MetricsSource,
    private readonly podsFor: (namespace: string, selector: Selector) => Pod[],
    private readonly opts: ReplicaCalculatorOptions,
  ) {}

  /** Utilization target: usage as a percentage of requests. */
  async getResourceReplicas(
    currentReplicas: number,
    targetUtilization: number,
    resource: string,
    namespace: string,
    selector: Selector,
    container: string,
  ): Promise<{ replicas: number; utilization: number; rawUtilization: number; timestamp: number }> {
    let fetched: { metrics: PodMetricsInfo; timestamp: number };
    try {
      fetched = await this.metrics.getResourceMetric(resource, namespace, selector, container);
    } catch (e) {
      throw new Error(`unable to get metrics for resource ${resource}: ${(e as Error).message}`);
    }
    const { metrics, timestamp } = fetched;
    const pods = this.podsFor(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const groups = this.groupPods(pods, metrics, resource);
    for (const n of groups.ignored) metrics.delete(n);
    for (const n of groups.unready) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const requests = podRequests(pods, container, resource);
    const { ratio, utilization, raw } = resourceUtilizationRatio(metrics, requests, targetUtilization);
    const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && groups.missing.size === 0) {
      if (Math.abs(1.0 - ratio) <= this.opts.tolerance) return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
      return { replicas: Math.ceil(ratio * groups.readyCount), utilization, rawUtilization: raw, timestamp };
    }
    if (groups.missing.size > 0) {
      if (ratio < 1.0) {
        const fallback = Math.max(100, targetUtilization);
        for (const n of groups.missing) metrics.set(n, { timestamp, windowMs: 0, value: Math.trunc(((requests.get(n) ?? 0) * fallback) / 100) });
      } else if (ratio > 1.0) {
        for (const n of groups.missing) metrics.set(n, { timestamp, windowMs: 0, value: 0 });
      }
    }
    if (scaleUpWithUnready) for (const n of groups.unready) metrics.set(n, { timestamp, windowMs: 0, value: 0 });
    const next = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
    if (Math.abs(1.0 - next) <= this.opts.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) {
      return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
    }
    const replicas = Math.ceil(next * metrics.size);
    if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, utilization, rawUtilization: raw, timestamp };
    return { replicas, utilization, rawUtilization: raw, timestamp };
  }

  /** AverageValue target on a resource: raw per-pod usage against the target. */
  async getRawResourceReplicas(currentReplicas: number, targetUsage: number, resource: string, namespace: string, selector: Selector, container: string): Promise<{ replicas: number; usage: number; timestamp: number }> {
    let fetched: { metrics: PodMetricsInfo; timestamp: number };
    try {
      fetched = await this.metrics.getResourceMetric(resource, namespace, selector, container);
    } catch (e) {
      throw new Error(`unable to get metrics for resource ${resource}: ${(e as Error).message}`);
    }
    const r = this.calcPlainMetricReplicas(fetched.metrics, currentReplicas, targetUsage, namespace, selector, resource);
    return { ...r, timestamp: fetched.timestamp };
  }

  /** Pods metric: per-pod custom metric against an average target. */
  async getMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, selector: Selector, metricSelector: Selector): Promise<{ replicas: number; usage: number; timestamp: number }> {
    let fetched: { metrics: PodMetricsInfo; timestamp: number };
    try {
      fetched = await this.metrics.getRawMetric(metricName, namespace, selector, metricSelector);
    } catch (e) {
      throw new Error(`unable to get metric ${metricName}: ${(e as Error).message}`);
    }
    const r = this.calcPlainMetricReplicas(fetched.metrics, currentReplicas, targetUsage, namespace, selector, '');
    return { ...r, timestamp: fetched.timestamp };
  }

  private calcPlainMetricReplicas(metrics: PodMetricsInfo, currentReplicas: number, targetUsage: number, namespace: string, selector: Selector, resource: string): { replicas: number; usage: number } {
    const pods = this.podsFor(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const groups = this.groupPods(pods, metrics, resource);
    for (const n of groups.ignored) metrics.delete(n);
    for (const n of groups.unready) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const { ratio, usage } = metricUsageRatio(metrics, targetUsage);
    const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && groups.missing.size === 0) {
      if (Math.abs(1.0 - ratio) <= this.opts.tolerance) return { replicas: currentReplicas, usage };
      return { replicas: Math.ceil(ratio * groups.readyCount), usage };
    }
    if (groups.missing.size > 0) {
      for (const n of groups.missing) metrics.set(n, { timestamp: 0, windowMs: 0, value: ratio < 1.0 ? targetUsage : 0 });
    }
    if (scaleUpWithUnready) for (const n of groups.unready) metrics.set(n, { timestamp: 0, windowMs: 0, value: 0 });
    const next = metricUsageRatio(metrics, targetUsage).ratio;
    if (Math.abs(1.0 - next) <= this.opts.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) return { replicas: currentReplicas, usage };
    const replicas = Math.ceil(next * metrics.size);
    if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
    return { replicas, usage };
  }

  /** Object metric, Value target. */
  async getObjectMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, ref: CrossVersionObjectReference, selector: Selector, metricSelector: Selector): Promise<{ replicas: number; usage: number; timestamp: number }> {
    let got: { value: number; timestamp: number };
    try {
      got = await this.metrics.getObjectMetric(metricName, namespace, ref, metricSelector);
    } catch (e) {
      throw new Error(`unable to get metric ${metricName}: ${(e as Error).message} on ${ref.kind} ${namespace}/${ref.name}`);
    }
    const replicas = this.usageRatioReplicaCount(currentReplicas, got.value / targetUsage, namespace, selector);
    return { replicas, usage: got.value, timestamp: got.timestamp };
  }

  /** Object metric, AverageValue target. */
  async getObjectPerPodMetricReplicas(statusReplicas: number, targetAverageUsage: number, metricName: string, namespace: string, ref: CrossVersionObjectReference, metricSelector: Selector): Promise<{ replicas: number; usage: number; timestamp: number }> {
    let got: { value: number; timestamp: number };
    try {
      got = await this.metrics.getObjectMetric(metricName, namespace, ref, metricSelector);
    } catch (e) {
      throw new Error(`unable to get metric ${metricName}: ${(e as Error).message} on ${ref.kind} ${namespace}/${ref.name}`);
    }
    return { ...this.perPod(statusReplicas, targetAverageUsage, got.value), timestamp: got.timestamp };
  }

  /** External metric, Value target. */
  async getExternalMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, metricSelector: Selector, podSelector: Selector): Promise<{ replicas: number; usage: number; timestamp: number }> {
    const got = await this.external(metricName, namespace, metricSelector);
    const replicas = this.usageRatioReplicaCount(currentReplicas, got.usage / targetUsage, namespace, podSelector);
    return { replicas, usage: got.usage, timestamp: got.timestamp };
  }

  /** External metric, AverageValue target. */
  async getExternalPerPodMetricReplicas(statusReplicas: number, targetUsagePerPod: number, metricName: string, namespace: string, metricSelector: Selector): Promise<{ replicas: number; usage: number; timestamp: number }> {
    const got = await this.external(metricName, namespace, metricSelector);
    return { ...this.perPod(statusReplicas, targetUsagePerPod, got.usage), timestamp: got.timestamp };
  }

  private async external(metricName: string, namespace: string, metricSelector: Selector): Promise<{ usage: number; timestamp: number }> {
    try {
      const got = await this.metrics.getExternalMetric(metricName, namespace, metricSelector);
      return { usage: got.values.reduce((a, b) => a + b, 0), timestamp: got.timestamp };
    } catch (e) {
      throw new Error(`unable to get external metric ${namespace}/${metricName}/${metricSelector.toString()}: ${(e as Error).message}`);
    }
  }

  private perPod(statusReplicas: number, target: number, usage: number): { replicas: number; usage: number } {
    let replicas = statusReplicas;
    const ratio = usage / (target * replicas);
    if (Math.abs(1.0 - ratio) > this.opts.tolerance) replicas = Math.ceil(usage / target);
    return { replicas, usage: Math.ceil(usage / statusReplicas) };
  }

  private usageRatioReplicaCount(currentReplicas: number, ratio: number, namespace: string, selector: Selector): number {
    if (currentReplicas === 0) return Math.ceil(ratio);
    if (Math.abs(1.0 - ratio) <= this.opts.tolerance) return currentReplicas;
    const pods = this.podsFor(namespace, selector);
    if (pods.length === 0) throw new Error('unable to calculate ready pods: no pods returned by selector while calculating replica count');
    const ready = pods.filter((p) => p.status?.phase === 'Running' && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    return Math.ceil(ratio * ready);
  }

  /** groupPods: ready pods, unready (pending, or CPU samples from before readiness), pods without metrics, ignored ones. */
  groupPods(pods: readonly Pod[], metrics: PodMetricsInfo, resource: string): { readyCount: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> } {
    const unready = new Set<string>();
    const missing = new Set<string>();
    const ignored = new Set<string>();
    let readyCount = 0;
    const now = this.opts.now();
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
        ignored.add(name);
        continue;
      }
      if (pod.status?.phase === 'Pending') {
        unready.add(name);
        continue;
      }
      const metric = metrics.get(name);
      if (!metric) {
        missing.add(name);
        continue;
      }
      if (resource === 'cpu') {
        const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
        const start = pod.status?.startTime;
        let isUnready: boolean;
        if (!cond || !start) isUnready = true;
        else if (parseTime(start) + this.opts.cpuInitializationPeriodMs > now) {
          isUnready = cond.status === 'False' || metric.timestamp < parseTime(cond.lastTransitionTime) + metric.windowMs;
        } else {
          isUnready = cond.status === 'False' && parseTime(start) + this.opts.delayOfInitialReadinessStatusMs > parseTime(cond.lastTransitionTime);
        }
        if (isUnready) {
          unready.add(name);
          continue;
        }
      }
      readyCount++;
    }
    return { readyCount, unready, missing, ignored };
  }
}

/** calculatePodRequests: each pod's request of the resource in milli-units (one container, or all). */
export function podRequests(pods: readonly Pod[], container: string, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const req = c.resources?.requests?.[resource];
      if (req === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name}`);
      sum += Quantity.parse(String(req)).milliValue();
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** GetResourceUtilizationRatio. */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number): { ratio: number; utilization: number; raw: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const req = requests.get(name);
    if (req === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += req;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, raw: Math.trunc(metricsTotal / entries) };
}

/** GetMetricUsageRatio. */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}
