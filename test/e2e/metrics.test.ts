// Resource metrics on the local node with real containers: the kubelet serves /metrics/resource from containerd's
// container stats and the root cgroup, the server scrapes it (its built-in metrics-server, every --metric-resolution)
// and serves metrics.k8s.io/v1beta1, so the real `kubectl top` shows numbers; then an HPA (autoscaling/v2, 50 % CPU)
// scales a Deployment of CPU-burning busybox pods up on that real usage and back down once the test stops the load.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { parseResourceMetrics } from '../../src/machinery/resource-metrics.js';
import { Quantity } from '../../src/machinery/quantity.js';
import { eventually, kubeconfigCredentials, runSkiff, startTestServer, type TestServer } from './harness.js';

const NODE = `e2e-metrics-${process.pid}`;

let server: TestServer;
let imagesDir: string;

const logs = () => server.logs().slice(-4000);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${logs()}`);
  return r.stdout;
}

const milli = (q: string): number => Quantity.parse(q).milliValue();

before(async () => {
  imagesDir = await mkdtemp(join(tmpdir(), 'skiff-images-'));
  const images = await buildTestImages(imagesDir);
  server = await startTestServer({
    agent: true,
    args: ['--node-name', NODE, '--metric-resolution', '5s', '--kube-controller-manager-arg', 'horizontal-pod-autoscaler-sync-period=5s'],
    readyTimeoutMs: 60_000,
  });
  await eventually('the agent to start containerd', async () => (await runSkiff(['images', 'import', '--data-dir', server.dataDir, images.busybox.file])).code === 0, 60_000, logs);
});

after(async () => {
  await server?.stop();
  if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
});

test('the kubelet serves /metrics/resource with upstream names; kubectl top nodes and pods show real usage', async () => {
  await ok(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata: {name: burner, labels: {app: burn}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ['sh', '-c', 'while true; do :; done']
    resources: {requests: {cpu: 50m}, limits: {cpu: 200m, memory: 64Mi}}
  - name: idle
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ['sleep', '3600']
`,
  );
  await eventually('burner Running', async () => (await server.kubectl(['get', 'pod', 'burner', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 90_000, logs);

  // The kubelet's endpoint, read directly with a client certificate of the cluster CA (as the API server reads it).
  const node = JSON.parse(await ok(['get', 'node', NODE, '-o', 'json'])) as Node;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const creds = await kubeconfigCredentials(server.kubeconfig);
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`https://127.0.0.1:${port}/metrics/resource`, { cert: creds.cert, key: creds.key, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
  assert.match(text, /^# HELP container_cpu_usage_seconds_total \[STABLE\]/m);
  const samples = parseResourceMetrics(text);
  const one = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok((one('node_cpu_usage_seconds_total')?.value ?? 0) > 0, text);
  assert.ok((one('node_memory_working_set_bytes')?.value ?? 0) > 0, text);
  assert.ok(one('container_cpu_usage_seconds_total', { namespace: 'default', pod: 'burner', container: 'spin' }), text);
  assert.ok((one('container_memory_working_set_bytes', { namespace: 'default', pod: 'burner', container: 'idle' })?.value ?? 0) > 0, text);
  assert.ok(one('pod_cpu_usage_seconds_total', { namespace: 'default', pod: 'burner' }), text);
  assert.ok((one('container_start_time_seconds', { pod: 'burner', container: 'spin' })?.value ?? 0) > 1.6e9, text);
  assert.equal(one('resource_scrape_error')?.value, 0);

  // metrics.k8s.io is discovered like metrics-server's APIService.
  assert.match(await ok(['api-versions']), /^metrics\.k8s\.io\/v1beta1$/m);

  // kubectl top pod --containers: the spinning container uses real CPU, the sleeping one next to none.
  let top = '';
  await eventually(
    'kubectl top pod burner --containers',
    async () => {
      const r = await server.kubectl(['top', 'pod', 'burner', '--containers']);
      top = r.stdout;
      if (r.code !== 0) await pause(1000);
      return r.code === 0;
    },
    90_000,
    logs,
  );
  assert.match(top, /^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
  const spin = /^burner\s+spin\s+(\d+)m\s+(\d+)Mi\s*$/m.exec(top);
  const idle = /^burner\s+idle\s+(\d+)m\s+(\d+)Mi\s*$/m.exec(top);
  assert.ok(spin && idle, top);
  assert.ok(Number(spin[1]) >= 20, `spinning container shows ${spin[1]}m:\n${top}`);
  assert.ok(Number(spin[1]) > Number(idle[1]), top);

  // The raw object and a label selector.
  const pm = JSON.parse(await ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burner'])) as {
    kind: string;
    window: string;
    timestamp: string;
    metadata: { labels?: Record<string, string> };
    containers: { name: string; usage: { cpu: string; memory: string } }[];
  };
  assert.equal(pm.kind, 'PodMetrics');
  assert.equal(pm.metadata.labels?.app, 'burn');
  assert.match(pm.window, /^\d+(\.\d+)?s$/);
  assert.ok(Date.parse(pm.timestamp) > 0);
  assert.deepEqual(pm.containers.map((c) => c.name), ['idle', 'spin']);
  assert.ok(milli(pm.containers[1]!.usage.cpu) > 0);
  assert.match(await ok(['top', 'pods', '-l', 'app=burn']), /^burner\s+\d+m\s+\d+Mi\s*$/m);
  const none = await server.kubectl(['top', 'pods', '-l', 'app=nothing']);
  assert.match(none.stdout + none.stderr, /No resources found/);
  const missing = await server.kubectl(['top', 'pod', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /podmetrics\.metrics\.k8s\.io "default\/nope" not found/);

  // kubectl top node: cores, percentage of allocatable, memory.
  let nodes = '';
  await eventually(
    'kubectl top nodes',
    async () => {
      const r = await server.kubectl(['top', 'nodes']);
      nodes = r.stdout;
      if (r.code !== 0) await pause(1000);
      return r.code === 0;
    },
    60_000,
    logs,
  );
  assert.match(nodes, /^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)\s*$/m);
  const row = new RegExp(`^${NODE}\\s+(\\d+)m\\s+(\\d+)%\\s+(\\d+)Mi\\s+(\\d+)%\\s*$`, 'm').exec(nodes);
  assert.ok(row, nodes);
  assert.ok(Number(row[1]) > 0 && Number(row[3]) > 0, nodes);
  await ok(['delete', 'pod', 'burner', '--wait=false']);
});

test('an HPA on 50 % CPU scales busybox pods up under real load and back down after the load stops', async () => {
  await ok(
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: spin}
spec:
  replicas: 1
  selector: {matchLabels: {app: spin}}
  template:
    metadata: {labels: {app: spin}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: spin
        image: busybox
        imagePullPolicy: IfNotPresent
        # Burns CPU until /tmp/stop exists, then idles.
        command: ['sh', '-c', 'while [ ! -e /tmp/stop ]; do :; done; exec sleep 3600']
        resources: {requests: {cpu: 40m}, limits: {cpu: 150m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: spin}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: spin}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`,
  );
  const replicas = async () => Number((await server.kubectl(['get', 'deployment', 'spin', '-o', 'jsonpath={.spec.replicas}'])).stdout);
  const hpa = async () => (await server.kubectl(['get', 'hpa', 'spin'])).stdout + (await server.kubectl(['describe', 'hpa', 'spin'])).stdout;
  await eventually(
    'the HPA to scale spin to 3 replicas',
    async () => {
      if ((await replicas()) === 3) return true;
      await pause(2000);
      return false;
    },
    240_000,
    () => `${logs()}\n${server.logs().length ? '' : ''}`,
  ).catch(async (err: Error) => assert.fail(`${err.message}\n${await hpa()}`));
  const status = JSON.parse(await ok(['get', 'hpa', 'spin', '-o', 'json'])) as { status?: { currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[] } };
  assert.ok((status.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization ?? 0) > 50, JSON.stringify(status.status));

  // Stop the load in every pod (pods created later are stopped on the next round too).
  await eventually(
    'the load to stop in all 3 pods and the HPA to scale spin back to 1',
    async () => {
      const pods = JSON.parse(await ok(['get', 'pods', '-l', 'app=spin', '-o', 'json'])) as { items: Pod[] };
      for (const p of pods.items) {
        if (p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp) await server.kubectl(['exec', p.metadata!.name!, '--', 'touch', '/tmp/stop']);
      }
      if ((await replicas()) === 1) return true;
      await pause(2000);
      return false;
    },
    240_000,
    logs,
  ).catch(async (err: Error) => assert.fail(`${err.message}\n${await hpa()}`));
  const events = await ok(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
  assert.match(events, /SuccessfulRescale: New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
  assert.match(events, /SuccessfulRescale: New size: 1; reason: All metrics below target/);
  await ok(['delete', 'hpa', 'spin']);
  await ok(['delete', 'deployment', 'spin']);
});
