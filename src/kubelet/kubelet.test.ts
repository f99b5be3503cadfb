import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ConfigMap, Namespace, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../test/e2e/harness.js';
import { FakeClock, type RestClient } from '../client/index.js';
import { startInProcessApi, type InProcessApi } from '../controllers/testing/in-process-api.js';
import { Kubelet, NODE_LEASE_NAMESPACE, onlyStatusChanged } from './kubelet.js';
import type { WatchingObjectSource } from './pods/objects.js';
import { DEFAULT_SYNC_FREQUENCY_MS, resyncDelayMs, syncFrequencyFromKubeletArgs } from './pods/resync.js';
import type { SyncResult } from './pods/sync.js';

const base: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '1', labels: { a: 'b' } },
  spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }] },
  status: { phase: 'Pending' },
};

test('onlyStatusChanged: status and resourceVersion changes need no pod sync; spec and metadata changes do', () => {
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, resourceVersion: '2' }, status: { phase: 'Running' } }), true);
  const withEphemeral: Pod = { ...base, spec: { ...base.spec!, ephemeralContainers: [{ name: 'debug', image: 'busybox' }] } };
  assert.equal(onlyStatusChanged(base, withEphemeral), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } }), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, labels: { a: 'c' } } }), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, annotations: { x: 'y' } } }), false);
});

// --- per-pod resync (--sync-frequency with jitter) and ConfigMap/Secret changes enqueueing the pods that mount them ---

interface KubeletInternals {
  staticPods: Map<string, Pod>;
  syncer: { sync(pod: Pod): Promise<SyncResult>; probes: { stop(): void } };
  objects: WatchingObjectSource | undefined;
  newObjectSource(): WatchingObjectSource;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function podUsing(uid: string, namespace: string, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { metadata: { name: uid, namespace, uid }, spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec }, status: { phase: 'Running' } };
}

/** A Kubelet whose pods are `pods` (as static pods) and whose syncer only counts syncs per UID. */
function kubeletWithPods(client: RestClient, clock: FakeClock, pods: Pod[], opts: { random?: () => number; syncFrequencyMs?: number; result?: (uid: string) => SyncResult } = {}) {
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const k = new Kubelet({ client, nodeName: 'n1', nodeIP: '127.0.0.1', controlPlane: false, agentDir: '/nonexistent', clusterDNS: [], log, clock, ...opts });
  const syncs = new Map<string, number>();
  const inner = k as unknown as KubeletInternals;
  for (const p of pods) inner.staticPods.set(p.metadata!.uid!, p);
  inner.syncer = {
    sync: async (pod) => {
      const uid = pod.metadata!.uid!;
      syncs.set(uid, (syncs.get(uid) ?? 0) + 1);
      return opts.result?.(uid) ?? {};
    },
    probes: { stop: () => undefined },
  };
  return { k, inner, syncs };
}

let api: InProcessApi | undefined;
after(async () => {
  await api?.close();
});

test('resyncDelayMs: the period plus up to half of it (upstream wait.Jitter with factor 0.5); sync-frequency flag', () => {
  assert.equal(resyncDelayMs(60_000, 0), 60_000);
  assert.equal(resyncDelayMs(60_000, 0.5), 75_000);
  assert.equal(resyncDelayMs(60_000, 0.999), 60_000 + 0.999 * 30_000);
  assert.equal(DEFAULT_SYNC_FREQUENCY_MS, 60_000);
  assert.equal(syncFrequencyFromKubeletArgs(['image-gc-high-threshold=90']), undefined);
  assert.equal(syncFrequencyFromKubeletArgs(['sync-frequency=30s', '--sync-frequency=2m']), 120_000);
  assert.throws(() => syncFrequencyFromKubeletArgs(['sync-frequency=soon']), /invalid duration/);
  assert.throws(() => syncFrequencyFromKubeletArgs(['sync-frequency=0s']), /invalid duration/);
});

test('each pod is synced again --sync-frequency plus its own jitter after its last sync; a sooner requeue wins', async () => {
  api ??= await startInProcessApi();
  const clock = new FakeClock(Date.parse('2026-11-27T09:00:00Z'));
  const advance = async (ms: number) => {
    clock.step(ms);
    await settle();
  };
  let r = 0;
  const pods = [podUsing('a', 'default', {}), podUsing('b', 'default', {}), podUsing('c', 'default', {})];
  const { k, syncs } = kubeletWithPods(api.client, clock, pods, {
    random: () => r,
    result: (uid) => (uid === 'c' ? { requeueAfterMs: 5000 } : {}),
  });
  k.enqueue('a');
  await settle();
  r = 0.5;
  k.enqueue('b');
  await settle();
  k.enqueue('c');
  await settle();
  assert.deepEqual([...syncs], [['a', 1], ['b', 1], ['c', 1]]);
  // a: 60 s + 0; b: 60 s + 0.5 × 30 s = 75 s; c asked for 5 s (every 5 s, sooner than its resync).
  await advance(5000);
  assert.deepEqual([syncs.get('a'), syncs.get('b'), syncs.get('c')], [1, 1, 2]);
  r = 0;
  await advance(54_999);
  assert.equal(syncs.get('a'), 1, 'no resync before the period');
  await advance(1);
  assert.equal(syncs.get('a'), 2, 'a resynced at 60 s');
  assert.equal(syncs.get('b'), 1, 'b waits for its jitter');
  await advance(14_999);
  assert.equal(syncs.get('b'), 1);
  await advance(1);
  assert.equal(syncs.get('b'), 2, 'b resynced at 75 s');
  // A sync for another reason (an informer event) moves the next resync to a period after it.
  clock.step(30_000);
  k.enqueue('b');
  await settle();
  assert.equal(syncs.get('b'), 3);
  await advance(59_999);
  assert.equal(syncs.get('b'), 3, 'the resync after the event sync is not yet due');
  await advance(1);
  assert.equal(syncs.get('b'), 4, 'resynced a period after the event sync');
  await k.stop();
});

test('a ConfigMap or Secret change syncs exactly the pods whose volumes use it (configMap, secret, projected)', async () => {
  api ??= await startInProcessApi();
  const clock = new FakeClock(Date.parse('2026-11-27T09:00:00Z'));
  const nsClient = api.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
  for (const name of ['rs1', 'rs2']) await nsClient.create({ metadata: { name } });
  const cms = api.client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
  const secrets = api.client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
  await cms.create({ metadata: { name: 'cfg', namespace: 'rs1' }, data: { k: 'v1' } });
  await cms.create({ metadata: { name: 'cfg', namespace: 'rs2' }, data: { k: 'v1' } });
  await cms.create({ metadata: { name: 'other', namespace: 'rs1' }, data: { k: 'v1' } });
  await secrets.create({ metadata: { name: 'cfg', namespace: 'rs1' }, data: { k: 'dg==' } });
  const envFromCfg = [{ name: 'app', image: 'busybox', envFrom: [{ configMapRef: { name: 'cfg' } }] }];
  const pods = [
    podUsing('vol', 'rs1', { volumes: [{ name: 'v', configMap: { name: 'cfg' } }] }),
    podUsing('proj', 'rs1', { volumes: [{ name: 'v', projected: { sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 'cfg' } }] } }] }),
    podUsing('env', 'rs1', { containers: envFromCfg }),
    podUsing('other', 'rs1', { volumes: [{ name: 'v', configMap: { name: 'other' } }] }),
    podUsing('secret', 'rs1', { volumes: [{ name: 'v', secret: { secretName: 'cfg' } }] }),
    podUsing('elsewhere', 'rs2', { volumes: [{ name: 'v', configMap: { name: 'cfg' } }] }),
  ];
  const { k, inner, syncs } = kubeletWithPods(api.client, clock, pods);
  assert.deepEqual(k.podsUsingInVolumes('configmap/rs1/cfg').sort(), ['proj', 'vol']);
  assert.deepEqual(k.podsUsingInVolumes('secret/rs1/cfg').sort(), ['proj', 'secret']);
  // The pods' syncs read their objects through the watching source (what starts the watches).
  const objects = (inner.objects = inner.newObjectSource());
  await objects.configMap('rs1', 'cfg');
  await objects.configMap('rs1', 'other');
  await objects.configMap('rs2', 'cfg');
  await objects.secret('rs1', 'cfg');
  await settle();
  assert.equal(syncs.size, 0, 'the first reads enqueue nothing');

  await cms.patch('cfg', { data: { k: 'v2' } }, { type: 'merge', namespace: 'rs1' });
  await eventually('the pods mounting rs1/cfg synced', async () => syncs.get('vol') === 1 && syncs.get('proj') === 1, 10_000);
  await settle();
  assert.deepEqual(Object.fromEntries(syncs), { vol: 1, proj: 1 }, 'env-only, other-object and other-namespace pods are not synced');

  await secrets.patch('cfg', { data: { k: 'dzI=' } }, { type: 'merge', namespace: 'rs1' });
  await eventually('the pods mounting secret rs1/cfg synced', async () => syncs.get('secret') === 1 && syncs.get('proj') === 2, 10_000);
  await settle();
  assert.deepEqual(Object.fromEntries(syncs), { vol: 1, proj: 2, secret: 1 });
  await k.stop();
});

// --- node lease renewal (upstream's lease controller: update from the last-known lease, GET only after a failure) ---

test('lease renewal updates the lease the last write returned; a conflict or a deleted lease falls back to a GET', async () => {
  api ??= await startInProcessApi();
  const clock = new FakeClock(Date.parse('2026-11-27T12:00:00Z'));
  await api.client
    .resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' })
    .create({ metadata: { name: NODE_LEASE_NAMESPACE } })
    .catch(() => undefined);
  const { k } = kubeletWithPods(api.client, clock, []);
  const leases = api.client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
  const calls: string[] = [];
  const counted = new Proxy(leases, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || !['get', 'update', 'create'].includes(String(prop))) return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const inner = k as unknown as { leases: typeof leases; nodeUid: string; renewLease(): Promise<void> };
  inner.leases = counted;
  inner.nodeUid = 'node-uid-1';
  const stored = () => leases.get('n1', { namespace: NODE_LEASE_NAMESPACE });

  await inner.renewLease();
  assert.deepEqual(calls.splice(0), ['get', 'create']);
  assert.equal((await stored()).spec?.holderIdentity, 'n1');
  for (let i = 1; i <= 3; i++) {
    clock.step(10_000);
    await inner.renewLease();
    assert.deepEqual(calls.splice(0), ['update'], `renewal ${i} reads nothing`);
    assert.equal(Date.parse((await stored()).spec!.renewTime!), clock.now());
  }
  // Another writer moved the lease on: the update from the cached copy conflicts, the stored lease is read and updated.
  const other = await stored();
  await leases.update({ ...other, metadata: { ...other.metadata, labels: { touched: 'yes' } } });
  clock.step(10_000);
  await inner.renewLease();
  assert.deepEqual(calls.splice(0), ['update', 'get', 'update']);
  const renewed = await stored();
  assert.equal(Date.parse(renewed.spec!.renewTime!), clock.now());
  assert.equal(renewed.metadata?.labels?.touched, 'yes');
  clock.step(10_000);
  await inner.renewLease();
  assert.deepEqual(calls.splice(0), ['update']);
  // The lease was deleted: the update fails, the GET finds nothing, the lease is created again.
  await leases.delete('n1', { namespace: NODE_LEASE_NAMESPACE });
  clock.step(10_000);
  await inner.renewLease();
  assert.deepEqual(calls.splice(0), ['update', 'get', 'create']);
  assert.equal(Date.parse((await stored()).spec!.renewTime!), clock.now());
});
