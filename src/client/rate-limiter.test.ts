import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './rate-limiter.js';

describe('rate limiters', () => {
  test('per-item exponential: doubles per failure from the base, capped, per item, reset by forget', () => {
    const l = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    assert.deepEqual([1, 2, 3, 4].map(() => l.when('a')), [5, 10, 20, 40]);
    assert.equal(l.when('b'), 5, 'items back off independently');
    assert.equal(l.numRequeues('a'), 4);
    for (let i = 0; i < 40; i++) l.when('a');
    assert.equal(l.when('a'), 1_000_000, 'capped at 1000 s');
    for (let i = 0; i < 2000; i++) l.when('a');
    assert.equal(l.when('a'), 1_000_000, 'no overflow after many failures');
    l.forget('a');
    assert.equal(l.numRequeues('a'), 0);
    assert.equal(l.when('a'), 5);
  });

  test('token bucket: burst free, then one token per 1/qps, refilled as time passes', () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter<string>(10, 100, clock);
    for (let i = 0; i < 100; i++) assert.equal(l.when(`i${i}`), 0, `burst token ${i}`);
    assert.equal(Math.round(l.when('x')), 100);
    assert.equal(Math.round(l.when('y')), 200, 'reservations queue behind each other');
    clock.step(1000);
    // 10 tokens refilled, 2 owed: 8 free.
    for (let i = 0; i < 8; i++) assert.equal(l.when(`j${i}`), 0);
    assert.equal(Math.round(l.when('z')), 100);
    clock.step(1_000_000);
    for (let i = 0; i < 100; i++) assert.equal(l.when(`k${i}`), 0, 'refill capped at burst');
    assert.ok(l.when('w') > 0);
    assert.equal(l.numRequeues('w'), 0);

    const spam = new BucketRateLimiter<string>(1, 2, clock);
    assert.deepEqual([spam.tryAccept(), spam.tryAccept(), spam.tryAccept(), spam.tryAccept()], [true, true, false, false]);
    clock.step(1000);
    assert.equal(spam.tryAccept(), true, 'refused attempts reserve nothing');
    assert.equal(spam.tryAccept(), false);
  });

  test('max-of and the default controller limiter take the worse delay and forget in all', () => {
    const clock = new FakeClock();
    const def = defaultControllerRateLimiter<string>(clock);
    assert.equal(def.when('a'), 5);
    assert.equal(def.when('a'), 10);
    assert.equal(def.numRequeues('a'), 2);
    def.forget('a');
    assert.equal(def.numRequeues('a'), 0);
    // Exhaust the bucket: the bucket's delay wins over a fresh item's 5 ms.
    for (let i = 0; i < 98; i++) def.when(`b${i}`);
    assert.equal(Math.round(def.when('fresh')), 100);

    const m = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1, 100), new ItemExponentialFailureRateLimiter(3, 10));
    assert.deepEqual([1, 2, 3, 4, 5].map(() => m.when('x')), [3, 6, 10, 10, 16]);
  });
});
