// The scheduler inside the real `skiff server`, driven by the real kubectl over hand-made Nodes: nodeSelector picks
// the node, a pod that fits nowhere gets PodScheduled=False with upstream's message and a FailedScheduling event, and
// a big enough new node gets it scheduled.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually } from './harness.js';


async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

function nodeManifest(name: string, cpu: string, labels: Record<string, string> = {}): string {
  const resources = { cpu, memory: '4Gi', pods: '110' };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  });
}

function podManifest(name: string, cpu: string, nodeSelector?: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      ...(nodeSelector ? { nodeSelector } : {}),
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu } } }],
    },
  });
}

const nodeOf = async (srv: TestServer, pod: string) => (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();

describe('scheduler in skiff server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await ok(srv, ['create', '-f', '-'], nodeManifest('small-a', '1', { disk: 'hdd' }));
    await ok(srv, ['create', '-f', '-'], nodeManifest('small-b', '1', { disk: 'ssd' }));
  });
  after(async () => {
    await srv?.stop();
  });

  test('a pod lands on the node whose labels match its nodeSelector, with PodScheduled=True', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('picky', '100m', { disk: 'ssd' }));
    await eventually('the pod to be bound', async () => (await nodeOf(srv, 'picky')) !== '', undefined, () => srv.logs().slice(-3000));
    assert.equal(await nodeOf(srv, 'picky'), 'small-b');
    const scheduled = await ok(srv, ['get', 'pod', 'picky', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}']);
    assert.equal(scheduled.trim(), 'True');
  });

  test('a pod that fits nowhere is Unschedulable with a FailedScheduling event, then lands on a big new node', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('huge', '3'));
    const condition = async () =>
      JSON.parse((await ok(srv, ['get', 'pod', 'huge', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")]}'])) || '{}') as {
        status?: string;
        reason?: string;
        message?: string;
      };
    await eventually('PodScheduled=False', async () => (await condition()).status === 'False', undefined, () => srv.logs().slice(-3000));
    const c = await condition();
    assert.equal(c.reason, 'Unschedulable');
    assert.ok(c.message?.startsWith('0/2 nodes are available: 2 Insufficient cpu.'), c.message);
    await eventually('the FailedScheduling event in kubectl describe', async () => /FailedScheduling/.test(await ok(srv, ['describe', 'pod', 'huge'])), undefined, () => srv.logs().slice(-3000));
    const described = await ok(srv, ['describe', 'pod', 'huge']);
    assert.match(described, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\./);
    assert.equal(await nodeOf(srv, 'huge'), '');

    await ok(srv, ['create', '-f', '-'], nodeManifest('big', '4'));
    await eventually('the pod to land on the new node', async () => (await nodeOf(srv, 'huge')) === 'big', undefined, () => srv.logs().slice(-3000));
    const scheduled = await ok(srv, ['get', 'pod', 'huge', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}']);
    assert.equal(scheduled.trim(), 'True');
  });
});

describe('skiff server --disable-controllers scheduler', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'scheduler'] });
  });
  after(async () => {
    await srv?.stop();
  });

  test('pods stay pending and untouched', async () => {
    await ok(srv, ['create', '-f', '-'], nodeManifest('roomy', '4'));
    await ok(srv, ['create', '-f', '-'], podManifest('waiting', '100m'));
    // A running scheduler binds within a few hundred milliseconds (see above); give it several times that.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await nodeOf(srv, 'waiting'), '');
    assert.equal((await ok(srv, ['get', 'pod', 'waiting', '-o', 'jsonpath={.status.conditions}'])).trim(), '');
  });
});
