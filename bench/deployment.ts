// Deployment benchmark (issue 3): a real `skiff server` with simulated nodes; time until a 1,000-replica Deployment is
// fully created and Available, then until 100 Deployments of 10 replicas have all rolled out a new image at once.
// The server's CPU seconds and RSS (its /metrics process collectors) are read around each phase. Prints one JSON line.
// Usage: node dist/bench/deployment.js [replicas=1000] [deployments=100] [nodes=10]
import { performance } from 'node:perf_hooks';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer } from '../test/e2e/harness.js';
import { RestClient, type ResourceClient } from '../src/client/index.js';

const [replicas = 1000, count = 100, nodes = 10, timeoutS = 600] = process.argv.slice(2).map(Number);

async function processFigures(srv: TestServer): Promise<{ cpuSeconds: number; rssMiB: number }> {
  const r = await srv.kubectl(['get', '--raw', '/metrics']);
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(r.stdout)?.[1] ?? NaN);
  return { cpuSeconds: value('process_cpu_seconds_total'), rssMiB: Math.round(value('process_resident_memory_bytes') / 1048576) };
}

function deployment(ns: string, name: string, n: number, image: string): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: n,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image, resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } },
    },
  };
}

async function waitComplete(deployments: ResourceClient<Deployment>, ns: string, names: string[], image: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(names);
  while (pending.size > 0) {
    const list = await deployments.list({ namespace: ns });
    if (Date.now() > deadline) {
      const stuck = list.items.filter((d) => pending.has(d.metadata?.name ?? '')).slice(0, 3);
      throw new Error(`timed out with ${pending.size} deployments not complete, e.g. ${JSON.stringify(stuck.map((d) => d.status))}`);
    }
    for (const d of list.items) {
      const s = d.status ?? {};
      const r = d.spec?.replicas ?? 1;
      const done =
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && d.spec?.template.spec?.containers[0]?.image === image;
      if (done) pending.delete(d.metadata?.name ?? '');
    }
    if (pending.size > 0) await new Promise((res) => setTimeout(res, 200));
  }
}

const srv = await startTestServer({ args: ['--simulated-nodes', String(nodes), '--simulated-node-pods', String(Math.ceil(((replicas + count * 10) * 1.5) / nodes) + 10)], readyTimeoutMs: 60_000 });
const client = await RestClient.fromKubeconfig(srv.kubeconfig);
try {
  const deployments = client.resource<Deployment>({ group: 'apps', version: 'v1', resource: 'deployments' });
  const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
  for (const name of ['big', 'many']) await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // Let the nodes register before timing.
  await new Promise((r) => setTimeout(r, 3000));

  const p0 = await processFigures(srv);
  const t0 = performance.now();
  await deployments.create(deployment('big', 'big', replicas, 'app:1'));
  await waitComplete(deployments, 'big', ['big'], 'app:1', timeoutS * 1000);
  const bigMs = Math.round(performance.now() - t0);
  const p1 = await processFigures(srv);
  console.error(`${replicas} replicas Available after ${bigMs} ms`);

  const names = Array.from({ length: count }, (_, i) => `d${i}`);
  await Promise.all(names.map((n) => deployments.create(deployment('many', n, 10, 'app:1'))));
  await waitComplete(deployments, 'many', names, 'app:1', timeoutS * 1000);
  const p2 = await processFigures(srv);
  const t2 = performance.now();
  await Promise.all(names.map((n) => deployments.patch(n, { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:2' }] } } } }, { namespace: 'many', type: 'strategic' })));
  await waitComplete(deployments, 'many', names, 'app:2', timeoutS * 1000);
  const rollMs = Math.round(performance.now() - t2);
  const p3 = await processFigures(srv);

  console.log(
    JSON.stringify({
      replicas,
      nodes,
      bigAvailableMs: bigMs,
      bigCpuSeconds: Math.round((p1.cpuSeconds - p0.cpuSeconds) * 100) / 100,
      bigRssMiB: p1.rssMiB,
      deployments: count,
      rolloutAllMs: rollMs,
      rolloutCpuSeconds: Math.round((p3.cpuSeconds - p2.cpuSeconds) * 100) / 100,
      rolloutRssMiB: p3.rssMiB,
    }),
  );
} finally {
  client.close();
  await srv.stop();
}
