// Pod GC: which terminated pods go above the threshold (evicted first, then oldest), and one gc() pass at a time against
// an in-process API with a FakeClock: orphaned pods only after the 40 s quarantine, marked Failed with
// DisruptionTarget/DeletionByPodGC before deletion; unscheduled terminating pods; terminated pods over the threshold.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, SharedInformerFactory, type ResourceClient } from '../../client/index.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import type { ControllerContext } from '../manager.js';
import { PodGCController, QUARANTINE_MS, terminatedPodsToDelete } from './podgc-controller.js';

const mk = (name: string, created: string, phase: string, reason?: string): Pod => ({
  metadata: { name, namespace: 'ns', creationTimestamp: created },
  status: { phase, ...(reason ? { reason } : {}) },
});

describe('terminatedPodsToDelete', () => {
  test('keeps the threshold: evicted pods go first, then the oldest; running pods never', () => {
    const pods = [
      mk('new', '2026-01-01T00:03:00Z', 'Succeeded'),
      mk('old', '2026-01-01T00:01:00Z', 'Failed'),
      mk('evicted', '2026-01-01T00:05:00Z', 'Failed', 'Evicted'),
      mk('mid', '2026-01-01T00:02:00Z', 'Succeeded'),
      mk('running', '2026-01-01T00:00:00Z', 'Running'),
    ];
    assert.deepEqual(terminatedPodsToDelete(pods, 2).map((p) => p.metadata?.name), ['evicted', 'old']);
    assert.deepEqual(terminatedPodsToDelete(pods, 4), []);
    assert.deepEqual(terminatedPodsToDelete(pods, 0), [], 'threshold 0 turns it off');
  });
});

describe('PodGCController against an in-process API', () => {
  let api: InProcessApi;
  let informers: SharedInformerFactory;
  after(async () => {
    await informers?.shutdown();
    await api?.close();
  });

  test('orphans after quarantine (DisruptionTarget first), unscheduled terminating pods, terminated over threshold', async () => {
    api = await startInProcessApi();
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    await api.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const nodes = api.client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    const pods: ResourceClient<Pod> = api.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'here' } });
    const pod = (name: string, node: string | undefined, finalizers?: string[]): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'ns', ...(finalizers ? { finalizers } : {}) },
      spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'busybox' }] },
    });
    // A finalizer keeps this orphan visible after its deletion, so its last status can be read.
    await pods.create(pod('orphan', 'gone', ['example.com/hold']));
    await pods.create(pod('orphan2', 'gone'));
    await pods.create(pod('fine', 'here'));
    await pods.create(pod('pending', undefined, ['example.com/hold']));
    await pods.delete('pending', { namespace: 'ns' });
    for (const n of ['t1', 't2', 't3']) {
      await pods.create(pod(n, 'here'));
      await pods.patch(n, { status: { phase: 'Succeeded' } }, { namespace: 'ns', type: 'merge', subresource: 'status' });
    }

    informers = new SharedInformerFactory(api.client, { clock });
    const ctx: ControllerContext = { client: api.client, informers, clock, log: createLogger('error'), options: { terminatedPodGcThreshold: 2 } };
    const gc = new PodGCController(ctx);
    informers.start();
    await informers.waitForCacheSync();
    const phaseOf = async (name: string) => (await pods.get(name, { namespace: 'ns' })).status?.phase;
    await eventually('cache has the pods', async () => (await pods.list({ namespace: 'ns' })).items.length === 7);
    await eventually('informer caught up', () => informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' }).lister().list().filter((p) => p.status?.phase === 'Succeeded').length === 3);

    await gc.gc();
    // First pass: the orphans are only quarantined.
    assert.equal(await phaseOf('orphan2'), 'Pending');
    const names = async () => (await pods.list({ namespace: 'ns' })).items.map((p) => p.metadata?.name).sort();
    // One terminated pod over the threshold of 2 is gone; the unscheduled terminating pod was force-deleted
    // (marked Failed; its finalizer holds it).
    assert.deepEqual((await names()).filter((n) => n?.startsWith('t')).length, 2);
    const pending = await pods.get('pending', { namespace: 'ns' });
    assert.equal(pending.status?.phase, 'Failed');
    assert.equal(pending.status?.conditions, undefined, 'no DisruptionTarget for unscheduled pods');

    clock.step(QUARANTINE_MS);
    await gc.gc();
    await eventually('orphan2 deleted', async () => !(await names()).includes('orphan2'));
    const orphan = await pods.get('orphan', { namespace: 'ns' });
    assert.ok(orphan.metadata?.deletionTimestamp, 'orphan deleted (held by its finalizer)');
    assert.equal(orphan.status?.phase, 'Failed');
    const cond = orphan.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.deepEqual({ ...cond, lastTransitionTime: undefined }, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastTransitionTime: undefined });
    assert.ok(orphan.metadata?.managedFields?.some((f) => f.manager === 'PodGC' && f.subresource === 'status'));
    assert.ok((await names()).includes('fine'));
  });
});
