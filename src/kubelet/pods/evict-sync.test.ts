// The pod worker's eviction: the kill honours the eviction's grace period and the pod ends Failed/Evicted with the
// DisruptionTarget condition (node pressure) or without it (local-storage limits), as upstream's evictPod.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { FakeClock, type CoreEventRecorder, type ResourceClient } from '../../client/index.js';
import type { CriClient } from '../cri/client.js';
import type { ContainerStatus, PodSandbox } from '../cri/types.js';
import { LABEL_POD_UID, type RuntimePod } from './runtime-state.js';
import { PodSyncer } from './sync.js';
import type { VolumeManager } from './volumes.js';
import type { AdmitResult } from '../admission/types.js';
import type { ObjectSource } from './objects.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');

function harness(admit?: (pod: Pod) => AdmitResult, podCache?: (uid: string) => Promise<RuntimePod | undefined>) {
  const labels = { [LABEL_POD_UID]: 'u1', 'skiff.dev/managed': 'true' };
  let state: ContainerStatus['state'] = 'CONTAINER_RUNNING';
  const stops: { id: string; timeout: number }[] = [];
  let sandboxRuns = 0;
  let listed = true;
  let lists = 0;
  const cri = {
    listPodSandbox: async () => {
      lists++;
      return (!listed ? [] : [{ id: 's1', state: 'SANDBOX_READY', labels, metadata: { attempt: 0 }, createdAt: String(T0 * 1e6) }]) as unknown as PodSandbox[];
    },
    listContainers: async () => (!listed ? [] : [{ id: 'c1', podSandboxId: 's1', state, labels }]),
    podSandboxStatus: async () => ({ network: { ip: '198.18.0.9' } }),
    containerStatus: async () =>
      ({ id: 'c1', metadata: { name: 'app', attempt: 0 }, state, createdAt: String(T0 * 1e6), startedAt: String(T0 * 1e6), finishedAt: '0', exitCode: state === 'CONTAINER_EXITED' ? 137 : 0, reason: '', message: '', annotations: {}, labels, image: { image: 'busybox' }, imageRef: 'sha256:x', mounts: [] }) as unknown as ContainerStatus,
    stopContainer: async (id: string, timeout: number) => {
      stops.push({ id, timeout });
      state = 'CONTAINER_EXITED';
    },
    stopPodSandbox: async () => undefined,
    runPodSandbox: async () => {
      sandboxRuns++;
      throw new Error('stop here: the test only looks at admission');
    },
  } as unknown as CriClient;
  const patches: PodStatus[] = [];
  const pods = {
    patch: async (_name: string, body: { status: PodStatus }) => {
      patches.push(body.status);
      return {};
    },
  } as unknown as ResourceClient<Pod>;
  const events: string[] = [];
  const recorder = { event: (_o: unknown, type: string, reason: string, message: string) => void events.push(`${type} ${reason}: ${message}`) } as unknown as CoreEventRecorder;
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const syncer = new PodSyncer({
    cri,
    pods,
    events: recorder,
    clock: new FakeClock(T0 + 60_000),
    hostIPs: () => ['127.0.0.1'],
    logRoot: '/nonexistent',
    dns: { clusterDNS: [], clusterDomain: 'cluster.local' } as never,
    log: log as never,
    podsDir: '/nonexistent',
    objects: {} as ObjectSource,
    volumes: {} as VolumeManager,
    allocatable: () => ({}),
    ...(admit ? { admit } : {}),
    ...(podCache ? { podCache } : {}),
  });
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { terminationGracePeriodSeconds: 45, containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  };
  return { syncer, pod, stops, patches, events, sandboxRuns: () => sandboxRuns, lists: () => lists, emptyRuntime: () => void (listed = false) };
}

test('a node-pressure eviction kills with its grace period and writes Failed/Evicted with DisruptionTarget', async () => {
  const h = harness();
  const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ';
  h.syncer.requestEviction('u1', message, { gracePeriodSeconds: 20, disruptionTarget: true });
  await h.syncer.sync(h.pod);
  assert.deepEqual(h.stops, [{ id: 'c1', timeout: 20 }]);
  const last = h.patches.at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'Evicted');
  assert.equal(last.message, message);
  const dt = last.conditions?.filter((c) => c.type === 'DisruptionTarget') ?? [];
  assert.equal(dt.length, 1);
  assert.deepEqual({ ...dt[0], lastTransitionTime: undefined }, { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastTransitionTime: undefined });
  assert.equal(dt[0]!.lastTransitionTime, '2026-11-27T10:01:00Z');
  assert.ok(last.conditions?.some((c) => c.type === 'PodScheduled'), 'others\' conditions kept');
  assert.deepEqual(h.events.filter((e) => e.includes('Evicted')), [`Warning Evicted: ${message}`]);
});

test('a pod preempted for a critical pod: killed within its grace, Failed/Preempting with upstream message and DisruptionTarget', async () => {
  const h = harness();
  h.syncer.requestEviction('u1', 'Preempted in order to admit critical pod', {
    reason: 'Preempting',
    gracePeriodSeconds: 45,
    disruptionTarget: true,
    conditionMessage: 'Pod was preempted by Kubelet to accommodate a critical pod.',
  });
  await h.syncer.sync(h.pod);
  assert.deepEqual(h.stops, [{ id: 'c1', timeout: 45 }]);
  const last = h.patches.at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'Preempting');
  assert.equal(last.message, 'Preempted in order to admit critical pod');
  const dt = last.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.equal(dt?.reason, 'TerminationByKubelet');
  assert.equal(dt?.message, 'Pod was preempted by Kubelet to accommodate a critical pod.');
  assert.deepEqual(h.events.filter((e) => e.startsWith('Warning')), ['Warning Preempting: Preempted in order to admit critical pod']);
});

test('a local-storage eviction kills with upstream\'s immediate grace (the 2 s floor of a kill) and sets no DisruptionTarget', async () => {
  const h = harness();
  h.syncer.requestEviction('u1', 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  await h.syncer.sync(h.pod);
  assert.deepEqual(h.stops, [{ id: 'c1', timeout: 2 }]);
  const last = h.patches.at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'Evicted');
  assert.equal(last.conditions?.some((c) => c.type === 'DisruptionTarget'), false);
});

test('admission: a new pod refused under pressure ends Failed with "Pod was rejected: …" and never starts', async () => {
  const refuse = (): AdmitResult => ({ admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
  const h = harness(refuse);
  h.emptyRuntime();
  const fresh: Pod = { ...h.pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
  assert.deepEqual(await h.syncer.sync(fresh), {});
  const last = h.patches.at(-1)!;
  assert.equal(last.phase, 'Failed');
  assert.equal(last.reason, 'Evicted');
  assert.equal(last.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');
  assert.deepEqual(h.events, ['Warning Evicted: The node had condition: [MemoryPressure]. ']);
  assert.equal(h.sandboxRuns(), 0);
});

test('admission after a kubelet restart: a running pod is admitted again (upstream); refused, it ends Failed and is stopped at once', async () => {
  const refuse = (): AdmitResult => ({ admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" });
  const h = harness(refuse);
  const started: Pod = { ...h.pod, status: { ...h.pod.status, startTime: '2026-11-27T09:59:00Z' } };
  // Its containers run: the refusal asks for another sync at once, which stops them.
  assert.deepEqual(await h.syncer.sync(started), { requeueAfterMs: 0 });
  assert.equal(h.patches.at(-1)!.phase, 'Failed');
  assert.equal(h.patches.at(-1)!.reason, 'NodeAffinity');
  assert.equal(h.stops.length, 0);
  await h.syncer.sync(started).catch(() => undefined);
  assert.deepEqual(h.stops.map((s) => s.id), ['c1']);

  // Admitted again, it goes on as before.
  let asked = 0;
  const h2 = harness(() => (asked++, { admit: true }));
  await h2.syncer.sync(started).catch(() => undefined);
  assert.equal(asked, 1);
  assert.equal(h2.patches.some((p) => p.phase === 'Failed'), false);
  assert.equal(h2.stops.length, 0);
});

test('admission: an admitted new pod goes on to start', async () => {
  let asked = 0;
  const h = harness(() => {
    asked++;
    return { admit: true };
  });
  h.emptyRuntime();
  await h.syncer.sync({ ...h.pod, status: { phase: 'Pending' } }).catch(() => undefined);
  assert.equal(asked, 1);
  assert.equal(h.patches.some((p) => p.phase === 'Failed'), false);
});

test('a pod sync takes its first read of the runtime from the pod cache, not from listing the runtime', async () => {
  const reads: string[] = [];
  const exited: RuntimePod = {
    uid: 'u1',
    name: 'p',
    namespace: 'default',
    sandboxes: [{ id: 's1', attempt: 0, ready: false, createdAt: T0, ip: '', additionalIps: [] }],
    containers: [{ id: 'c1', sandboxId: 's1', name: 'app', attempt: 0, restartCount: 0, state: 'exited', createdAt: T0, startedAt: T0, finishedAt: T0 + 1000, exitCode: 3, reason: 'Error', message: '', image: 'busybox', imageRef: 'sha256:x' }],
  };
  const h = harness(undefined, async (uid) => {
    reads.push(uid);
    return exited;
  });
  await h.syncer.sync({ ...h.pod, status: { phase: 'Failed' } });
  assert.deepEqual(reads, ['u1']);
  assert.equal(h.lists(), 0);
  // The status came from the cached state: the container's end.
  assert.equal(h.patches.length, 1);
  assert.equal(h.patches[0]?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
});
