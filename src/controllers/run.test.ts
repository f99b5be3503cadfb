// runQueueController's failure handling: retries with per-key backoff forever by default, and with maxRetries drops
// the key (logging it) after that many consecutive failures, as upstream's endpoint/endpointslice/deployment do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../../test/e2e/harness.js';
import type { Logger } from '../apiserver/log.js';
import { FakeClock, ItemExponentialFailureRateLimiter, RateLimitingQueue } from '../client/index.js';
import { runQueueController } from './run.js';

function capturingLog(): { log: Logger; lines: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const at = (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields });
  return { log: { error: at, warn: at, info: at, debug: at }, lines };
}

async function failingController(maxRetries: number | undefined) {
  const clock = new FakeClock(0);
  const queue = new RateLimitingQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000) });
  const { log, lines } = capturingLog();
  const attempts = new Map<string, number>();
  const abort = new AbortController();
  const sync = async (key: string): Promise<void> => {
    attempts.set(key, (attempts.get(key) ?? 0) + 1);
    if (key !== 'ns/ok') throw new Error(`sync of ${key} failed`);
  };
  const done = runQueueController({ name: 'test', waitForSync: async () => true, queue, workers: 1, sync, log, maxRetries }, abort.signal);
  const count = (key: string) => attempts.get(key) ?? 0;
  /** Fail `n` more times, releasing each backoff with the clock. */
  const failTimes = async (key: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const target = count(key) + 1;
      clock.step(1000);
      await eventually(`attempt ${target} of ${key}`, () => count(key) >= target);
    }
  };
  /** Every key waiting in the backoff before this point has been synced again once ns/ok is done. */
  const drain = async () => {
    clock.step(60_000);
    const before = count('ns/ok');
    queue.add('ns/ok');
    await eventually('ns/ok synced', () => count('ns/ok') > before);
  };
  return { queue, lines, count, failTimes, drain, stop: async () => (abort.abort(), await done) };
}

test('with maxRetries a key is dropped and logged after that many consecutive failures', async () => {
  const c = await failingController(3);
  try {
    c.queue.add('ns/broken');
    await eventually('first attempt', () => c.count('ns/broken') === 1);
    await c.failTimes('ns/broken', 3);
    await c.drain();
    assert.equal(c.count('ns/broken'), 4, 'the first sync and 3 retries, then no more');
    assert.equal(c.queue.numRequeues('ns/broken'), 0, 'its backoff is forgotten');
    const dropped = c.lines.filter((l) => l.msg === 'dropping key out of the queue');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.fields?.key, 'ns/broken');
    assert.equal(c.lines.filter((l) => l.msg === 'sync failed, will retry').length, 3);
    // A later event queues it again with a fresh retry budget.
    c.queue.add('ns/broken');
    await eventually('synced again after a new event', () => c.count('ns/broken') === 5);
    assert.equal(c.queue.numRequeues('ns/broken'), 1);
  } finally {
    await c.stop();
  }
});

test('without maxRetries a failing key is retried with backoff forever', async () => {
  const c = await failingController(undefined);
  try {
    c.queue.add('ns/broken');
    await eventually('first attempt', () => c.count('ns/broken') === 1);
    await c.failTimes('ns/broken', 20);
    await c.drain();
    assert.equal(c.count('ns/broken'), 22, 'still retried after 21 failures');
    assert.equal(c.lines.filter((l) => l.msg === 'dropping key out of the queue').length, 0);
  } finally {
    await c.stop();
  }
});
