// Proves the scheduler benchmark harness works end to end (real server, nodes and pods over the API, watches,
// /metrics histograms, /proc sampling) at tiny sizes. It checks that every figure is produced and that placements
// are valid, never how fast: timing is the benchmark's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLD_QUICK, QUICK, ThroughputCollector, benchHold, benchPod, benchWorkload, histogramQuantile, splitThreads } from './scheduler.js';
import { readThreads } from './controllers.js';

test('histogramQuantile interpolates within the bucket of the difference', () => {
  const before = new Map([[0.001, 0], [0.002, 0], [0.004, 0], [Infinity, 0]]);
  const after = new Map([[0.001, 10], [0.002, 30], [0.004, 40], [Infinity, 40]]);
  assert.equal(histogramQuantile(0.25, before, after), 0.001);
  assert.equal(histogramQuantile(0.5, before, after), 0.0015);
  assert.ok(Math.abs(histogramQuantile(1, before, after) - 0.004) < 1e-12);
  assert.equal(histogramQuantile(0.5, after, after), 0);
});

test('ThroughputCollector averages as upstream: first sample is the baseline, empty intervals merge into the next', () => {
  const c = new ThroughputCollector();
  c.sample(0, 0); // nothing scheduled yet: no sample
  c.sample(50, 1000); // baseline only
  c.sample(150, 2000); // 100/s
  c.sample(150, 3000); // nothing new: merged
  c.sample(250, 4000); // 100 over 2 s = 50/s, recorded twice
  assert.deepEqual(c.rates, [100, 50, 50]);
  assert.equal(c.average(), 200 / 3);
  assert.equal(new ThroughputCollector().average(), 0);
});

test('splitThreads: the busiest thread other than the main one is the worker, the others are summed', async () => {
  const before = new Map([[1, 10], [2, 1], [3, 0.5]]);
  const after = new Map([[1, 20], [2, 4], [3, 1], [4, 0.25]]);
  assert.deepEqual(splitThreads(1, before, after), { workerSec: 3, otherSec: 0.75 });
  const own = await readThreads(process.pid);
  assert.ok(own.has(process.pid) && [...own.values()].every((s) => s >= 0));
});

test('bench pods follow upstream templates', () => {
  assert.equal(benchPod('a', 'ns', 'antiAffinity').spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, 'kubernetes.io/hostname');
  assert.equal(benchPod('a', 'ns', 'topologySpread').spec?.topologySpreadConstraints?.[0]?.maxSkew, 5);
  assert.equal(benchPod('a', 'ns', 'default', 'node-1').spec?.nodeName, 'node-1');
});

test('scheduler benchmark workloads run at quick sizes with valid placements', { timeout: 10 * 60_000 }, async () => {
  for (const w of QUICK) {
    const r = await benchWorkload(w, 3 * 60_000);
    assert.equal(r.valid, true, `${w.name}: placement`);
    for (const k of ['podsPerSec', 'throughputAvg', 'attemptP50Ms', 'attemptP99Ms', 'measureCpuSec', 'peakRssMiB', 'attempts']) {
      assert.equal(typeof r[k], 'number', `${w.name}: ${k}`);
      assert.ok(Number.isFinite(r[k] as number) && (r[k] as number) >= 0, `${w.name}: ${k} = ${r[k]}`);
    }
    assert.ok((r.attempts as number) >= w.measurePods, `${w.name}: every measured pod counted in the attempt histogram`);
  }
});

test('hold benchmark reports RSS, call, LIST and watch latencies at a quick size', { timeout: 5 * 60_000 }, async () => {
  const r = await benchHold(HOLD_QUICK);
  for (const k of ['rssHoldingMiB', 'getP99Ms', 'updateP99Ms', 'watchDelayP99Ms', 'listAllPodsPagedMs', 'listNodesMs']) {
    assert.ok(Number.isFinite(r[k]) && r[k]! >= 0, `${k} = ${r[k]}`);
  }
  assert.equal(r.listAllPodsItems, HOLD_QUICK.pods);
  assert.equal(r.watchEventsSeen, HOLD_QUICK.calls);
});
