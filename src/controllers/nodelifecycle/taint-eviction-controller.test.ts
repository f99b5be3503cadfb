// The NoExecute taint manager against a real API (in-process) with a FakeClock: pods that do not tolerate the taint go
// at once, bounded tolerations run out on the clock, unbounded ones keep the pod, and removing the taint cancels.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent, Node, Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { FakeClock, type ResourceClient } from '../../client/index.js';
import { runControllerUnderTest, type ControllerUnderTest } from '../testing/in-process-api.js';
import { TaintEvictionController } from './taint-eviction-controller.js';
import { eventually } from '../../../test/e2e/harness.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PODS = { group: '', version: 'v1', resource: 'pods' };


describe('TaintEvictionController', () => {
  let api: ControllerUnderTest<TaintEvictionController>;
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  let nodes: ResourceClient<Node>;
  let pods: ResourceClient<Pod>;

  before(async () => {
    api = await runControllerUnderTest((ctx) => new TaintEvictionController(ctx), { clock });
    nodes = api.client.resource<Node>(NODES);
    pods = api.client.resource<Pod>(PODS);
  });
  after(() => api.stop());

  // Pods created through the API get DefaultTolerationSeconds' 300 s tolerations unless they carry their own.
  async function pod(name: string, tolerations: Toleration[]): Promise<void> {
    await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'sick', tolerations, containers: [{ name: 'c', image: 'busybox' }] } });
  }
  const gone = (name: string) => eventually(`${name} deleted`, async () => (await pods.list({ namespace: 'default' })).items.every((p) => p.metadata?.name !== name || p.metadata?.deletionTimestamp));
  const present = async (name: string) => (await pods.list({ namespace: 'default' })).items.some((p) => p.metadata?.name === name && !p.metadata?.deletionTimestamp);

  test('evicts by tolerationSeconds on the clock; unbounded tolerations stay; untainting cancels', async () => {
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'sick' } });
    await pod('zero', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }]);
    await pod('thirty', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]);
    await pod('forever', [{ operator: 'Exists' }]);
    await pod('defaulted', []);
    await eventually('pods cached', () => api.informers.informerFor<Pod>(PODS).lister().list().length === 4);
    const defaulted = await pods.get('defaulted', { namespace: 'default' });
    assert.ok(defaulted.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 300));

    const n = await nodes.get('sick');
    await nodes.update({ ...n, spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }] } });
    await eventually('evictions scheduled', () => api.controller.scheduled.size === 3);
    clock.step(0);
    await gone('zero');
    assert.ok(await present('thirty'));

    clock.step(29_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(await present('thirty'), 'not before tolerationSeconds');
    clock.step(1_000);
    await gone('thirty');
    const events = async () =>
      (await api.client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'default' })).items.map((e) => `${e.reason}: ${e.message}`);
    await api.controller.recorder.flush();
    assert.ok((await events()).includes('TaintManagerEviction: Marking for deletion Pod default/thirty'));

    // The taint goes before the 300 s of "defaulted" run out: its eviction is cancelled.
    const tainted = await nodes.get('sick');
    await nodes.update({ ...tainted, spec: {} });
    await eventually('cancelled', () => !api.controller.scheduled.has('default/defaulted'));
    clock.step(600_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(await present('defaulted'));
    assert.ok(await present('forever'));
    await api.controller.recorder.flush();
    assert.ok((await events()).includes('TaintManagerEviction: Cancelling deletion of Pod default/defaulted'));
  });

  test('a pod not tolerating a NoExecute taint goes at once, carrying DisruptionTarget (DeletionByTaintManager) before deletion', async () => {
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'sick2' } });
    // A finalizer keeps the deleted pod readable.
    await pods.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] },
      spec: { nodeName: 'sick2', containers: [{ name: 'c', image: 'busybox' }], tolerations: [{ key: 'x', operator: 'Exists' }] },
    });
    await eventually('cached', () => api.informers.informerFor<Pod>(PODS).lister().namespace('default').get('held'));
    const n = await nodes.get('sick2');
    // A NoExecute taint the pod does not tolerate at all: deleted at once.
    await nodes.update({ ...n, spec: { taints: [{ key: 'example.com/evict', effect: 'NoExecute' }] } });
    await eventually('scheduled', () => api.controller.scheduled.has('default/held'));
    clock.step(0);
    const p = await eventually('deleting', async () => {
      const got = await pods.get('held', { namespace: 'default' });
      return got.metadata?.deletionTimestamp ? got : undefined;
    });
    const c = p.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.equal(c?.status, 'True');
    assert.equal(c?.reason, 'DeletionByTaintManager');
    assert.equal(c?.message, 'Taint manager: deleting due to NoExecute taint');
    await pods.patch('held', { metadata: { finalizers: null } }, { namespace: 'default', type: 'merge' });
  });
});
