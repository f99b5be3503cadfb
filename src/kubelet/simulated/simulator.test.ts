// The simulator against a real server with an injected FakeClock: registration, Leases renewed on the clock's
// schedule (and never by a node told to stop), stage delays waiting for the clock, graceful deletion confirmed at the
// deletion timestamp, and a restarted simulator taking over its nodes and pod addresses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer, eventually, waitForServiceAccount } from '../../../test/e2e/harness.js';
import { FakeClock, RestClient, SharedInformerFactory } from '../../client/index.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { ApiError } from '../../machinery/errors.js';
import { NODE_LEASE_NAMESPACE, SimulatedNodes } from './simulator.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };

describe('SimulatedNodes with a FakeClock', () => {
  let srv: TestServer;
  let client: RestClient;
  let clock: FakeClock;
  let sim: SimulatedNodes | undefined;

  const newSim = () =>
    new SimulatedNodes(client, { names: ['fake-0', 'fake-1'], stopHeartbeat: ['fake-1'], zones: 2, clock, random: () => 0, renewIntervalMs: 10_000 });
  const pod = (name: string) => client.resource<Pod>(PODS).get(name, { namespace: 'default' });
  const lease = async (name: string): Promise<Lease | undefined> => {
    try {
      return await client.resource<Lease>(LEASES).get(name, { namespace: NODE_LEASE_NAMESPACE });
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  };

  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'scheduler,nodelifecycle'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    await waitForServiceAccount(srv, 'default');
    clock = new FakeClock(Date.now());
  });
  after(async () => {
    await sim?.stop();
    client?.close();
    await srv?.stop();
  });

  test('registers its nodes Ready, with zones, and renews Leases on the clock', async () => {
    sim = newSim();
    await sim.start();
    const nodes = client.resource<Node>(NODES);
    const n0 = await nodes.get('fake-0');
    assert.equal(n0.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-0');
    assert.equal((await nodes.get('fake-1')).metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-1');
    assert.equal(n0.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n0.status?.allocatable?.pods, '110');
    // fake-0's first renewal is due at once (offset 0 of 2 nodes).
    clock.step(0);
    await eventually('the Lease of fake-0', async () => (await lease('fake-0')) !== undefined);
    const first = (await lease('fake-0'))?.spec?.renewTime;
    assert.equal((await lease('fake-0'))?.spec?.holderIdentity, 'fake-0');
    assert.equal((await lease('fake-0'))?.metadata?.ownerReferences?.[0]?.name, 'fake-0');
    clock.step(10_000);
    await eventually('a renewal of fake-0', async () => (await lease('fake-0'))?.spec?.renewTime !== first);
    // fake-1 was told never to heartbeat: no Lease after several periods.
    clock.step(10_000);
    await eventually('another renewal of fake-0', async () => (await lease('fake-0'))?.spec?.renewTime !== first);
    assert.equal(await lease('fake-1'), undefined);
  });

  test('a stage delay waits for the clock', async () => {
    await client.resource<Pod>(PODS).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'later', namespace: 'default', annotations: { 'skiff.dev/start-after': '30s' } },
      spec: { nodeName: 'fake-0', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await eventually('the pod-ready stage pending', () => sim!.pendingFor('default/later')?.stage === 'pod-ready');
    assert.equal(sim!.pendingFor('default/later')?.dueAt, clock.now() + 30_000);
    assert.equal((await pod('later')).status?.phase, 'Pending');
    clock.step(30_000);
    await eventually('later Running', async () => (await pod('later')).status?.phase === 'Running');
    const p = await pod('later');
    assert.match(p.status?.podIP ?? '', /^198\.18\.\d+\.2$/);
  });

  test('pods on a node that does not heartbeat are left as they are', async () => {
    await client.resource<Pod>(PODS).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stranded', namespace: 'default' },
      spec: { nodeName: 'fake-1', containers: [{ name: 'c', image: 'busybox' }] },
    });
    // A pod on fake-0 created afterwards is handled, so the simulator has seen both.
    await client.resource<Pod>(PODS).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'marker', namespace: 'default' },
      spec: { nodeName: 'fake-0', containers: [{ name: 'c', image: 'busybox' }] },
    });
    clock.step(0);
    await eventually('marker Running', async () => (await pod('marker')).status?.phase === 'Running');
    assert.equal((await pod('stranded')).status?.phase, 'Pending');
    assert.equal(sim!.heartbeating('fake-1'), false);
    assert.equal(sim!.heartbeating('fake-0'), true);
  });

  test('a graceful delete is confirmed when the deletion timestamp is reached on the clock', async () => {
    await client.resource<Pod>(PODS).delete('marker', { namespace: 'default', gracePeriodSeconds: 60 });
    await eventually('the pod-delete stage pending', () => sim!.pendingFor('default/marker')?.stage === 'pod-delete');
    const due = sim!.pendingFor('default/marker')!.dueAt;
    const deletionTimestamp = (await pod('marker')).metadata?.deletionTimestamp ?? '';
    // Due exactly at the deletion timestamp (the server's time, grace 60 s), however far the fake clock has moved.
    assert.equal(due, Date.parse(deletionTimestamp));
    assert.ok(due > clock.now(), 'not due yet');
    clock.step(due - clock.now() - 1);
    assert.ok((await pod('marker')).metadata?.deletionTimestamp, 'still there just before');
    clock.step(1);
    await eventually('marker gone', async () => {
      try {
        await pod('marker');
        return false;
      } catch (err) {
        return err instanceof ApiError && err.reason === 'NotFound';
      }
    });
  });

  test('a restarted simulator takes its nodes over and keeps pod addresses', async () => {
    const ip = (await pod('later')).status?.podIP;
    await sim!.stop();
    sim = newSim();
    await sim.start();
    await client.resource<Pod>(PODS).create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'after-restart', namespace: 'default' },
      spec: { nodeName: 'fake-0', containers: [{ name: 'c', image: 'busybox' }] },
    });
    clock.step(0);
    await eventually('after-restart Running', async () => (await pod('after-restart')).status?.phase === 'Running');
    assert.notEqual((await pod('after-restart')).status?.podIP, ip, 'the address of a running pod is not handed out again');
    assert.equal((await pod('later')).status?.podIP, ip);
  });
});

describe('SimulatedNodes sharing informers with the scheduler', () => {
  let srv: TestServer;
  let client: RestClient;

  before(async () => {
    // The test runs its own scheduler on the shared informers.
    srv = await startTestServer({ args: ['--disable-controllers', 'scheduler,nodelifecycle'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    await waitForServiceAccount(srv, 'default');
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('one pod and node cache serves both; stopping one leaves the other running', async () => {
    const informers = new SharedInformerFactory(client);
    const sim = new SimulatedNodes(client, { names: ['share-0'], informers });
    const scheduler = new Scheduler(client, { informers });
    assert.equal(sim.podInformer, informers.informerFor(PODS), 'the simulator reads the shared pod informer');
    assert.equal(sim.nodeInformer, informers.informerFor(NODES), 'the simulator reads the shared node informer');
    try {
      await sim.start();
      await scheduler.start();
      const pods = client.resource<Pod>(PODS);
      const spec = { containers: [{ name: 'c', image: 'busybox' }] };
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shared-a' }, spec }, { namespace: 'default' });
      const a = await eventually('shared-a scheduled and Running', async () => {
        const p = await pods.get('shared-a', { namespace: 'default' });
        return p.spec?.nodeName === 'share-0' && p.status?.phase === 'Running' ? p : undefined;
      });
      assert.equal(a.spec?.nodeName, 'share-0');
      // The scheduler stops without shutting the shared informers down: the simulator still sees new pods.
      await scheduler.stop();
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shared-b' }, spec: { ...spec, nodeName: 'share-0' } }, { namespace: 'default' });
      await eventually('shared-b Running after the scheduler stopped', async () => (await pods.get('shared-b', { namespace: 'default' })).status?.phase === 'Running');
    } finally {
      await scheduler.stop();
      await sim.stop();
      await informers.shutdown();
    }
  });
});
