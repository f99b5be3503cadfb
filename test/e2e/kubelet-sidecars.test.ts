// Native sidecars (init containers with restartPolicy Always) on the local node with real containers and the real
// kubectl: they start before the init containers after them and run beside the app, are restarted whatever the pod's
// restartPolicy, are stopped once the app of a Never pod finished (the pod then Succeeds), and stop after the app
// containers, in reverse order, when the pod is deleted. The containers write what happens to a hostPath folder the
// test reads. One agent server for every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually, type TestServer } from './harness.js';

const NODE = `e2e-sidecars-${process.pid}`;

let node: AgentNode;
let server: TestServer;
let shared = '';

const apply = (yaml: string) => node.apply(yaml);
const until = (name: string, what: string, ok: (p: Pod) => boolean, timeoutMs?: number) => node.waitForPod(name, what, ok, timeoutMs);
const initStatus = (p: Pod | undefined, c: string) => p?.status?.initContainerStatuses?.find((s) => s.name === c);
const status = (p: Pod | undefined, c: string) => p?.status?.containerStatuses?.find((s) => s.name === c);
/** The lines the pod's containers appended to <shared>/<file>. */
const journal = async (file: string) => (await readFile(join(shared, file), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

/** A container that notes its start and, on SIGTERM, `then` (after `delaySeconds`) its end in the shared file. */
const noting = (name: string, file: string, delaySeconds = 0) =>
  `[sh, -c, 'trap "sleep ${delaySeconds}; echo ${name}-term >> /shared/${file}; exit 0" TERM; echo ${name}-start >> /shared/${file}; while true; do sleep 0.2; done']`;

before(async () => {
  shared = await mkdtemp(join(tmpdir(), 'skiff-sidecars-'));
  await chmod(shared, 0o777);
  node = await startAgentNode(NODE);
  server = node.server;
  await node.readyNode();
});

after(async () => {
  await node?.stop();
  if (shared) await rm(shared, { recursive: true, force: true });
});

const volume = `  volumes: [{name: shared, hostPath: {path: SHARED, type: Directory}}]`;
const mount = `volumeMounts: [{name: shared, mountPath: /shared}]`;

test('a sidecar starts before the next init container, runs beside the app, and is stopped once the app of a Never pod finished: the pod Succeeds', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: job}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 30
  initContainers:
  - name: side
    image: busybox
    imagePullPolicy: IfNotPresent
    restartPolicy: Always
    command: ${noting('side', 'job')}
    startupProbe: {exec: {command: [grep, -q, side-start, /shared/job]}, periodSeconds: 1}
    ${mount}
  - name: check
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'grep -q side-start /shared/job && echo check-ok >> /shared/job']
    ${mount}
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 2; echo app-done >> /shared/job']
    ${mount}
${volume.replace('SHARED', shared)}
`);
  const pod = await until('job', 'Succeeded', (p) => p.status?.phase === 'Succeeded', 120_000);
  // The sidecar was running when the app finished, and was then stopped with SIGTERM (its trap exits 0).
  assert.deepEqual(await journal('job'), ['side-start', 'check-ok', 'app-done', 'side-term']);
  const side = initStatus(pod, 'side');
  assert.equal(side?.state?.terminated?.exitCode, 0, JSON.stringify(side));
  assert.equal(side?.restartCount, 0, 'a sidecar stopped by the kubelet is not restarted');
  assert.equal(initStatus(pod, 'check')?.state?.terminated?.reason, 'Completed');
  assert.equal(status(pod, 'app')?.state?.terminated?.reason, 'Completed');
  const cond = Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason ?? ''}`]));
  assert.equal(cond.Ready, 'False/PodCompleted');
  assert.match(cond.Initialized ?? '', /^True\//);
});

test('a sidecar that exits is restarted although the pod is restartPolicy Never; the pod stays Running and ready counts it', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: flaky}
spec:
  restartPolicy: Never
  initContainers:
  - {name: side, image: busybox, imagePullPolicy: IfNotPresent, restartPolicy: Always, command: [sh, -c, 'sleep 4; exit 3']}
  containers:
  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
`);
  const pod = await until('flaky', 'the sidecar restarted', (p) => (initStatus(p, 'side')?.restartCount ?? 0) >= 1, 90_000);
  assert.equal(pod.status?.phase, 'Running');
  assert.equal(status(pod, 'app')?.restartCount, 0);
  // kubectl counts the sidecar in READY and its restarts in RESTARTS. Between two runs of the sidecar its STATUS is
  // Init:Error (the exit, as upstream's kubelet reports it first) or Init:CrashLoopBackOff, so wait for a running one.
  let shown = '';
  await eventually(
    'kubectl get shows the pod Running with the sidecar restarts',
    async () => /flaky\s+[0-2]\/2\s+Running\s+[1-9]/.test((shown = (await server.kubectl(['get', 'pod', 'flaky'])).stdout)),
    60_000,
    () => shown,
  );
});

test('a sidecar down again after the app started does not hold the app back: the app is still restarted', async () => {
  // The sidecar runs once (long enough for the app to start), then fails at every restart: CrashLoopBackOff for good.
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: sidecardown}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: side
    image: busybox
    imagePullPolicy: IfNotPresent
    restartPolicy: Always
    command: [sh, -c, 'test -f /shared/sidecardown && exit 1; touch /shared/sidecardown; sleep 3; exit 1']
    ${mount}
  containers:
  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'sleep 6; exit 2']}
${volume.replace('SHARED', shared)}
`);
  const pod = await until('sidecardown', 'the app restarted while the sidecar is down', (p) => (status(p, 'app')?.restartCount ?? 0) >= 1, 90_000);
  assert.equal(pod.status?.phase, 'Running');
  assert.equal(status(pod, 'app')?.lastState?.terminated?.exitCode, 2);
  assert.ok((initStatus(pod, 'side')?.restartCount ?? 0) >= 1);
  const del = await server.kubectl(['delete', 'pod', 'sidecardown', '--wait=true', '--timeout=60s'], { timeoutMs: 65_000 });
  assert.equal(del.code, 0, del.stderr);
});

test('deleting a pod stops its app containers first, then its sidecars in reverse order', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: ordered}
spec:
  terminationGracePeriodSeconds: 30
  initContainers:
  - {name: side1, image: busybox, imagePullPolicy: IfNotPresent, restartPolicy: Always, command: ${noting('side1', 'ordered')}, ${mount}}
  - {name: side2, image: busybox, imagePullPolicy: IfNotPresent, restartPolicy: Always, command: ${noting('side2', 'ordered')}, ${mount}}
  containers:
  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: ${noting('app', 'ordered', 2)}, ${mount}}
${volume.replace('SHARED', shared)}
`);
  await until('ordered', 'Running and ready', (p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
  // The app takes 2 s to stop after SIGTERM; sidecars signalled at the same time would have written first.
  const del = await server.kubectl(['delete', 'pod', 'ordered', '--wait=true', '--timeout=60s'], { timeoutMs: 65_000 });
  assert.equal(del.code, 0, del.stderr);
  const lines = await journal('ordered');
  assert.deepEqual(lines.filter((l) => l.endsWith('-start')).sort(), ['app-start', 'side1-start', 'side2-start']);
  assert.deepEqual(lines.filter((l) => l.endsWith('-term')), ['app-term', 'side2-term', 'side1-term']);
});
