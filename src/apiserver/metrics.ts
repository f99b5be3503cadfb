// Prometheus metrics with upstream's names and labels, served at /metrics. One registry per process: the server,
// the store and the watch code all record into it through the functions below.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BUILTIN_RESOURCES, storagePrefix } from '../api/catalog.js';
import { qualifiedResource } from '../machinery/errors.js';
import type { Storage } from '../storage/types.js';
import type { RequestInfo } from './request-info.js';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const REQUEST_LABELS = ['verb', 'group', 'version', 'resource', 'subresource', 'scope'] as const;

const requestTotal = new Counter({
  name: 'apiserver_request_total',
  help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
  labelNames: [...REQUEST_LABELS, 'code'],
  registers: [metricsRegistry],
});

const requestDuration = new Histogram({
  name: 'apiserver_request_duration_seconds',
  help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
  labelNames: [...REQUEST_LABELS],
  // Upstream's buckets.
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
  registers: [metricsRegistry],
});

const storageOps = new Counter({
  name: 'apiserver_storage_operations_total',
  help: 'Number of storage operations broken out by operation and resource.',
  labelNames: ['operation', 'resource'],
  registers: [metricsRegistry],
});

const storageDuration = new Histogram({
  name: 'apiserver_storage_operation_duration_seconds',
  help: 'Storage operation latency in seconds, broken out by operation and resource.',
  labelNames: ['operation', 'resource'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

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
  const labels = requestLabels(info, opts);
  requestTotal.inc({ ...labels, code: String(code) });
  requestDuration.observe(labels, seconds);
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
  storageOps.inc({ operation, resource });
  storageDuration.observe({ operation, resource }, seconds);
}

export function watchStarted(resource: string, group = ''): void {
  registeredWatchers.inc({ group, resource });
}

export function watchStopped(resource: string, group = ''): void {
  registeredWatchers.dec({ group, resource });
}

export function metricsText(): Promise<string> {
  return metricsRegistry.metrics();
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

// Longest prefix first, so "/registry/apps/deployments/" wins over any shorter match.
const RESOURCE_PREFIXES = [...new Map(BUILTIN_RESOURCES.map((r) => [storagePrefix(r), qualifiedResource(r.group, r.resource)]))].sort(
  (a, b) => b[0].length - a[0].length,
);

/** The resource a storage key belongs to ("pods", "deployments.apps"); custom resources fall back to the path. */
export function resourceOfKey(key: string): string {
  for (const [prefix, resource] of RESOURCE_PREFIXES) if (key.startsWith(prefix)) return resource;
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
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !TIMED_OPERATIONS.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          const resource = typeof args[0] === 'string' ? resourceOfKey(args[0]) : '';
          recordStorageOp(prop, resource, (performance.now() - start) / 1000);
        }
      };
    },
  });
}
