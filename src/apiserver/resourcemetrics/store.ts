// Points scraped from kubelets and the rates computed from them, as metrics-server keeps them: for the node and
// every container the last two samples of cumulative CPU (the rate is the difference over the time between them;
// the window is that time) and the latest working set. A container whose start time changed, or whose cumulative
// CPU went down, starts over (its previous point is dropped), so a restart never yields a negative rate.
import { RESOURCE_METRICS, type Sample } from '../../machinery/resource-metrics.js';

export interface CpuPoint {
  /** ms since the epoch */
  timestamp: number;
  /** cumulative core-seconds */
  cpu: number;
}

interface Series {
  prev?: CpuPoint;
  last: CpuPoint;
  memory: number;
  startTime: number;
}

/** One kubelet's answer, decoded. */
export interface NodeScrape {
  node?: { cpu: CpuPoint; memory: number };
  /** "namespace/pod" → container name → point */
  pods: Map<string, Map<string, { cpu: CpuPoint; memory: number; startTime: number }>>;
}

export interface Usage {
  /** ms since the epoch: the later sample */
  timestamp: number;
  windowMs: number;
  /** cores (CPU) */
  cpuCores: number;
  memoryBytes: number;
}

/** Reads /metrics/resource samples into a NodeScrape; samples without timestamps take `now`. */
export function decodeScrape(samples: readonly Sample[], now: number): NodeScrape {
  const M = RESOURCE_METRICS;
  const out: NodeScrape = { pods: new Map() };
  let nodeCpu: CpuPoint | undefined;
  let nodeMemory: number | undefined;
  const container = (s: Sample) => {
    const key = `${s.labels.namespace ?? ''}/${s.labels.pod ?? ''}`;
    let pod = out.pods.get(key);
    if (!pod) out.pods.set(key, (pod = new Map()));
    const name = s.labels.container ?? '';
    let c = pod.get(name);
    if (!c) pod.set(name, (c = { cpu: { timestamp: 0, cpu: NaN }, memory: NaN, startTime: 0 }));
    return c;
  };
  for (const s of samples) {
    const ts = s.timestamp ?? now;
    switch (s.name) {
      case M.nodeCpu:
        nodeCpu = { timestamp: ts, cpu: s.value };
        break;
      case M.nodeMemory:
        nodeMemory = s.value;
        break;
      case M.containerCpu:
        container(s).cpu = { timestamp: ts, cpu: s.value };
        break;
      case M.containerMemory:
        container(s).memory = s.value;
        break;
      case M.containerStartTime:
        container(s).startTime = s.value;
        break;
      default:
        break;
    }
  }
  if (nodeCpu && nodeMemory !== undefined) out.node = { cpu: nodeCpu, memory: nodeMemory };
  // A container needs both CPU and memory to count.
  for (const [key, pod] of out.pods) {
    for (const [name, c] of pod) if (Number.isNaN(c.cpu.cpu) || Number.isNaN(c.memory)) pod.delete(name);
    if (pod.size === 0) out.pods.delete(key);
  }
  return out;
}

function advance(old: Series | undefined, cpu: CpuPoint, memory: number, startTime: number): Series {
  if (!old || old.startTime !== startTime || cpu.cpu < old.last.cpu) return { last: cpu, memory, startTime };
  // The same sample again (the kubelet had nothing newer): keep the pair we have.
  if (cpu.timestamp <= old.last.timestamp) return { ...old, memory };
  return { prev: old.last, last: cpu, memory, startTime };
}

function usageOf(s: Series | undefined): Usage | undefined {
  if (!s?.prev) return undefined;
  const windowMs = s.last.timestamp - s.prev.timestamp;
  if (windowMs <= 0) return undefined;
  return { timestamp: s.last.timestamp, windowMs, cpuCores: (s.last.cpu - s.prev.cpu) / (windowMs / 1000), memoryBytes: s.memory };
}

export class MetricsStore {
  private nodes = new Map<string, Series>();
  /** "namespace/pod" → container → series */
  private pods = new Map<string, Map<string, Series>>();

  /** Replaces everything with one round of scrapes: nodes (and their pods) missing from it are forgotten. */
  store(batch: ReadonlyMap<string, NodeScrape>): void {
    const nodes = new Map<string, Series>();
    const pods = new Map<string, Map<string, Series>>();
    for (const [name, scrape] of batch) {
      if (scrape.node) nodes.set(name, advance(this.nodes.get(name), scrape.node.cpu, scrape.node.memory, 0));
      for (const [key, containers] of scrape.pods) {
        const old = this.pods.get(key);
        const next = new Map<string, Series>();
        for (const [c, p] of containers) next.set(c, advance(old?.get(c), p.cpu, p.memory, p.startTime));
        pods.set(key, next);
      }
    }
    this.nodes = nodes;
    this.pods = pods;
  }

  node(name: string): Usage | undefined {
    return usageOf(this.nodes.get(name));
  }

  /** Every container's usage, or undefined when any container has no rate yet (as metrics-server skips such pods). */
  pod(namespace: string, name: string): { timestamp: number; windowMs: number; containers: { name: string; usage: Usage }[] } | undefined {
    const series = this.pods.get(`${namespace}/${name}`);
    if (!series || series.size === 0) return undefined;
    const containers: { name: string; usage: Usage }[] = [];
    for (const [c, s] of series) {
      const usage = usageOf(s);
      if (!usage) return undefined;
      containers.push({ name: c, usage });
    }
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const latest = containers.reduce((a, b) => (b.usage.timestamp > a.usage.timestamp ? b : a));
    return { timestamp: latest.usage.timestamp, windowMs: latest.usage.windowMs, containers };
  }
}
