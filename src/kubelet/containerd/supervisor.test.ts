import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FakeClock } from '../../client/index.js';
import { checkAgentPackages, containerdConfig, containerdPaths, launchContainerd, RESTART_BACKOFF, superviseRestarts, type Launched } from './supervisor.js';
import { bridgeName, cniConflist } from '../network/cni.js';
import { firstNodeCIDR, clusterDNSFor } from '../run.js';

test('missing packages are named with the apt-get command', () => {
  assert.doesNotThrow(() => checkAgentPackages(() => true));
  assert.throws(
    () => checkAgentPackages((p) => !p.startsWith('/usr/lib/cni') && p !== '/usr/sbin/runc'),
    /needs the Debian packages runc, containernetworking-plugins .*install with: apt-get install -y runc containernetworking-plugins/,
  );
});

test('containerd config: own dirs and socket, restrict_oom_score_adj, runc with its own root, CNI dirs', () => {
  const p = containerdPaths('/data/agent');
  assert.equal(p.socket, '/data/agent/containerd/containerd.sock');
  const toml = containerdConfig(p, 'registry.k8s.io/pause:3.10');
  for (const line of [
    'root = "/data/agent/containerd/root"',
    'state = "/data/agent/containerd/state"',
    'address = "/data/agent/containerd/containerd.sock"',
    'restrict_oom_score_adj = true',
    'sandbox_image = "registry.k8s.io/pause:3.10"',
    'snapshotter = "overlayfs"',
    'Root = "/data/agent/containerd/runc"',
    'bin_dir = "/usr/lib/cni"',
    'conf_dir = "/data/agent/cni/net.d"',
  ]) {
    assert.ok(toml.includes(line), line);
  }
});

test('CNI: bridge per data dir, host-local from the pod CIDR, portmap; local node ranges', () => {
  const b = bridgeName('/data/agent');
  assert.ok(b.length <= 15 && b.startsWith('skiff'));
  assert.notEqual(b, bridgeName('/other/agent'));
  const conf = cniConflist({ agentDir: '/data/agent', podCIDR: '198.18.4.0/24', bridge: b }) as { plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[] };
  assert.deepEqual(conf.plugins.map((p) => p.type), ['bridge', 'portmap']);
  assert.equal(conf.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, '198.18.4.0/24');
  assert.equal(firstNodeCIDR('198.18.0.0/16'), '198.18.0.0/24');
  assert.equal(firstNodeCIDR('198.18.7.0/24'), '198.18.7.0/24');
  assert.equal(firstNodeCIDR('198.18.7.0/26'), '198.18.7.0/26');
  assert.equal(clusterDNSFor('198.19.0.0/16'), '198.19.0.10');
});

/** A process that exits when told to, or on SIGTERM/SIGKILL; records the signals it got. */
function fakeProcess(): Launched & { end(code: number): void; signals: string[] } {
  const signals: string[] = [];
  let resolve!: (how: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => (resolve = r));
  const child = {
    pid: 4242,
    exitCode: null as number | null,
    signalCode: null as NodeJS.Signals | null,
    kill(signal: NodeJS.Signals) {
      signals.push(signal);
      if (child.exitCode === null && child.signalCode === null) {
        child.signalCode = signal;
        resolve({ code: null, signal });
      }
      return true;
    },
  };
  return {
    child: child as unknown as ChildProcess,
    exit,
    signals,
    end(code: number) {
      child.exitCode = code;
      resolve({ code, signal: null });
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('restarts back off 1 s doubling to 30 s while starts keep failing, and from 1 s again after a run of a minute', async () => {
  const clock = new FakeClock(0);
  const first = fakeProcess();
  const launches: number[] = [];
  let next: ReturnType<typeof fakeProcess> | undefined;
  const sup = superviseRestarts(first, {
    clock,
    restart: true,
    launch: async () => {
      launches.push(clock.now());
      if (next) return next;
      throw new Error('containerd exited during start');
    },
  });
  first.end(1);
  for (let t = 0; t < 200_000; t += 500) {
    await settle();
    clock.step(500);
  }
  await settle();
  // The wait kept growing although the last good start is long past (it used to fall back to 1 s after a minute).
  assert.deepEqual(launches, [1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000, 121_000, 151_000, 181_000]);
  // A start that works: it runs a minute, exits, and the next restart comes after 1 s.
  next = fakeProcess();
  clock.step(30_000);
  await settle();
  assert.equal(sup.current, next);
  const ranAMinute = next;
  next = fakeProcess();
  clock.step(RESTART_BACKOFF.stableMs);
  ranAMinute.end(2);
  await settle();
  launches.length = 0;
  clock.step(1000);
  await settle();
  assert.deepEqual(launches, [clock.now()]);
  await sup.stop();
  assert.deepEqual(next.signals, ['SIGTERM']);
});

test('stop() during a restart waits for it and stops the process it started; nothing starts after', async () => {
  const clock = new FakeClock(0);
  const first = fakeProcess();
  let finishLaunch!: (l: Launched) => void;
  let launches = 0;
  const sup = superviseRestarts(first, {
    clock,
    restart: true,
    launch: () => {
      launches++;
      return new Promise<Launched>((r) => (finishLaunch = r));
    },
  });
  first.end(1);
  await settle();
  clock.step(1000);
  await settle();
  assert.equal(launches, 1);
  let stopped = false;
  const stopping = sup.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, 'the start under way is waited for');
  const late = fakeProcess();
  finishLaunch(late);
  await stopping;
  assert.deepEqual(late.signals, ['SIGTERM'], 'the process a late start brought up is stopped, not left running');
  clock.step(120_000);
  await settle();
  assert.equal(launches, 1);
});

test('without restart, stop() ends the process and an exit starts nothing', async () => {
  const clock = new FakeClock(0);
  const first = fakeProcess();
  let launches = 0;
  const sup = superviseRestarts(first, { clock, restart: false, launch: async () => (launches++, fakeProcess()) });
  await sup.stop();
  assert.deepEqual(first.signals, ['SIGTERM']);
  clock.step(60_000);
  await settle();
  assert.equal(launches, 0);
});

test('a containerd that cannot be spawned fails its start with the cause (it waited forever for an exit that never comes)', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-launch-'));
  try {
    await assert.rejects(launchContainerd(containerdPaths(dir), new PassThrough(), 200, undefined, join(dir, 'no-such-containerd')), (err: Error) => {
      assert.match(err.message, /^containerd could not be run: spawn .*no-such-containerd ENOENT/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
