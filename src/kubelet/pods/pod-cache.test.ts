// The PLEG's pod cache: entries stamped with when they were read, GetNewerThan waiting for a relist newer than a sync's
// own writes, the relist reading the full state only of pods whose state changed, and pods gone from the runtime
// leaving the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/index.js';
import type { CriClient } from '../cri/client.js';
import type { RelistItem } from '../cri/relist-wire.js';
import type { ContainerStatus, PodSandbox, PodSandboxStatus } from '../cri/types.js';
import { Pleg, RuntimePodCache } from './pod-cache.js';
import { fingerprintOf, LABEL_MANAGED, LABEL_POD_UID, type RuntimePod } from './runtime-state.js';

const T0 = Date.parse('2026-11-27T18:00:00Z');

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

/** Follows a GetNewerThan read: `done` once it resolved, with the pod it gave. */
function track(p: Promise<RuntimePod | undefined>) {
  const r: { done: boolean; pod: RuntimePod | undefined } = { done: false, pod: undefined };
  void p.then((pod) => {
    r.done = true;
    r.pod = pod;
  });
  return r;
}

const podOf = (uid: string, state: 'running' | 'exited'): RuntimePod => ({
  uid,
  name: uid,
  namespace: 'default',
  sandboxes: [{ id: `s-${uid}`, attempt: 0, ready: true, createdAt: T0, ip: '198.18.0.7', additionalIps: [] }],
  containers: [
    { id: `c-${uid}`, sandboxId: `s-${uid}`, name: 'app', attempt: 0, restartCount: 0, state, createdAt: T0, startedAt: T0, finishedAt: 0, exitCode: 0, reason: '', message: '', image: 'busybox', imageRef: 'sha256:x' },
  ],
});

test('RuntimePodCache: GetNewerThan waits for an entry or a relist newer than the time given; older data never replaces newer', async () => {
  const cache = new RuntimePodCache();
  // Before any relist nothing is known: even a pod's first read waits.
  let got = track(cache.getNewerThan('u1', -Infinity));
  await settle();
  assert.equal(got.done, false);
  cache.set('u1', podOf('u1', 'running'), 100);
  await settle();
  assert.equal(got.pod?.uid, 'u1');

  // A sync that ended at 200 (and recorded what it saw then) reads again only after a relist started after 200.
  cache.set('u1', podOf('u1', 'exited'), 200);
  got = track(cache.getNewerThan('u1', 200));
  cache.updateTime(150);
  await settle();
  assert.equal(got.done, false, 'a relist that started before the sync ended is not newer');
  cache.updateTime(201);
  await settle();
  assert.equal(got.pod?.containers[0]?.state, 'exited');

  // A relist's read that started before the entry's time does not replace it.
  assert.equal(cache.set('u1', podOf('u1', 'running'), 180), false);
  assert.equal(cache.get('u1')?.containers[0]?.state, 'exited');
  // A pod with nothing in the runtime is no entry's pod; unknown pods are undefined once a relist is newer.
  cache.set('u2', { uid: 'u2', name: 'u2', namespace: 'default', sandboxes: [], containers: [] }, 300);
  assert.equal(cache.get('u2'), undefined);
  assert.equal(await cache.getNewerThan('nobody', 0), undefined);
  // Deleting honours entries read after the deleting relist started.
  cache.delete('u1', 199);
  assert.equal(cache.has('u1'), true);
  cache.delete('u1', 201);
  assert.equal(cache.has('u1'), false);
  // Stopping releases waiters.
  got = track(cache.getNewerThan('u2', 10_000));
  cache.stop();
  await settle();
  assert.equal(got.done, true);
  assert.equal(got.pod, undefined);
});

/** A containerd of pods `u1`, `u2` (one sandbox and one container each) that counts its calls. */
function fakeRuntime() {
  const state = new Map<string, ContainerStatus['state']>([
    ['u1', 'CONTAINER_RUNNING'],
    ['u2', 'CONTAINER_RUNNING'],
  ]);
  const calls = { relists: 0, lists: 0, statuses: 0 };
  const labels = (uid: string) => ({ [LABEL_POD_UID]: uid, [LABEL_MANAGED]: 'true', 'io.kubernetes.pod.name': uid, 'io.kubernetes.pod.namespace': 'default' });
  const pick = (sel?: Record<string, string>) => [...state.keys()].filter((uid) => !sel?.[LABEL_POD_UID] || sel[LABEL_POD_UID] === uid);
  const cri = {
    listPodSandboxStates: async () => {
      calls.relists++;
      return [...state.keys()].map((uid) => ({ id: `s-${uid}`, state: 'SANDBOX_READY', label: uid })) as RelistItem[];
    },
    listContainerStates: async () => [...state.entries()].map(([uid, s]) => ({ id: `c-${uid}`, state: s, label: uid })) as RelistItem[],
    listPodSandbox: async (f: { labelSelector?: Record<string, string> }) => {
      calls.lists++;
      return pick(f.labelSelector).map((uid) => ({ id: `s-${uid}`, state: 'SANDBOX_READY', labels: labels(uid), metadata: { attempt: 0 }, createdAt: T0 * 1e6 })) as unknown as PodSandbox[];
    },
    listContainers: async (f: { labelSelector?: Record<string, string> }) => pick(f.labelSelector).map((uid) => ({ id: `c-${uid}`, podSandboxId: `s-${uid}`, state: state.get(uid), labels: labels(uid) })),
    podSandboxStatus: async () => {
      calls.statuses++;
      return { network: { ip: '198.18.0.7', additionalIps: [] } } as unknown as PodSandboxStatus;
    },
    containerStatus: async (id: string) => {
      calls.statuses++;
      const uid = id.slice(2);
      const s = state.get(uid);
      if (!s) throw new Error('not found');
      return { id, metadata: { name: 'app', attempt: 0 }, state: s, createdAt: T0 * 1e6, startedAt: T0 * 1e6, finishedAt: 0, exitCode: 0, reason: '', message: '', annotations: {}, labels: labels(uid), image: { image: 'busybox' }, imageRef: 'sha256:x', mounts: [] } as unknown as ContainerStatus;
    },
  } as unknown as CriClient;
  return { cri, state, calls };
}

test('the relist reads the full state only of pods whose state changed, into the cache, before asking for their sync', async () => {
  const clock = new FakeClock(T0);
  const cache = new RuntimePodCache();
  const rt = fakeRuntime();
  const changes: { uid: string; cached: string | undefined }[] = [];
  const pleg = new Pleg({ cri: rt.cri, clock, cache, onChange: (uid) => changes.push({ uid, cached: cache.get(uid)?.containers[0]?.state }) });

  // First relist: both pods are new (an agent restart adopts what runs): both read and synced.
  await pleg.relist();
  assert.deepEqual(changes.map((c) => c.uid).sort(), ['u1', 'u2']);
  assert.ok(changes.every((c) => c.cached === 'running'), 'the cache holds the pod before its sync is asked for');
  assert.equal(cache.time, T0);
  assert.equal(rt.calls.lists, 2);

  // Nothing changed: list calls only, no status read, no sync.
  changes.length = 0;
  const statuses = rt.calls.statuses;
  clock.step(1000);
  await pleg.relist();
  assert.deepEqual(changes, []);
  assert.equal(rt.calls.statuses, statuses);
  assert.equal(rt.calls.lists, 2);
  assert.equal(cache.time, T0 + 1000);

  // One container exits: only its pod is read again (list filtered by its UID) and synced.
  rt.state.set('u2', 'CONTAINER_EXITED');
  clock.step(1000);
  await pleg.relist();
  assert.deepEqual(changes, [{ uid: 'u2', cached: 'exited' }]);
  assert.equal(rt.calls.lists, 3);
  assert.equal(cache.get('u1')?.containers[0]?.state, 'running');

  // Its sandbox and container removed: the pod leaves the cache (and the PLEG's fingerprints).
  rt.state.delete('u2');
  clock.step(1000);
  await pleg.relist();
  assert.equal(cache.has('u2'), false);
  assert.equal(pleg.knows('u2'), false);
  assert.equal(pleg.knows('u1'), true);
});

test('after its own runtime writes a sync reads the cache only once a later relist confirmed or refreshed it', async () => {
  const clock = new FakeClock(T0);
  const cache = new RuntimePodCache();
  const rt = fakeRuntime();
  rt.state.delete('u2');
  const changes: string[] = [];
  const pleg = new Pleg({ cri: rt.cri, clock, cache, onChange: (uid) => changes.push(uid) });
  await pleg.relist();
  changes.length = 0;

  // A sync killed the container and saw it exited: it records that view at the time it ended.
  clock.step(300);
  rt.state.set('u1', 'CONTAINER_EXITED');
  const seen = podOf('u1', 'exited');
  const ended = clock.now();
  pleg.recordSync('u1', seen, fingerprintOf(seen), ended);
  let got = track(cache.getNewerThan('u1', ended));
  await settle();
  assert.equal(got.done, false, 'the next sync waits for a relist after its writes');

  // The relist finds the runtime as the sync left it: no read, no sync asked for, and the waiting sync gets the view.
  const lists = rt.calls.lists;
  clock.step(700);
  await pleg.relist();
  await settle();
  assert.equal(got.pod?.containers[0]?.state, 'exited');
  assert.deepEqual(changes, []);
  assert.equal(rt.calls.lists, lists);

  // A sync whose recorded view is not what the runtime holds (the container was started again meanwhile): the relist
  // reads the pod again, replaces the entry and asks for a sync.
  clock.step(100);
  const ended2 = clock.now();
  pleg.recordSync('u1', seen, fingerprintOf(seen), ended2);
  rt.state.set('u1', 'CONTAINER_RUNNING');
  got = track(cache.getNewerThan('u1', ended2));
  clock.step(900);
  await pleg.relist();
  await settle();
  assert.deepEqual(changes, ['u1']);
  assert.equal(rt.calls.lists, lists + 1);
  assert.equal(got.pod?.containers[0]?.state, 'running');
});

test('a pod whose state could not be read is read again by the next relist, and the cache is not newer until it is', async () => {
  const clock = new FakeClock(T0);
  const cache = new RuntimePodCache();
  const rt = fakeRuntime();
  const changes: string[] = [];
  const pleg = new Pleg({ cri: rt.cri, clock, cache, onChange: (uid) => changes.push(uid) });
  await pleg.relist();
  changes.length = 0;

  // u2's container exits, and the read of u2's full state fails once (containerd restarting, say).
  rt.state.set('u2', 'CONTAINER_EXITED');
  const listContainers = rt.cri.listContainers.bind(rt.cri);
  let failures = 1;
  rt.cri.listContainers = async (f) => {
    if (f?.labelSelector?.[LABEL_POD_UID] === 'u2' && failures-- > 0) throw new Error('connection refused');
    return listContainers(f);
  };
  const ended = clock.now();
  const got = track(cache.getNewerThan('u2', ended));
  clock.step(1000);
  await assert.rejects(pleg.relist(), /reading the runtime state of 1 pod\(s\) failed/);
  await settle();
  assert.deepEqual(changes, [], 'no sync is asked for on a state that was not read');
  assert.equal(got.done, false, 'a waiting sync does not take the stale entry as newer');
  assert.equal(cache.get('u2')?.containers[0]?.state, 'running');

  // The runtime is unchanged since, yet the next relist reads u2 again and asks for its sync.
  clock.step(1000);
  await pleg.relist();
  await settle();
  assert.deepEqual(changes, ['u2']);
  assert.equal(got.pod?.containers[0]?.state, 'exited');
  assert.equal(cache.time, T0 + 2000);
});
