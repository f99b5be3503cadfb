import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';
import { computePodStatus, podPhase, shouldRestart } from './status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True' }], ...status },
  };
}

function ctr(name: string, state: RuntimeContainer['state'], extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    id: `${name}-${extra.restartCount ?? 0}`,
    sandboxId: 's1',
    name,
    attempt: extra.restartCount ?? 0,
    restartCount: 0,
    state,
    createdAt: T0,
    startedAt: state === 'created' ? 0 : T0 + 1000,
    finishedAt: state === 'exited' ? T0 + 2000 : 0,
    exitCode: 0,
    reason: '',
    message: '',
    image: 'docker.io/library/busybox:latest',
    imageRef: 'sha256:abc',
    ...extra,
  };
}

function runtime(containers: RuntimeContainer[], ready = true): RuntimePod {
  return {
    uid: 'u1',
    name: 'p',
    namespace: 'default',
    sandboxes: [{ id: 's1', attempt: 0, ready, createdAt: T0, ip: ready ? '198.18.0.5' : '', additionalIps: [] }],
    containers,
  };
}

const input = (p: Pod, rt: RuntimePod | undefined, waiting = new Map<string, { reason: string; message?: string }>(), terminal = false) => ({
  pod: p,
  runtime: rt,
  hostIPs: ['127.0.0.1'],
  waiting,
  now: T0 + 5000,
  terminal,
});

test('restart policies', () => {
  assert.equal(shouldRestart('Always', 0), true);
  assert.equal(shouldRestart('OnFailure', 0), false);
  assert.equal(shouldRestart('OnFailure', 1), true);
  assert.equal(shouldRestart('Never', 1), false);
});

test('no runtime state yet: Pending, ContainerCreating, conditions false with upstream reasons', () => {
  const s = computePodStatus(input(pod(), undefined));
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(s.containerStatuses?.[0]?.restartCount, 0);
  const cond = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));
  assert.equal(cond.PodReadyToStartContainers?.status, 'False');
  assert.equal(cond.Initialized?.status, 'True');
  assert.equal(cond.Ready?.reason, 'ContainersNotReady');
  assert.equal(cond.Ready?.message, 'containers with unready status: [app]');
  assert.equal(cond.ContainersReady?.status, 'False');
  assert.equal(cond.PodScheduled?.status, 'True', 'conditions others own are kept');
  assert.equal(s.hostIP, '127.0.0.1');
  assert.equal(s.podIP, undefined);
  assert.equal(s.startTime, '2026-01-01T00:00:05Z');
});

test('running: Running phase, ready, podIP from the sandbox, containerID with the runtime prefix', () => {
  const s = computePodStatus(input(pod(), runtime([ctr('app', 'running')])));
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '198.18.0.5');
  assert.deepEqual(s.podIPs, [{ ip: '198.18.0.5' }]);
  const cs = s.containerStatuses?.[0];
  assert.equal(cs?.ready, true);
  assert.equal(cs?.started, true);
  assert.equal(cs?.containerID, 'containerd://app-0');
  assert.equal(cs?.imageID, 'sha256:abc');
  assert.deepEqual(cs?.state, { running: { startedAt: '2026-01-01T00:00:01Z' } });
  for (const c of s.conditions ?? []) assert.equal(c.status, 'True', c.type);
});

test('crash loop: Waiting CrashLoopBackOff with the last run as lastState, restartCount from the runtime', () => {
  const waiting = new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_default(u1)' }]]);
  const rt = runtime([ctr('app', 'exited', { exitCode: 3, restartCount: 1 }), ctr('app', 'exited', { exitCode: 3 })]);
  const s = computePodStatus(input(pod(), rt, waiting));
  const cs = s.containerStatuses?.[0];
  assert.equal(s.phase, 'Running', 'restartPolicy Always keeps the pod Running');
  assert.equal(cs?.restartCount, 1);
  assert.equal(cs?.state?.waiting?.reason, 'CrashLoopBackOff');
  assert.equal(cs?.lastState?.terminated?.exitCode, 3);
  assert.equal(cs?.lastState?.terminated?.reason, 'Error');
  assert.equal(cs?.ready, false);
});

test('phases for finished containers per restart policy', () => {
  const done = runtime([ctr('app', 'exited', { exitCode: 0 })]);
  const failed = runtime([ctr('app', 'exited', { exitCode: 1 })]);
  assert.equal(computePodStatus(input(pod({ restartPolicy: 'Never' }), done)).phase, 'Succeeded');
  assert.equal(computePodStatus(input(pod({ restartPolicy: 'Never' }), failed)).phase, 'Failed');
  assert.equal(computePodStatus(input(pod({ restartPolicy: 'OnFailure' }), done)).phase, 'Succeeded');
  assert.equal(computePodStatus(input(pod({ restartPolicy: 'OnFailure' }), failed)).phase, 'Running');
  const s = computePodStatus(input(pod({ restartPolicy: 'Never' }), done));
  assert.deepEqual(s.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'PodCompleted');
  // A deleted pod whose containers were stopped is terminal.
  assert.equal(computePodStatus(input(pod(), runtime([ctr('app', 'exited', { exitCode: 137 })], false), undefined, true)).phase, 'Failed');
});

test('init containers: app containers wait in PodInitializing; a failed init fails a Never pod', () => {
  const spec = { initContainers: [{ name: 'i1', image: 'busybox' }, { name: 'i2', image: 'busybox' }] };
  let s = computePodStatus(input(pod(spec), runtime([ctr('i1', 'running')])));
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'PodInitializing' } });
  assert.deepEqual(s.initContainerStatuses?.[1]?.state, { waiting: { reason: 'PodInitializing' } });
  const init = s.conditions?.find((c) => c.type === 'Initialized');
  assert.equal(init?.reason, 'ContainersNotInitialized');
  assert.equal(init?.message, 'containers with incomplete status: [i1 i2]');

  s = computePodStatus(input(pod(spec), runtime([ctr('app', 'running'), ctr('i2', 'exited'), ctr('i1', 'exited')])));
  assert.equal(s.phase, 'Running');
  assert.equal(s.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  assert.equal(s.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');

  s = computePodStatus(input(pod({ ...spec, restartPolicy: 'Never' }), runtime([ctr('i1', 'exited', { exitCode: 2 })])));
  assert.equal(s.phase, 'Failed');
});

test('podPhase matches upstream for unknown containers', () => {
  const p = pod({ containers: [{ name: 'a' }, { name: 'b' }] });
  assert.equal(podPhase(p, [], [{ name: 'a', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }], false), 'Pending');
});

test('transition times stay while a condition keeps its status; pod IPs stay once assigned', () => {
  const p = pod({}, { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }], podIP: '198.18.0.5', podIPs: [{ ip: '198.18.0.5' }] });
  const s = computePodStatus(input(p, runtime([ctr('app', 'running')])));
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, '2025-01-01T00:00:00Z');
  const gone = computePodStatus(input(p, runtime([ctr('app', 'exited', { exitCode: 137 })], false), undefined, true));
  assert.equal(gone.podIP, '198.18.0.5');
});

test('ephemeral containers: ephemeralContainerStatuses never ready, not restarted, absent when there are none', () => {
  const p = pod({ ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'app' }, { name: 'dbg2', image: 'busybox' }] });
  const s = computePodStatus(input(p, runtime([ctr('app', 'running'), ctr('dbg', 'exited', { exitCode: 1 })])));
  const [dbg, dbg2] = s.ephemeralContainerStatuses ?? [];
  assert.equal(dbg?.state?.terminated?.exitCode, 1);
  assert.equal(dbg?.ready, false);
  assert.equal(dbg?.restartCount, 0);
  assert.equal(dbg?.containerID, 'containerd://dbg-0');
  assert.deepEqual(dbg2?.state, { waiting: { reason: 'ContainerCreating' } });
  // The ephemeral container does not count towards the pod's phase or readiness.
  assert.equal(s.phase, 'Running');
  assert.equal(computePodStatus(input(pod(), runtime([ctr('app', 'running')]))).ephemeralContainerStatuses, undefined);
});

test('native sidecars: a running one keeps a Never pod Running after its app finished, an unstarted one holds it Pending, a terminated one no longer counts', () => {
  const spec = { restartPolicy: 'Never' as const, initContainers: [{ name: 'side', image: 'busybox', restartPolicy: 'Always' }] };
  // The app completed while the sidecar still runs: upstream's getPhase counts the sidecar as running.
  let s = computePodStatus(input(pod(spec), runtime([ctr('app', 'exited'), ctr('side', 'running')])));
  assert.equal(s.phase, 'Running');
  // Once the kubelet stopped the sidecar the pod has Succeeded, whatever the sidecar's exit code.
  s = computePodStatus(input(pod(spec), runtime([ctr('app', 'exited'), ctr('side', 'exited', { exitCode: 143 })])));
  assert.equal(s.phase, 'Succeeded');
  assert.equal(s.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 143, 'stopped for good: terminated, not waiting to restart');
  // A sidecar that runs but has not passed its startup probe holds initialization.
  const notStarted = { ...input(pod(spec), runtime([ctr('side', 'running')])), probe: () => ({ started: false, ready: false }) };
  s = computePodStatus(notStarted);
  assert.equal(s.phase, 'Pending');
  assert.equal(s.conditions?.find((c) => c.type === 'Initialized')?.message, 'containers with incomplete status: [side]');
  // A restarted sidecar not started yet (its startup probe) after the app started does not send the pod back to Pending.
  const restarted = input(pod({ initContainers: spec.initContainers }), runtime([ctr('app', 'running'), ctr('side', 'running', { restartCount: 1 })]));
  s = computePodStatus({ ...restarted, probe: (name) => ({ started: name !== 'side', ready: name !== 'side' }) });
  assert.equal(s.phase, 'Running');
});
