// The pod worker's status around a restart, as upstream's SyncPod writes it: the status of what the runtime shows is
// written before the sync acts, so a container that just exited shows Terminated (kubectl's "Error") before the
// start held back by its back-off shows Waiting CrashLoopBackOff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { FakeClock, type CoreEventRecorder, type ResourceClient } from '../../client/index.js';
import type { CriClient } from '../cri/client.js';
import type { ContainerStatus, PodSandbox } from '../cri/types.js';
import { LABEL_POD_UID } from './runtime-state.js';
import { PodSyncer } from './sync.js';
import type { VolumeManager } from './volumes.js';
import type { ObjectSource } from './objects.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const ns = (ms: number) => String(ms * 1e6);

test('a crashed container in back-off: Terminated Error written first, then Waiting CrashLoopBackOff with it as lastState', async () => {
  const labels = { [LABEL_POD_UID]: 'u1', 'skiff.dev/managed': 'true' };
  const cri = {
    listPodSandbox: async () => [{ id: 's1', state: 'SANDBOX_READY', labels, metadata: { attempt: 0 }, createdAt: ns(T0) }] as unknown as PodSandbox[],
    listContainers: async () => [{ id: 'c1', podSandboxId: 's1', state: 'CONTAINER_EXITED', labels }],
    podSandboxStatus: async () => ({ network: { ip: '198.18.0.9' } }),
    containerStatus: async () =>
      ({ id: 'c1', metadata: { name: 'app', attempt: 1 }, state: 'CONTAINER_EXITED', createdAt: ns(T0), startedAt: ns(T0 + 1000), finishedAt: ns(T0 + 55_000), exitCode: 2, reason: '', message: '', annotations: {}, labels, image: { image: 'busybox' }, imageRef: 'sha256:x', mounts: [] }) as unknown as ContainerStatus,
  } as unknown as CriClient;
  const patches: PodStatus[] = [];
  const pods = { patch: async (_name: string, body: { status: PodStatus }) => void patches.push(body.status) } as unknown as ResourceClient<Pod>;
  const events = { event: () => undefined } as unknown as CoreEventRecorder;
  const log = { info: () => undefined, warn: () => undefined };
  const syncer = new PodSyncer({
    cri,
    pods,
    events,
    clock: new FakeClock(T0 + 60_000),
    hostIPs: () => ['127.0.0.1'],
    logRoot: '/nonexistent',
    dns: { clusterDNS: [], clusterDomain: 'cluster.local', host: { servers: [], searches: [], options: [] } },
    log,
    podsDir: '/nonexistent',
    objects: {} as ObjectSource,
    volumes: { setUp: async () => new Map() } as unknown as VolumeManager,
    allocatable: () => ({}),
  });
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  };
  // The restart before this exit: the next one waits 10 s from the exit (55 s), so it is held back at 60 s.
  syncer.backoff.next('u1/app', T0 + 30_000);
  const result = await syncer.sync(pod);
  assert.ok((result.requeueAfterMs ?? 0) > 4000, 'synced again when the back-off ends');
  const states = patches.map((s) => s.containerStatuses?.[0]);
  assert.equal(states.length, 2, JSON.stringify(states));
  assert.deepEqual(states[0]?.state, {
    terminated: { exitCode: 2, reason: 'Error', startedAt: '2026-11-27T10:00:01Z', finishedAt: '2026-11-27T10:00:55Z', containerID: 'containerd://c1' },
  });
  assert.deepEqual(states[1]?.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_default(u1)' } });
  assert.deepEqual(states[1]?.lastState, states[0]?.state);
  // The next sync in back-off has the reason cached: nothing new to write.
  await syncer.sync(pod);
  assert.equal(patches.length, 2);
});
