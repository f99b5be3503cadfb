// The StatefulSet controller: identity and retention-policy rules as pure functions, then sync() driven by hand
// against a complete in-process API with a FakeClock (so minReadySeconds is stepped, not waited for). Pods are made
// Running and Ready by writing their status, as a kubelet would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Namespace, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, SharedInformerFactory, type EventType, type ObjectLike, type ResourceClient, type RestClient } from '../../client/index.js';
import { formatTime } from '../../machinery/time.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { StatefulSetController } from './statefulset-controller.js';
import { claimOwnerMatchesSetAndPod, newVersionedStatefulSetPod, parentNameAndOrdinal, updateClaimOwnerRefForSetAndPod } from './utils.js';

const log = createLogger('error');

describe('StatefulSet identity and claim retention rules', () => {
  test('pod names parse into parent and ordinal', () => {
    assert.deepEqual(parentNameAndOrdinal({ metadata: { name: 'web-12' } }), { parent: 'web', ordinal: 12 });
    assert.deepEqual(parentNameAndOrdinal({ metadata: { name: 'my-db-0' } }), { parent: 'my-db', ordinal: 0 });
    assert.equal(parentNameAndOrdinal({ metadata: { name: 'web' } }).ordinal, -1);
    assert.equal(parentNameAndOrdinal({ metadata: { name: 'web-99999999999' } }).ordinal, -1);
  });

  test('ordinals below the partition are made at the current revision, the others at the update revision', () => {
    const set = (image: string): StatefulSet => ({
      metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
      spec: {
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
        ordinals: { start: 1 },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }],
      },
    });
    const low = newVersionedStatefulSetPod(set('old'), set('new'), 'web-a', 'web-b', 2);
    const high = newVersionedStatefulSetPod(set('old'), set('new'), 'web-a', 'web-b', 3);
    assert.equal(low.spec?.containers[0].image, 'old');
    assert.equal(low.metadata?.labels?.['controller-revision-hash'], 'web-a');
    assert.equal(high.spec?.containers[0].image, 'new');
    assert.equal(high.metadata?.labels?.['controller-revision-hash'], 'web-b');
    assert.equal(high.metadata?.name, 'web-3');
    assert.deepEqual(high.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-3' } }]);
    assert.equal(high.spec?.hostname, 'web-3');
    assert.equal(high.spec?.subdomain, 'web');
  });

  test('claim ownerReferences follow whenDeleted/whenScaled', () => {
    const set = (whenDeleted: string, whenScaled: string): StatefulSet => ({
      metadata: { name: 'web', uid: 'set-uid' },
      spec: { replicas: 2, selector: {}, serviceName: 'web', template: {}, persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } },
    });
    const live: Pod = { metadata: { name: 'web-1', uid: 'pod-1' } };
    const condemned: Pod = { metadata: { name: 'web-5', uid: 'pod-5' } };
    const owners = (claim: PersistentVolumeClaim) => (claim.metadata?.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}`);
    const cases: [string, string, Pod, string[]][] = [
      ['Retain', 'Retain', live, []],
      ['Delete', 'Retain', live, ['StatefulSet/web']],
      ['Delete', 'Retain', condemned, ['StatefulSet/web']],
      ['Retain', 'Delete', live, []],
      ['Retain', 'Delete', condemned, ['Pod/web-5']],
      ['Delete', 'Delete', live, ['StatefulSet/web']],
      ['Delete', 'Delete', condemned, ['Pod/web-5']],
    ];
    for (const [whenDeleted, whenScaled, pod, want] of cases) {
      const s = set(whenDeleted, whenScaled);
      // Start from the opposite state: both references present.
      const claim: PersistentVolumeClaim = {
        metadata: {
          name: 'data',
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' },
            { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
          ],
        },
      };
      const fresh: PersistentVolumeClaim = { metadata: { name: 'data' } };
      for (const c of [claim, fresh]) {
        updateClaimOwnerRefForSetAndPod(c, s, pod);
        assert.deepEqual(owners(c), want, `${whenDeleted}/${whenScaled} ${pod.metadata?.name}`);
        assert.ok(claimOwnerMatchesSetAndPod(c, s, pod));
        assert.equal(updateClaimOwnerRefForSetAndPod(c, s, pod), false, 'already as wanted: no change');
      }
    }
  });
});

describe('StatefulSet controller sync against an in-process API', () => {
  let api: InProcessApi;
  let client: RestClient;
  let sets: ResourceClient<StatefulSet>;
  let pods: ResourceClient<Pod>;
  let claims: ResourceClient<PersistentVolumeClaim>;
  let revisions: ResourceClient<ControllerRevision>;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    api = await startInProcessApi();
    client = api.client;
    sets = client.resource<StatefulSet>({ group: 'apps', version: 'v1', resource: 'statefulsets' });
    pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    claims = client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
    revisions = client.resource<ControllerRevision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions' });
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    for (const name of ['ordered', 'ondelete', 'maxunavail', 'retention', 'stale-claims', 'history']) await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  interface Harness {
    c: StatefulSetController;
    clock: FakeClock;
    events: string[];
    /** sync once the informers hold at least what the server has now. */
    sync(): Promise<void>;
  }

  /** A controller on its own informers for one namespace; sync() is called by the test, never by workers. */
  async function start(ns: string, name: string): Promise<Harness> {
    const informers = new SharedInformerFactory(client, { namespace: ns });
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const events: string[] = [];
    const recorder = { event: (_o: ObjectLike, type: EventType, reason: string, message: string) => void events.push(`${type} ${reason} ${message}`) };
    const c = new StatefulSetController({ client, informers, clock, log }, { recorder });
    informers.start();
    stops.push(() => informers.shutdown());
    assert.ok(await informers.waitForCacheSync());
    const caughtUp = async () => {
      const [p, s, r, v] = await Promise.all([pods.list({ namespace: ns }), sets.list({ namespace: ns }), claims.list({ namespace: ns }), revisions.list({ namespace: ns })]);
      const rvs = (items: ObjectLike[], inf: { lister(): { namespace(n: string): { get(x: string): ObjectLike | undefined; list(): ObjectLike[] } } }) =>
        items.every((o) => inf.lister().namespace(ns).get(o.metadata?.name ?? '')?.metadata?.resourceVersion === o.metadata?.resourceVersion) && inf.lister().namespace(ns).list().length === items.length;
      return rvs(p.items, c.pods) && rvs(s.items, c.sets) && rvs(r.items, c.claims) && rvs(v.items, c.revisions);
    };
    return {
      c,
      clock,
      events,
      sync: async () => {
        await eventually('informers caught up', caughtUp);
        await c.sync(`${ns}/${name}`);
      },
    };
  }

  const statefulSet = (ns: string, name: string, spec: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  });

  const names = async (ns: string) => (await pods.list({ namespace: ns })).items.map((p) => p.metadata?.name ?? '').sort();
  const markReady = (ns: string, name: string, at: number) =>
    pods.patch(name, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(new Date(at)) }] } }, { namespace: ns, type: 'merge', subresource: 'status' });
  const setImage = async (ns: string, name: string, image: string) => {
    await sets.patch(name, { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } }, { namespace: ns, type: 'strategic' });
  };
  const revisionOf = async (ns: string, pod: string) => (await pods.get(pod, { namespace: ns })).metadata?.labels?.['controller-revision-hash'];

  test('OrderedReady: one pod per sync, each waiting for its predecessor to be Running, Ready and available (minReadySeconds on the FakeClock)', async () => {
    const h = await start('ordered', 'web');
    await sets.create(statefulSet('ordered', 'web', { minReadySeconds: 10 }));
    await h.sync();
    assert.deepEqual(await names('ordered'), ['web-0']);
    assert.deepEqual((await claims.list({ namespace: 'ordered' })).items.map((c) => c.metadata?.name), ['data-web-0']);
    await h.sync();
    assert.deepEqual(await names('ordered'), ['web-0'], 'web-0 is Pending: nothing more');
    await markReady('ordered', 'web-0', h.clock.now());
    await h.sync();
    assert.deepEqual(await names('ordered'), ['web-0'], 'ready but not yet available for 10 s');
    let st = (await sets.get('web', { namespace: 'ordered' })).status;
    assert.equal(st?.readyReplicas, 1);
    assert.equal(st?.availableReplicas, 0);
    h.clock.step(11_000);
    await h.sync();
    assert.deepEqual(await names('ordered'), ['web-0', 'web-1']);
    st = (await sets.get('web', { namespace: 'ordered' })).status;
    assert.equal(st?.availableReplicas, 1);
    assert.equal(st?.observedGeneration, 1);
    assert.match(st?.currentRevision ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(st?.currentRevision, st?.updateRevision);
    assert.equal(st?.collisionCount, 0);
    assert.ok(h.events.includes('Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful'));
    assert.ok(h.events.includes('Normal SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success'));

    // A failed pod is deleted and made again.
    await pods.patch('web-1', { status: { phase: 'Failed' } }, { namespace: 'ordered', type: 'merge', subresource: 'status' });
    const uid = (await pods.get('web-1', { namespace: 'ordered' })).metadata?.uid;
    await h.sync();
    assert.ok(h.events.includes('Warning RecreatingFailedPod StatefulSet ordered/web is recreating failed Pod web-1'));
    assert.notEqual((await pods.get('web-1', { namespace: 'ordered' })).metadata?.uid, uid);
  });

  test('OnDelete: a new template touches no pod until one is deleted, which comes back at the update revision', async () => {
    const h = await start('ondelete', 'db');
    await sets.create(statefulSet('ondelete', 'db', { replicas: 2, podManagementPolicy: 'Parallel', updateStrategy: { type: 'OnDelete' } }));
    await h.sync();
    assert.deepEqual(await names('ondelete'), ['db-0', 'db-1'], 'Parallel: both at once');
    for (const p of ['db-0', 'db-1']) await markReady('ondelete', p, h.clock.now());
    await h.sync();
    const rev1 = await revisionOf('ondelete', 'db-0');
    await setImage('ondelete', 'db', 'img:2');
    await h.sync();
    const st = (await sets.get('db', { namespace: 'ondelete' })).status;
    assert.notEqual(st?.updateRevision, rev1);
    assert.equal(st?.currentRevision, rev1);
    assert.equal(await revisionOf('ondelete', 'db-0'), rev1);
    assert.equal(await revisionOf('ondelete', 'db-1'), rev1);
    await pods.delete('db-0', { namespace: 'ondelete' });
    await h.sync();
    assert.equal(await revisionOf('ondelete', 'db-0'), st?.updateRevision);
    assert.equal((await pods.get('db-0', { namespace: 'ondelete' })).spec?.containers[0].image, 'img:2');
    assert.equal(await revisionOf('ondelete', 'db-1'), rev1);
  });

  test('RollingUpdate with maxUnavailable 2 replaces two pods at once, highest ordinals first', async () => {
    const h = await start('maxunavail', 'kv');
    await sets.create(statefulSet('maxunavail', 'kv', { replicas: 4, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
    await h.sync();
    for (const p of await names('maxunavail')) await markReady('maxunavail', p, h.clock.now());
    await h.sync();
    const uids = new Map((await pods.list({ namespace: 'maxunavail' })).items.map((p) => [p.metadata?.name, p.metadata?.uid]));
    await setImage('maxunavail', 'kv', 'img:2');
    await h.sync();
    const after = (await pods.list({ namespace: 'maxunavail' })).items;
    const replaced = ['kv-0', 'kv-1', 'kv-2', 'kv-3'].filter((n) => {
      const p = after.find((x) => x.metadata?.name === n);
      return !p || p.metadata?.uid !== uids.get(n);
    });
    assert.deepEqual(replaced, ['kv-2', 'kv-3']);
    assert.ok(h.events.includes('Normal SuccessfulDelete delete Pod kv-3 in StatefulSet kv successful'));
  });

  test('persistentVolumeClaimRetentionPolicy: claims carry the set reference (WhenDeleted) and, once scaled down, the pod reference (WhenScaled)', async () => {
    const h = await start('retention', 'r');
    await sets.create(statefulSet('retention', 'r', { replicas: 2, podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
    await h.sync();
    for (const p of await names('retention')) await markReady('retention', p, h.clock.now());
    await h.sync();
    const owners = async (claim: string) => ((await claims.get(claim, { namespace: 'retention' })).metadata?.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`);
    assert.deepEqual(await owners('data-r-0'), ['StatefulSet/r']);
    assert.deepEqual(await owners('data-r-1'), ['StatefulSet/r']);
    await sets.patch('r', { spec: { replicas: 1 } }, { namespace: 'retention', type: 'merge' });
    await h.sync();
    assert.deepEqual(await owners('data-r-1'), ['Pod/r-1'], 'the condemned pod owns its claim, so the claim goes with it');
    assert.deepEqual(await owners('data-r-0'), ['StatefulSet/r']);
    await eventually('r-1 deleted', async () => {
      await h.sync();
      return (await names('retention')).join() === 'r-0';
    });
  });

  test('a claim the sync just created gets its set reference even before the claim cache has seen it', async () => {
    const h = await start('stale-claims', 's');
    await h.c.claims.stop(); // the claim cache stays empty: no claim event reaches it
    await sets.create(statefulSet('stale-claims', 's', { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
    await eventually('set cached', async () => h.c.sets.lister().namespace('stale-claims').get('s') !== undefined);
    await h.c.sync('stale-claims/s');
    const claim = await claims.get('data-s-0', { namespace: 'stale-claims' });
    assert.deepEqual((claim.metadata?.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`), ['StatefulSet/s']);
  });

  test('history: revisions are numbered, a return to an old template renumbers it, and old ones are truncated to revisionHistoryLimit', async () => {
    const h = await start('history', 'h');
    await sets.create(statefulSet('history', 'h', { replicas: 1, revisionHistoryLimit: 1, updateStrategy: { type: 'OnDelete' } }));
    await h.sync();
    const list = async () => (await revisions.list({ namespace: 'history' })).items.map((r) => `${r.revision}:${(r.data as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0].image}`).sort();
    assert.deepEqual(await list(), ['1:img:1']);
    const rev = (await revisions.list({ namespace: 'history' })).items[0];
    assert.equal(rev.metadata?.labels?.['controller.kubernetes.io/hash'], rev.metadata?.name?.slice('h-'.length));
    assert.equal((rev.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
    assert.deepEqual(rev.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.controller}`), ['StatefulSet/h/true']);
    await setImage('history', 'h', 'img:2');
    await h.sync();
    assert.deepEqual(await list(), ['1:img:1', '2:img:2']);
    await setImage('history', 'h', 'img:1');
    await h.sync();
    assert.deepEqual(await list(), ['2:img:2', '3:img:1'], 'img:1 is revision 3 now');
    // The pod and status.currentRevision keep img:1 (revision 3) live; one historic revision is allowed.
    await setImage('history', 'h', 'img:3');
    await h.sync();
    assert.deepEqual(await list(), ['2:img:2', '3:img:1', '4:img:3']);
    await setImage('history', 'h', 'img:4');
    await h.sync();
    assert.deepEqual(await list(), ['3:img:1', '4:img:3', '5:img:4'], 'the oldest historic revision goes');
  });
});
