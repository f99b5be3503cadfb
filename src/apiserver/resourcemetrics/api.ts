// metrics.k8s.io/v1beta1 served by the API server itself (what metrics-server serves behind an APIService):
// NodeMetrics and PodMetrics, get and list, namespaced pods, label and field selectors on the objects' own labels
// and names, JSON or Table. Usage comes from the MetricsScraper; objects without two samples yet are left out of
// lists and are NotFound by name, as metrics-server answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from '../../api/catalog.js';
import { ApiError } from '../../machinery/errors.js';
import { formatGoDuration } from '../../machinery/duration.js';
import { parseSelector, type Selector } from '../../machinery/labels.js';
import { Quantity } from '../../machinery/quantity.js';
import { formatTime } from '../../machinery/time.js';
import { negotiate, writeJson } from '../endpoints/negotiation.js';
import type { Registry } from '../registry/registry.js';
import type { RequestInfo } from '../request-info.js';
import { kubeletFetcher, MetricsScraper, type ScrapeTarget, type ScraperOptions } from './scraper.js';
import { directKubeletDialer, type KubeletClientConfig } from '../endpoints/kubelet-dialer.js';
import type { Usage } from './store.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** The discovery entries (as metrics-server's APIService publishes them). */
export const METRICS_RESOURCES: readonly ResourceInfo[] = [
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'NodeMetrics', resource: 'nodes', singular: '', namespaced: false, shortNames: [], categories: [], verbs: ['get', 'list'], subresources: [] },
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'PodMetrics', resource: 'pods', singular: '', namespaced: true, shortNames: [], categories: [], verbs: ['get', 'list'], subresources: [] },
];

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

interface NodeShape {
  metadata: Meta;
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
    nodeInfo?: { containerRuntimeVersion?: string };
  };
}

/** Simulated nodes have no kubelet to scrape. */
const SIMULATED_RUNTIME = 'skiff-sim://';

/** Nodes with a kubelet endpoint, skipping simulated ones. */
export function scrapeTargets(nodes: readonly NodeShape[]): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const n of nodes) {
    if (n.status?.nodeInfo?.containerRuntimeVersion?.startsWith(SIMULATED_RUNTIME)) continue;
    const addrs = n.status?.addresses ?? [];
    const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
    const port = n.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (host && port && n.metadata.name) out.push({ name: n.metadata.name, host, port });
  }
  return out;
}

/** CPU in nanocores and memory in binary units, as metrics-server writes them ("1234567n", "10240Ki"). */
export function usageQuantities(u: { cpuCores: number; memoryBytes: number }): { cpu: string; memory: string } {
  return {
    cpu: Quantity.fromScaled(Math.max(0, Math.round(u.cpuCores * 1e9)), -9).toString(),
    memory: Quantity.fromInt(Math.max(0, Math.round(u.memoryBytes)), 'BinarySI').toString(),
  };
}

const window = (ms: number): string => formatGoDuration(ms * 1e6);

function fieldMatcher(text: string | null, info: { namespaced: boolean }): (m: Meta) => boolean {
  if (!text) return () => true;
  const reqs = text.split(',').filter(Boolean).map((part) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(part.trim());
    if (!m) throw ApiError.badRequest(`invalid field selector: ${JSON.stringify(part)}`);
    const field = m[1]!.trim();
    if (field !== 'metadata.name' && !(info.namespaced && field === 'metadata.namespace')) {
      throw ApiError.badRequest(`field label not supported: ${field}`);
    }
    return { field, neq: m[2] === '!=', value: m[3]!.trim() };
  });
  return (meta) => reqs.every((r) => ((r.field === 'metadata.name' ? meta.name : meta.namespace) === r.value) !== r.neq);
}

function labelSelector(text: string | null): Selector | undefined {
  if (!text) return undefined;
  try {
    return parseSelector(text);
  } catch (err) {
    throw ApiError.badRequest(`unable to parse requirement: ${(err as Error).message}`);
  }
}

interface MetricsObject {
  kind: 'NodeMetrics' | 'PodMetrics';
  apiVersion: string;
  metadata: Meta & { creationTimestamp: string };
  timestamp: string;
  window: string;
  usage?: { cpu: string; memory: string };
  containers?: { name: string; usage: { cpu: string; memory: string } }[];
}

export interface MetricsApiOptions {
  registry: Registry;
  kubelet: KubeletClientConfig;
  resolutionMs?: number;
  now?: () => Date;
  /** Reads one kubelet's /metrics/resource (default: HTTPS with the kubelet client certificate). */
  fetch?: ScraperOptions['fetch'];
}

export class MetricsApi {
  readonly scraper: MetricsScraper;
  private readonly now: () => Date;

  constructor(private readonly o: MetricsApiOptions) {
    this.now = o.now ?? (() => new Date());
    this.scraper = new MetricsScraper({
      targets: async () => scrapeTargets((await o.registry.store('', 'nodes').list({})).items as unknown as NodeShape[]),
      fetch: o.fetch ?? kubeletFetcher(directKubeletDialer(o.registry, o.kubelet)),
      ...(o.resolutionMs ? { resolutionMs: o.resolutionMs } : {}),
    });
  }

  close(): void {
    this.scraper.stop();
  }

  private nodeMetrics(node: NodeShape, u: Usage): MetricsObject {
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: { name: node.metadata.name!, ...(node.metadata.labels ? { labels: node.metadata.labels } : {}), creationTimestamp: formatTime(this.now()) },
      timestamp: formatTime(new Date(u.timestamp)),
      window: window(u.windowMs),
      usage: usageQuantities(u),
    };
  }

  private podMetrics(pod: { metadata: Meta }): MetricsObject | undefined {
    const m = this.scraper.store.pod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    if (!m) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: {
        name: pod.metadata.name!,
        namespace: pod.metadata.namespace!,
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
        creationTimestamp: formatTime(this.now()),
      },
      timestamp: formatTime(new Date(m.timestamp)),
      window: window(m.windowMs),
      containers: m.containers.map((c) => ({ name: c.name, usage: usageQuantities(c.usage) })),
    };
  }

  async handle(info: RequestInfo, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (info.apiVersion !== METRICS_VERSION || (info.resource !== 'nodes' && info.resource !== 'pods') || info.subresource || info.parts.length > 2) {
      throw ApiError.pageNotFound();
    }
    if (info.resource === 'nodes' && info.namespace) throw ApiError.pageNotFound();
    if (info.verb !== 'get' && info.verb !== 'list') throw ApiError.methodNotAllowed();
    this.scraper.touch();
    const neg = negotiate(req.headers.accept, query.get('includeObject'));
    const selector = labelSelector(query.get('labelSelector'));
    const fields = fieldMatcher(query.get('fieldSelector'), { namespaced: info.resource === 'pods' });
    // A list with a metadata.name field selector also names the object in RequestInfo (for authorization).
    const name = info.verb === 'get' ? info.name : '';
    const items: MetricsObject[] = [];
    if (info.resource === 'nodes') {
      const store = this.o.registry.store('', 'nodes');
      const nodes = name ? [(await store.get(undefined, name).catch(() => undefined)) as NodeShape | undefined].filter((n) => n !== undefined) : ((await store.list({})).items as unknown as NodeShape[]);
      for (const n of nodes) {
        if (!name && (!fields(n.metadata) || (selector && !selector.matches(n.metadata.labels)))) continue;
        const u = this.scraper.store.node(n.metadata.name ?? '');
        if (u) items.push(this.nodeMetrics(n, u));
      }
      if (name && items.length === 0) throw ApiError.notFound(METRICS_GROUP, 'nodemetrics', name);
    } else {
      const store = this.o.registry.store('', 'pods');
      const ns = info.namespace || undefined;
      const pods = name
        ? [(await store.get(ns, name).catch(() => undefined)) as { metadata: Meta } | undefined].filter((p) => p !== undefined)
        : ((await store.list(ns ? { namespace: ns } : {})).items as unknown as { metadata: Meta }[]);
      for (const p of pods) {
        if (!name && (!fields(p.metadata) || (selector && !selector.matches(p.metadata.labels)))) continue;
        const m = this.podMetrics(p);
        if (m) items.push(m);
      }
      if (name && items.length === 0) throw ApiError.notFound(METRICS_GROUP, 'podmetrics', `${info.namespace}/${name}`);
    }
    items.sort((a, b) => (`${a.metadata.namespace ?? ''}/${a.metadata.name}` < `${b.metadata.namespace ?? ''}/${b.metadata.name}` ? -1 : 1));
    if (neg.output === 'table') return writeJson(res, 200, this.table(items, neg.includeObject), { yaml: neg.yaml });
    if (name) return writeJson(res, 200, items[0], { yaml: neg.yaml });
    const kind = info.resource === 'nodes' ? 'NodeMetricsList' : 'PodMetricsList';
    writeJson(res, 200, { kind, apiVersion: API_VERSION, metadata: {}, items }, { yaml: neg.yaml });
  }

  /** Table as metrics-server prints it: Name, CPU, Memory, Window (pods sum their containers). */
  private table(items: MetricsObject[], include: 'None' | 'Metadata' | 'Object'): unknown {
    const col = (name: string, description: string, format = '') => ({ name, type: 'string', format, description, priority: 0 });
    const sum = (o: MetricsObject): { cpu: string; memory: string } => {
      if (o.usage) return o.usage;
      let cpu = Quantity.parse('0');
      let memory = Quantity.fromInt(0, 'BinarySI');
      for (const c of o.containers ?? []) {
        cpu = cpu.add(Quantity.parse(c.usage.cpu));
        memory = memory.add(Quantity.parse(c.usage.memory));
      }
      return { cpu: cpu.toString(), memory: memory.toString() };
    };
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: {},
      columnDefinitions: [
        col('Name', 'Name must be unique within a namespace.', 'name'),
        col('CPU', 'CPU usage'),
        col('Memory', 'Memory usage'),
        col('Window', 'Time window of the measurement'),
      ],
      rows: items.map((o) => {
        const u = sum(o);
        return {
          cells: [o.metadata.name, u.cpu, u.memory, o.window],
          ...(include === 'None'
            ? {}
            : { object: include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
        };
      }),
    };
  }
}
