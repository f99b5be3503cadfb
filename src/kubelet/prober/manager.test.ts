import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import type { ProbeOutcome, ProbeResult } from './actions.js';
import { ProbeManager, probeTimings, type ProbedContainer, type ProbeType } from './manager.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

interface Harness {
  clock: FakeClock;
  m: ProbeManager;
  calls: ProbeType[];
  events: string[];
  changes: string[];
  script: Record<ProbeType, ProbeResult[]>;
  /** Advance time second by second, letting probes finish after each step. */
  advance(seconds: number): Promise<void>;
  set(c: ProbedContainer): void;
}

function pod(c: Container, extra: Partial<Pod['metadata']> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', ...extra }, spec: { containers: [c] }, status: { phase: 'Running' } };
}

async function harness(p: Pod, first: ProbedContainer, initial: Partial<Record<ProbeType, ProbeResult[]>> = {}): Promise<Harness> {
  const clock = new FakeClock(1_000_000);
  const h: Partial<Harness> = { clock, calls: [], events: [], changes: [], script: { liveness: [], readiness: [], startup: [], ...initial } };
  const m = new ProbeManager({
    clock,
    run: async (type): Promise<ProbeOutcome> => {
      h.calls!.push(type);
      const r = h.script![type].shift() ?? 'success';
      return { result: r, output: r === 'failure' ? 'boom' : 'ok' };
    },
    event: (_p, _t, reason, message) => h.events!.push(`${reason}: ${message}`),
    onChange: (_uid, type, id, result) => h.changes!.push(`${type}/${id}=${result}`),
  });
  h.m = m;
  h.set = (c) => m.update(p, '198.18.0.9', new Map([[p.spec!.containers[0]!.name, c]]));
  h.advance = async (seconds) => {
    clock.step(0);
    await flush();
    await flush();
    for (let i = 0; i < seconds; i++) {
      await flush();
      clock.step(1000);
      await flush();
      await flush();
    }
  };
  h.set(first);
  await flush();
  clock.step(0);
  await flush();
  await flush();
  return h as Harness;
}

const probe = (p: Partial<Probe>): Probe => ({ exec: { command: ['true'] }, ...p });

test('defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay', () => {
  assert.deepEqual(probeTimings({}), { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(probeTimings({ periodSeconds: 2, failureThreshold: 1, initialDelaySeconds: 5 }).periodSeconds, 2);
});

test('liveness: failures settle only after failureThreshold in a row, each is an Unhealthy event, then the worker holds until the container is replaced', async () => {
  const c: Container = { name: 'app', livenessProbe: probe({ periodSeconds: 2, failureThreshold: 3 }) };
  const h = await harness(pod(c), { id: 'c1', running: true, startedAt: 1_000_000 });
  // The first probe already ran at t=0 (success by default); script the next ones.
  h.script.liveness.push('failure', 'failure', 'success', 'failure', 'failure');
  await h.advance(10); // t=2,4 fail; t=6 success; t=8,10 fail
  assert.equal(h.m.result('c1', 'liveness'), 'success', 'a success in between resets the run');
  h.script.liveness.push('failure');
  await h.advance(2); // t=12: the third failure in a row
  assert.equal(h.m.result('c1', 'liveness'), 'failure');
  assert.deepEqual(h.changes, ['liveness/c1=success', 'liveness/c1=failure']);
  assert.equal(h.events.filter((e) => e === 'Unhealthy: Liveness probe failed: boom').length, 5);
  const calls = h.calls.length;
  await h.advance(6);
  assert.equal(h.calls.length, calls, 'on hold: no probes against the doomed container');
  // The restarted container gets a fresh result (liveness starts as success) and is probed at once.
  h.set({ id: 'c2', running: true, startedAt: h.clock.now() });
  await h.advance(0);
  await flush();
  assert.equal(h.m.result('c2', 'liveness'), 'success');
  assert.equal(h.m.result('c1', 'liveness'), undefined);
  assert.ok(h.calls.length > calls);
});

test('readiness: starts unready, honours initialDelaySeconds and successThreshold, and flips back on failures', async () => {
  const c: Container = { name: 'app', readinessProbe: probe({ periodSeconds: 1, initialDelaySeconds: 3, successThreshold: 2, failureThreshold: 2 }) };
  const h = await harness(pod(c), { id: 'c1', running: true, startedAt: 1_000_000 });
  const view = { id: 'c1', running: true, startedAt: 1_000_000 };
  assert.equal(h.m.ready('u1', 'app', view), false, 'readiness starts as failure');
  assert.equal(h.m.started('u1', 'app', view), true, 'no startup probe: started while running');
  await h.advance(2);
  assert.equal(h.calls.length, 0, 'nothing probed within initialDelaySeconds');
  await h.advance(1); // t=3: first success
  assert.equal(h.calls.length, 1);
  assert.equal(h.m.ready('u1', 'app', view), false, 'one success is below successThreshold 2');
  await h.advance(1); // t=4: second success
  assert.equal(h.m.ready('u1', 'app', view), true);
  h.script.readiness.push('failure');
  await h.advance(1);
  assert.equal(h.m.ready('u1', 'app', view), true, 'one failure is below failureThreshold 2');
  h.script.readiness.push('failure');
  await h.advance(1);
  assert.equal(h.m.ready('u1', 'app', view), false);
  assert.deepEqual(h.changes, ['readiness/c1=failure', 'readiness/c1=success', 'readiness/c1=failure']);
  assert.ok(h.events.includes('Unhealthy: Readiness probe failed: boom'));
  // A stopped container is not ready, whatever its last result.
  assert.equal(h.m.ready('u1', 'app', { ...view, running: false }), false);
});

test('startup gates liveness and readiness; a settled startup failure is reported for the kill', async () => {
  const c: Container = {
    name: 'app',
    startupProbe: probe({ periodSeconds: 1, failureThreshold: 2 }),
    readinessProbe: probe({ periodSeconds: 1 }),
    livenessProbe: probe({ periodSeconds: 1 }),
  };
  // t=0: startup fails once; readiness and liveness do not run.
  const h = await harness(pod(c), { id: 'c1', running: true, startedAt: 1_000_000 }, { startup: ['failure'] });
  const view = { id: 'c1', running: true, startedAt: 1_000_000 };
  assert.deepEqual([...new Set(h.calls)], ['startup']);
  assert.equal(h.m.started('u1', 'app', view), false);
  assert.equal(h.m.ready('u1', 'app', view), false);
  h.script.startup.push('success');
  await h.advance(1);
  assert.equal(h.m.started('u1', 'app', view), true);
  assert.deepEqual([...new Set(h.calls)], ['startup']);
  const startupCalls = h.calls.filter((t) => t === 'startup').length;
  await h.advance(3);
  assert.equal(h.calls.filter((t) => t === 'startup').length, startupCalls, 'startup is not probed once it succeeded');
  assert.ok(h.calls.includes('readiness') && h.calls.includes('liveness'));
  assert.equal(h.m.ready('u1', 'app', view), true);

  // A second container run whose startup probe keeps failing: failure settles at the threshold.
  h.script.startup.push('failure', 'failure');
  h.set({ id: 'c2', running: true, startedAt: h.clock.now() });
  await h.advance(2);
  assert.equal(h.m.result('c2', 'startup'), 'failure');
  assert.ok(h.events.includes('Unhealthy: Startup probe failed: boom'));
});

test('a prober error is retried and then thrown away; a warning counts as success with a ProbeWarning event', async () => {
  const c: Container = { name: 'app', readinessProbe: probe({ periodSeconds: 1 }) };
  const h = await harness(pod(c), { id: 'c1', running: true, startedAt: 1_000_000 });
  assert.equal(h.m.result('c1', 'readiness'), 'success');
  h.script.readiness.push('unknown', 'unknown', 'unknown');
  const before = h.calls.length;
  await h.advance(1);
  assert.equal(h.calls.length - before, 3, 'three tries');
  assert.equal(h.m.result('c1', 'readiness'), 'success', 'unknown leaves the result alone');
  h.script.readiness.push('failure', 'warning');
  await h.advance(2);
  assert.equal(h.m.result('c1', 'readiness'), 'success');
  assert.ok(h.events.includes('ProbeWarning: Readiness probe warning: ok'));
});

test('a pod being deleted: liveness reports success and stops; removePod stops every worker', async () => {
  const c: Container = { name: 'app', livenessProbe: probe({ periodSeconds: 1, failureThreshold: 1 }), readinessProbe: probe({ periodSeconds: 1 }) };
  const p = pod(c);
  const h = await harness(p, { id: 'c1', running: true, startedAt: 1_000_000 });
  const deleting = pod(c, { deletionTimestamp: '2026-01-01T00:00:00Z' });
  h.m.update(deleting, '198.18.0.9', new Map([['app', { id: 'c1', running: true, startedAt: 1_000_000 }]]));
  h.script.liveness.push('failure', 'failure');
  await h.advance(3);
  assert.equal(h.m.result('c1', 'liveness'), 'success');
  assert.equal(h.calls.filter((t) => t === 'liveness').length, 1, 'only the probe before the deletion');
  h.m.removePod('u1');
  const n = h.calls.length;
  await h.advance(3);
  assert.equal(h.calls.length, n);
  assert.equal(h.clock.pendingTimers(), 0);
});
