// The node lifecycle controller against a real API (in-process, memory storage) with a FakeClock: a node whose Lease
// stops being renewed turns Unknown after the grace period, its pods turn not ready, it gets the unreachable
// NoExecute taint through the zone's rate-limited queue and the NoSchedule one from its condition; both go once the
// node reports Ready again. Zone states and the all-nodes-down rule are checked too.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, NodeCondition, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import { FakeClock, SharedInformerFactory, type ResourceClient } from '../../client/index.js';
import { formatMicroTime, formatTime } from '../../machinery/time.js';
import { buildControllerOn, startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';
import { computeZoneState, RateLimitedTimedQueue, zoneKey } from './zones.js';
import { matchingTolerations, minTolerationSeconds, swapTaints, toleratesTaint } from './taints.js';
import { eventually } from '../../../test/e2e/harness.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };


const readyCondition = (at: number, status = 'True'): NodeCondition => ({
  type: 'Ready',
  status,
  reason: 'KubeletReady',
  message: 'kubelet is posting ready status',
  lastHeartbeatTime: formatTime(new Date(at)),
  lastTransitionTime: formatTime(new Date(at)),
});

interface Fixture {
  api: InProcessApi;
  clock: FakeClock;
  informers: SharedInformerFactory;
  controller: NodeLifecycleController;
  nodes: ResourceClient<Node>;
  pods: ResourceClient<Pod>;
  leases: ResourceClient<Lease>;
}

async function fixture(): Promise<Fixture> {
  const api = await startInProcessApi();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const { informers, controller } = await buildControllerOn(api, (ctx) => new NodeLifecycleController(ctx), {
    clock,
    options: { nodeMonitorGracePeriodMs: 40_000 },
  });
  return {
    api,
    clock,
    informers,
    controller,
    nodes: api.client.resource<Node>(NODES),
    pods: api.client.resource<Pod>(PODS),
    leases: api.client.resource<Lease>(LEASES),
  };
}

describe('NodeLifecycleController', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.informers.shutdown();
    await f.api.close();
  });

  const lister = () => f.informers.informerFor<Node>(NODES).lister();

  async function makeNode(name: string, labels: Record<string, string> = {}): Promise<void> {
    await f.nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
    const n = await f.nodes.get(name);
    await f.nodes.updateStatus({ ...n, status: { conditions: [readyCondition(f.clock.now()), { type: 'MemoryPressure', status: 'False' }] } });
    await f.leases.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: formatMicroTime(new Date(f.clock.now())) },
    });
    // The controller takes a Lease it first sees as a heartbeat at that moment of the fake clock: it must have seen
    // this one before a test moves the clock on.
    await eventually('lease seen', () => f.informers.informerFor<Lease>(LEASES).lister().namespace('kube-node-lease').get(name) !== undefined);
  }

  async function renew(name: string): Promise<void> {
    const l = await f.leases.get(name, { namespace: 'kube-node-lease' });
    const renewTime = formatMicroTime(new Date(f.clock.now()));
    await f.leases.update({ ...l, spec: { ...l.spec, renewTime } });
    await eventually('lease seen', () => f.informers.informerFor<Lease>(LEASES).lister().namespace('kube-node-lease').get(name)?.spec?.renewTime === renewTime);
  }

  async function boundPod(name: string, node: string): Promise<void> {
    await f.pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } });
    const p = await f.pods.get(name, { namespace: 'default' });
    await f.pods.updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    await eventually('pod seen', () => f.informers.informerFor<Pod>(PODS).lister().namespace('default').get(name)?.status?.phase === 'Running');
  }

  const condition = (n: Node | undefined, type: string) => n?.status?.conditions?.find((c) => c.type === type);
  const seen = (name: string, pred: (n: Node) => boolean) => eventually(`node ${name} in the cache`, () => {
    const n = lister().get(name);
    return n && pred(n) ? n : undefined;
  });

  test('a node whose Lease stops being renewed turns Unknown, is tainted, its pods turn not ready; it recovers', async () => {
    await makeNode('alive');
    await makeNode('silent');
    await boundPod('victim', 'silent');
    await seen('silent', (n) => condition(n, 'Ready')?.status === 'True');
    await seen('alive', (n) => condition(n, 'Ready')?.status === 'True');

    await f.controller.monitorNodeHealth();
    f.clock.step(30_000);
    await renew('alive');
    await f.controller.monitorNodeHealth();
    assert.equal(condition(await f.nodes.get('silent'), 'Ready')?.status, 'True', 'within the grace period');

    f.clock.step(15_000);
    await renew('alive');
    await f.controller.monitorNodeHealth();
    const silent = await f.nodes.get('silent');
    for (const type of ['Ready', 'MemoryPressure']) {
      const c = condition(silent, type);
      assert.equal(c?.status, 'Unknown', type);
      assert.equal(c?.reason, 'NodeStatusUnknown');
      assert.equal(c?.message, 'Kubelet stopped posting node status.');
      assert.equal(c?.lastTransitionTime, formatTime(new Date(f.clock.now())));
    }
    // Missing monitored conditions are added as never updated.
    assert.equal(condition(silent, 'DiskPressure')?.reason, 'NodeStatusNeverUpdated');
    assert.equal(condition(silent, 'PIDPressure')?.message, 'Kubelet never posted node status.');
    assert.equal(condition(await f.nodes.get('alive'), 'Ready')?.status, 'True', 'the renewed node stays Ready');
    const victim = await f.pods.get('victim', { namespace: 'default' });
    assert.equal(victim.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');

    // Next pass sees Unknown: the node is queued for tainting and the rate-limited pass taints it.
    await seen('silent', (n) => condition(n, 'Ready')?.status === 'Unknown');
    await f.controller.monitorNodeHealth();
    await f.controller.doNoExecuteTaintingPass();
    let taints = (await f.nodes.get('silent')).spec?.taints ?? [];
    const noExecute = taints.find((t) => t.effect === 'NoExecute');
    assert.equal(noExecute?.key, 'node.kubernetes.io/unreachable');
    assert.equal(noExecute?.timeAdded, formatTime(new Date(f.clock.now())));
    await f.controller.syncNode('silent');
    taints = (await f.nodes.get('silent')).spec?.taints ?? [];
    assert.deepEqual(taints.map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.equal(f.controller.zoneStates.get(''), 'Normal', 'one of two nodes down is a normal zone');

    // The kubelet is back: heartbeat and Lease.
    f.clock.step(5_000);
    const back = await f.nodes.get('silent');
    await f.nodes.updateStatus({ ...back, status: { ...back.status, conditions: [readyCondition(f.clock.now())] } });
    await renew('silent');
    await renew('alive');
    await seen('silent', (n) => condition(n, 'Ready')?.status === 'True');
    await f.controller.monitorNodeHealth();
    await f.controller.syncNode('silent');
    assert.deepEqual((await f.nodes.get('silent')).spec?.taints ?? [], []);

    await f.controller.recorder.flush();
    const events = (await f.api.client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'default' })).items;
    const reasons = events.map((e) => `${e.reason}: ${e.message}`);
    assert.ok(reasons.includes('RegisteredNode: Node silent event: Registered Node silent in Controller'), reasons.join('\n'));
    assert.ok(reasons.includes('NodeNotReady: Node silent status is now: NodeNotReady'), reasons.join('\n'));
    assert.ok(reasons.includes('NodeNotReady: Node is not ready'), reasons.join('\n'));
  });

  test('every node down: full disruption, no NoExecute taints (master disruption mode)', async () => {
    await makeNode('a');
    await makeNode('b');
    await seen('a', (n) => condition(n, 'Ready')?.status === 'True');
    await seen('b', (n) => condition(n, 'Ready')?.status === 'True');
    await f.controller.monitorNodeHealth();
    f.clock.step(41_000);
    await f.controller.monitorNodeHealth();
    await seen('a', (n) => condition(n, 'Ready')?.status === 'Unknown');
    await seen('b', (n) => condition(n, 'Ready')?.status === 'Unknown');
    await f.controller.monitorNodeHealth();
    await f.controller.doNoExecuteTaintingPass();
    assert.equal(f.controller.zoneStates.get(''), 'FullDisruption');
    assert.equal(f.controller.zoneTainter.get('')?.qps(), 0);
    for (const n of ['a', 'b']) assert.ok(!(await f.nodes.get(n)).spec?.taints?.some((t) => t.effect === 'NoExecute'), n);
  });

  test('a node that never posted status gets NodeStatusNeverUpdated after the startup grace period', async () => {
    await f.nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'mute' } });
    await seen('mute', () => true);
    // Its creation time is real wall time; the fake clock starts later than that plus the startup grace.
    f.clock.step(Math.max(0, Date.now() - f.clock.now()) + 61_000);
    await f.controller.monitorNodeHealth();
    const n = await f.nodes.get('mute');
    assert.equal(condition(n, 'Ready')?.status, 'Unknown');
    assert.equal(condition(n, 'Ready')?.reason, 'NodeStatusNeverUpdated');
  });
});

describe('zones, taints and tolerations', () => {
  test('zone key and zone state', () => {
    const node = (labels: Record<string, string>): Node => ({ metadata: { name: 'n', labels } });
    assert.equal(zoneKey(node({})), '');
    assert.equal(zoneKey(node({ 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' })), 'r:\u0000:z');
    assert.equal(zoneKey(node({ 'failure-domain.beta.kubernetes.io/zone': 'old' })), ':\u0000:old');
    const c = (status: string): NodeCondition => ({ type: 'Ready', status });
    assert.equal(computeZoneState([c('True'), c('Unknown')], 0.55).state, 'Normal');
    assert.equal(computeZoneState([c('Unknown'), undefined], 0.55).state, 'FullDisruption');
    assert.equal(computeZoneState([c('True'), c('False'), c('Unknown'), c('Unknown')], 0.55).state, 'PartialDisruption');
    assert.equal(computeZoneState([c('True'), c('True'), c('False'), c('Unknown')], 0.55).state, 'Normal', 'two not ready are never partial');
  });

  test('the zone queue hands out nodes at the limiter rate and keeps failed ones for later', async () => {
    const clock = new FakeClock(0);
    const q = new RateLimitedTimedQueue(0.1, clock);
    q.add('a', 'ua');
    clock.step(1);
    q.add('b', 'ub');
    assert.equal(q.add('a', 'ua'), false);
    const taken: string[] = [];
    await q.try(async (v) => (taken.push(v.value), { done: true, waitMs: 0 }));
    assert.deepEqual(taken, ['a'], 'burst 1');
    clock.step(9_000);
    await q.try(async (v) => (taken.push(v.value), { done: true, waitMs: 0 }));
    assert.deepEqual(taken, ['a']);
    clock.step(1_000);
    await q.try(async (v) => (taken.push(v.value), { done: true, waitMs: 0 }));
    assert.deepEqual(taken, ['a', 'b']);
    q.swapLimiter(0);
    q.add('c', 'uc');
    clock.step(100_000);
    await q.try(async (v) => (taken.push(v.value), { done: true, waitMs: 0 }));
    assert.deepEqual(taken, ['a', 'b'], 'qps 0 takes nothing');
  });

  test('tolerations match as upstream; the shortest bounded one counts', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    assert.ok(toleratesTaint({ operator: 'Exists' }, taint));
    assert.ok(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, taint));
    assert.ok(!toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, taint));
    assert.ok(!toleratesTaint({ key: 'node.kubernetes.io/unreachable', value: 'x' }, taint));
    assert.ok(toleratesTaint({ key: 'node.kubernetes.io/unreachable' }, taint), 'Equal with empty value');
    const m = matchingTolerations([taint], [{ key: 'other', operator: 'Exists' }, { operator: 'Exists', tolerationSeconds: 30 }]);
    assert.equal(m.all, true);
    assert.equal(minTolerationSeconds(m.used), 30);
    assert.equal(minTolerationSeconds([{ operator: 'Exists' }]), -1);
    assert.equal(minTolerationSeconds([{ operator: 'Exists', tolerationSeconds: -5 }]), 0);
    assert.equal(matchingTolerations([taint], []).all, false);
    const now = new Date('2026-01-01T00:00:00Z');
    assert.deepEqual(swapTaints([{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], [taint], [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], now), [
      { ...taint, timeAdded: '2026-01-01T00:00:00Z' },
    ]);
    assert.equal(swapTaints([taint], [taint], [], now), undefined, 'nothing to write');
  });
});
