// Lifecycle hooks, termination messages and OOM scores: the pure parts of the container lifecycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import type { ExecFn } from '../prober/actions.js';
import { runHook, runHookWithin } from './hooks.js';
import { hierarchiesOf, podCgroupParent, podResourceConfig } from './cgroups.js';
import { oomScoreAdjust, qosClassOf } from './qos.js';
import { ANNOTATION_TERMINATION_MESSAGE_PATH, ANNOTATION_TERMINATION_MESSAGE_POLICY, terminationMessage, terminationMessageMount } from './termination.js';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c' }] } };
const container: Container = { name: 'c', ports: [{ name: 'web', containerPort: 0 }] };
const clock = new FakeClock(0);

test('exec hooks: success, and a failure in upstream words', async () => {
  const exec = (code: number): ExecFn => async () => ({ stdout: Buffer.from('o'), stderr: Buffer.from('e'), exitCode: code });
  const ctx = { pod, container, containerId: 'id', podIP: '127.0.0.1', clock, timeoutMs: 1000 };
  assert.equal(await runHook({ exec: { command: ['true'] } }, { ...ctx, exec: exec(0) }), undefined);
  assert.equal(
    await runHook({ exec: { command: ['sh', '-c', 'exit 2'] } }, { ...ctx, exec: exec(2) }),
    'Exec lifecycle hook ([sh -c exit 2]) for Container "c" in Pod "p_ns(u1)" failed - error: command \'sh -c exit 2\' exited with 2: e, message: "oe"',
  );
});

test('httpGet hooks: any answer is fine, a refused connection fails; sleep hooks sleep on the clock, cut at the timeout', async () => {
  let got = '';
  const srv = createServer((req, res) => {
    got = `${req.url} ${req.headers['user-agent']} ${req.headers['x-h']}`;
    res.statusCode = 500;
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const noExec: ExecFn = () => Promise.reject(new Error('no'));
  const ctx = { pod, container, containerId: 'id', podIP: '127.0.0.1', clock, timeoutMs: 2000, exec: noExec };
  try {
    assert.equal(await runHook({ httpGet: { port, path: '/stop', httpHeaders: [{ name: 'X-H', value: 'v' }] } }, ctx), undefined);
    assert.equal(got, '/stop kube-lifecycle/1.31 v');
    const refused = await runHook({ httpGet: { port: 1, path: '/x' } }, ctx);
    assert.match(refused ?? '', /^HTTP lifecycle hook \(\/x\) for Container "c" in Pod "p_ns\(u1\)" failed - error: Get "http:\/\/127.0.0.1:1\/x": dial tcp 127.0.0.1:1: connect: connection refused$/);
  } finally {
    srv.close();
  }
  const fake = new FakeClock(0);
  let done = false;
  const p = runHookWithin({ sleep: { seconds: 30 } }, { ...ctx, clock: fake, timeoutMs: 5000 }).then(() => (done = true));
  fake.step(4000);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  fake.step(1000);
  await p;
  assert.equal(done, true, 'a hook is abandoned at its timeout (the grace period)');
});

test('termination message: the file becomes the message, joined to the runtime message; FallbackToLogsOnError uses the log tail', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-tm-'));
  try {
    const m = await terminationMessageMount(dir, pod, { name: 'c', terminationMessagePath: '/dev/termination-log' });
    assert.equal(m?.containerPath, '/dev/termination-log');
    assert.equal((await stat(m!.hostPath)).mode & 0o777, 0o666);
    assert.ok(m!.hostPath.startsWith(join(dir, 'u1', 'containers', 'c')));
    assert.equal(await terminationMessageMount(dir, pod, { name: 'c', terminationMessagePath: '' }), undefined);
    const annotations = { [ANNOTATION_TERMINATION_MESSAGE_PATH]: '/dev/termination-log', [ANNOTATION_TERMINATION_MESSAGE_POLICY]: 'File' };
    const log = join(dir, 'c.log');
    const lines = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00.000000000Z stdout F line ${i}`);
    await writeFile(log, lines.join('\n') + '\n');
    const base = { exitCode: 1, reason: 'Error', message: '', mounts: [m!], annotations, logPath: log };
    assert.equal(await terminationMessage(base), '', 'empty file, policy File: no message');
    const fallback = { ...base, annotations: { ...annotations, [ANNOTATION_TERMINATION_MESSAGE_POLICY]: 'FallbackToLogsOnError' } };
    const tail = await terminationMessage(fallback);
    assert.ok(tail.startsWith('line 20\n') && tail.endsWith('line 99\n'), 'the last 80 lines');
    assert.equal(await terminationMessage({ ...fallback, exitCode: 0 }), '', 'no fallback for a success');
    await writeFile(m!.hostPath, 'bye '.repeat(2000));
    const msg = await terminationMessage(fallback);
    assert.equal(msg.length, 4096, 'at most 4096 bytes of the file');
    assert.equal(await terminationMessage({ ...base, reason: 'OOMKilled', message: 'oom' }), `oom: ${await readFile(m!.hostPath, 'utf8').then((t) => t.slice(-4096))}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('QoS and oom_score_adj as upstream: Guaranteed -997, BestEffort 1000, Burstable by memory request share within [3, 999]', () => {
  const withRes = (resources: Container['resources'], priority?: number): Pod => ({ ...pod, spec: { containers: [{ name: 'c', resources }], ...(priority ? { priority } : {}) } });
  const gib = 1024 ** 3;
  const guaranteed = withRes({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
  assert.equal(qosClassOf(guaranteed), 'Guaranteed');
  assert.equal(oomScoreAdjust(guaranteed, guaranteed.spec!.containers[0]!, 4 * gib), -997);
  const best = withRes(undefined);
  assert.equal(qosClassOf(best), 'BestEffort');
  assert.equal(oomScoreAdjust(best, best.spec!.containers[0]!, 4 * gib), 1000);
  const burst = withRes({ requests: { memory: '1Gi' } });
  assert.equal(qosClassOf(burst), 'Burstable');
  assert.equal(oomScoreAdjust(burst, burst.spec!.containers[0]!, 4 * gib), 750);
  const tiny = withRes({ requests: { cpu: '100m' } });
  assert.equal(oomScoreAdjust(tiny, tiny.spec!.containers[0]!, 4 * gib), 999);
  const huge = withRes({ requests: { memory: '4Gi' } });
  assert.equal(oomScoreAdjust(huge, huge.spec!.containers[0]!, 4 * gib), 3);
  assert.equal(oomScoreAdjust(withRes(undefined, 2_000_001_000), { name: 'c' }, 4 * gib), -997, 'critical pods');
});

test('pod cgroups: QoS parent folders and the pod-level resources upstream gives them', () => {
  const p = (containers: Container[], initContainers: Container[] = []): Pod => ({ metadata: { uid: 'u9' }, spec: { containers, initContainers } });
  const guaranteed = p([{ name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '500m', memory: '64Mi' } } }]);
  assert.equal(podCgroupParent(guaranteed), 'kubepods/podu9');
  assert.deepEqual(podResourceConfig(guaranteed), { cpuShares: 512, cpuQuota: 50_000, memoryLimit: 64 * 1024 * 1024 });
  // Burstable: quota and memory limit only when every container declares one.
  const burst = p([{ name: 'a', resources: { requests: { cpu: '250m' }, limits: { memory: '32Mi' } } }, { name: 'b', resources: { limits: { memory: '32Mi' } } }]);
  assert.equal(podCgroupParent(burst), 'kubepods/burstable/podu9');
  assert.deepEqual(podResourceConfig(burst), { cpuShares: 256, memoryLimit: 64 * 1024 * 1024 });
  const partial = p([{ name: 'a', resources: { limits: { memory: '32Mi' } } }, { name: 'b' }]);
  assert.deepEqual(podResourceConfig(partial), { cpuShares: 2 });
  // A big init container sets the pod's need when it is larger than the app containers together.
  const init = p([{ name: 'a', resources: { limits: { memory: '16Mi', cpu: '100m' } } }], [{ name: 'i', resources: { limits: { memory: '48Mi', cpu: '100m' } } }]);
  assert.equal(podResourceConfig(init).memoryLimit, 48 * 1024 * 1024);
  const best = p([{ name: 'a' }]);
  assert.equal(podCgroupParent(best), 'kubepods/besteffort/podu9');
  assert.deepEqual(podResourceConfig(best), { cpuShares: 2 });
});

test('cgroup v1 hierarchies: the runtime process cgroup in each mounted hierarchy', () => {
  const mountinfo = [
    '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '38 30 0:35 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
    '39 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const proc = ['9:name=systemd:/', '4:memory:/process_api/abc', '1:cpuacct,cpu:/', '0::/'].join('\n');
  const hs = hierarchiesOf(mountinfo, proc);
  assert.deepEqual(
    hs.map((h) => [h.controllers.join(','), h.dir]),
    [
      ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
      ['memory', '/sys/fs/cgroup/memory/process_api/abc'],
      ['name=systemd', '/sys/fs/cgroup/systemd'],
      ['', '/sys/fs/cgroup/unified'],
    ],
  );
});
