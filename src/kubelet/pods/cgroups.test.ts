// Pod and QoS cgroups written into fake cgroup file systems (plain folders), for cgroup v1 (as on these hybrid
// hosts) and cgroup v2-only hosts (not available on this machine: only the fake proves that path).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { burstableShares, cpuSharesToWeight, PodCgroups, unifiedOf, V2_RUNTIME_LEAF } from './cgroups.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-cgroups-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pod = (uid: string, containers: Container[]): Pod => ({ metadata: { uid }, spec: { containers } });
const burst = (uid: string, cpu: string) => pod(uid, [{ name: 'c', resources: { requests: { cpu }, limits: { memory: '64Mi' } } }]);
const guaranteed = pod('g1', [{ name: 'c', resources: { requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '500m', memory: '64Mi' } } }]);
const read = async (...p: string[]) => (await readFile(join(...p), 'utf8')).trim();

test('upstream conversions: Burstable shares are the sum of Burstable requests; shares to cgroup v2 weight', () => {
  assert.equal(burstableShares([]), 2);
  assert.equal(burstableShares([burst('a', '250m'), burst('b', '1'), guaranteed, pod('be', [{ name: 'c' }])]), 1280);
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(1024), 39);
  assert.equal(cpuSharesToWeight(262144), 10000);
});

test('cgroup v1: the Burstable QoS folder follows its pods as they come and go', async () => {
  const root = join(dir, 'v1');
  const mountinfo = [`31 30 0:28 / ${root}/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct`, `34 30 0:31 / ${root}/memory rw,relatime - cgroup cgroup rw,memory`].join('\n');
  const agentDir = join(dir, 'agent-v1');
  await mkdir(agentDir, { recursive: true });
  const cg = await PodCgroups.from(mountinfo, '4:memory:/m/1\n1:cpuacct,cpu:/\n0::/', agentDir);
  assert.ok(cg);
  const cpu = join(root, 'cpu,cpuacct', 'kubepods');
  assert.equal(await cg.ensure(burst('b1', '250m')), 'kubepods/burstable/podb1');
  assert.equal(await read(cpu, 'burstable', 'cpu.shares'), '256');
  assert.equal(await read(cpu, 'besteffort', 'cpu.shares'), '2');
  await cg.ensure(burst('b2', '500m'));
  assert.equal(await read(cpu, 'burstable', 'cpu.shares'), '768');
  await cg.ensure(guaranteed);
  assert.equal(await read(cpu, 'burstable', 'cpu.shares'), '768', 'Guaranteed pods do not count');
  assert.equal(await read(cpu, 'podg1', 'cpu.cfs_quota_us'), '50000');
  assert.equal(await read(root, 'memory', 'm/1', 'kubepods', 'podg1', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  await cg.remove('b1');
  assert.equal(await read(cpu, 'burstable', 'cpu.shares'), '512');
  // The kubelet's periodic update with the pods still active (b2 finished): back to the minimum.
  await cg.updateQos([guaranteed]);
  assert.equal(await read(cpu, 'burstable', 'cpu.shares'), '2');
  assert.deepEqual(JSON.parse(await readFile(join(agentDir, 'cgroups.json'), 'utf8')), [join(root, 'cpu,cpuacct'), join(root, 'memory', 'm/1')]);
});

test('cgroup v2 only: the runtime moves to a leaf, controllers are handed down, weights/max files, absolute parents', async () => {
  const root = join(dir, 'v2');
  const runtime = join(root, 'agent');
  await mkdir(runtime, { recursive: true });
  await writeFile(join(runtime, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  await writeFile(join(runtime, 'cgroup.subtree_control'), '\n');
  await writeFile(join(runtime, 'cgroup.procs'), '4242\n');
  const mountinfo = `29 23 0:26 / ${root} rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate`;
  assert.deepEqual(unifiedOf(mountinfo, '0::/agent\n'), { base: runtime, path: '/agent' });
  const agentDir = join(dir, 'agent-v2');
  await mkdir(agentDir, { recursive: true });
  const cg = await PodCgroups.from(mountinfo, '0::/agent\n', agentDir);
  assert.ok(cg, 'pod cgroups on cgroup v2');
  assert.equal(await read(runtime, V2_RUNTIME_LEAF, 'cgroup.procs'), '4242', 'the runtime left its cgroup');
  assert.equal(await read(runtime, 'cgroup.subtree_control'), '+cpu +memory');
  assert.equal(await cg.ensure(guaranteed), '/agent/kubepods/podg1');
  assert.equal(cg.parent(burst('b1', '1')), '/agent/kubepods/burstable/podb1');
  const pods = join(runtime, 'kubepods');
  assert.equal(await read(pods, 'cgroup.subtree_control'), '+cpu +memory');
  assert.equal(await read(pods, 'podg1', 'cgroup.subtree_control'), '+cpu +memory');
  assert.equal(await read(pods, 'podg1', 'cpu.max'), '50000 100000');
  assert.equal(await read(pods, 'podg1', 'cpu.weight'), String(cpuSharesToWeight(512)));
  assert.equal(await read(pods, 'podg1', 'memory.max'), String(64 * 1024 * 1024));
  assert.equal(await read(pods, 'besteffort', 'cpu.weight'), '1');
  await cg.ensure(burst('b1', '1'));
  assert.equal(await read(pods, 'burstable', 'cpu.weight'), String(cpuSharesToWeight(1024)));
  assert.equal(await read(pods, 'burstable', 'cpu.max'), 'max 100000');
  assert.equal(await read(pods, 'burstable', 'podb1', 'cpu.max'), 'max 100000');
  await cg.remove('b1');
  assert.equal(await read(pods, 'burstable', 'cpu.weight'), '1');

  // Without the memory controller for the runtime's cgroup, pods keep the runtime's default placement.
  const poor = join(root, 'poor');
  await mkdir(poor, { recursive: true });
  await writeFile(join(poor, 'cgroup.controllers'), 'cpu pids\n');
  assert.equal(await PodCgroups.from(mountinfo, '0::/poor\n', agentDir), undefined);
});
