// Simulated nodes at scale: `skiff server --simulated-nodes N` (SQLite), then P pods created by 50 concurrent
// clients; measures node registration, the time until every pod is bound and Running (scheduler + simulated nodes),
// Lease renewals per second once settled, and the server's RSS. Usage: node dist/bench/simulated.js [N] [P]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { RestClient } from '../src/client/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const nodes = Number(process.argv[2] ?? 500);
const pods = Number(process.argv[3] ?? 5000);

const rssMiB = async (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Progress on stderr, so a run cut short still says how far it got. */
const progress = (msg: string, figures: Record<string, number>) => console.error(`${msg} ${JSON.stringify(figures)}`);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-sim-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const t0 = performance.now();
  // SKIFF_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the server (as bench/api.ts).
  const nodeArgs = (process.env.SKIFF_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(
    process.execPath,
    [...nodeArgs, join(ROOT, 'bin/skiff'), 'server', '--data-dir', dir, '--bind-address', '127.0.0.1', '--https-listen-port', '0', '--write-kubeconfig', kubeconfig, '--disable-agent', '--simulated-nodes', String(nodes), '--log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let ready = false;
  proc.stderr?.on('data', (d: Buffer) => {
    if (/skiff is ready/.test(d.toString())) ready = true;
  });
  while (!ready) {
    await sleep(50);
    // "skiff is ready" is logged at info; at --log-level error wait for the kubeconfig instead.
    ready = await readFile(kubeconfig, 'utf8').then(() => true, () => false);
  }
  const client = await RestClient.fromKubeconfig(kubeconfig);
  const out: Record<string, number> = { nodes, pods };
  const readyNodes = async () => {
    const list = await client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' }).list();
    return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  };
  while ((await readyNodes()) < nodes) await sleep(500);
  out.nodesReadyS = Math.round((performance.now() - t0) / 100) / 10;
  out.rssWithNodesMiB = await rssMiB(proc.pid!);
  progress('nodes ready', out);

  const podClient = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
  const created = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < pods) {
        const i = next++;
        await podClient.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${i}`, namespace: 'default' },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '10Mi' } } }] },
        });
      }
    }),
  );
  out.createS = Math.round((performance.now() - created) / 100) / 10;
  out.createsPerSec = Math.round(pods / ((performance.now() - created) / 1000));
  progress('pods created', out);
  const counts = async () => {
    let bound = 0;
    let running = 0;
    let cont: string | undefined;
    do {
      const page = await podClient.list({ namespace: 'default', limit: 5000, ...(cont ? { continue: cont } : {}) });
      for (const p of page.items) {
        if (p.spec?.nodeName) bound++;
        if (p.status?.phase === 'Running') running++;
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { bound, running };
  };
  let boundAt = 0;
  for (;;) {
    const c = await counts();
    if (!boundAt && c.bound === pods) boundAt = performance.now();
    if (c.running === pods) break;
    progress('waiting', { ...c, s: Math.round((performance.now() - created) / 1000) });
    await sleep(1000);
  }
  const runningAt = performance.now();
  out.allBoundS = Math.round((boundAt - created) / 100) / 10;
  out.allRunningS = Math.round((runningAt - created) / 100) / 10;
  out.podsRunningPerSec = Math.round(pods / ((runningAt - created) / 1000));
  out.rssWithPodsMiB = await rssMiB(proc.pid!);
  progress('pods running', out);

  // Lease renewals over 20 s once settled.
  const leases = client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
  const times = async () => new Map((await leases.list({ namespace: 'kube-node-lease' })).items.map((l) => [l.metadata?.name ?? '', l.spec?.renewTime ?? '']));
  const before = await times();
  await sleep(20_000);
  const after = await times();
  let renewed = 0;
  for (const [name, t] of after) if (before.get(name) !== t) renewed++;
  out.leasesRenewedIn20s = renewed;
  const get = performance.now();
  const lat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await podClient.get(`p-${i * 37 % pods}`, { namespace: 'default' });
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  out.getP50Ms = Math.round(lat[24]!);
  out.getP99Ms = Math.round(lat[49]!);
  out.getSeqS = Math.round((performance.now() - get) / 100) / 10;
  client.close();
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
  await rm(dir, { recursive: true, force: true });
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
