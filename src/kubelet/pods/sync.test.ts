import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { CriClient } from '../cri/client.js';
import type { Container } from '../cri/types.js';
import type { RelistItem } from '../cri/relist-wire.js';
import { fingerprintOf, relistFingerprints, type RuntimePod } from './runtime-state.js';
import { computePodStatus } from './status.js';
import { mergeOwnStatus } from './sync.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

const pod = (status: PodStatus): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }] },
  status,
});

const running: RuntimePod = {
  uid: 'u1',
  name: 'p',
  namespace: 'default',
  sandboxes: [{ id: 's1', attempt: 0, ready: true, createdAt: T0, ip: '198.18.0.5', additionalIps: [] }],
  containers: [
    {
      id: 'c1',
      sandboxId: 's1',
      name: 'app',
      attempt: 0,
      restartCount: 0,
      state: 'running',
      createdAt: T0,
      startedAt: T0 + 1000,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      image: 'docker.io/library/busybox:latest',
      imageRef: 'sha256:abc',
    },
  ],
};

const compute = (p: Pod, now: number) => computePodStatus({ pod: p, runtime: running, hostIPs: ['127.0.0.1'], waiting: new Map(), now });

test('a sync from a pod copy that predates the last status write computes that same status again (no second write)', () => {
  // What the informer still holds: the scheduler's status only.
  const stale: PodStatus = { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True' }] };
  const written = compute(pod(stale), T0 + 2000);
  assert.equal(written.phase, 'Running');
  // Seconds later the informer copy is still stale: from it alone the transition times would move.
  const fromStale = compute(pod(stale), T0 + 7000);
  assert.notDeepEqual(fromStale, written);
  const merged = mergeOwnStatus(stale, written);
  assert.deepEqual(compute(pod(merged), T0 + 7000), written);
});

test('mergeOwnStatus keeps what others own and drops kubelet fields the written status lacks', () => {
  const api: PodStatus = {
    phase: 'Pending',
    qosClass: 'Burstable',
    nominatedNodeName: 'n2',
    message: 'old message',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False' },
      { type: 'example.com/gate', status: 'True' },
    ],
  };
  const own: PodStatus = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], podIP: '198.18.0.5' };
  const m = mergeOwnStatus(api, own);
  assert.equal(m.phase, 'Running');
  assert.equal(m.podIP, '198.18.0.5');
  assert.equal(m.qosClass, 'Burstable');
  assert.equal(m.nominatedNodeName, 'n2');
  assert.equal(m.message, undefined);
  assert.deepEqual(
    m.conditions?.map((c) => `${c.type}=${c.status}`),
    ['Ready=True', 'PodScheduled=True', 'example.com/gate=True'],
  );
});

test('relistFingerprints: list calls only, one fingerprint per pod that changes with a state', async () => {
  let statusCalls = 0;
  let containerState: Container['state'] = 'CONTAINER_CREATED';
  const cri = {
    listPodSandboxStates: async () => [{ id: 's1', state: 'SANDBOX_READY', label: 'u1' }, { id: 's2', state: 'SANDBOX_READY', label: 'u2' }] as RelistItem[],
    listContainerStates: async () => [{ id: 'c1', state: containerState, label: 'u1' }] as RelistItem[],
    podSandboxStatus: async () => {
      statusCalls++;
      throw new Error('not expected');
    },
    containerStatus: async () => {
      statusCalls++;
      throw new Error('not expected');
    },
  } as unknown as CriClient;
  const first = await relistFingerprints(cri);
  assert.deepEqual([...first.keys()].sort(), ['u1', 'u2']);
  containerState = 'CONTAINER_RUNNING';
  const second = await relistFingerprints(cri);
  assert.notEqual(second.get('u1'), first.get('u1'));
  assert.equal(second.get('u2'), first.get('u2'));
  assert.equal(statusCalls, 0);
});

test('fingerprintOf: a sync\'s view of a pod gives the fingerprint the relist computes for the same state', async () => {
  for (const [state, criState] of [
    ['running', 'CONTAINER_RUNNING'],
    ['exited', 'CONTAINER_EXITED'],
    ['created', 'CONTAINER_CREATED'],
  ] as const) {
    const cri = {
      listPodSandboxStates: async () => [{ id: 's1', state: 'SANDBOX_READY', label: 'u1' }] as RelistItem[],
      listContainerStates: async () => [{ id: 'c1', state: criState, label: 'u1' }] as RelistItem[],
    } as unknown as CriClient;
    const view: RuntimePod = { ...running, containers: running.containers.map((c) => ({ ...c, state })) };
    assert.equal(fingerprintOf(view), (await relistFingerprints(cri)).get('u1'));
  }
  // A sandbox no longer ready is a different fingerprint.
  assert.notEqual(fingerprintOf({ ...running, sandboxes: running.sandboxes.map((s) => ({ ...s, ready: false })) }), fingerprintOf(running));
});
