// A second machine for e2e files: a network namespace joined to the host by a veth pair (a /30 of 198.18.255.0/24 per
// run, e.g. 198.18.255.1 on the host and .2 inside), and `skiff agent` run inside it under `nsenter --net` (network
// namespace only; `ip netns exec` would remount /sys without the cgroup mount runc needs). Stale namespaces of killed
// runs are removed first; cleanup() removes the agent's containers (`skiff killall` inside the netns) and the netns.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { processAlive, REPO_ROOT, SKIFF_BIN } from './harness.js';

/** A new agent data dir whose airgap folder (agent/images) holds the offline busybox image. */
export async function agentDataWithBusybox(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const imagesDir = await mkdtemp(join(tmpdir(), 'skiff-images-'));
  try {
    const images = await buildTestImages(imagesDir);
    await mkdir(join(dir, 'agent', 'images'), { recursive: true });
    await copyFile(images.busybox.file, join(dir, 'agent', 'images', 'busybox.oci.tar'));
  } finally {
    await rm(imagesDir, { recursive: true, force: true });
  }
  return dir;
}

export function exec(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => resolve({ code: 127, out: out + e.message }));
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function ip(...args: string[]): Promise<void> {
  const r = await exec('ip', args);
  assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.out}`);
}

export interface NetnsNode {
  ns: string;
  /** The veth names on the host and inside the netns. */
  vethHost: string;
  vethNs: string;
  hostIP: string;
  nodeIP: string;
  /** nsenter arguments running `args` inside the netns. */
  inNetns(...args: string[]): string[];
  /** `skiff agent` (or any skiff command) inside the netns, its output appended to log(). */
  spawnSkiff(args: string[]): ChildProcess;
  /** Removes the netns and its veth; `skiff killall` first for each agent data dir given. */
  cleanup(agentDataDirs: string[]): Promise<void>;
}

/** Makes the netns `<prefix>-<pid>` with a free /30 (live runs of any file keep theirs). */
export async function makeNetnsNode(prefix: string): Promise<NetnsNode> {
  const ns = `${prefix}-${process.pid}`;
  const short = prefix.replace(/[^a-z]/g, '').slice(0, 3);
  const vethHost = `${short}h${process.pid % 1_000_000}`;
  const vethNs = `${short}n${process.pid % 1_000_000}`;
  const list = await exec('ip', ['netns', 'list']);
  for (const m of list.out.matchAll(new RegExp(`^${prefix}-(\\d+)`, 'gm'))) if (!processAlive(Number(m[1]))) await exec('ip', ['netns', 'del', `${prefix}-${m[1]}`]);
  let hostIP = '';
  let nodeIP = '';
  for (let i = 0; i < 64 && !hostIP; i++) {
    const base = (((process.pid + i) % 64) * 4) >>> 0;
    const host = `198.18.255.${base + 1}`;
    const taken = await exec('ip', ['-o', 'addr', 'show', 'to', `${host}/32`]);
    if (taken.out.trim() === '') {
      hostIP = host;
      nodeIP = `198.18.255.${base + 2}`;
    }
  }
  if (!hostIP) throw new Error('no free /30 in 198.18.255.0/24 for the veth pair');
  await ip('netns', 'add', ns);
  const inNetns = (...args: string[]) => [`--net=/var/run/netns/${ns}`, '--', ...args];
  const node: NetnsNode = {
    ns,
    vethHost,
    vethNs,
    hostIP,
    nodeIP,
    inNetns,
    spawnSkiff(args) {
      return spawn('nsenter', inNetns(process.execPath, SKIFF_BIN, ...args), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    async cleanup(agentDataDirs) {
      for (const d of agentDataDirs) await exec('nsenter', inNetns(process.execPath, SKIFF_BIN, 'killall', '--data-dir', d));
      await exec('ip', ['netns', 'del', ns]);
      await exec('ip', ['link', 'del', vethHost]);
    },
  };
  try {
    await ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
    await ip('link', 'set', vethNs, 'netns', ns);
    await ip('addr', 'add', `${hostIP}/30`, 'dev', vethHost);
    await ip('link', 'set', vethHost, 'up');
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nodeIP}/30`, 'dev', vethNs);
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    await node.cleanup([]);
    throw err;
  }
  return node;
}
