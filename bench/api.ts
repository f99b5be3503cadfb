// API server benchmarks against a real `skiff server` over HTTPS: start → ready, idle RSS, create/get/list/watch
// throughput and latency at 1, 10 and 100 concurrent clients, LIST of 10,000 ConfigMaps, RSS holding them.
// CLI: `node dist/bench/api.js sqlite|etcd` prints JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startEtcd } from '../src/storage/testing/etcd.js';
import { kubeconfigCredentials } from '../test/e2e/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Client {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  agent: Agent;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningServer {
  proc: ChildProcess;
  port: number;
  kubeconfig: string;
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts `bin/skiff server` and measures the time until /readyz answers 200. */
export async function startBenchServer(datastoreEndpoint: string | undefined, dataDir: string, extraArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const args = ['server', '--data-dir', dataDir, '--bind-address', '127.0.0.1', '--https-listen-port', String(port), '--write-kubeconfig', kubeconfig, '--disable-agent'];
  if (datastoreEndpoint) args.push('--datastore-endpoint', datastoreEndpoint);
  args.push(...extraArgs);
  const t0 = performance.now();
  // SKIFF_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the server process (profiling).
  const nodeArgs = (process.env.SKIFF_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // SKIFF_BENCH_BIN: another build's bin/skiff (to compare builds under the same load with one bench).
  const bin = process.env.SKIFF_BENCH_BIN ?? join(ROOT, 'bin/skiff');
  const proc = spawn(process.execPath, [...nodeArgs, bin, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const insecure = new Agent({ rejectUnauthorized: false });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: insecure }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - t0;
  insecure.destroy();
  return {
    proc,
    port,
    kubeconfig,
    readyMs,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}


export async function clientFor(server: RunningServer, maxSockets: number): Promise<Client> {
  const creds = await kubeconfigCredentials(server.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets, ca: creds.ca, cert: creds.cert, key: creds.key });
  return {
    agent,
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path,
            method,
            agent,
            headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.end(data);
      }),
  };
}

function rssMiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => {
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Math.round(Number(m[1]) / 1024) : -1;
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface PhaseResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function phase(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { opsPerSec: Math.round((total / ms) * 1000), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

const expect = (status: number, want: number, what: string, body: string) => {
  if (status !== want) throw new Error(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
};

/** Counts watch events for a namespace until `want` arrived; resolves with the elapsed ms since `started()`. */
function watchEvents(server: RunningServer, watcher: Client, ns: string, want: number): { ready: Promise<void>; done: Promise<number>; started(): void } {
  let t0 = 0;
  let seen = 0;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = new Promise<number>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=0`, agent: watcher.agent },
      (res) => {
        markReady();
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            buf = buf.slice(nl + 1);
            if (++seen >= want) {
              resolve(performance.now() - t0);
              req.destroy();
              return;
            }
          }
        });
      },
    );
    req.on('error', (err) => (seen >= want ? undefined : reject(err)));
    req.end();
  });
  return { ready, done, started: () => (t0 = performance.now()) };
}

export async function benchApi(datastore: 'sqlite' | 'etcd'): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
  const etcd = datastore === 'etcd' ? await startEtcd() : undefined;
  const server = await startBenchServer(etcd?.endpoint, dataDir);
  const out: Record<string, number> = { readyMs: Math.round(server.readyMs) };
  try {
    await new Promise((r) => setTimeout(r, 2000));
    out.idleRssMiB = await rssMiB(server.proc.pid!);
    for (const concurrency of [1, 10, 100]) {
      const client = await clientFor(server, concurrency);
      const ns = `bench-c${concurrency}`;
      expect((await client.call('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status, 201, 'namespace', '');
      const n = concurrency === 1 ? 500 : 2000;
      // Open and TLS-handshake every connection first: the figures are steady-state latencies, not connection set-up.
      await phase(concurrency * 4, concurrency, async () => {
        const r = await client.call('GET', `/api/v1/namespaces/${ns}`);
        expect(r.status, 200, 'warm-up', r.body);
      });
      const create = await phase(n, concurrency, async (i) => {
        const r = await client.call('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
        expect(r.status, 201, 'create', r.body);
      });
      const get = await phase(n, concurrency, async (i) => {
        const r = await client.call('GET', `/api/v1/namespaces/${ns}/configmaps/cm-${i}`);
        expect(r.status, 200, 'get', r.body);
      });
      const update = await phase(n, concurrency, async (i) => {
        const r = await client.call('PUT', `/api/v1/namespaces/${ns}/configmaps/cm-${i}`, { metadata: { name: `cm-${i}` }, data: { i: `u${i}` } });
        expect(r.status, 200, 'update', r.body);
      });
      const list = await phase(Math.max(20, concurrency * 2), concurrency, async () => {
        const r = await client.call('GET', `/api/v1/namespaces/${ns}/configmaps?limit=100`);
        expect(r.status, 200, 'list', r.body);
      });
      // The watch gets its own connection so it never waits behind the writers for a socket.
      const watcher = await clientFor(server, 1);
      const w = watchEvents(server, watcher, `${ns}-w`, n);
      expect((await client.call('POST', '/api/v1/namespaces', { metadata: { name: `${ns}-w` } })).status, 201, 'namespace', '');
      await w.ready;
      w.started();
      await phase(n, concurrency, async (i) => {
        const r = await client.call('POST', `/api/v1/namespaces/${ns}-w/configmaps`, { metadata: { name: `w-${i}` } });
        expect(r.status, 201, 'create', r.body);
      });
      const watchMs = await w.done;
      for (const [name, r] of Object.entries({ create, get, update, list })) {
        out[`${name}_c${concurrency}_opsPerSec`] = r.opsPerSec;
        out[`${name}_c${concurrency}_p50Ms`] = r.p50Ms;
        out[`${name}_c${concurrency}_p99Ms`] = r.p99Ms;
      }
      out[`watchEvents_c${concurrency}_perSec`] = Math.round((n / watchMs) * 1000);
      client.agent.destroy();
      watcher.agent.destroy();
    }
    // LIST of 10,000 ConfigMaps in one namespace (no paging), and RSS while holding them.
    const client = await clientFor(server, 50);
    expect((await client.call('POST', '/api/v1/namespaces', { metadata: { name: 'bench-10k' } })).status, 201, 'namespace', '');
    await phase(10_000, 50, async (i) => {
      const r = await client.call('POST', '/api/v1/namespaces/bench-10k/configmaps', { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
      expect(r.status, 201, 'create', r.body);
    });
    const lists: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await client.call('GET', '/api/v1/namespaces/bench-10k/configmaps');
      expect(r.status, 200, 'list', r.body);
      lists.push(performance.now() - t);
    }
    lists.sort((a, b) => a - b);
    out.list10k_p50Ms = Math.round(lists[2]);
    out.rssWith10kMiB = await rssMiB(server.proc.pid!);
    client.agent.destroy();
  } finally {
    await server.stop();
    await etcd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const which = process.argv[2] === 'etcd' ? 'etcd' : 'sqlite';
  benchApi(which).then(
    (r) => console.log(JSON.stringify({ datastore: which, ...r })),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
