// Ephemeral containers with real containers: `kubectl debug --target` adds one through the pods/ephemeralcontainers
// subresource, the kubelet starts it in the pod's sandbox sharing the target's process namespace, and the pod's
// ephemeralContainerStatuses report it. One agent server is shared by every case; stop() runs `skiff killall`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { eventually, KUBECTL, REPO_ROOT, runSkiff, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let work: string;

const kubectl = (args: string[], stdin = '') => server.kubectl(args, { stdin, timeoutMs: 60_000 });
const logs = () => server.logs().slice(-4000);

async function getPod(name: string): Promise<Pod> {
  const r = await kubectl(['get', 'pod', name, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Pod;
}

async function ephemeralStatus(pod: string, name: string, want: (s: ContainerStatus) => boolean): Promise<ContainerStatus> {
  let found: ContainerStatus | undefined;
  await eventually(
    `ephemeral container ${name} status`,
    async () => {
      found = (await getPod(pod)).status?.ephemeralContainerStatuses?.find((s) => s.name === name);
      return !!found && want(found);
    },
    60_000,
    logs,
  );
  return found!;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-debug-'));
  const images = await buildTestImages(join(work, 'images'));
  server = await startTestServer({ agent: true, readyTimeoutMs: 60_000 });
  await eventually(
    'busybox imported',
    async () => (await runSkiff(['images', 'import', '--data-dir', server.dataDir, images.busybox.file])).code === 0,
    60_000,
    logs,
  );
  const r = await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: target
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3601"]
`);
  assert.equal(r.code, 0, r.stderr);
  await eventually('pod target running', async () => (await getPod('target')).status?.containerStatuses?.[0]?.state?.running !== undefined, 90_000, logs);
});

after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('kubectl debug --target runs a container that sees the target’s processes; its status and logs are reported', async () => {
  const r = await kubectl(['debug', 'target', '--image', 'busybox', '--image-pull-policy', 'IfNotPresent', '--target', 'app', '--container', 'dbg1', '--', 'ps']);
  assert.equal(r.code, 0, r.stderr);
  const pod = await getPod('target');
  const spec = pod.spec?.ephemeralContainers?.find((c) => c.name === 'dbg1');
  assert.equal(spec?.targetContainerName, 'app');
  assert.equal(spec?.terminationMessagePath, '/dev/termination-log'); // defaulted on the subresource
  const st = await ephemeralStatus('target', 'dbg1', (s) => s.state?.terminated !== undefined);
  assert.equal(st.state?.terminated?.exitCode, 0);
  assert.equal(st.ready, false);
  assert.equal(st.restartCount, 0);
  assert.equal(st.image, 'busybox');
  assert.match(st.containerID ?? '', /^containerd:\/\//);
  const out = await kubectl(['logs', 'target', '-c', 'dbg1']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /sleep 3601/);
  // Exited ephemeral containers are never restarted; the app keeps running.
  const again = await getPod('target');
  assert.equal(again.status?.ephemeralContainerStatuses?.find((s) => s.name === 'dbg1')?.containerID, st.containerID);
  assert.ok(again.status?.containerStatuses?.[0]?.state?.running);
});

test('a second debug container adds another, running; exec into it sees the target', async () => {
  const r = await kubectl(['debug', 'target', '--image', 'busybox', '--image-pull-policy', 'IfNotPresent', '--target', 'app', '--container', 'dbg2', '--', 'sleep', '3602']);
  assert.equal(r.code, 0, r.stderr);
  await ephemeralStatus('target', 'dbg2', (s) => s.state?.running !== undefined);
  const pod = await getPod('target');
  assert.deepEqual(pod.spec?.ephemeralContainers?.map((c) => c.name), ['dbg1', 'dbg2']);
  const ps = await kubectl(['exec', 'target', '-c', 'dbg2', '--', 'ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /sleep 3601/);
  assert.match(ps.stdout, /sleep 3602/);
});

test('existing ephemeral containers may not be changed or removed; the pod update path may not change them', async () => {
  const url = '/api/v1/namespaces/default/pods/target/ephemeralcontainers';
  const got = await kubectl(['get', '--raw', url]);
  assert.equal(got.code, 0, got.stderr);
  // No resourceVersion: the kubelet writes status meanwhile, and a conflict is not what these cases test.
  const raw = JSON.parse(got.stdout) as { metadata: Record<string, unknown> };
  delete raw.metadata.resourceVersion;
  const pod = raw as unknown as Pod;
  const changed = structuredClone(pod);
  changed.spec!.ephemeralContainers![0].image = 'busybox:other';
  const r = await kubectl(['replace', '--raw', url, '-f', '-'], JSON.stringify(changed));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /existing ephemeral containers \\?"dbg1\\?" may not be changed/);
  const removed = structuredClone(pod);
  removed.spec!.ephemeralContainers = removed.spec!.ephemeralContainers!.slice(1);
  const r2 = await kubectl(['replace', '--raw', url, '-f', '-'], JSON.stringify(removed));
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /existing ephemeral containers \\?"dbg1\\?" may not be removed/);
  // The subresource changes nothing but ephemeral containers.
  const relabel = structuredClone(pod);
  relabel.metadata!.labels = { sneaky: 'yes' };
  relabel.spec!.containers[0].image = 'busybox:other';
  const r3 = await kubectl(['replace', '--raw', url, '-f', '-'], JSON.stringify(relabel));
  assert.equal(r3.code, 0, r3.stderr);
  const after1 = await getPod('target');
  assert.equal(after1.metadata?.labels?.sneaky, undefined);
  assert.equal(after1.spec?.containers[0].image, 'busybox');
  // Through the pod itself ephemeral containers cannot be added.
  const main = structuredClone(after1);
  delete (main.metadata as Record<string, unknown>).resourceVersion;
  main.spec!.ephemeralContainers!.push({ name: 'sneak', image: 'busybox' });
  const r4 = await kubectl(['replace', '-f', '-'], JSON.stringify(main));
  assert.notEqual(r4.code, 0);
  assert.match(r4.stderr, /pod updates may not change fields other than/);
  // A duplicate name is refused on the subresource.
  const dup = structuredClone(after1);
  dup.spec!.ephemeralContainers!.push({ name: 'app', image: 'busybox' });
  const r5 = await kubectl(['replace', '--raw', url, '-f', '-'], JSON.stringify(dup));
  assert.notEqual(r5.code, 0);
  assert.match(r5.stderr, /Duplicate value: "app"/);
});

test('kubectl debug -i attaches to the new container: commands on stdin run there and see the target', async () => {
  // Without stdinOnce, closing stdin ends the attach (as with containerd upstream): stdin stays open until output came.
  const child = spawn(KUBECTL, ['--kubeconfig', server.kubeconfig, 'debug', 'target', '-i', '--image', 'busybox', '--image-pull-policy', 'IfNotPresent', '--target', 'app', '--container', 'dbg3', '--', 'sh'], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 124)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  try {
    await eventually('the debug shell answers', async () => {
      if (child.exitCode !== null) return true;
      child.stdin.write('ps\n');
      return /sleep 3601/.test(stdout);
    }, 60_000, () => `${stdout}\n${stderr}`);
    child.stdin.end('exit 0\n');
    assert.equal(await exited, 0, stderr);
  } finally {
    clearTimeout(timer);
  }
  assert.match(stdout, /sleep 3601/);
  await ephemeralStatus('target', 'dbg3', (s) => s.state?.terminated?.exitCode === 0);
});
