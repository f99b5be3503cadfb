// Real-node benchmarks (issue 5) on this machine's containerd, with the busybox image already imported:
//  - pod startup latency: pods created 10 at a time (each slot creates its next pod once its last one is Running),
//    latency = create request sent → phase Running seen by a watch; p50/p99/max over 100 pods;
//  - the agent's own cost: a separate `skiff agent` process (the kubelet; containerd and the shims are its children
//    and are not counted) joined to a `skiff server --disable-agent`: RSS (VmRSS) and CPU seconds (utime+stime of
//    the agent process alone) over an idle window with 0 pods, and again with 50 pods running.
// CLI: `node dist/bench/kubelet.js [--quick]` prints JSON (last line). Needs root, containerd, runc and the CNI
// plugins (scripts/setup). Everything the agent made is removed with `skiff killall` at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { listWatcherFor, RestClient, SharedIndexInformer } from '../src/client/index.js';
import { containerdPaths } from '../src/kubelet/containerd/supervisor.js';
import { buildTestImages } from '../src/kubelet/images/build.js';
import { killallDataDir, reservePodSubnet, SKIFF_BIN, REPO_ROOT } from '../test/e2e/harness.js';
import { startBenchServer } from './api.js';
import { readProc } from './controllers.js';
import { classDelta, snapshotClasses } from './proctree.js';

export interface KubeletBenchOptions {
  pods: number;
  concurrency: number;
  /** Pods kept running for the second idle measurement. */
  steadyPods: number;
  /** Length of each idle measurement window. */
  idleMs: number;
  phaseTimeoutMs: number;
}

export const FULL: KubeletBenchOptions = { pods: 100, concurrency: 10, steadyPods: 50, idleMs: 30_000, phaseTimeoutMs: 10 * 60_000 };
export const QUICK: KubeletBenchOptions = { pods: 4, concurrency: 2, steadyPods: 2, idleMs: 2_000, phaseTimeoutMs: 3 * 60_000 };

const TOKEN = 'bench-kubelet-token';
const NS = 'default';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>, pollMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The agent's RSS and CPU seconds over an idle window (average RSS of samples every second, and the last one). */
/** Anonymous (private) resident memory: RSS without the mapped node binary and libraries, which other processes share. */
async function rssAnonMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? -1024) / 1024);
}

/** Proportional (Pss) and private (Private_Clean + Private_Dirty) resident memory from smaps_rollup, MiB. */
async function pssPrivateMiB(pid: number): Promise<{ pss: number; priv: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? -1024);
  return { pss: round(kb('Pss') / 1024), priv: round((kb('Private_Clean') + kb('Private_Dirty')) / 1024) };
}

async function idleWindow(
  pid: number,
  ms: number,
): Promise<{ rssMiB: number; rssMedianMiB: number; rssAnonMiB: number; pssMiB: number; privateMiB: number; cpuSec: number; cpuPercent: number }> {
  const start = await readProc(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  const anon: number[] = [];
  const pss: number[] = [];
  const priv: number[] = [];
  while (performance.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, Math.min(1000, ms)));
    rss.push((await readProc(pid)).rssMiB);
    anon.push(await rssAnonMiB(pid));
    const p = await pssPrivateMiB(pid);
    pss.push(p.pss);
    priv.push(p.priv);
  }
  const end = await readProc(pid);
  const elapsed = (performance.now() - t0) / 1000;
  const cpuSec = end.cpuSec - start.cpuSec;
  return {
    rssMiB: Math.max(...rss),
    // The highest sample is set by short peaks (a burst of work, a GC); the median is what the agent holds.
    rssMedianMiB: percentile([...rss].sort((a, b) => a - b), 50),
    rssAnonMiB: Math.max(...anon),
    pssMiB: Math.max(...pss),
    privateMiB: Math.max(...priv),
    cpuSec: round(cpuSec, 2),
    cpuPercent: round((cpuSec / elapsed) * 100, 2),
  };
}

function podManifest(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { bench: 'startup' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  };
}

export async function benchKubelet(o: KubeletBenchOptions): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-kubelet-'));
  const serverDir = join(dir, 'server');
  const agentDir = join(dir, 'agent');
  const subnet = await reservePodSubnet();
  const cidr = `198.18.${subnet.octet}.0/24`;
  const nodeName = `bench-node-${process.pid}`;
  let agent: ChildProcess | undefined;
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  let client: RestClient | undefined;
  let informer: SharedIndexInformer<Pod> | undefined;
  const loadStart = loadavg()[0]!;
  try {
    // The busybox image goes where the agent imports archives from at start (k3s's airgap folder).
    await mkdir(join(agentDir, 'agent', 'images'), { recursive: true });
    await buildTestImages(join(agentDir, 'agent', 'images'));
    server = await startBenchServer(undefined, serverDir, ['--token', TOKEN, '--cluster-cidr', cidr]);
    const kubeconfig = server.kubeconfig;
    // /readyz can answer a moment before the kubeconfig is written.
    await until('the kubeconfig', 30_000, () => existsSync(kubeconfig), 50);
    client = await RestClient.fromKubeconfig(server.kubeconfig);
    const t0 = performance.now();
    // SKIFF_BENCH_AGENT_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the agent process.
    const agentNodeArgs = (process.env.SKIFF_BENCH_AGENT_ARGS ?? '').split(' ').filter(Boolean);
    // Without them the agent is started as users start it: bin/skiff executed (its launcher gives node the agent's
    // flags and environment); with them, `node <args> bin/skiff agent ...`, which skips the launcher's settings.
    const agentArgs = ['agent', '--server', `https://127.0.0.1:${server.port}`, '--token', TOKEN, '--data-dir', agentDir, '--node-name', nodeName, '--pod-cidr', cidr, '--log-level', 'error'];
    agent = spawn(agentNodeArgs.length > 0 ? process.execPath : SKIFF_BIN, agentNodeArgs.length > 0 ? [...agentNodeArgs, SKIFF_BIN, ...agentArgs] : agentArgs, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const nodes = client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    await until('the agent node Ready', o.phaseTimeoutMs, async () => {
      if (agent?.exitCode !== null) throw new Error(`skiff agent exited with ${agent?.exitCode}`);
      const n = await nodes.get(nodeName).catch(() => undefined);
      return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    });
    const agentReadyMs = performance.now() - t0;
    const idle0 = await idleWindow(agent.pid!, o.idleMs);

    // Startup latency: `concurrency` slots, each creating its next pod once its last one is Running.
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const bound = new Map<string, number>();
    const uids = new Map<string, string>();
    const seen = (p: Pod) => {
      const name = p.metadata?.name ?? '';
      uids.set(name, p.metadata?.uid ?? '');
      if (p.spec?.nodeName && !bound.has(name) && created.has(name)) bound.set(name, performance.now());
      if (p.status?.phase !== 'Running' || running.has(name) || !created.has(name)) return;
      running.set(name, performance.now());
      waiters.get(name)?.();
    };
    informer = new SharedIndexInformer<Pod>(listWatcherFor(pods, { namespace: NS, labelSelector: 'bench=startup' }));
    informer.addEventHandler({ onAdd: seen, onUpdate: (_o, p) => seen(p), onDelete: () => undefined });
    informer.run();
    await informer.waitForCacheSync();
    const socket = containerdPaths(join(agentDir, 'agent')).socket;
    const classesBefore = await snapshotClasses(server.proc.pid!, agent.pid!, socket);
    const cpuBefore = await readProc(agent.pid!);
    const loadBefore = loadavg()[0]!;
    const tStart = performance.now();
    let next = 0;
    const slot = async () => {
      while (next < o.pods) {
        const name = `startup-${next++}`;
        const done = new Promise<void>((resolve) => waiters.set(name, resolve));
        created.set(name, performance.now());
        await pods.create(podManifest(name), { namespace: NS });
        const timeout = new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`pod ${name} not Running in time`)), o.phaseTimeoutMs).unref());
        await Promise.race([done, timeout]);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, slot));
    const startupWallMs = performance.now() - tStart;
    const cpuAfter = await readProc(agent.pid!);
    const loadAfter = loadavg()[0]!;
    const classes = classDelta(classesBefore, await snapshotClasses(server.proc.pid!, agent.pid!, socket));
    const classTotal = Object.values(classes).reduce((a, b) => a + b, 0);
    // SKIFF_BENCH_TIMELINE=FILE: each pod's created/bound/Running times (ms since the epoch) as JSON lines.
    if (process.env.SKIFF_BENCH_TIMELINE) {
      const epoch = (t: number | undefined) => (t === undefined ? undefined : performance.timeOrigin + t);
      const lines = [...created].map(([name, at]) => JSON.stringify({ name, uid: uids.get(name), created: epoch(at), bound: epoch(bound.get(name)), running: epoch(running.get(name)) }));
      await writeFile(process.env.SKIFF_BENCH_TIMELINE, lines.join('\n') + '\n');
    }
    const latencies = [...running].map(([name, at]) => at - created.get(name)!).sort((a, b) => a - b);
    // Where the time goes: create -> bound (scheduler, seen by the watch) and bound -> Running (the kubelet).
    const toBind = [...bound].filter(([n]) => running.has(n)).map(([n, at]) => at - created.get(n)!).sort((a, b) => a - b);
    const toRun = [...bound].filter(([n]) => running.has(n)).map(([n, at]) => running.get(n)! - at).sort((a, b) => a - b);

    // Keep `steadyPods` running, delete the rest, then measure the agent idle again.
    for (let i = o.steadyPods; i < o.pods; i++) await pods.delete(`startup-${i}`, { namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
    await until('the extra pods gone', o.phaseTimeoutMs, () => (informer?.indexer.list().length ?? 0) <= o.steadyPods, 500);
    await new Promise((r) => setTimeout(r, Math.min(5000, o.idleMs)));
    const idleN = await idleWindow(agent.pid!, o.idleMs);

    return {
      pods: o.pods,
      concurrency: o.concurrency,
      agentReadyMs: Math.round(agentReadyMs),
      startupP50Ms: Math.round(percentile(latencies, 50)),
      startupP99Ms: Math.round(percentile(latencies, 99)),
      startupMaxMs: Math.round(latencies[latencies.length - 1] ?? NaN),
      bindP50Ms: Math.round(percentile(toBind, 50)),
      bindP99Ms: Math.round(percentile(toBind, 99)),
      boundToRunningP50Ms: Math.round(percentile(toRun, 50)),
      boundToRunningP99Ms: Math.round(percentile(toRun, 99)),
      startupWallMs: Math.round(startupWallMs),
      startupAgentCpuSec: round(cpuAfter.cpuSec - cpuBefore.cpuSec, 2),
      startupAgentCpuSecPerPod: round((cpuAfter.cpuSec - cpuBefore.cpuSec) / o.pods, 3),
      // CPU seconds of every process class of the node over the startup window (see proctree.ts), and per pod.
      ...Object.fromEntries(Object.entries(classes).map(([k, v]) => [`startupCpuSec_${k}`, v])),
      startupCpuSecTotal: round(classTotal, 2),
      startupCpuSecPerPod: round(classTotal / o.pods, 3),
      loadAvgStartupStart: round(loadBefore, 2),
      loadAvgStartupEnd: round(loadAfter, 2),
      idle0PodsRssMiB: idle0.rssMiB,
      idle0PodsRssMedianMiB: idle0.rssMedianMiB,
      idle0PodsRssAnonMiB: idle0.rssAnonMiB,
      idle0PodsPssMiB: idle0.pssMiB,
      idle0PodsPrivateMiB: idle0.privateMiB,
      idle0PodsCpuSec: idle0.cpuSec,
      idle0PodsCpuPercent: idle0.cpuPercent,
      steadyPods: o.steadyPods,
      idleNPodsRssMiB: idleN.rssMiB,
      idleNPodsRssMedianMiB: idleN.rssMedianMiB,
      idleNPodsRssAnonMiB: idleN.rssAnonMiB,
      idleNPodsPssMiB: idleN.pssMiB,
      idleNPodsPrivateMiB: idleN.privateMiB,
      idleNPodsCpuSec: idleN.cpuSec,
      idleNPodsCpuPercent: idleN.cpuPercent,
      idleWindowSec: o.idleMs / 1000,
      agentPeakRssMiB: (await readProc(agent.pid!)).hwmMiB,
      loadAvgStart: round(loadStart, 2),
      loadAvgEnd: round(loadavg()[0]!, 2),
    };
  } finally {
    await informer?.stop();
    client?.close();
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await killallDataDir(agentDir);
    await server?.stop();
    await subnet.release();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  // --pods N, --concurrency N, --steady-pods N, --idle-ms N override the chosen set.
  const o = { ...(quick ? QUICK : FULL) };
  const flags: Record<string, keyof KubeletBenchOptions> = { '--pods': 'pods', '--concurrency': 'concurrency', '--steady-pods': 'steadyPods', '--idle-ms': 'idleMs' };
  for (const [flag, key] of Object.entries(flags)) {
    const i = process.argv.indexOf(flag);
    if (i >= 0) o[key] = Number(process.argv[i + 1]);
  }
  benchKubelet(o).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
