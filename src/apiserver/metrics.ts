// Prometheus metrics with upstream's names and labels, served at /metrics. One registry per process: the server,
// the store and the watch code all record into it through the functions below.
import { AggregatorRegistry, Gauge, Registry, collectDefaultMetrics, type Counter } from 'prom-client';
import { BUILTIN_RESOURCES, storagePrefix } from '../api/catalog.js';
import { qualifiedResource } from '../machinery/errors.js';
import type { Storage } from '../storage/types.js';
import type { RequestInfo } from './request-info.js';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const REQUEST_LABELS = ['verb', 'group', 'version', 'resource', 'subresource', 'scope'] as const;

type LabelValues = Record<string, string>;

/** One label combination of a histogram (and the counts kept beside it). */
interface Series {
  labels: LabelValues;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

/** A metric value as prom-client's registry formats it: `labels` first, then the series' shared labels. */
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: LabelValues;
  value: number;
  metricName?: string;
  exemplar?: null;
}

/**
 * A counter or histogram kept by label values joined into one key: recording allocates nothing but that key (prom-client
 * validates, copies and hashes the label object on every call, which the request path paid for every request). The
 * registry formats it exactly as prom-client's own Counter and Histogram (same names, label order and values).
 */
export class KeyedMetric {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  private readonly counts = new Map<string, { labels: LabelValues; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly bounds: readonly number[] = [],
  ) {}

  /** Counter: adds `by` to the series `key` (the labels are built only for a new series). */
  inc(key: string, labels: () => LabelValues, by = 1): void {
    const c = this.counts.get(key);
    if (c) c.value += by;
    else this.counts.set(key, { labels: labels(), value: by });
  }

  /** Histogram: one observation in the series `key`. */
  observe(key: string, labels: () => LabelValues, value: number): void {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: labels(), buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    let b = 0;
    while (b < this.bounds.length && value > this.bounds[b]) b++;
    s.buckets[b]++;
    s.sum += value;
    s.count++;
  }

  reset(): void {
    this.series.clear();
    this.counts.clear();
  }

  getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const values: ExportedValue[] = [];
    if (this.type === 'counter') for (const c of this.counts.values()) values.push({ value: c.value, labels: c.labels });
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.buckets[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON form (getMetricsAsJSON): shared labels spread into each value, as prom-client's get(). */
  async get(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const data = await this.getForPromString();
    // prom-client's shape: histogram values carry an exemplar field (null on buckets, undefined on _sum/_count).
    data.values = data.values.map(({ sharedLabels, ...v }) =>
      this.type === 'counter' ? v : { ...v, labels: { ...v.labels, ...sharedLabels }, exemplar: v.metricName?.endsWith('_bucket') ? null : undefined },
    );
    return data;
  }
}

export function register(metric: KeyedMetric, registry: Registry = metricsRegistry): KeyedMetric {
  // The registry only calls name, help, type, get/getForPromString and reset on what it holds.
  registry.registerMetric(metric as unknown as Counter);
  return metric;
}

const requestTotal = register(
  new KeyedMetric(
    'apiserver_request_total',
    'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    'counter',
  ),
);

const requestDuration = register(
  new KeyedMetric(
    'apiserver_request_duration_seconds',
    'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    'histogram',
    // Upstream's buckets.
    [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
  ),
);

const storageOps = register(new KeyedMetric('apiserver_storage_operations_total', 'Number of storage operations broken out by operation and resource.', 'counter'));

const storageDuration = register(
  new KeyedMetric(
    'apiserver_storage_operation_duration_seconds',
    'Storage operation latency in seconds, broken out by operation and resource.',
    'histogram',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ),
);

const registeredWatchers = new Gauge({
  name: 'apiserver_registered_watchers',
  help: 'Number of currently registered watchers for a given resources',
  labelNames: ['group', 'resource'],
  registers: [metricsRegistry],
});

const longRunning = new Gauge({
  name: 'apiserver_longrunning_requests',
  help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
  labelNames: [...REQUEST_LABELS],
  registers: [metricsRegistry],
});

/** Upstream's request verb label: the HTTP method upper-cased, with LIST, WATCH and APPLY told apart. */
export function metricsVerb(info: RequestInfo, opts: { apply?: boolean } = {}): string {
  switch (info.verb) {
    case 'list':
      return 'LIST';
    case 'watch':
      return 'WATCH';
    case 'get':
      return 'GET';
    case 'create':
      return 'POST';
    case 'update':
      return 'PUT';
    case 'patch':
      return opts.apply ? 'APPLY' : 'PATCH';
    case 'delete':
    case 'deletecollection':
      return 'DELETE';
    case 'proxy':
      return 'CONNECT';
    default:
      return info.verb ? info.verb.toUpperCase() : 'other';
  }
}

/** Upstream's scope label: resource (one object or a create), namespace, cluster, or '' for non-resource paths. */
export function metricsScope(info: RequestInfo): string {
  if (info.name !== '' || info.verb === 'create') return 'resource';
  if (info.namespace !== '') return 'namespace';
  if (info.isResourceRequest) return 'cluster';
  return '';
}

function requestLabels(info: RequestInfo, opts: { apply?: boolean }): Record<(typeof REQUEST_LABELS)[number], string> {
  return {
    verb: metricsVerb(info, opts),
    group: info.apiGroup,
    version: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    scope: metricsScope(info),
  };
}

export function recordRequest(info: RequestInfo, code: number, seconds: number, opts: { apply?: boolean } = {}): void {
  const verb = metricsVerb(info, opts);
  const scope = metricsScope(info);
  const key = `${verb}\0${info.apiGroup}\0${info.apiVersion}\0${info.resource}\0${info.subresource}\0${scope}`;
  requestTotal.inc(`${key}\0${code}`, () => ({ ...requestLabels(info, opts), code: String(code) }));
  requestDuration.observe(key, () => requestLabels(info, opts), seconds);
}

/** Marks a long-running request (watch, exec, logs) as open; call the returned function when it ends. */
export function longRunningStarted(info: RequestInfo): () => void {
  const labels = requestLabels(info, {});
  longRunning.inc(labels);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    longRunning.dec(labels);
  };
}

export function recordStorageOp(operation: string, resource: string, seconds: number): void {
  const key = `${operation}\0${resource}`;
  const labels = () => ({ operation, resource });
  storageOps.inc(key, labels);
  storageDuration.observe(key, labels, seconds);
}

export function watchStarted(resource: string, group = ''): void {
  registeredWatchers.inc({ group, resource });
}

export function watchStopped(resource: string, group = ''): void {
  registeredWatchers.dec({ group, resource });
}

/** Metric families of another thread of the process (the API clients' worker), in Prometheus text. */
export interface ForeignMetrics {
  /** The families `text` holds: this registry's own families of these names are left out of /metrics. */
  names: string[];
  text: string;
  /**
   * The other thread's own Node.js runtime figures (heap, GC, event loop, handles: nodejs_* families, which are per
   * V8 isolate), each sample labelled with its `thread`; at /metrics they join this thread's samples of the same
   * families, labelled thread="main". The process_* families are the process's and stay this thread's alone.
   */
  threadText?: string;
}

/** The label telling apart the Node.js runtime figures of the process's threads. */
export const THREAD_LABEL = 'thread';
/** This thread's value of it at /metrics. */
const MAIN_THREAD = 'main';

/** Node.js runtime families measured per thread (isolate); nodejs_version_info is the process's. */
const perThreadFamily = (name: string): boolean => name.startsWith('nodejs_') && name !== 'nodejs_version_info';

/** Metrics of other threads of the process, added to this registry's at /metrics. */
const metricsSources = new Set<() => Promise<ForeignMetrics>>();

export function addMetricsSource(source: () => Promise<ForeignMetrics>): () => void {
  metricsSources.add(source);
  return () => void metricsSources.delete(source);
}

/**
 * This thread's families with a sample other than zero (the process and Node.js defaults aside, which the server's
 * thread reports for the process), for another thread's /metrics: the scheduler's metrics where it runs in a worker.
 * The families this thread only registers (all zero) stay the other thread's. This thread's own Node.js runtime
 * figures go along as `threadText`, labelled thread=`thread`.
 */
export async function metricsForExport(thread = 'api-clients'): Promise<ForeignMetrics> {
  const all = await metricsRegistry.getMetricsAsJSON();
  const families = all
    .filter((m) => m.values.some((v) => v.value !== 0) && !m.name.startsWith('process_') && !m.name.startsWith('nodejs_'))
    .map(({ name, help, type, aggregator, values }) => ({ name, help, type, aggregator, values }));
  const runtime = all
    .filter((m) => perThreadFamily(m.name))
    .map(({ name, help, type, aggregator, values }) => ({
      name, help, type, aggregator,
      values: values.map((v) => ({ ...v, labels: { [THREAD_LABEL]: thread, ...v.labels } })),
    }));
  const threadText = runtime.length ? await AggregatorRegistry.aggregate([runtime]).metrics() : '';
  if (!families.length) return { names: [], text: '', threadText };
  return { names: families.map((m) => m.name), text: await AggregatorRegistry.aggregate([families]).metrics(), threadText };
}

/** Prometheus text split into families: the name of each (from its HELP line) and its lines, in order. */
function families(text: string): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.startsWith('# HELP ') || !out.length) {
      const end = line.indexOf(' ', 7);
      out.push({ name: line.startsWith('# HELP ') ? line.slice(7, end < 0 ? undefined : end) : '', lines: [] });
    }
    out[out.length - 1]!.lines.push(line);
  }
  return out;
}

/** A sample line with `name="value"` as its first label. */
function withLabel(line: string, name: string, value: string): string {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace >= 0 && brace < space) return `${line.slice(0, brace + 1)}${name}="${value}",${line.slice(brace + 1)}`;
  return `${line.slice(0, space)}{${name}="${value}"}${line.slice(space)}`;
}

/**
 * This registry's families, where another thread sends the same family the other thread's replacing this one's,
 * then the other threads' own; the Node.js runtime families hold every thread's samples, labelled by thread.
 */
export async function metricsText(): Promise<string> {
  const own = families(await metricsRegistry.metrics());
  const foreign = await Promise.all([...metricsSources].map((source) => source().catch((): ForeignMetrics => ({ names: [], text: '' }))));
  const replaced = new Set(foreign.flatMap((f) => f.names));
  const otherThreads = new Map<string, string[]>();
  for (const f of foreign) {
    for (const fam of families(f.threadText ?? '')) {
      const samples = otherThreads.get(fam.name) ?? [];
      samples.push(...fam.lines.filter((l) => !l.startsWith('#')));
      otherThreads.set(fam.name, samples);
    }
  }
  let out = '';
  for (const fam of own) {
    if (replaced.has(fam.name)) continue;
    if (!perThreadFamily(fam.name)) {
      out += fam.lines.join('\n') + '\n';
      continue;
    }
    for (const line of fam.lines) out += (line.startsWith('#') ? line : withLabel(line, THREAD_LABEL, MAIN_THREAD)) + '\n';
    for (const line of otherThreads.get(fam.name) ?? []) out += line + '\n';
  }
  for (const f of foreign) if (f.text) out += f.text.endsWith('\n') ? f.text : f.text + '\n';
  return out;
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

// Longest prefix first, so "/registry/apps/deployments/" wins over any shorter match.
const RESOURCE_PREFIXES = [...new Map(BUILTIN_RESOURCES.map((r) => [storagePrefix(r), qualifiedResource(r.group, r.resource)]))].sort(
  (a, b) => b[0].length - a[0].length,
);

/** The prefixes by the key's first segment after /registry/ (a key can only match a prefix sharing it). */
const PREFIXES_BY_SEGMENT = new Map<string, [string, string][]>();
for (const entry of RESOURCE_PREFIXES) {
  const seg = entry[0].slice('/registry/'.length).split('/')[0];
  const list = PREFIXES_BY_SEGMENT.get(seg) ?? [];
  list.push(entry);
  PREFIXES_BY_SEGMENT.set(seg, list);
}

/** The resource a storage key belongs to ("pods", "deployments.apps"); custom resources fall back to the path. */
export function resourceOfKey(key: string): string {
  if (key.startsWith('/registry/')) {
    const end = key.indexOf('/', 10);
    const candidates = PREFIXES_BY_SEGMENT.get(end < 0 ? key.slice(10) : key.slice(10, end));
    if (candidates) for (const [prefix, resource] of candidates) if (key.startsWith(prefix)) return resource;
  }
  const segs = key.replace(/^\/registry\//, '').split('/');
  // Custom resources are stored as /registry/<group>/<resource>/...; their group always contains a dot.
  if (segs.length >= 2 && segs[0].includes('.')) return qualifiedResource(segs[0], segs[1]);
  return segs[0] ?? '';
}

const TIMED_OPERATIONS = new Set(['get', 'list', 'count', 'create', 'update', 'delete', 'compact']);

/**
 * Wraps a Storage so every key operation is counted and timed under its resource (the key or prefix is always the
 * first argument). Watches are not operations; anything else passes through untouched.
 */
export function instrumentStorage(storage: Storage): Storage {
  // One wrapper per operation, made on first use (the storage is read on every request).
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !TIMED_OPERATIONS.has(prop) || typeof value !== 'function') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const op = value as (...a: unknown[]) => Promise<unknown>;
        wrapper = async (...args: unknown[]) => {
          const start = performance.now();
          try {
            return await op.apply(target, args);
          } finally {
            const resource = typeof args[0] === 'string' ? resourceOfKey(args[0]) : '';
            recordStorageOp(prop, resource, (performance.now() - start) / 1000);
          }
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}
