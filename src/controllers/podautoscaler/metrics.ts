// Where the HPA controller gets its numbers: upstream's MetricsClient as an interface. RestMetricsSource reads the
// resource metrics API (metrics.k8s.io/v1beta1 PodMetrics), the custom metrics API (custom.metrics.k8s.io/v1beta2)
// and the external metrics API (external.metrics.k8s.io/v1beta1) through the REST client; tests use FakeMetricsSource.
// Every value is in milli-units (Quantity.MilliValue), as upstream's replica calculator works.
import type { CrossVersionObjectReference } from 'kubernetes-types/autoscaling/v2.js';
import { Quantity } from '../../machinery/quantity.js';
import { selectorToString, type Selector } from '../../machinery/labels.js';
import { parseGoDuration } from '../../machinery/duration.js';
import type { RestClient } from '../../client/index.js';

export interface PodMetric {
  /** When the sample was taken (ms since the epoch) and over how long a window. */
  timestamp: number;
  windowMs: number;
  /** milli-units */
  value: number;
}

export type PodMetricsInfo = Map<string, PodMetric>;

export interface MetricsSource {
  /** Per-pod usage of a resource (cpu, memory, ...), summed over containers or of one container. */
  getResourceMetric(resource: string, namespace: string, selector: Selector, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }>;
  /** A per-pod custom metric for the pods the selector picks. */
  getRawMetric(metricName: string, namespace: string, selector: Selector, metricSelector: Selector): Promise<{ metrics: PodMetricsInfo; timestamp: number }>;
  /** A custom metric describing one object. */
  getObjectMetric(metricName: string, namespace: string, objectRef: CrossVersionObjectReference, metricSelector: Selector): Promise<{ value: number; timestamp: number }>;
  /** An external metric's values (one per matching series). */
  getExternalMetric(metricName: string, namespace: string, selector: Selector): Promise<{ values: number[]; timestamp: number }>;
}

const milli = (q: string | number | undefined): number => (q === undefined ? 0 : Quantity.parse(String(q)).milliValue());

/** Go duration text of a PodMetrics window ("30s", "1m0s") in ms; 0 when unreadable. */
const windowMs = (text: string | undefined): number => (text ? (parseGoDuration(text) ?? 0) : 0);

interface PodMetricsItem {
  metadata?: { name?: string };
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

interface MetricValue {
  describedObject?: { name?: string };
  metric?: { name?: string };
  timestamp?: string;
  windowSeconds?: number;
  value?: string;
}

interface ExternalMetricValue {
  timestamp?: string;
  value?: string;
}

const selectorQuery = (s: Selector): string => {
  const text = selectorToString(s);
  return text ? `labelSelector=${encodeURIComponent(text)}` : '';
};

/** The metrics APIs through the REST client, as upstream's restMetricsClient. */
export class RestMetricsSource implements MetricsSource {
  constructor(private readonly client: RestClient) {}

  async getResourceMetric(resource: string, namespace: string, selector: Selector, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    const q = selectorQuery(selector);
    const list = await this.client.call<{ items?: PodMetricsItem[] }>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods${q ? `?${q}` : ''}`);
    const items = list.items ?? [];
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    const metrics: PodMetricsInfo = new Map();
    for (const m of items) {
      const containers = container ? (m.containers ?? []).filter((c) => c.name === container) : (m.containers ?? []);
      if (containers.length === 0) continue;
      let sum = 0;
      let missing = false;
      for (const c of containers) {
        const usage = c.usage?.[resource];
        if (usage === undefined) {
          missing = true;
          break;
        }
        sum += milli(usage);
      }
      if (missing) continue;
      metrics.set(m.metadata?.name ?? '', { timestamp: Date.parse(m.timestamp ?? '') || 0, windowMs: windowMs(m.window), value: sum });
    }
    return { metrics, timestamp: Date.parse(items[0].timestamp ?? '') || 0 };
  }

  async getRawMetric(metricName: string, namespace: string, selector: Selector, metricSelector: Selector): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    const params = [selectorQuery(selector), metricSelectorQuery(metricSelector)].filter(Boolean).join('&');
    const list = await this.client.call<{ items?: MetricValue[] }>(
      'GET',
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${encodeURIComponent(namespace)}/pods/*/${encodeURIComponent(metricName)}${params ? `?${params}` : ''}`,
    );
    const items = list.items ?? [];
    if (items.length === 0) throw new Error('no metrics returned from custom metrics API');
    const metrics: PodMetricsInfo = new Map();
    for (const v of items) {
      metrics.set(v.describedObject?.name ?? '', { timestamp: Date.parse(v.timestamp ?? '') || 0, windowMs: (v.windowSeconds ?? 0) * 1000, value: milli(v.value) });
    }
    return { metrics, timestamp: Date.parse(items[0].timestamp ?? '') || 0 };
  }

  async getObjectMetric(metricName: string, namespace: string, ref: CrossVersionObjectReference, metricSelector: Selector): Promise<{ value: number; timestamp: number }> {
    const resource = `${ref.kind.toLowerCase()}s`;
    const group = ref.apiVersion?.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
    const params = metricSelectorQuery(metricSelector);
    const path =
      ref.kind === 'Namespace'
        ? `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${encodeURIComponent(ref.name)}/metrics/${encodeURIComponent(metricName)}`
        : `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${encodeURIComponent(namespace)}/${resource}${group}/${encodeURIComponent(ref.name)}/${encodeURIComponent(metricName)}`;
    const list = await this.client.call<{ items?: MetricValue[] }>('GET', path + (params ? `?${params}` : ''));
    const first = list.items?.[0];
    if (!first) throw new Error('no metrics returned from custom metrics API');
    return { value: milli(first.value), timestamp: Date.parse(first.timestamp ?? '') || 0 };
  }

  async getExternalMetric(metricName: string, namespace: string, selector: Selector): Promise<{ values: number[]; timestamp: number }> {
    const q = selectorQuery(selector);
    const list = await this.client.call<{ items?: ExternalMetricValue[] }>(
      'GET',
      `/apis/external.metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/${encodeURIComponent(metricName)}${q ? `?${q}` : ''}`,
    );
    const items = list.items ?? [];
    if (items.length === 0) throw new Error('no metrics returned from external metrics API');
    return { values: items.map((v) => milli(v.value)), timestamp: Date.parse(items[0].timestamp ?? '') || 0 };
  }
}

function metricSelectorQuery(s: Selector): string {
  const text = selectorToString(s);
  return text ? `metricLabelSelector=${encodeURIComponent(text)}` : '';
}

/**
 * A MetricsSource tests fill by hand: per-pod resource usage ("namespace/pod" → resource → milli-value), per-pod
 * custom metrics, object metrics and external metrics; a missing entry is an error, as an absent API would be.
 */
export class FakeMetricsSource implements MetricsSource {
  /** "namespace/pod" → resource (or "container:resource") → milli-units */
  readonly podUsage = new Map<string, Record<string, number>>();
  /** metric name → "namespace/pod" → milli-units */
  readonly podMetrics = new Map<string, Map<string, number>>();
  /** "namespace/kind/name/metric" → milli-units */
  readonly objectMetrics = new Map<string, number>();
  /** "namespace/metric" → values (milli-units) */
  readonly externalMetrics = new Map<string, number[]>();
  timestamp = 0;
  windowMs = 30_000;

  constructor(private readonly now: () => number = Date.now) {}

  setPodUsage(namespace: string, pod: string, usage: Record<string, number>): void {
    this.podUsage.set(`${namespace}/${pod}`, usage);
  }

  private stamp(): number {
    return this.timestamp || this.now();
  }

  /** Every sample of the namespace: the replica calculator keeps only those of the pods the selector picks. */
  private picked(namespace: string, key: string, _selector: Selector): boolean {
    return key.startsWith(`${namespace}/`);
  }

  async getResourceMetric(resource: string, namespace: string, selector: Selector, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    const metrics: PodMetricsInfo = new Map();
    for (const [key, usage] of this.podUsage) {
      if (!this.picked(namespace, key, selector)) continue;
      const v = usage[container ? `${container}:${resource}` : resource];
      if (v !== undefined) metrics.set(key.slice(namespace.length + 1), { timestamp: this.stamp(), windowMs: this.windowMs, value: v });
    }
    if (metrics.size === 0) throw new Error('no metrics returned from resource metrics API');
    return { metrics, timestamp: this.stamp() };
  }

  async getRawMetric(metricName: string, namespace: string, selector: Selector): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    const metrics: PodMetricsInfo = new Map();
    for (const [key, v] of this.podMetrics.get(metricName) ?? []) {
      if (this.picked(namespace, key, selector)) metrics.set(key.slice(namespace.length + 1), { timestamp: this.stamp(), windowMs: this.windowMs, value: v });
    }
    if (metrics.size === 0) throw new Error('no metrics returned from custom metrics API');
    return { metrics, timestamp: this.stamp() };
  }

  async getObjectMetric(metricName: string, namespace: string, ref: CrossVersionObjectReference): Promise<{ value: number; timestamp: number }> {
    const v = this.objectMetrics.get(`${namespace}/${ref.kind}/${ref.name}/${metricName}`);
    if (v === undefined) throw new Error('no metrics returned from custom metrics API');
    return { value: v, timestamp: this.stamp() };
  }

  async getExternalMetric(metricName: string, namespace: string): Promise<{ values: number[]; timestamp: number }> {
    const v = this.externalMetrics.get(`${namespace}/${metricName}`);
    if (!v || v.length === 0) throw new Error('no metrics returned from external metrics API');
    return { values: v, timestamp: this.stamp() };
  }
}

