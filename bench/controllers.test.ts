// Proves the controller benchmark harness still works end to end (real server, simulated nodes, watches, /proc
// sampling) at tiny sizes. It asserts that every figure is produced, never how fast: timing is the benchmark's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchControllers, QUICK, readProc, rolledOut } from './controllers.js';

test('rolledOut needs the observed generation, and updated == available == replicas', () => {
  const d = (gen: number, observed: number, updated: number, available: number, replicas: number) => ({
    metadata: { generation: gen },
    status: { observedGeneration: observed, updatedReplicas: updated, availableReplicas: available, replicas },
  });
  assert.equal(rolledOut(d(2, 2, 10, 10, 10), 10), true);
  assert.equal(rolledOut(d(2, 1, 10, 10, 10), 10), false);
  assert.equal(rolledOut(d(2, 2, 10, 10, 13), 10), false);
  assert.equal(rolledOut(d(2, 2, 7, 10, 10), 10), false);
  assert.equal(rolledOut(undefined, 10), false);
});

test('readProc reads CPU seconds and RSS of a process', async () => {
  const s = await readProc(process.pid);
  assert.ok(s.cpuSec >= 0 && Number.isFinite(s.cpuSec));
  assert.ok(s.rssMiB > 0 && s.hwmMiB >= s.rssMiB);
});

test('controller benchmark runs at quick sizes and reports every figure', { timeout: 10 * 60_000 }, async () => {
  const r = await benchControllers(QUICK);
  for (const k of ['bigAvailableMs', 'bigAllPodsCreatedMs', 'manyCreateAvailableMs', 'rolloutMs', 'bigCpuSec', 'rolloutCpuSec', 'totalCpuSec', 'peakRssMiB', 'idleRssMiB']) {
    assert.equal(typeof r[k], 'number', k);
    assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  }
  assert.ok(r.peakRssMiB > 0);
  assert.equal(r.bigReplicas, QUICK.bigReplicas);
});
