// Scheduler benchmarks in the style of upstream's scheduler_perf (test/integration/scheduler_perf), against a real
// `skiff server` over HTTPS (SQLite):
//  - nodes are plain Node objects created through the API, as scheduler_perf's createNodes does (4 CPU, 32 GiB,
//    110 pods, Ready): nothing runs their pods, so the figures measure the scheduler and the API path it needs
//    (pod create, watch, pods/binding, Scheduled event) and not a kubelet's status writes;
//  - each workload: createNodes, then `initPods` pods that must all be scheduled, then `measurePods` pods created by
//    50 concurrent clients while a watch records when each gets spec.nodeName;
//  - figures (as upstream's SchedulingThroughput and scheduling_attempt_duration): pods/s over the measured pods
//    (first create to last bound), the per-second throughput's p50/p90/p99, the scheduler's attempt latency
//    p50/p90/p99 (its scheduler_scheduling_attempt_duration_seconds histogram, read from /metrics before and after),
//    the server process's CPU seconds (/proc/<pid>/stat) and peak RSS;
//  - placement is checked (anti-affinity: one measured pod per node; topology spread: zone skew ≤ maxSkew).
// The controller manager's controllers are disabled (scheduler_perf runs an API server and a scheduler only; with
// nodes that never heartbeat, node lifecycle would taint them unreachable).
// `hold`: a server holding 5,000 nodes and 150,000 bound pods (controllers on, node lifecycle off): RSS, p50/p99 of
// single-object GET and UPDATE, LIST latencies and watch delivery latency (node IPAM off as well: 5,000 /24s do not fit
// the cluster CIDR). It is long, so `npm run bench` runs it only
// with SKIFF_BENCH_HOLD=1. SKIFF_BENCH_HOLD_DIR=<dir> keeps the data dir, and a later run of the same size restarts
// the server on it and measures at once (creating 150,000 pods takes most of an hour under load).
// CLI: `node dist/bench/scheduler.js [--quick] [workload...] [hold]` prints JSON (last line) and a table on stderr.
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { clientFor, startBenchServer, type RunningServer } from './api.js';
import { closeBench, inParallel, readProc, readThreads, sampler } from './controllers.js';

type Client = Awaited<ReturnType<typeof clientFor>>;

export type PodKind = 'default' | 'antiAffinity' | 'topologySpread';

export interface Workload {
  name: string;
  nodes: number;
  /** Zones the nodes are spread over (topology.kubernetes.io/zone = moon-1, moon-2, ...); 0: no zone label. */
  zones: number;
  initPods: number;
  initKind: PodKind;
  measurePods: number;
  measureKind: PodKind;
}

/** The controllers `skiff server` runs; all are disabled so only the API server and the scheduler work. */
const CONTROLLERS = [
  'namespace', 'serviceaccount', 'replicaset', 'replicationcontroller', 'job', 'deployment', 'nodelifecycle',
  'taint-eviction-controller', 'cronjob', 'ttl-after-finished', 'garbagecollector', 'statefulset', 'daemonset',
  'disruption', 'endpoint', 'endpointslice', 'nodeipam', 'podgc', 'resourcequota', 'horizontalpodautoscaling',
];

/**
 * The admission plugins scheduler_perf's API server runs without (its mustSetupCluster: no serviceaccount controller
 * runs, so ServiceAccount admission would refuse every pod).
 */
const SCHEDULER_PERF_DISABLED_ADMISSION = 'ServiceAccount,TaintNodesByCondition,Priority';

export const FULL: Workload[] = [
  { name: 'SchedulingBasic/500Nodes', nodes: 500, zones: 0, initPods: 500, initKind: 'default', measurePods: 10_000, measureKind: 'default' },
  { name: 'SchedulingBasic/5000Nodes', nodes: 5000, zones: 0, initPods: 1000, initKind: 'default', measurePods: 10_000, measureKind: 'default' },
  // Upstream's sizes: one anti-affine pod per node at most, so pods stay below the node count.
  { name: 'SchedulingPodAntiAffinity/500Nodes', nodes: 500, zones: 0, initPods: 100, initKind: 'antiAffinity', measurePods: 400, measureKind: 'antiAffinity' },
  { name: 'SchedulingPodAntiAffinity/5000Nodes', nodes: 5000, zones: 0, initPods: 1000, initKind: 'antiAffinity', measurePods: 1000, measureKind: 'antiAffinity' },
  { name: 'TopologySpreading/500Nodes', nodes: 500, zones: 3, initPods: 1000, initKind: 'default', measurePods: 1000, measureKind: 'topologySpread' },
  { name: 'TopologySpreading/5000Nodes', nodes: 5000, zones: 3, initPods: 5000, initKind: 'default', measurePods: 2000, measureKind: 'topologySpread' },
];

/**
 * CPU seconds of a process's threads between two readThreads() samples, apart from the main thread: the busiest
 * (the worker thread of the API clients) and the sum of the others.
 */
export function splitThreads(pid: number, before: Map<number, number>, after: Map<number, number>): { workerSec: number; otherSec: number } {
  const used = [...after].filter(([tid]) => tid !== pid).map(([tid, sec]) => sec - (before.get(tid) ?? 0));
  const workerSec = Math.max(0, ...used);
  return { workerSec, otherSec: used.reduce((a, b) => a + b, 0) - workerSec };
}

export const QUICK: Workload[] = [
  { name: 'SchedulingBasic/quick', nodes: 10, zones: 0, initPods: 5, initKind: 'default', measurePods: 40, measureKind: 'default' },
  { name: 'SchedulingPodAntiAffinity/quick', nodes: 10, zones: 0, initPods: 2, initKind: 'antiAffinity', measurePods: 6, measureKind: 'antiAffinity' },
  { name: 'TopologySpreading/quick', nodes: 9, zones: 3, initPods: 6, initKind: 'default', measurePods: 12, measureKind: 'topologySpread' },
];

export interface HoldOptions {
  nodes: number;
  pods: number;
  /** Single-object calls measured for each of GET and UPDATE. */
  calls: number;
}

export const HOLD_FULL: HoldOptions = { nodes: 5000, pods: 150_000, calls: 500 };
export const HOLD_QUICK: HoldOptions = { nodes: 5, pods: 60, calls: 20 };

const ZONE = 'topology.kubernetes.io/zone';
const SPREAD_MAX_SKEW = 5;

const check = (r: { status: number; body: string }, want: number[], what: string) => {
  if (!want.includes(r.status)) throw new Error(`${what}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
};

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A node as scheduler_perf's node-default template: 4 CPU, 32 GiB, 110 pods, Ready. */
export function benchNode(i: number, zones: number): Node {
  const name = `node-${i}`;
  const capacity = { cpu: '4', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(zones > 0 ? { [ZONE]: `moon-${(i % zones) + 1}` } : {}) },
    },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench node', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      phase: 'Running',
    },
  };
}

/** Upstream's pod templates (config/templates): pod-default, pod-with-pod-anti-affinity, pod-with-topology-spreading. */
export function benchPod(name: string, namespace: string, kind: PodKind, nodeName?: string): Pod {
  const container = {
    name: 'pause',
    image: 'registry.k8s.io/pause:3.10',
    ports: [{ containerPort: 80 }],
    resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } },
  };
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [container] } };
  if (nodeName) pod.spec!.nodeName = nodeName;
  if (kind === 'antiAffinity') {
    pod.metadata!.labels = { color: 'green' };
    pod.spec!.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname', namespaces: ['sched-0', 'sched-1'] },
        ],
      },
    };
  } else if (kind === 'topologySpread') {
    pod.metadata!.labels = { color: 'blue' };
    pod.spec!.topologySpreadConstraints = [
      { maxSkew: SPREAD_MAX_SKEW, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } },
    ];
  }
  return pod;
}

/** Calls `line` for each line of a watch response with the time its chunk arrived, then `after` once per chunk. */
function onLines(res: IncomingMessage, line: (text: string, now: number) => void, after: () => void = () => {}): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => {
    const now = performance.now();
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      line(text, now);
    }
    after();
  });
}

interface PodWatch {
  /** When each pod was first seen with spec.nodeName (performance.now()), and the node. */
  bound: Map<string, { at: number; node: string }>;
  /** Resolves once `n` pods are bound. */
  untilBound(n: number, timeoutMs: number): Promise<void>;
  close(): void;
}

/** Watches pods of a namespace from resourceVersion 0 (the current state, then changes). */
function watchPods(server: RunningServer, client: Client, ns: string): Promise<PodWatch> {
  const bound = new Map<string, { at: number; node: string }>();
  let waiters: { n: number; resolve: () => void }[] = [];
  let failure: Error | undefined;
  let closed = false;
  const notify = () => {
    waiters = waiters.filter((w) => {
      if (bound.size < w.n) return true;
      w.resolve();
      return false;
    });
  };
  return new Promise((ready, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=0`, agent: client.agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch pods: HTTP ${res.statusCode}`));
      ready({
        bound,
        untilBound: (n, timeoutMs) =>
          new Promise((resolve, rej) => {
            if (bound.size >= n) return resolve();
            const timer = setTimeout(() => rej(failure ?? new Error(`timed out after ${timeoutMs} ms: ${bound.size}/${n} pods bound in ${ns}`)), timeoutMs);
            waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
          }),
        close: () => {
          closed = true;
          req.destroy();
        },
      });
      onLines(res, (line, now) => {
        // Only events of bound pods are recorded: a line without spec.nodeName is not decoded.
        if (!line.includes('"nodeName":')) return;
        const ev = JSON.parse(line) as { type: string; object: Pod };
        const name = ev.object.metadata?.name ?? '';
        const node = ev.object.spec?.nodeName;
        if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && node && !bound.has(name)) bound.set(name, { at: now, node });
      }, notify);
      res.on('end', () => {
        if (!closed) failure = new Error(`watch of pods in ${ns} ended`);
      });
    });
    req.on('error', (e) => {
      if (!closed) failure = e;
      reject(e);
    });
    req.end();
  });
}

/** Bucket counts of the scheduler's attempt-duration histogram (all results and profiles summed). */
async function attemptHistogram(client: Client): Promise<Map<number, number>> {
  const r = await client.call('GET', '/metrics');
  check(r, [200], 'metrics');
  const buckets = new Map<number, number>();
  for (const line of r.body.split('\n')) {
    if (!line.startsWith('scheduler_scheduling_attempt_duration_seconds_bucket{')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** Quantile of a cumulative histogram's difference, interpolated within the bucket (Prometheus' histogram_quantile). */
export function histogramQuantile(q: number, before: Map<number, number>, after: Map<number, number>): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return 0;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (upper === Infinity) return lower;
      const prev = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - prev;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - prev)) / inBucket : upper;
    }
  }
  return bounds[bounds.length - 2] ?? 0;
}

async function waitKubeconfig(server: RunningServer): Promise<void> {
  // /readyz can answer before the kubeconfig is written.
  for (let i = 0; !(await stat(server.kubeconfig).then(() => true, () => false)); i++) {
    if (i > 600) throw new Error('no kubeconfig written after 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createNodes(client: Client, n: number, zones: number): Promise<void> {
  await inParallel(
    Array.from({ length: n }, (_, i) => i),
    50,
    async (i) => check(await client.call('POST', '/api/v1/nodes', benchNode(i, zones)), [201], `create node-${i}`),
  );
}

/**
 * POSTs `body` as JSON and resolves on 201 without keeping the response (as a client that only needs the outcome; the
 * bench shares the machine's cores with the server, so reading what it does not use would lower the figure). Any
 * other status fails with the response body.
 */
function createLean(server: RunningServer, client: Client, path: string, body: unknown, what: string): Promise<void> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: 'POST', agent: client.agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } },
      (res) => {
        if (res.statusCode === 201) {
          res.on('end', resolve);
          res.resume();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(`${what}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`)));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function createPods(server: RunningServer, client: Client, ns: string, prefix: string, n: number, kind: PodKind): Promise<void> {
  await inParallel(
    Array.from({ length: n }, (_, i) => i),
    50,
    (i) => createLean(server, client, `/api/v1/namespaces/${ns}/pods`, benchPod(`${prefix}-${i}`, ns, kind), `create pod ${prefix}-${i}`),
  );
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Upstream's SchedulingThroughput (scheduler_perf's throughputCollector): the count of scheduled pods sampled once a
 * second; samples start at the first one that sees a scheduled pod, which only sets the baseline (sampling and pod
 * creation start independently); an interval with no new pod is merged into the next one, whose rate is then
 * recorded once per merged interval; the figure CI compares with its threshold is the average of those rates.
 * podsPerSec (all measured pods over first create → last bound) is the stricter figure and stays the headline.
 */
export class ThroughputCollector {
  private started = false;
  private lastCount = 0;
  private lastAt = 0;
  private skipped = 0;
  readonly rates: number[] = [];

  sample(scheduled: number, nowMs: number): void {
    if (scheduled === 0) return;
    if (!this.started) {
      this.started = true;
      this.lastCount = scheduled;
      this.lastAt = nowMs;
      return;
    }
    const fresh = scheduled - this.lastCount;
    if (fresh === 0) {
      this.skipped++;
      return;
    }
    const rate = fresh / ((nowMs - this.lastAt) / 1000);
    for (let i = 0; i <= this.skipped; i++) this.rates.push(rate);
    this.skipped = 0;
    this.lastCount = scheduled;
    this.lastAt = nowMs;
  }

  average(): number {
    return this.rates.length ? this.rates.reduce((a, b) => a + b, 0) / this.rates.length : 0;
  }
}

/** Runs one scheduler_perf-style workload on a fresh server. */
export async function benchWorkload(w: Workload, timeoutMs = 15 * 60_000): Promise<Record<string, number | string | boolean>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-sched-'));
  const server = await startBenchServer(undefined, dataDir, [
    '--log-level',
    'warn',
    '--disable-controllers',
    CONTROLLERS.join(','),
    '--kube-apiserver-arg',
    `disable-admission-plugins=${SCHEDULER_PERF_DISABLED_ADMISSION}`,
  ]);
  const pid = server.proc.pid!;
  await waitKubeconfig(server);
  const samples = sampler(pid);
  const client = await clientFor(server, 50);
  const watchClient = await clientFor(server, 4);
  const out: Record<string, number | string | boolean> = { workload: w.name, nodes: w.nodes, initPods: w.initPods, measurePods: w.measurePods, loadAvg1m: r1(loadavg()[0]!) };
  const watches: PodWatch[] = [];
  try {
    const cpu0 = (await readProc(pid)).cpuSec;
    let t = performance.now();
    await createNodes(client, w.nodes, w.zones);
    out.createNodesMs = Math.round(performance.now() - t);
    for (const ns of ['sched-0', 'sched-1']) check(await client.call('POST', '/api/v1/namespaces', { metadata: { name: ns } }), [201], `namespace ${ns}`);

    const init = await watchPods(server, watchClient, 'sched-0');
    watches.push(init);
    t = performance.now();
    await createPods(server, client, 'sched-0', 'init', w.initPods, w.initKind);
    await init.untilBound(w.initPods, timeoutMs);
    out.initPodsMs = Math.round(performance.now() - t);
    out.rssBeforeMeasureMiB = (await readProc(pid)).rssMiB;

    const measure = await watchPods(server, watchClient, 'sched-1');
    watches.push(measure);
    const hist0 = await attemptHistogram(client);
    const proc1 = await readProc(pid);
    const threads1 = await readThreads(pid);
    const cpu1 = proc1.cpuSec;
    const benchCpu1 = process.cpuUsage();
    const monoStart = process.hrtime.bigint();
    const start = performance.now();
    let createdAt = 0;
    const creating = createPods(server, client, 'sched-1', 'm', w.measurePods, w.measureKind).then(() => (createdAt = performance.now()));
    // Scheduled pods counted every second (upstream's throughputCollector).
    const perSecond: number[] = [];
    const collector = new ThroughputCollector();
    let last = 0;
    const tick = setInterval(() => {
      perSecond.push(measure.bound.size - last);
      last = measure.bound.size;
      collector.sample(measure.bound.size, performance.now());
    }, 1000);
    try {
      await Promise.all([creating, measure.untilBound(w.measurePods, timeoutMs)]);
    } finally {
      clearInterval(tick);
    }
    const end = Math.max(...[...measure.bound.values()].map((b) => b.at));
    const proc2 = await readProc(pid);
    const threads2 = await readThreads(pid);
    const cpu2 = proc2.cpuSec;
    const benchCpu = process.cpuUsage(benchCpu1);
    // The measured phase on the monotonic clock (µs), to cut a server --cpu-prof profile to it.
    if (process.env.SKIFF_BENCH_NODE_ARGS) out.measureWindowUs = `${monoStart / 1000n}-${process.hrtime.bigint() / 1000n}`;
    const hist1 = await attemptHistogram(client);
    const seconds = (end - start) / 1000;
    out.measureMs = Math.round(end - start);
    out.createPodsMs = Math.round(createdAt - start);
    out.podsPerSec = Math.round(w.measurePods / seconds);
    const sorted = [...perSecond].sort((a, b) => a - b);
    out.throughputP50 = percentile(sorted, 50);
    out.throughputP90 = percentile(sorted, 90);
    out.throughputP99 = percentile(sorted, 99);
    // Upstream's SchedulingThroughput Average (what its CI thresholds are compared with).
    out.throughputAvg = r1(collector.average());
    out.attemptP50Ms = r1(histogramQuantile(0.5, hist0, hist1) * 1000);
    out.attemptP90Ms = r1(histogramQuantile(0.9, hist0, hist1) * 1000);
    out.attemptP99Ms = r1(histogramQuantile(0.99, hist0, hist1) * 1000);
    out.attempts = (hist1.get(Infinity) ?? 0) - (hist0.get(Infinity) ?? 0);
    out.measureCpuSec = r1(cpu2 - cpu1);
    out.cpuMsPerPod = r2(((cpu2 - cpu1) * 1000) / w.measurePods);
    // The server's main thread (the API server's one JS thread) apart from the process total: with the scheduler and
    // controllers in a worker thread, this is what bounds throughput.
    out.measureMainCpuSec = r1(proc2.mainCpuSec - proc1.mainCpuSec);
    out.mainCpuMsPerPod = r2(((proc2.mainCpuSec - proc1.mainCpuSec) * 1000) / w.measurePods);
    // The other threads: the busiest one is the API clients' worker (scheduler, controllers); the rest are V8's
    // platform threads (mostly GC) and libuv's pool.
    const { workerSec, otherSec } = splitThreads(pid, threads1, threads2);
    out.workerCpuMsPerPod = r2((workerSec * 1000) / w.measurePods);
    out.otherThreadsCpuMsPerPod = r2((otherSec * 1000) / w.measurePods);
    // The bench's own CPU over the measured phase (its 50 HTTPS clients and the watch share the machine's cores).
    out.benchCpuMsPerPod = r1((benchCpu.user + benchCpu.system) / 1000 / w.measurePods);
    out.totalCpuSec = r1(cpu2 - cpu0);
    out.peakRssMiB = Math.max(samples.peakRssMiB(), (await readProc(pid)).rssMiB);
    out.valid = placementValid(w, init, measure);
    out.loadAvg1mEnd = r1(loadavg()[0]!);
  } finally {
    for (const wt of watches) wt.close();
    await closeBench(samples, [client, watchClient], server, dataDir);
  }
  return out;
}

/** Anti-affinity: no two green pods share a node; topology spread: measured pods' zone counts differ by ≤ maxSkew. */
function placementValid(w: Workload, init: PodWatch, measure: PodWatch): boolean {
  if (w.measureKind === 'antiAffinity') {
    const nodes = new Set<string>();
    for (const b of [...init.bound.values(), ...measure.bound.values()]) {
      if (nodes.has(b.node)) return false;
      nodes.add(b.node);
    }
    return true;
  }
  if (w.measureKind === 'topologySpread') {
    const perZone = new Map<string, number>();
    for (let z = 1; z <= w.zones; z++) perZone.set(`moon-${z}`, 0);
    for (const b of measure.bound.values()) {
      const zone = `moon-${(Number(b.node.slice('node-'.length)) % w.zones) + 1}`;
      perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
    }
    const counts = [...perZone.values()];
    return Math.max(...counts) - Math.min(...counts) <= SPREAD_MAX_SKEW;
  }
  return measure.bound.size === w.measurePods;
}

/**
 * A server holding `nodes` nodes and `pods` bound pods (created with spec.nodeName, 30 per node at the full size):
 * RSS, single GET and UPDATE latencies (10 clients), LIST latencies and the delay from an UPDATE's reply to its watch
 * event. Controllers run (all but node lifecycle, as the nodes never heartbeat), so their informers count in RSS.
 */
export async function benchHold(o: HoldOptions): Promise<Record<string, number>> {
  // SKIFF_BENCH_HOLD_DIR: a data dir kept after the run; a later run with the same sizes reuses its nodes and pods and
  // goes straight to the measurements (creating 150,000 pods takes most of an hour under load).
  const keptDir = process.env.SKIFF_BENCH_HOLD_DIR;
  const dataDir = keptDir ?? (await mkdtemp(join(tmpdir(), 'skiff-bench-hold-')));
  if (keptDir) await mkdir(keptDir, { recursive: true });
  const marker = join(dataDir, 'bench-hold-populated.json');
  const populated = keptDir !== undefined && (await readFile(marker, 'utf8').then((t) => JSON.stringify(JSON.parse(t)) === JSON.stringify(o), () => false));
  const phase = (what: string) => console.error(`hold: ${what} at ${new Date().toISOString()}`);
  // Node IPAM off too: 5,000 nodes cannot each get a /24 of the default /16 cluster CIDR, and its retries would load
  // the server for the whole run.
  const server = await startBenchServer(undefined, dataDir, ['--log-level', 'warn', '--disable-controllers', 'nodelifecycle,taint-eviction-controller,nodeipam']);
  const pid = server.proc.pid!;
  await waitKubeconfig(server);
  const samples = sampler(pid);
  const client = await clientFor(server, 50);
  const watchClient = await clientFor(server, 2);
  const out: Record<string, number> = { nodes: o.nodes, pods: o.pods, loadAvg1m: r1(loadavg()[0]!) };
  let watchReq: ReturnType<typeof request> | undefined;
  try {
    out.idleRssMiB = (await readProc(pid)).rssMiB;
    out.readyMs = Math.round(server.readyMs);
    const cpu0 = (await readProc(pid)).cpuSec;
    const namespaces = Math.max(1, Math.ceil(o.pods / 5000));
    if (!populated) {
      phase('creating nodes and pods');
      let t = performance.now();
      await createNodes(client, o.nodes, 3);
      out.createNodesMs = Math.round(performance.now() - t);
      for (let i = 0; i < namespaces; i++) check(await client.call('POST', '/api/v1/namespaces', { metadata: { name: `hold-${i}` } }), [201], 'namespace');
      // ServiceAccount admission refuses pods until the serviceaccount controller has made each namespace's "default".
      for (let i = 0; i < namespaces; i++) {
        while ((await client.call('GET', `/api/v1/namespaces/hold-${i}/serviceaccounts/default`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      t = performance.now();
      let lastReport = t;
      await inParallel(
        Array.from({ length: o.pods }, (_, i) => i),
        50,
        async (i) => {
          const ns = `hold-${i % namespaces}`;
          check(await client.call('POST', `/api/v1/namespaces/${ns}/pods`, benchPod(`p-${i}`, ns, 'default', `node-${i % o.nodes}`)), [201], `create p-${i}`);
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            console.error(`hold: ${i}/${o.pods} pods created, ${Math.round((lastReport - t) / 1000)} s, RSS ${(await readProc(pid)).rssMiB} MiB`);
          }
        },
      );
      out.createPodsMs = Math.round(performance.now() - t);
      out.createPodsPerSec = Math.round(o.pods / ((performance.now() - t) / 1000));
      out.createCpuSec = r1((await readProc(pid)).cpuSec - cpu0);
      if (keptDir) await writeFile(marker, JSON.stringify(o));
    } else {
      out.reusedDataDir = 1;
    }
    // Let informers and controllers settle before measuring. After a restart every informer lists everything first
    // (minutes at 150,000 pods under load): wait until the server uses under a third of a core over 15 s (at most
    // 15 minutes).
    await new Promise((r) => setTimeout(r, 5000));
    for (const until = performance.now() + 15 * 60_000; populated && performance.now() < until; ) {
      const before = (await readProc(pid)).cpuSec;
      await new Promise((r) => setTimeout(r, 15_000));
      if ((await readProc(pid)).cpuSec - before < 5) break;
    }
    phase('measuring');
    out.loadAvg1mMeasure = r1(loadavg()[0]!);
    out.rssHoldingMiB = (await readProc(pid)).rssMiB;

    const runTag = Date.now().toString(36);
    const seqPattern = new RegExp(`"bench-seq":"(\\d+)\\.${runTag}"`);
    // Watch delivery: a watch on all pods; each measured UPDATE's event is timed from the UPDATE's reply.
    const seen = new Map<string, number>();
    // From the current resourceVersion (a LIST of one item), so no initial ADDED events for every pod.
    const head = await client.call('GET', '/api/v1/pods?limit=1');
    check(head, [200], 'list pods limit=1');
    const rv = (JSON.parse(head.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    await new Promise<void>((ready, reject) => {
      watchReq = request({ host: '127.0.0.1', port: server.port, path: `/api/v1/pods?watch=true&resourceVersion=${rv}`, agent: watchClient.agent }, (res) => {
        ready();
        onLines(res, (line, now) => {
          // Only the marked updates matter (controllers may write others).
          const m = seqPattern.exec(line);
          if (m && !seen.has(m[1]!)) seen.set(m[1]!, now);
        });
      });
      watchReq.on('error', reject);
      watchReq.end();
    });

    const gets: number[] = [];
    const updates: number[] = [];
    const replied = new Map<string, number>();
    const pick = (i: number) => {
      const n = (i * 7919) % o.pods;
      return { ns: `hold-${n % namespaces}`, name: `p-${n}` };
    };
    const cpu1 = (await readProc(pid)).cpuSec;
    await inParallel(
      Array.from({ length: o.calls }, (_, i) => i),
      10,
      async (i) => {
        const { ns, name } = pick(i);
        let s = performance.now();
        const g = await client.call('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
        gets.push(performance.now() - s);
        check(g, [200], `get ${name}`);
        const pod = JSON.parse(g.body) as Pod;
        // Unique per run: an UPDATE that changes nothing (a kept data dir's pods carry the last run's marks) is a no-op
        // upstream, with no new resourceVersion and no watch event.
        pod.metadata!.annotations = { ...pod.metadata!.annotations, 'bench-seq': `${i}.${runTag}` };
        s = performance.now();
        const u = await client.call('PUT', `/api/v1/namespaces/${ns}/pods/${name}`, pod);
        const done = performance.now();
        updates.push(done - s);
        check(u, [200], `update ${name}`);
        replied.set(String(i), done);
      },
    );
    out.callsCpuSec = r1((await readProc(pid)).cpuSec - cpu1);
    await new Promise((r) => setTimeout(r, 2000));
    const watchLat: number[] = [];
    for (const [seq, at] of replied) {
      const got = seen.get(seq);
      if (got !== undefined) watchLat.push(Math.max(0, got - at));
    }
    for (const [name, list] of [['get', gets], ['update', updates], ['watchDelay', watchLat]] as const) {
      list.sort((a, b) => a - b);
      out[`${name}P50Ms`] = r1(percentile(list, 50));
      out[`${name}P99Ms`] = r1(percentile(list, 99));
    }
    out.watchEventsSeen = watchLat.length;

    // LISTs: one namespace's pods; every pod in pages of 500 (as informers and kubectl page); nodes.
    const timed = async (path: string, pages = false) => {
      const s = performance.now();
      let cont = '';
      let items = 0;
      do {
        const r = await client.call('GET', `${path}${pages ? `?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}` : ''}`);
        check(r, [200], `list ${path}`);
        const body = JSON.parse(r.body) as { items: unknown[]; metadata: { continue?: string } };
        items += body.items.length;
        cont = pages ? (body.metadata.continue ?? '') : '';
      } while (cont);
      return { ms: performance.now() - s, items };
    };
    const listNs = await timed('/api/v1/namespaces/hold-0/pods');
    out.listNamespacePodsMs = Math.round(listNs.ms);
    out.listNamespacePodsItems = listNs.items;
    const listAll = await timed('/api/v1/pods', true);
    out.listAllPodsPagedMs = Math.round(listAll.ms);
    out.listAllPodsItems = listAll.items;
    const listNodes = await timed('/api/v1/nodes');
    out.listNodesMs = Math.round(listNodes.ms);
    out.rssEndMiB = (await readProc(pid)).rssMiB;
    out.peakRssMiB = Math.max(samples.peakRssMiB(), out.rssEndMiB);
    out.totalCpuSec = r1((await readProc(pid)).cpuSec - cpu0);
    out.loadAvg1mEnd = r1(loadavg()[0]!);
    phase('done');
  } finally {
    watchReq?.destroy();
    await closeBench(samples, [client, watchClient], server, dataDir, keptDir !== undefined);
  }
  return out;
}

export function table(results: Record<string, Record<string, number | string | boolean>>): string {
  const cols = ['podsPerSec', 'throughputAvg', 'throughputP50', 'attemptP50Ms', 'attemptP99Ms', 'measureCpuSec', 'cpuMsPerPod', 'mainCpuMsPerPod', 'workerCpuMsPerPod', 'otherThreadsCpuMsPerPod', 'benchCpuMsPerPod', 'peakRssMiB', 'measureMs', 'valid', 'loadAvg1m'];
  const rows = Object.entries(results)
    .filter(([name]) => name !== 'hold')
    .map(([name, r]) => [name, ...cols.map((c) => String(r[c] ?? ''))]);
  const head = ['workload', ...cols];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  let text = [line(head), ...rows.map(line)].join('\n');
  const hold = results.hold;
  if (hold) text += '\n\nhold: ' + Object.entries(hold).map(([k, v]) => `${k}=${v}`).join(' ');
  return text;
}

/** Runs the workloads (by name prefix, or all), and the hold case when asked. */
export async function benchScheduler(opts: { quick?: boolean; only?: string[]; hold?: boolean; holdOnly?: boolean }): Promise<Record<string, Record<string, number | string | boolean>>> {
  // A name selects that workload, or every workload of a group ("SchedulingBasic").
  const workloads = opts.holdOnly ? [] : (opts.quick ? QUICK : FULL).filter((w) => !opts.only?.length || opts.only.some((o) => w.name === o || w.name.startsWith(`${o}/`)));
  const results: Record<string, Record<string, number | string | boolean>> = {};
  for (const w of workloads) {
    results[w.name] = await benchWorkload(w);
    console.error(`${w.name}: ${JSON.stringify(results[w.name])}`);
  }
  if (opts.hold) {
    results.hold = await benchHold(opts.quick ? HOLD_QUICK : HOLD_FULL);
    console.error(`hold: ${JSON.stringify(results.hold)}`);
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const hold = args.includes('hold') || process.env.SKIFF_BENCH_HOLD === '1';
  const only = args.filter((a) => a !== '--quick' && a !== 'hold');
  // `hold` alone runs only the hold case; with workload names, those and the hold case.
  const holdOnly = args.includes('hold') && only.length === 0;
  benchScheduler({ quick, only, hold, holdOnly }).then(
    (r) => {
      console.error('\n' + table(r));
      console.log(JSON.stringify(r));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
