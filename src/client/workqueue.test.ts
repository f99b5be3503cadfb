import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { DelayingQueue, RateLimitingQueue, WorkQueue } from './workqueue.js';

async function getItem<T>(q: WorkQueue<T>): Promise<T> {
  const r = await q.get();
  assert.equal(r.shutdown, false);
  return r.item as T;
}

describe('WorkQueue', () => {
  test('dedups queued items and keeps FIFO order', async () => {
    const q = new WorkQueue<string>();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    assert.equal(q.len(), 3);
    assert.deepEqual([await getItem(q), await getItem(q), await getItem(q)], ['a', 'b', 'c']);
  });

  test('an item added while processing is not handed to a second worker, and is re-queued by done()', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const item = await getItem(q);
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 0, 'held by a worker: not queued again');
    let second: string | undefined;
    const waiting = q.get().then((r) => (second = r.item));
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined);
    q.done(item);
    await waiting;
    assert.equal(second, 'a', 'dirty item re-queued exactly once');
    q.done('a');
    assert.equal(q.len(), 0);
  });

  test('done() of a clean item does not re-queue it; a blocked get() wakes on add', async () => {
    const q = new WorkQueue<string>();
    const pending = q.get();
    q.add('x');
    assert.equal((await pending).item, 'x');
    q.done('x');
    assert.equal(q.len(), 0);
  });

  test('shutdown: adds are ignored, waiters get shutdown after the queue empties, drain waits for workers', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    const held = await getItem(q);
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.add('c');
    assert.equal(await getItem(q), 'b', 'queued items are still handed out');
    q.done('b');
    assert.deepEqual(await q.get(), { item: undefined, shutdown: true });
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false, 'a worker still holds an item');
    q.done(held);
    await drain;
    assert.equal(drained, true);
  });
});

describe('DelayingQueue', () => {
  test('addAfter fires when the clock reaches the time; an earlier re-add wins, a later one is ignored', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>(clock);
    q.addAfter('a', 100);
    q.addAfter('b', 50);
    q.addAfter('a', 200);
    q.addAfter('c', 300);
    q.addAfter('c', 10);
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
    assert.equal(await getItem(q), 'now');
    clock.step(9);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(await getItem(q), 'c');
    clock.step(40);
    assert.equal(await getItem(q), 'b');
    clock.step(50);
    assert.equal(await getItem(q), 'a');
    assert.equal(q.waitingCount(), 0);
    clock.step(1000);
    assert.equal(q.len(), 0, 'the superseded later time does not add again');
    q.shutDown();
    q.addAfter('late', 5);
    clock.step(10);
    assert.equal(q.len(), 0);
  });
});

describe('RateLimitingQueue', () => {
  test('addRateLimited backs off per item; forget resets; numRequeues counts', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    q.addRateLimited('k');
    clock.step(4);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(await getItem(q), 'k');
    q.done('k');
    q.addRateLimited('k');
    clock.step(9);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1, 'second failure waits 10 ms');
    assert.equal(q.numRequeues('k'), 2);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
  });

  test('the default limiter combines per-item backoff and the shared bucket', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    for (let i = 0; i < 120; i++) q.addRateLimited(`i${i}`);
    clock.step(5);
    assert.equal(q.len(), 100, 'burst of 100 after the 5 ms item delay');
    clock.step(1000);
    assert.equal(q.len(), 110, '10 per second after the burst');
    clock.step(1000);
    assert.equal(q.len(), 120);
  });
});
