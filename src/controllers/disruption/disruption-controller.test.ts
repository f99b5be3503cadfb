// The disruption controller against a real API (in-process) with a FakeClock: PDB status for integer and percentage
// budgets over unmanaged pods, a Deployment's ReplicaSet (scale from the Deployment) and a StatefulSet (scale from
// /scale), SyncFailed when a controller cannot be found, and the eviction subresource charging the budget (429 beyond
// it), with disruptedPods expiring after two minutes and unhealthyPodEvictionPolicy.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { FakeClock, type ResourceClient } from '../../client/index.js';
import { ApiError } from '../../machinery/errors.js';
import { runControllerUnderTest, type ControllerUnderTest } from '../testing/in-process-api.js';
import { DisruptionController } from './disruption-controller.js';
import { eventually } from '../../../test/e2e/harness.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };


describe('DisruptionController', () => {
  let api: ControllerUnderTest<DisruptionController>;
  let pods: ResourceClient<Pod>;
  let pdbs: ResourceClient<PodDisruptionBudget>;
  const clock = new FakeClock(Date.now());

  before(async () => {
    api = await runControllerUnderTest((ctx) => new DisruptionController(ctx), { clock });
    pods = api.client.resource<Pod>(PODS);
    pdbs = api.client.resource<PodDisruptionBudget>(PDBS);
  });
  after(() => api.stop());

  async function pod(ns: string, name: string, labels: Record<string, string>, opts: { ready?: boolean; owner?: OwnerReference } = {}): Promise<void> {
    await pods.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels, ...(opts.owner ? { ownerReferences: [opts.owner] } : {}) },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const p = await pods.get(name, { namespace: ns });
    await pods.updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] } });
  }
  async function namespace(name: string): Promise<void> {
    await api.client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  async function pdb(ns: string, name: string, spec: PodDisruptionBudget['spec']): Promise<void> {
    await pdbs.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: ns }, spec });
  }
  const statusOf = async (ns: string, name: string) => (await pdbs.get(name, { namespace: ns })).status;
  const settled = (ns: string, name: string, want: Partial<Record<'expectedPods' | 'desiredHealthy' | 'currentHealthy' | 'disruptionsAllowed', number>>) =>
    eventually(`pdb ${ns}/${name} status ${JSON.stringify(want)}`, async () => {
      const st = await statusOf(ns, name);
      if (!st || st.observedGeneration !== 1) return false;
      for (const [k, v] of Object.entries(want)) if (st[k as keyof typeof want] !== v) return false;
      return st;
    });
  const evict = (ns: string, name: string) =>
    api.client.call('POST', `/api/v1/namespaces/${ns}/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } });

  test('minAvailable as an integer over unmanaged pods; eviction charges the budget and is refused beyond it', async () => {
    await namespace('ints');
    for (const n of ['a', 'b', 'c']) await pod('ints', n, { app: 'x' });
    await pdb('ints', 'keep2', { minAvailable: 2, selector: { matchLabels: { app: 'x' } } });
    const st = await settled('ints', 'keep2', { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    const cond = st.conditions?.find((c) => c.type === 'DisruptionAllowed');
    assert.equal(cond?.status, 'True');
    assert.equal(cond?.reason, 'SufficientPods');
    assert.equal(cond?.observedGeneration, 1);

    await evict('ints', 'a');
    const after = await statusOf('ints', 'keep2');
    assert.equal(after?.disruptionsAllowed, 0);
    assert.ok(after?.disruptedPods?.a, 'the eviction is recorded');
    await assert.rejects(evict('ints', 'b'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 429);
      assert.equal(e.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.equal(e.status.details?.causes?.[0]?.reason, 'DisruptionBudget');
      return true;
    });
    // "a" had no node, so it is gone at once: the controller recounts two healthy of two.
    const recount = await settled('ints', 'keep2', { expectedPods: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    assert.equal(recount.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason, 'InsufficientPods');
    assert.equal(recount.disruptedPods, undefined);
  });

  test('maxUnavailable as a percentage takes the Deployment’s scale through its ReplicaSet', async () => {
    await namespace('deploy');
    const d = await api.client.resource<Deployment>({ group: 'apps', version: 'v1', resource: 'deployments' }).create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'deploy' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const rs = await api.client.resource<ReplicaSet>({ group: 'apps', version: 'v1', resource: 'replicasets' }).create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1', namespace: 'deploy', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata!.uid!, controller: true }] },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: rs.metadata!.uid!, controller: true };
    for (const n of ['w1', 'w2', 'w3']) await pod('deploy', n, { app: 'web' }, { owner });
    await pdb('deploy', 'half', { maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } });
    // 4 expected (the Deployment, not the ReplicaSet's 3), 50% of 4 unavailable → 2 desired, 3 healthy → 1 allowed.
    await settled('deploy', 'half', { expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
  });

  test('minAvailable as a percentage finds a StatefulSet through /scale; a missing controller is SyncFailed', async () => {
    await namespace('sts');
    const sts = await api.client.resource<StatefulSet>({ group: 'apps', version: 'v1', resource: 'statefulsets' }).create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'sts' },
      spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await pod('sts', 'db-0', { app: 'db' }, { owner: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: sts.metadata!.uid!, controller: true } });
    await pdb('sts', 'all', { minAvailable: '100%', selector: { matchLabels: { app: 'db' } } });
    const st = await settled('sts', 'all', { expectedPods: 2, desiredHealthy: 2, currentHealthy: 1, disruptionsAllowed: 0 });
    assert.equal(st.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason, 'InsufficientPods');

    await pod('sts', 'orphan', { app: 'lost' }, { owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: '00000000-0000-0000-0000-000000000000', controller: true } });
    await pdb('sts', 'lost', { minAvailable: '50%', selector: { matchLabels: { app: 'lost' } } });
    const failed = await eventually('SyncFailed', async () => {
      const c = (await statusOf('sts', 'lost'))?.conditions?.find((x) => x.type === 'DisruptionAllowed');
      return c?.reason === 'SyncFailed' ? c : undefined;
    });
    assert.equal(failed.status, 'False');
    assert.equal(failed.message, 'found no controllers for pod "orphan"');
  });

  test('an eviction whose pod is not deleted stops counting after two minutes', async () => {
    await namespace('held');
    for (const n of ['h1', 'h2']) await pod('held', n, { app: 'h' });
    // Record a disruption as the eviction subresource would, for a pod that is then never deleted.
    await pdb('held', 'one', { minAvailable: 1, selector: { matchLabels: { app: 'h' } } });
    await settled('held', 'one', { currentHealthy: 2, disruptionsAllowed: 1 });
    const cur = await pdbs.get('one', { namespace: 'held' });
    await pdbs.updateStatus({ ...cur, status: { ...cur.status!, disruptionsAllowed: 0, disruptedPods: { h1: new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z') } } });
    await settled('held', 'one', { currentHealthy: 1, disruptionsAllowed: 0 });
    clock.step(2 * 60 * 1000 + 1000);
    await settled('held', 'one', { currentHealthy: 2, disruptionsAllowed: 1 });
    assert.equal((await statusOf('held', 'one'))?.disruptedPods, undefined);
  });

  test('unhealthyPodEvictionPolicy: AlwaysAllow evicts a not-ready pod even with no disruptions allowed', async () => {
    await namespace('sick');
    await pod('sick', 'ok', { app: 's' });
    await pod('sick', 'bad', { app: 's' }, { ready: false });
    await pdb('sick', 'strict', { minAvailable: 1, selector: { matchLabels: { app: 's' } } });
    await settled('sick', 'strict', { currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 });
    // IfHealthyBudget (default): the budget is met without the unhealthy pod, so it may go.
    await evict('sick', 'bad');
    await pod('sick', 'bad2', { app: 's' }, { ready: false });
    await pdb('sick', 'always', { minAvailable: 5, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: { app: 't' } } });
    await pod('sick', 't1', { app: 't' }, { ready: false });
    await settled('sick', 'always', { currentHealthy: 0, desiredHealthy: 5, disruptionsAllowed: 0 });
    await evict('sick', 't1');
    // IfHealthyBudget with the budget not met: refused.
    await assert.rejects(evict('sick', 'ok'), (e: unknown) => e instanceof ApiError && e.code === 429);
  });
});
