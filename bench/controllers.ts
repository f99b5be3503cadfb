// Controller benchmarks (issue 3) against a real `skiff server --simulated-nodes N` over HTTPS:
//  - bigAvailableMs: create one Deployment of 1,000 replicas -> a watch sees status.availableReplicas == 1,000;
//  - rolloutMs: 100 Deployments of 10 replicas, all Available, then a new image set on all of them at once ->
//    every one has observedGeneration caught up and updatedReplicas == availableReplicas == replicas == 10;
//  - the server process's CPU seconds (utime + stime from /proc/<pid>/stat) for each phase and its peak RSS
//    (sampled VmRSS, and the kernel's VmHWM high-water mark). The controllers run inside the server process;
//  - podCreatesRefused: pod creations the API server answered with an error (its apiserver_request_total), e.g.
//    ServiceAccount admission refusing pods of a namespace whose default ServiceAccount does not exist yet (the
//    ReplicaSet controller then retries, as upstream's does).
// CLI: `node dist/bench/controllers.js [--quick] [--big-only]` prints JSON (last line). `--quick`: tiny sizes, proves the
// harness; `--big-only`: stop after the 1,000-replica Deployment.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Deployment as V1Deployment } from 'kubernetes-types/apps/v1.js';
import { clientFor, startBenchServer, type RunningServer } from './api.js';

type Client = Awaited<ReturnType<typeof clientFor>>;

export interface ControllerBenchOptions {
  nodes: number;
  podsPerNode: number;
  /** Replicas of the single big Deployment. */
  bigReplicas: number;
  /** Number of Deployments rolled out concurrently, and the replicas of each. */
  rolloutDeployments: number;
  rolloutReplicas: number;
  /** Give up on a phase after this long. */
  phaseTimeoutMs: number;
  /** Stop after the big Deployment (`--big-only`). */
  bigOnly?: boolean;
}

export const FULL: ControllerBenchOptions = {
  // 1,000 + 100 x 10 pods + the rollout's surge (25% of 10 -> 3 per Deployment) fit in 25 x 110 = 2,750 slots.
  nodes: 25,
  podsPerNode: 110,
  bigReplicas: 1000,
  rolloutDeployments: 100,
  rolloutReplicas: 10,
  phaseTimeoutMs: 15 * 60_000,
};

export const QUICK: ControllerBenchOptions = {
  nodes: 2,
  podsPerNode: 20,
  bigReplicas: 12,
  rolloutDeployments: 3,
  rolloutReplicas: 2,
  phaseTimeoutMs: 3 * 60_000,
};

const CLK_TCK = 100; // Linux USER_HZ on every mainstream architecture (`getconf CLK_TCK`).

interface ProcSample {
  /** CPU of the whole process (every thread). */
  cpuSec: number;
  /** CPU of its main thread alone (/proc/<pid>/task/<pid>/stat): the API server's one JS thread. */
  mainCpuSec: number;
  rssMiB: number;
  hwmMiB: number;
}

/** utime + stime of a /proc stat line, in seconds. */
function cpuOfStat(text: string): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (1-based, proc(5)).
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[14 - 3]) + Number(rest[15 - 3])) / CLK_TCK;
}

export async function readProc(pid: number): Promise<ProcSample> {
  const [stat, mainStat, status] = await Promise.all([
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/status`, 'utf8'),
  ]);
  const kb = (re: RegExp) => Number(re.exec(status)?.[1] ?? -1024);
  return {
    cpuSec: cpuOfStat(stat),
    mainCpuSec: cpuOfStat(mainStat),
    rssMiB: Math.round(kb(/VmRSS:\s+(\d+) kB/) / 1024),
    hwmMiB: Math.round(kb(/VmHWM:\s+(\d+) kB/) / 1024),
  };
}

/**
 * CPU seconds of each thread of a process (/proc/<pid>/task/<tid>/stat), by thread id. In `skiff server` the main
 * thread runs the API server, one worker thread the API clients (scheduler, controllers), and the rest are V8's
 * platform threads (GC, compilation) and libuv's pool.
 */
export async function readThreads(pid: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), cpuOfStat(await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Samples the server process every 250 ms; peak RSS is the highest sample (VmHWM is read too). */
export function sampler(pid: number): { peakRssMiB(): number; stop(): Promise<void> } {
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        peak = Math.max(peak, (await readProc(pid)).rssMiB);
      } catch {
        return; // process gone
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    peakRssMiB: () => peak,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const check = (r: { status: number; body: string }, want: number[], what: string) => {
  if (!want.includes(r.status)) throw new Error(`${what}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
};

/**
 * Watches Deployments in a namespace (from a LIST's resourceVersion, re-watching on a closed stream) and keeps the
 * latest object of each; `until(pred)` resolves when pred holds for the current set after any event.
 */
function deploymentWatch(server: RunningServer, client: Client, ns: string) {
  const latest = new Map<string, V1Deployment>();
  let waiters: { pred: (m: Map<string, V1Deployment>) => boolean; resolve: () => void }[] = [];
  let closed = false;
  let current: ReturnType<typeof request> | undefined;
  let failure: Error | undefined;
  const notify = () => {
    waiters = waiters.filter((w) => {
      if (!w.pred(latest)) return true;
      w.resolve();
      return false;
    });
  };
  const open = (rv: string): Promise<void> =>
    new Promise((ready) => {
      const path = `/apis/apps/v1/namespaces/${ns}/deployments?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`;
      const req = request({ host: '127.0.0.1', port: server.port, path, agent: client.agent }, (res) => {
        ready();
        let buf = '';
        let lastRv = rv;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as { type: string; object: V1Deployment & { code?: number } };
            if (ev.type === 'ERROR') {
              // 410 Gone: start over from a fresh LIST.
              lastRv = '';
              continue;
            }
            lastRv = ev.object.metadata?.resourceVersion ?? lastRv;
            if (ev.type === 'BOOKMARK') continue;
            const name = ev.object.metadata?.name ?? '';
            if (ev.type === 'DELETED') latest.delete(name);
            else latest.set(name, ev.object);
          }
          notify();
        });
        res.on('end', () => {
          if (!closed) void (lastRv ? open(lastRv) : start()).catch((e: Error) => (failure = e));
        });
      });
      current = req;
      req.on('error', (e) => {
        if (!closed) failure = e;
        ready();
      });
      req.end();
    });
  const start = async () => {
    const r = await client.call('GET', `/apis/apps/v1/namespaces/${ns}/deployments`);
    check(r, [200], 'list deployments');
    const list = JSON.parse(r.body) as { metadata: { resourceVersion: string }; items: V1Deployment[] };
    latest.clear();
    for (const d of list.items) latest.set(d.metadata!.name!, d);
    await open(list.metadata.resourceVersion);
    notify();
  };
  return {
    start,
    until(pred: (m: Map<string, V1Deployment>) => boolean, timeoutMs: number, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(failure ?? new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (pred(latest)) done();
        else waiters.push({ pred, resolve: done });
      });
    },
    close() {
      closed = true;
      current?.destroy();
    },
  };
}

function deployment(name: string, replicas: number, image: string): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'app', image, resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
        },
      },
    },
  };
}

/** Deployment fully rolled out at `replicas` (upstream's `kubectl rollout status` condition, plus no old pods left). */
export function rolledOut(d: V1Deployment | undefined, replicas: number): boolean {
  const s = d?.status;
  if (!d || !s) return false;
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s.updatedReplicas === replicas &&
    s.availableReplicas === replicas &&
    s.replicas === replicas
  );
}

async function waitNodesReady(client: Client, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await client.call('GET', '/api/v1/nodes');
    check(r, [200], 'list nodes');
    const items = (JSON.parse(r.body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items;
    const ready = items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${ready}/${n} simulated nodes Ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function inParallel<T>(items: T[], concurrency: number, op: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await op(items[next++]);
    }),
  );
}

export async function benchControllers(o: ControllerBenchOptions): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-ctrl-'));
  const server = await startBenchServer(undefined, dataDir, [
    '--simulated-nodes',
    String(o.nodes),
    '--simulated-node-pods',
    String(o.podsPerNode),
  ]);
  const pid = server.proc.pid!;
  // /readyz can answer before the kubeconfig is written.
  for (let i = 0; !(await stat(server.kubeconfig).then(() => true, () => false)); i++) {
    if (i > 600) throw new Error('no kubeconfig written after 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const out: Record<string, number> = { nodes: o.nodes, bigReplicas: o.bigReplicas, rolloutDeployments: o.rolloutDeployments, rolloutReplicas: o.rolloutReplicas };
  const watchers: { close(): void }[] = [];
  const samples = sampler(pid);
  const client = await clientFor(server, 20);
  // Watches get their own connections so they never queue behind writers for a socket.
  const watchClient = await clientFor(server, 4);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  try {
    await waitNodesReady(client, o.nodes, o.phaseTimeoutMs);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await readProc(pid);
    out.idleRssMiB = idle.rssMiB;
    out.loadAvg1m = r1(loadavg()[0]);

    // Phase 1: one big Deployment.
    check(await client.call('POST', '/api/v1/namespaces', { metadata: { name: 'bench-big' } }), [201], 'namespace');
    const bigWatch = deploymentWatch(server, watchClient, 'bench-big');
    watchers.push(bigWatch);
    await bigWatch.start();
    const cpu0 = (await readProc(pid)).cpuSec;
    const t0 = performance.now();
    check(await client.call('POST', '/apis/apps/v1/namespaces/bench-big/deployments', deployment('big', o.bigReplicas, 'registry.k8s.io/pause:3.9')), [201], 'create big');
    const allCreated = bigWatch
      .until((m) => (m.get('big')?.status?.replicas ?? 0) >= o.bigReplicas, o.phaseTimeoutMs, 'big: status.replicas')
      .then(() => performance.now() - t0);
    await bigWatch.until((m) => (m.get('big')?.status?.availableReplicas ?? 0) >= o.bigReplicas, o.phaseTimeoutMs, 'big: availableReplicas');
    out.bigAvailableMs = Math.round(performance.now() - t0);
    out.bigAllPodsCreatedMs = Math.round(await allCreated);
    out.bigCpuSec = r1((await readProc(pid)).cpuSec - cpu0);
    out.bigPeakRssMiB = samples.peakRssMiB();
    if (o.bigOnly) {
      out.podCreatesRefused = await podCreatesRefused(client);
      out.loadAvg1mEnd = r1(loadavg()[0]);
      return out;
    }

    // Phase 2: many small Deployments, created, then all rolled out to a new image at once.
    check(await client.call('POST', '/api/v1/namespaces', { metadata: { name: 'bench-roll' } }), [201], 'namespace');
    const rollWatch = deploymentWatch(server, watchClient, 'bench-roll');
    watchers.push(rollWatch);
    await rollWatch.start();
    const names = Array.from({ length: o.rolloutDeployments }, (_, i) => `d-${i}`);
    const allRolledOut = (m: Map<string, V1Deployment>) => names.every((n) => rolledOut(m.get(n), o.rolloutReplicas));
    const cpu1 = (await readProc(pid)).cpuSec;
    const t1 = performance.now();
    await inParallel(names, 20, async (n) => {
      const r = await client.call('POST', '/apis/apps/v1/namespaces/bench-roll/deployments', deployment(n, o.rolloutReplicas, 'registry.k8s.io/pause:3.9'));
      check(r, [201], `create ${n}`);
    });
    await rollWatch.until(allRolledOut, o.phaseTimeoutMs, 'small deployments Available');
    out.manyCreateAvailableMs = Math.round(performance.now() - t1);
    out.manyCreateCpuSec = r1((await readProc(pid)).cpuSec - cpu1);

    const cpu2 = (await readProc(pid)).cpuSec;
    const t2 = performance.now();
    await inParallel(names, 20, async (n) => {
      // A JSON merge patch replaces the containers list: the same container with the new image.
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const data = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } } } });
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: `/apis/apps/v1/namespaces/bench-roll/deployments/${n}`,
            method: 'PATCH',
            agent: client.agent,
            headers: { 'Content-Type': 'application/merge-patch+json', 'Content-Length': Buffer.byteLength(data) },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(data);
      });
      check(r, [200], `set image ${n}`);
    });
    // The watch may still hold the pre-patch objects (generation not yet bumped): require the new template too.
    await rollWatch.until(
      (m) => allRolledOut(m) && names.every((n) => m.get(n)?.spec?.template?.spec?.containers?.[0]?.image === 'registry.k8s.io/pause:3.10'),
      o.phaseTimeoutMs,
      'rollout of every deployment',
    );
    out.rolloutMs = Math.round(performance.now() - t2);
    out.rolloutCpuSec = r1((await readProc(pid)).cpuSec - cpu2);
    out.podCreatesRefused = await podCreatesRefused(client);

    const end = await readProc(pid);
    out.totalCpuSec = r1(end.cpuSec - idle.cpuSec);
    out.peakRssMiB = Math.max(samples.peakRssMiB(), end.rssMiB);
    out.hwmRssMiB = end.hwmMiB;
    out.loadAvg1mEnd = r1(loadavg()[0]);
  } finally {
    for (const w of watchers) w.close();
    await closeBench(samples, [client, watchClient], server, dataDir);
  }
  return out;
}

/** Pod creations answered with a 4xx/5xx code so far, from the server's apiserver_request_total. */
async function podCreatesRefused(client: Client): Promise<number> {
  const r = await client.call('GET', '/metrics');
  check(r, [200], 'metrics');
  let refused = 0;
  for (const line of r.body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.slice(0, line.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.verb === 'POST' && labels.resource === 'pods' && !labels.subresource && /^[45]/.test(labels.code ?? '')) refused += Number(line.slice(line.lastIndexOf('}') + 1));
  }
  return refused;
}

/** A benchmark's teardown: stop sampling, drop the clients' connections, stop the server, remove its data dir. */
export async function closeBench(samples: { stop(): Promise<void> }, clients: Client[], server: RunningServer, dataDir: string, keepDataDir = false): Promise<void> {
  await samples.stop();
  for (const c of clients) c.agent.destroy();
  await server.stop();
  if (!keepDataDir) await rm(dataDir, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  benchControllers({ ...(quick ? QUICK : FULL), bigOnly: process.argv.includes('--big-only') }).then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
