// What the kubelet knows about resource usage, read fresh for each request: containers from the runtime's
// ListContainerStats (containerd reads their cgroups: cumulative CPU, working set = usage − inactive_file), pods as
// the sum of their running containers, the node from the root cgroup. Rendered as /metrics/resource (Prometheus
// text, upstream's names; what the API server's metrics scraper reads) and /stats/summary (upstream's JSON shape).
import { RESOURCE_METRICS, renderResourceMetrics, type Sample } from '../../machinery/resource-metrics.js';
import { formatTime } from '../../machinery/time.js';
import type { Container, ContainerStats } from '../cri/types.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../pods/runtime-state.js';
import type { NodeUsage } from './node-usage.js';

export interface ContainerUsage {
  name: string;
  /** ms since the epoch */
  startTime: number;
  cpuUsageNanoSeconds: number;
  cpuTimestamp: number;
  memoryWorkingSetBytes: number;
  memoryTimestamp: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerUsage[];
}

export interface ResourceUsage {
  nodeName: string;
  node: NodeUsage;
  pods: PodUsage[];
  /** The runtime could not be asked: container samples are missing (resource_scrape_error 1). */
  error?: string;
}

/** The runtime calls the collector makes (a CriClient, or a fake in tests). */
export interface StatsRuntime {
  listContainerStats(): Promise<ContainerStats[]>;
  listContainers(filter: { state: 'CONTAINER_RUNNING' }): Promise<Container[]>;
}

const nsToMs = (ns: number): number => ns / 1e6;

/** Joins stats with the running containers (start times, pod identity) and groups them by pod. */
export function podUsageFrom(stats: readonly ContainerStats[], running: readonly Container[], fallbackNow: number): PodUsage[] {
  const byId = new Map(running.map((c) => [c.id, c]));
  const pods = new Map<string, PodUsage>();
  for (const s of stats) {
    const id = s.attributes?.id ?? '';
    const c = byId.get(id);
    if (!c) continue; // exited, or not a container of ours
    const labels = { ...c.labels, ...(s.attributes?.labels ?? {}) };
    const uid = labels[LABEL_POD_UID];
    const name = labels[LABEL_CONTAINER_NAME] ?? s.attributes?.metadata?.name ?? c.metadata.name;
    if (!uid || !labels[LABEL_POD_NAME] || !labels[LABEL_POD_NAMESPACE] || !s.cpu?.usageCoreNanoSeconds || !s.memory?.workingSetBytes) continue;
    let pod = pods.get(uid);
    if (!pod) pods.set(uid, (pod = { namespace: labels[LABEL_POD_NAMESPACE]!, name: labels[LABEL_POD_NAME]!, uid, containers: [] }));
    pod.containers.push({
      name,
      startTime: nsToMs(c.createdAt),
      cpuUsageNanoSeconds: s.cpu.usageCoreNanoSeconds.value,
      cpuTimestamp: s.cpu.timestamp > 0 ? nsToMs(s.cpu.timestamp) : fallbackNow,
      memoryWorkingSetBytes: s.memory.workingSetBytes.value,
      memoryTimestamp: s.memory.timestamp > 0 ? nsToMs(s.memory.timestamp) : fallbackNow,
    });
  }
  const out = [...pods.values()];
  for (const p of out) p.containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out.sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}

export async function collectResourceUsage(nodeName: string, runtime: StatsRuntime, readNode: () => NodeUsage, now: () => number = Date.now): Promise<ResourceUsage> {
  const node = readNode();
  try {
    const [stats, running] = await Promise.all([runtime.listContainerStats(), runtime.listContainers({ state: 'CONTAINER_RUNNING' })]);
    return { nodeName, node, pods: podUsageFrom(stats, running, now()) };
  } catch (err) {
    return { nodeName, node, pods: [], error: (err as Error).message };
  }
}

/** /metrics/resource: node, pod and container CPU (core-seconds) and working set, with their timestamps. */
export function renderMetricsResource(u: ResourceUsage): string {
  const M = RESOURCE_METRICS;
  const samples: Sample[] = [];
  for (const p of u.pods) {
    for (const c of p.containers) {
      samples.push({ name: M.containerCpu, labels: { container: c.name, namespace: p.namespace, pod: p.name }, value: c.cpuUsageNanoSeconds / 1e9, timestamp: c.cpuTimestamp });
    }
  }
  for (const p of u.pods) {
    for (const c of p.containers) {
      samples.push({ name: M.containerMemory, labels: { container: c.name, namespace: p.namespace, pod: p.name }, value: c.memoryWorkingSetBytes, timestamp: c.memoryTimestamp });
    }
  }
  for (const p of u.pods) {
    for (const c of p.containers) {
      samples.push({ name: M.containerStartTime, labels: { container: c.name, namespace: p.namespace, pod: p.name }, value: c.startTime / 1000, timestamp: c.cpuTimestamp });
    }
  }
  samples.push({ name: M.nodeCpu, labels: {}, value: u.node.cpuUsageNanoSeconds / 1e9, timestamp: u.node.timestamp });
  samples.push({ name: M.nodeMemory, labels: {}, value: u.node.memoryWorkingSetBytes, timestamp: u.node.timestamp });
  for (const p of u.pods) {
    const ts = Math.max(...p.containers.map((c) => c.cpuTimestamp));
    samples.push({ name: M.podCpu, labels: { namespace: p.namespace, pod: p.name }, value: p.containers.reduce((s, c) => s + c.cpuUsageNanoSeconds, 0) / 1e9, timestamp: ts });
  }
  for (const p of u.pods) {
    const ts = Math.max(...p.containers.map((c) => c.memoryTimestamp));
    samples.push({ name: M.podMemory, labels: { namespace: p.namespace, pod: p.name }, value: p.containers.reduce((s, c) => s + c.memoryWorkingSetBytes, 0), timestamp: ts });
  }
  samples.push({ name: M.scrapeError, labels: {}, value: u.error ? 1 : 0 });
  return renderResourceMetrics(samples);
}

const time = (ms: number): string => formatTime(new Date(ms));

/** /stats/summary (upstream's statsapi.Summary, the CPU and memory parts). */
export function summaryOf(u: ResourceUsage, nodeStartTime: number): unknown {
  const cpu = (usage: number, ts: number) => ({ time: time(ts), usageCoreNanoSeconds: Math.round(usage) });
  const memory = (ws: number, ts: number) => ({ time: time(ts), workingSetBytes: ws });
  return {
    node: {
      nodeName: u.nodeName,
      startTime: time(nodeStartTime),
      cpu: cpu(u.node.cpuUsageNanoSeconds, u.node.timestamp),
      memory: memory(u.node.memoryWorkingSetBytes, u.node.timestamp),
    },
    pods: u.pods.map((p) => {
      const ts = Math.max(...p.containers.map((c) => c.cpuTimestamp));
      return {
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        startTime: time(Math.min(...p.containers.map((c) => c.startTime))),
        containers: p.containers.map((c) => ({
          name: c.name,
          startTime: time(c.startTime),
          cpu: cpu(c.cpuUsageNanoSeconds, c.cpuTimestamp),
          memory: memory(c.memoryWorkingSetBytes, c.memoryTimestamp),
        })),
        cpu: cpu(
          p.containers.reduce((s, c) => s + c.cpuUsageNanoSeconds, 0),
          ts,
        ),
        memory: memory(
          p.containers.reduce((s, c) => s + c.memoryWorkingSetBytes, 0),
          Math.max(...p.containers.map((c) => c.memoryTimestamp)),
        ),
      };
    }),
  };
}
