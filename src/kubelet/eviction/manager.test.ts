import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { EvictionManager, rankForEviction, softEvictionGraceSeconds, type Observations, type PodUsage } from './manager.js';
import { DEFAULT_EVICTION_CONFIG, evictionConfigFromKubeletArgs } from './thresholds.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function pod(name: string, opts: { memRequest?: string; priority?: number; static?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(opts.static ? { annotations: { 'kubernetes.io/config.source': 'file' } } : {}) },
    spec: {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      containers: [{ name: 'c', image: 'busybox', ...(opts.memRequest ? { resources: { requests: { memory: opts.memRequest } } } : {}) }],
    },
  };
}
const mem = (bytes: number): PodUsage => ({ containers: [{ name: 'c', memoryBytes: bytes }] });

test('kubelet-arg parsing: defaults kept for signals left out, soft thresholds need grace periods, bad values refused', () => {
  const signals = (c: ReturnType<typeof evictionConfigFromKubeletArgs>) => c.thresholds.map((t) => `${t.signal}:${t.gracePeriodMs}`);
  assert.deepEqual(signals(DEFAULT_EVICTION_CONFIG), ['memory.available:0', 'nodefs.available:0', 'nodefs.inodesFree:0', 'imagefs.available:0', 'imagefs.inodesFree:0']);
  assert.equal(DEFAULT_EVICTION_CONFIG.pressureTransitionPeriodMs, 300_000);
  const c = evictionConfigFromKubeletArgs([
    'eviction-hard=memory.available<500Mi,nodefs.available<20%,imagefs.available<0%',
    'eviction-soft=memory.available<1Gi',
    'eviction-soft-grace-period=memory.available=1m30s',
    'eviction-minimum-reclaim=memory.available=200Mi',
    'eviction-pressure-transition-period=30s',
    'image-gc-high-threshold=90',
  ]);
  const hardMem = c.thresholds.find((t) => t.signal === 'memory.available' && t.gracePeriodMs === 0)!;
  assert.deepEqual(hardMem.value, { quantity: 500 * Mi, text: '500Mi' });
  assert.deepEqual(hardMem.minReclaim, { quantity: 200 * Mi, text: '200Mi' });
  assert.deepEqual(c.thresholds.find((t) => t.signal === 'nodefs.available')!.value, { percentage: 0.2 });
  assert.equal(c.thresholds.some((t) => t.signal === 'imagefs.available'), false, '0% disables a default');
  assert.equal(c.thresholds.find((t) => t.gracePeriodMs > 0)?.gracePeriodMs, 90_000);
  assert.equal(c.pressureTransitionPeriodMs, 30_000);
  assert.throws(() => evictionConfigFromKubeletArgs(['eviction-soft=memory.available<1Gi']), /grace period must be specified/);
  assert.throws(() => evictionConfigFromKubeletArgs(['eviction-hard=cpu.available<1']), /unsupported eviction signal "cpu.available"/);
  assert.throws(() => evictionConfigFromKubeletArgs(['eviction-hard=memory.available<lots']), /invalid quantity/);
});

test('rank order: over requests first, then lower priority, then more usage above requests', () => {
  const pods = [
    pod('guaranteed-ish', { memRequest: '1Gi' }), // under its request
    pod('burstable-over', { memRequest: '100Mi' }), // 150Mi over
    pod('besteffort-small'), // 50Mi over
    pod('besteffort-big'), // 400Mi over
    pod('besteffort-high-priority', { priority: 1000 }), // 900Mi over, but higher priority
  ];
  const usage = new Map<string, PodUsage>([
    ['uid-guaranteed-ish', mem(900 * Mi)],
    ['uid-burstable-over', mem(250 * Mi)],
    ['uid-besteffort-small', mem(50 * Mi)],
    ['uid-besteffort-big', mem(400 * Mi)],
    ['uid-besteffort-high-priority', mem(900 * Mi)],
  ]);
  assert.deepEqual(
    rankForEviction(pods, usage, 'memory').map((p) => p.metadata?.name),
    ['besteffort-big', 'burstable-over', 'besteffort-small', 'besteffort-high-priority', 'guaranteed-ish'],
  );
});

function harness(args: string[], observed: Observations, pods: Pod[], usage: Map<string, PodUsage>) {
  const clock = new FakeClock(1_000_000);
  const evicted: { name: string; message: string; grace: number }[] = [];
  let reclaims = 0;
  const state = { observed, pods };
  const m = new EvictionManager({
    config: evictionConfigFromKubeletArgs(args),
    clock,
    observe: async () => state.observed,
    activePods: () => state.pods,
    podUsage: async () => usage,
    evict: (p, message, grace) => void evicted.push({ name: p.metadata?.name ?? '', message, grace }),
    reclaimDisk: async () => void reclaims++,
  });
  return { clock, evicted, m, state, reclaims: () => reclaims };
}

test('hard memory threshold: MemoryPressure, one pod evicted per pass with upstream message, condition lingers', async () => {
  const pods = [pod('web', { memRequest: '64Mi' }), pod('hog'), pod('static-one', { static: true }), pod('critical', { priority: 2_000_001_000 })];
  const usage = new Map<string, PodUsage>([
    ['uid-web', mem(32 * Mi)],
    ['uid-hog', mem(300 * Mi)],
    ['uid-static-one', mem(2 * Gi)],
    ['uid-critical', mem(2 * Gi)],
  ]);
  const h = harness(['eviction-pressure-transition-period=1m'], { 'memory.available': { available: 50 * Mi, capacity: 8 * Gi } }, pods, usage);
  assert.equal((await h.m.synchronize())?.metadata?.name, 'hog');
  assert.deepEqual(h.m.pressure(), { memory: true, disk: false, pid: false });
  assert.deepEqual(h.evicted, [
    {
      name: 'hog',
      message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 300Mi, request is 0, has larger consumption of memory. ',
      grace: 1,
    },
  ]);
  // The next pass picks the next pod (the evicted one is still terminating); static and critical pods never.
  assert.equal((await h.m.synchronize())?.metadata?.name, 'web');
  assert.equal(await h.m.synchronize(), undefined);
  assert.equal(h.evicted.length, 2);

  // Recovered: the condition stays for the transition period, then clears.
  h.state.observed = { 'memory.available': { available: 2 * Gi, capacity: 8 * Gi } };
  h.clock.step(30_000);
  await h.m.synchronize();
  assert.equal(h.m.pressure().memory, true);
  h.clock.step(31_000);
  await h.m.synchronize();
  assert.equal(h.m.pressure().memory, false);
});

test('soft threshold: pressure at once, eviction only after the grace period, with the pod grace capped', async () => {
  const p = pod('hog');
  p.spec!.terminationGracePeriodSeconds = 60;
  const h = harness(
    ['eviction-soft=memory.available<1Gi', 'eviction-soft-grace-period=memory.available=1m', 'eviction-max-pod-grace-period=10'],
    { 'memory.available': { available: 512 * Mi, capacity: 8 * Gi } },
    [p],
    new Map([['uid-hog', mem(600 * Mi)]]),
  );
  assert.equal(await h.m.synchronize(), undefined);
  assert.equal(h.m.pressure().memory, true);
  h.clock.step(59_000);
  assert.equal(await h.m.synchronize(), undefined);
  h.clock.step(1_000);
  assert.equal((await h.m.synchronize())?.metadata?.name, 'hog');
  assert.equal(h.evicted[0]!.grace, 10);
  assert.match(h.evicted[0]!.message, /^The node was low on resource: memory\. Threshold quantity: 1Gi, available: 512Mi\. /);
});

test('soft eviction grace: min(eviction-max-pod-grace-period, the pod\'s); an override of 0 leaves the pod\'s own, never below 1 s', () => {
  const withGrace = (g?: number): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], ...(g === undefined ? {} : { terminationGracePeriodSeconds: g }) } });
  assert.equal(softEvictionGraceSeconds(10, withGrace(60)), 10);
  assert.equal(softEvictionGraceSeconds(10, withGrace(5)), 5);
  assert.equal(softEvictionGraceSeconds(0, withGrace(45)), 45);
  assert.equal(softEvictionGraceSeconds(0, withGrace()), 30);
  assert.equal(softEvictionGraceSeconds(0, withGrace(0)), 1);
});

test('disk: percentage thresholds against capacity, node-level reclaim first, minimum reclaim holds the threshold', async () => {
  const h = harness(
    ['eviction-hard=nodefs.available<10%', 'eviction-minimum-reclaim=nodefs.available=1Gi'],
    { 'nodefs.available': { available: 900 * Mi, capacity: 10 * Gi } },
    [pod('writer')],
    new Map([['uid-writer', { containers: [{ name: 'c', diskBytes: 2 * Gi }] }]]),
  );
  const victim = await h.m.synchronize();
  assert.equal(h.reclaims(), 1, 'image GC tried first');
  assert.equal(victim?.metadata?.name, 'writer');
  assert.deepEqual(h.m.pressure(), { memory: false, disk: true, pid: false });
  assert.equal(h.evicted[0]!.message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 900Mi. Container c was using 2Gi, request is 0, has larger consumption of ephemeral-storage. ');
  // Above the threshold but within the minimum reclaim: still crossed (pressure stays); node-level reclaim is tried and,
  // as upstream checks it without the minimum, counts as enough.
  h.state.observed = { 'nodefs.available': { available: 1536 * Mi, capacity: 10 * Gi } };
  h.state.pods = [pod('writer2')];
  assert.equal(await h.m.synchronize(), undefined);
  assert.equal(h.reclaims(), 2);
  assert.equal(h.m.pressure().disk, true);
  // Past threshold + minimum reclaim: resolved.
  h.state.observed = { 'nodefs.available': { available: 3 * Gi, capacity: 10 * Gi } };
  h.state.pods = [pod('writer3')];
  assert.equal(await h.m.synchronize(), undefined);
});

test('hard memory threshold reduces allocatable memory', () => {
  assert.equal(EvictionManager.hardMemoryBytes(DEFAULT_EVICTION_CONFIG, 8 * Gi), 100 * Mi);
  assert.equal(EvictionManager.hardMemoryBytes(evictionConfigFromKubeletArgs(['eviction-hard=memory.available<5%']), 8 * Gi), Math.floor(8 * Gi * 0.05));
});
