import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startInProcessApi } from '../../controllers/testing/in-process-api.js';
import { parseRequestInfo } from '../request-info.js';
import { MetricsApi, scrapeTargets, usageQuantities } from './api.js';
import { MetricsScraper, type ScrapeTarget } from './scraper.js';

const ctx = { user: { name: 'admin', groups: ['system:masters'] }, dryRun: false };

async function setup() {
  // ServiceAccount admission is off there: no serviceaccount controller runs.
  const { api } = await startInProcessApi();
  const nodes = api.registry.store('', 'nodes');
  const pods = api.registry.store('', 'pods');
  const node = (name: string, labels: Record<string, string>, runtime = 'containerd://1.6.20') => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } }, nodeInfo: { containerRuntimeVersion: runtime } },
  });
  for (const n of [node('n1', { role: 'a' }), node('n2', { role: 'b' }), node('sim', {}, 'skiff-sim://0.1.0')]) {
    await nodes.create(undefined, n, ctx);
    await nodes.update(undefined, n.metadata.name, (cur) => ({ ...cur!, status: n.status }), { ...ctx, subresource: 'status' });
  }
  const pod = (name: string, app: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  for (const p of [pod('web-1', 'web'), pod('web-2', 'web'), pod('db', 'db')]) await pods.create('default', p, ctx);
  let round = 0;
  const fetched: string[] = [];
  const fetch = async (t: ScrapeTarget) => {
    fetched.push(t.name);
    const ts = 1_700_000_000_000 + round * 10_000;
    const cpu = round * (t.name === 'n1' ? 5 : 1);
    let text = `node_cpu_usage_seconds_total ${cpu} ${ts}\nnode_memory_working_set_bytes ${1024 * 1024 * 100} ${ts}\n`;
    if (t.name === 'n1') {
      for (const [p, rate] of [['web-1', 0.25], ['web-2', 0.125], ['db', 1]] as const) {
        text += `container_cpu_usage_seconds_total{container="c",namespace="default",pod="${p}"} ${round * rate * 10} ${ts}\n`;
        text += `container_memory_working_set_bytes{container="c",namespace="default",pod="${p}"} ${2 * 1024 * 1024} ${ts}\n`;
        text += `container_start_time_seconds{container="c",namespace="default",pod="${p}"} 1 ${ts}\n`;
      }
    }
    if (t.name === 'n2' && round > 1) throw new Error('n2 down');
    return text;
  };
  const metrics = new MetricsApi({ registry: api.registry, kubelet: { certPem: '', keyPem: '' }, fetch, now: () => new Date(1_700_000_100_000) });
  const scrape = async () => {
    await metrics.scraper.scrapeOnce();
    round++;
  };
  const get = async (path: string, accept = 'application/json'): Promise<{ code: number; body: Record<string, unknown> }> => {
    const url = new URL(path, 'https://x');
    let code = 0;
    let text = '';
    const res = { writeHead: (c: number) => (code = c), end: (b: string) => (text = b) } as unknown as ServerResponse;
    const req = { headers: { accept } } as IncomingMessage;
    try {
      await metrics.handle(parseRequestInfo('GET', path), url.searchParams, req, res);
    } catch (err) {
      const e = err as { code: number; status: Record<string, unknown> };
      return { code: e.code, body: e.status };
    }
    return { code, body: JSON.parse(text) as Record<string, unknown> };
  };
  return { api, metrics, scrape, get, fetched, close: () => (metrics.close(), api.close()) };
}

test('scrape targets: nodes with a kubelet endpoint, simulated ones skipped', () => {
  assert.deepEqual(
    scrapeTargets([
      { metadata: { name: 'a' }, status: { addresses: [{ type: 'Hostname', address: 'h' }, { type: 'InternalIP', address: '10.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } },
      { metadata: { name: 'b' }, status: { addresses: [{ type: 'InternalIP', address: '1.1.1.1' }] } },
      { metadata: { name: 'c' }, status: { addresses: [{ type: 'InternalIP', address: '1.1.1.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } }, nodeInfo: { containerRuntimeVersion: 'skiff-sim://0.1.0' } } },
    ]),
    [{ name: 'a', host: '10.0.0.1', port: 1 }],
  );
  assert.deepEqual(usageQuantities({ cpuCores: 0.25, memoryBytes: 2 * 1024 * 1024 }), { cpu: '250m', memory: '2Mi' });
  assert.deepEqual(usageQuantities({ cpuCores: -1, memoryBytes: 1000 }), { cpu: '0', memory: '1k' });
  assert.deepEqual(usageQuantities({ cpuCores: 0.0123456789, memoryBytes: 1 }), { cpu: '12345679n', memory: '1' });
});

test('NodeMetrics and PodMetrics: get, list, selectors, NotFound, Table', async () => {
  const t = await setup();
  try {
    assert.deepEqual((await t.get('/apis/metrics.k8s.io/v1beta1/nodes')).body.items, [], 'nothing before two scrapes');
    await t.scrape();
    assert.deepEqual([...new Set(t.fetched)].sort(), ['n1', 'n2']);
    await t.scrape();
    const list = await t.get('/apis/metrics.k8s.io/v1beta1/nodes');
    assert.equal(list.code, 200);
    assert.equal(list.body.kind, 'NodeMetricsList');
    const items = list.body.items as { metadata: { name: string; labels: Record<string, string> }; usage: { cpu: string; memory: string }; window: string; timestamp: string }[];
    assert.deepEqual(items.map((i) => [i.metadata.name, i.usage.cpu, i.usage.memory, i.window]), [
      ['n1', '500m', '100Mi', '10s'],
      ['n2', '100m', '100Mi', '10s'],
    ]);
    assert.equal(items[0]!.timestamp, '2023-11-14T22:13:30Z');
    assert.deepEqual(items[0]!.metadata.labels, { role: 'a' });
    const sel = await t.get('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=role%3Db');
    assert.deepEqual((sel.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['n2']);
    const one = await t.get('/apis/metrics.k8s.io/v1beta1/nodes/n1');
    assert.equal(one.body.kind, 'NodeMetrics');
    const sim = await t.get('/apis/metrics.k8s.io/v1beta1/nodes/sim');
    assert.equal(sim.code, 404);
    assert.equal(sim.body.message, 'nodemetrics.metrics.k8s.io "sim" not found');

    const pods = await t.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb');
    assert.equal(pods.body.kind, 'PodMetricsList');
    assert.deepEqual(
      (pods.body.items as { metadata: { name: string; namespace: string }; containers: { name: string; usage: { cpu: string } }[] }[]).map((p) => [p.metadata.namespace, p.metadata.name, p.containers.map((c) => `${c.name}=${c.usage.cpu}`)]),
      [
        ['default', 'web-1', ['c=250m']],
        ['default', 'web-2', ['c=125m']],
      ],
    );
    const all = await t.get('/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.name%3Ddb');
    assert.deepEqual((all.body.items as { metadata: { name: string } }[]).map((p) => p.metadata.name), ['db']);
    const pod = await t.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db');
    assert.equal(pod.body.kind, 'PodMetrics');
    const missing = await t.get('/apis/metrics.k8s.io/v1beta1/namespaces/other/pods/db');
    assert.equal(missing.code, 404);
    assert.equal(missing.body.message, 'podmetrics.metrics.k8s.io "other/db" not found');
    assert.equal((await t.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dx')).code, 400);

    const table = await t.get('/apis/metrics.k8s.io/v1beta1/nodes', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    assert.equal(table.body.kind, 'Table');
    assert.deepEqual((table.body.columnDefinitions as { name: string }[]).map((c) => c.name), ['Name', 'CPU', 'Memory', 'Window']);
    assert.deepEqual((table.body.rows as { cells: string[] }[])[0]!.cells, ['n1', '500m', '100Mi', '10s']);

    // n2 stops answering: its metrics go away with the next round.
    await t.scrape();
    const after = await t.get('/apis/metrics.k8s.io/v1beta1/nodes');
    assert.deepEqual((after.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['n1']);
    assert.equal((await t.get('/apis/metrics.k8s.io/v1beta1/nodes/n1/proxy')).code, 404);
  } finally {
    t.close();
  }
});

test('the scraper runs only after a request and stops at stop()', async () => {
  let rounds = 0;
  const s = new MetricsScraper({ targets: async () => [], fetch: async () => '', resolutionMs: 1000 });
  const orig = s.scrapeOnce.bind(s);
  s.scrapeOnce = async () => {
    rounds++;
    await orig();
  };
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rounds, 0);
  assert.equal(s.running, false);
  s.touch();
  assert.equal(rounds, 1);
  assert.equal(s.running, true);
  s.stop();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.running, false);
});
