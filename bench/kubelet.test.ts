// Proves the real-node benchmark harness still works end to end (server, a separate `skiff agent` on containerd,
// watches, /proc sampling) at tiny sizes. It asserts that every figure is produced, never how fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchKubelet, percentile, QUICK } from './kubelet.js';

test('percentile is nearest-rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('kubelet benchmark runs at quick sizes and reports every figure', { timeout: 10 * 60_000 }, async () => {
  const r = await benchKubelet(QUICK);
  for (const k of ['agentReadyMs', 'startupP50Ms', 'startupP99Ms', 'startupMaxMs', 'startupWallMs', 'startupAgentCpuSec', 'idle0PodsRssMiB', 'idle0PodsRssMedianMiB', 'idle0PodsCpuSec', 'idleNPodsRssMiB', 'idleNPodsRssMedianMiB', 'idleNPodsCpuSec', 'agentPeakRssMiB']) {
    assert.equal(typeof r[k], 'number', k);
    assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  }
  assert.equal(r.pods, QUICK.pods);
  assert.ok(r.startupP50Ms <= r.startupP99Ms && r.startupP99Ms <= r.startupMaxMs);
  assert.ok(r.idle0PodsRssMiB > 0);
  assert.ok(r.idle0PodsRssMedianMiB! <= r.idle0PodsRssMiB! && r.idleNPodsRssMedianMiB! <= r.idleNPodsRssMiB!, 'the median is at most the highest sample');
});
