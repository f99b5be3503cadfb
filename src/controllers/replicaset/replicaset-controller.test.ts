// The ReplicaSet / ReplicationController controller: slow-start batches and status arithmetic as pure functions, then
// the controller against a complete in-process API (memory storage): it creates owned pods, replaces a deleted one,
// scales down not-ready pods first, adopts and releases by selector, counts ready/available pods, limits bursts and
// reports FailedCreate.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Namespace, Pod, ReplicationController } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, SharedInformerFactory, realClock, type RestClient, type ResourceClient } from '../../client/index.js';
import { selectorFromSet } from '../../machinery/labels.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import type { ControllerContext } from '../manager.js';
import {
  REPLICATION_CONTROLLER_KIND,
  REPLICA_SET_KIND,
  ReplicaSetController,
  calculateStatus,
  slowStartBatch,
  type ReplicaKind,
  type ReplicaObject,
  type ReplicaSetControllerOptions,
} from './replicaset-controller.js';

const log = createLogger('error');

describe('slowStartBatch and calculateStatus', () => {
  test('batches of 1, 2, 4, ... stop at the first failing batch', async () => {
    let calls = 0;
    const ok = await slowStartBatch(10, 1, async () => void calls++);
    assert.deepEqual(ok, { successes: 10 });
    assert.equal(calls, 10);
    calls = 0;
    // Batches 1, 2, 4: the 5th call fails, so the batch of 4 finishes and the batch of 3 never starts.
    const failed = await slowStartBatch(10, 1, async () => {
      if (++calls === 5) throw new Error('quota');
    });
    assert.equal(failed.successes, 6);
    assert.equal(calls, 7);
    assert.match(String(failed.error), /quota/);
  });

  test('counts fully labeled, ready and available pods; ReplicaFailure set on error and cleared after', () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:01:00Z'));
    const rs: ReplicaSet = { metadata: { name: 'r' }, spec: { replicas: 2, minReadySeconds: 30, selector: {}, template: {} }, status: { replicas: 0 } };
    const mk = (labels: Record<string, string>, readySince?: string): Pod => ({
      metadata: { labels },
      status: readySince ? { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] } : {},
    });
    const pods = [mk({ app: 'a', extra: 'x' }, '2026-01-01T00:00:00Z'), mk({ app: 'a' }, '2026-01-01T00:00:50Z'), mk({ extra: 'x' })];
    const tl = selectorFromSet({ app: 'a', extra: 'x' });
    const st = calculateStatus(rs, pods, new Error('pods "r-" is forbidden: exceeded quota'), clock.now(), tl);
    assert.equal(st.replicas, 3);
    assert.equal(st.fullyLabeledReplicas, 1);
    assert.equal(st.readyReplicas, 2);
    assert.equal(st.availableReplicas, 1, 'one ready for 60 s, one for only 10 s of the 30 needed');
    assert.deepEqual(st.conditions, [
      { type: 'ReplicaFailure', status: 'True', lastTransitionTime: '2026-01-01T00:01:00Z', reason: 'FailedDelete', message: 'pods "r-" is forbidden: exceeded quota' },
    ]);
    const cleared = calculateStatus({ ...rs, status: st }, pods, undefined, clock.now(), tl);
    assert.equal(cleared.conditions, undefined);
    const under = calculateStatus({ ...rs, spec: { ...rs.spec!, replicas: 5 } }, pods, new Error('x'), clock.now(), tl);
    assert.equal(under.conditions?.[0].reason, 'FailedCreate');
  });
});

describe('ReplicaSet controller against an in-process API', () => {
  let api: InProcessApi;
  let client: RestClient;
  let pods: ResourceClient<Pod>;
  let rsClient: ResourceClient<ReplicaSet>;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    api = await startInProcessApi();
    client = api.client;
    pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    rsClient = client.resource<ReplicaSet>({ group: 'apps', version: 'v1', resource: 'replicasets' });
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    for (const name of ['rs', 'adopt', 'burst', 'fail', 'rc']) await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  /** One controller on its own informers for one namespace, running until the suite ends. */
  function start<T extends ReplicaObject>(kind: ReplicaKind<T>, namespace: string, opts: ReplicaSetControllerOptions = {}): ReplicaSetController<T> {
    const informers = new SharedInformerFactory(client, { namespace });
    const ctx: ControllerContext = { client, informers, clock: realClock, log };
    const c = new ReplicaSetController<T>(ctx, kind, { workers: 2, ...opts });
    const abort = new AbortController();
    informers.start();
    const running = c.run(abort.signal);
    stops.push(async () => {
      abort.abort();
      await running;
      await informers.shutdown();
    });
    return c;
  }

  const podsOf = async (ns: string, uid?: string) =>
    (await pods.list({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp && (uid === undefined || p.metadata?.ownerReferences?.some((r) => r.uid === uid)));

  const replicaSet = (ns: string, name: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...extra,
    },
  });

  const markReady = (ns: string, name: string, at = new Date().toISOString().replace(/\.\d+Z$/, 'Z')) =>
    pods.patch(name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] } }, { namespace: ns, type: 'merge', subresource: 'status' });

  test('creates owned pods, replaces a deleted one, scales down not-ready pods first, reports status', async () => {
    start(REPLICA_SET_KIND, 'rs');
    const rs = await rsClient.create(replicaSet('rs', 'web', 3));
    const uid = rs.metadata?.uid;
    await eventually('3 pods', async () => (await podsOf('rs', uid)).length === 3);
    const created = await podsOf('rs', uid);
    for (const p of created) {
      assert.match(p.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata?.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid, controller: true, blockOwnerDeletion: true }]);
    }
    await eventually('status replicas 3', async () => (await rsClient.get('web', { namespace: 'rs' })).status?.replicas === 3);

    // Two ready: status counts them; minReadySeconds 0 makes them available at once.
    await markReady('rs', created[0].metadata!.name!);
    await markReady('rs', created[1].metadata!.name!);
    await eventually('2 ready and available', async () => {
      const st = (await rsClient.get('web', { namespace: 'rs' })).status;
      return st?.readyReplicas === 2 && st.availableReplicas === 2 && st.fullyLabeledReplicas === 3 && st.observedGeneration === 1;
    });

    // A deleted pod is replaced.
    await pods.delete(created[2].metadata!.name!, { namespace: 'rs', gracePeriodSeconds: 0 });
    await eventually('replacement', async () => {
      const now = await podsOf('rs', uid);
      return now.length === 3 && !now.some((p) => p.metadata?.name === created[2].metadata?.name);
    });

    // Scale to 2: the one not-ready pod goes, the ready ones stay.
    await rsClient.patch('web', { spec: { replicas: 2 } }, { namespace: 'rs', type: 'merge' });
    await eventually('2 pods left, both the ready ones', async () => {
      const now = (await podsOf('rs', uid)).map((p) => p.metadata?.name).sort();
      return JSON.stringify(now) === JSON.stringify([created[0].metadata?.name, created[1].metadata?.name].sort());
    });
    await eventually('status follows', async () => {
      const got = await rsClient.get('web', { namespace: 'rs' });
      return got.status?.replicas === 2 && got.status.observedGeneration === 2;
    });
    const events = (await client.resource<Event>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'rs' })).items;
    assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.name === 'web' && /^Created pod: web-/.test(e.message ?? '')));
    assert.ok(events.some((e) => e.reason === 'SuccessfulDelete' && e.source?.component === 'replicaset-controller'));
  });

  test('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    start(REPLICA_SET_KIND, 'adopt');
    const orphan = await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', namespace: 'adopt', labels: { app: 'keep' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const rs = await rsClient.create(replicaSet('adopt', 'keep', 2));
    const uid = rs.metadata?.uid;
    await eventually('orphan adopted, one more created', async () => {
      const owned = await podsOf('adopt', uid);
      return owned.length === 2 && owned.some((p) => p.metadata?.uid === orphan.metadata?.uid);
    });
    await pods.patch('orphan', { metadata: { labels: { app: 'gone' } } }, { namespace: 'adopt', type: 'merge' });
    await eventually('released and replaced', async () => {
      const o = await pods.get('orphan', { namespace: 'adopt' });
      return (o.metadata?.ownerReferences ?? []).length === 0 && (await podsOf('adopt', uid)).length === 2;
    });
  });

  test('creates at most the burst per sync and still reaches the count', async () => {
    const c = start(REPLICA_SET_KIND, 'burst', { burstReplicas: 4 });
    const rounds: number[] = [];
    const expect = c.expectations.expectCreations.bind(c.expectations);
    c.expectations.expectCreations = (key, adds) => {
      rounds.push(adds);
      expect(key, adds);
    };
    const rs = await rsClient.create(replicaSet('burst', 'many', 10));
    await eventually('10 pods', async () => (await podsOf('burst', rs.metadata?.uid)).length === 10);
    await eventually('every creation observed', async () => c.expectations.satisfiedExpectations('burst/many'));
    assert.deepEqual(rounds, [4, 4, 2], 'three syncs of at most 4 creations');
  });

  test('a template the server refuses: FailedCreate event and ReplicaFailure condition', async () => {
    start(REPLICA_SET_KIND, 'fail');
    // Template metadata is checked for labels and annotations only; the pod's finalizer name is refused.
    const bad = replicaSet('fail', 'bad', 1, { template: { metadata: { labels: { app: 'bad' }, finalizers: ['unqualified'] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    await rsClient.create(bad);
    await eventually('ReplicaFailure', async () => {
      const cond = (await rsClient.get('bad', { namespace: 'fail' })).status?.conditions?.find((x) => x.type === 'ReplicaFailure');
      return cond?.status === 'True' && cond.reason === 'FailedCreate' && /finalizer/.test(cond.message ?? '');
    });
    const events = (await client.resource<Event>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'fail' })).items;
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'FailedCreate' && /^Error creating: /.test(e.message ?? '')));
  });

  test('ReplicationControllers through the same implementation', async () => {
    start(REPLICATION_CONTROLLER_KIND, 'rc');
    const rcs = client.resource<ReplicationController>({ group: '', version: 'v1', resource: 'replicationcontrollers' });
    const rc = await rcs.create({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'old', namespace: 'rc' },
      spec: { replicas: 2, selector: { app: 'old' }, template: { metadata: { labels: { app: 'old' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await eventually('2 pods', async () => (await podsOf('rc', rc.metadata?.uid)).length === 2);
    const p = (await podsOf('rc', rc.metadata?.uid))[0];
    assert.deepEqual(p.metadata?.ownerReferences?.[0], { apiVersion: 'v1', kind: 'ReplicationController', name: 'old', uid: rc.metadata?.uid, controller: true, blockOwnerDeletion: true });
    await eventually('status', async () => (await rcs.get('old', { namespace: 'rc' })).status?.replicas === 2);
    const events = (await client.resource<Event>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'rc' })).items;
    assert.ok(events.some((e) => e.source?.component === 'replication-controller' && e.reason === 'SuccessfulCreate'));
  });
});
