import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/clock.js';
import { TerminationOrdering } from './termination-order.js';

const pod: Pod = {
  spec: {
    initContainers: [
      { name: 'side1', restartPolicy: 'Always' },
      { name: 'init', image: 'busybox' },
      { name: 'side2', restartPolicy: 'Always' },
    ],
    containers: [{ name: 'a' }, { name: 'b' }],
  },
};

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

test('sidecars stop after every app container, the later sidecar first; app containers do not wait', async () => {
  const clock = new FakeClock(0);
  const o = new TerminationOrdering(pod, new Set(['a', 'b', 'side1', 'side2']), clock);
  assert.equal(await o.waitForTurn('a', 30), 0);
  const side2 = o.waitForTurn('side2', 30);
  const side1 = o.waitForTurn('side1', 30);
  o.terminated('a');
  clock.step(2500);
  assert.equal(await settled(side2), false, 'b still runs');
  o.terminated('b');
  assert.equal(await side2, 2, 'waited 2.5 s: 2 whole seconds off its grace');
  assert.equal(await settled(side1), false, 'side2 has not stopped yet');
  o.terminated('side2');
  assert.equal(await side1, 2);
});

test('a wait ends with the grace period; no grace, or nothing running before it, means no wait', async () => {
  const clock = new FakeClock(0);
  const o = new TerminationOrdering(pod, new Set(['a', 'side1']), clock);
  // b and side2 do not run: side1 waits only for a.
  const side1 = o.waitForTurn('side1', 5);
  clock.step(5000);
  assert.equal(await side1, 5);
  assert.equal(await o.waitForTurn('side1', 0), 0);
  o.terminated('a');
  assert.equal(await o.waitForTurn('side1', 5), 0);
  assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
});
