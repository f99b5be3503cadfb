import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/index.js';
import { Backoff } from './backoff.js';

test('first restart is immediate, then 10s doubling to 5 min, measured from the finish', () => {
  const clock = new FakeClock(1_000_000);
  const b = new Backoff(clock);
  const key = 'uid/c';
  // First exit: no entry yet, so no back-off; the restart records 10 s.
  assert.equal(b.isInBackOffSince(key, clock.now()), false);
  b.next(key, clock.now());
  assert.equal(b.get(key), 10_000);
  // Second exit right away: waits 10 s from its finish.
  clock.step(1000);
  const finished = clock.now();
  assert.equal(b.isInBackOffSince(key, finished), true);
  assert.equal(b.remaining(key, finished), 10_000);
  clock.step(9_999);
  assert.equal(b.isInBackOffSince(key, finished), true);
  clock.step(1);
  assert.equal(b.isInBackOffSince(key, finished), false);
  b.next(key, finished);
  assert.equal(b.get(key), 20_000);
  for (let i = 0; i < 10; i++) b.next(key, clock.now());
  assert.equal(b.get(key), 300_000);
});

test('an entry idle for twice the maximum starts over; forgetPrefix drops a pod', () => {
  const clock = new FakeClock(0);
  const b = new Backoff(clock);
  b.next('p1/a', 0);
  b.next('p1/a', 0);
  b.next('p2/a', 0);
  assert.equal(b.get('p1/a'), 20_000);
  clock.step(600_001);
  b.next('p1/a', clock.now());
  assert.equal(b.get('p1/a'), 10_000);
  b.forgetPrefix('p1/');
  assert.equal(b.get('p1/a'), 0);
  assert.equal(b.get('p2/a'), 10_000);
  b.gc();
  assert.equal(b.get('p2/a'), 0);
});
