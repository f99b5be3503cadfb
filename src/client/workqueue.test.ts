import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { FakeClock } from './clock.js';
import { DeletedFinalStateUnknown, SharedIndexInformer, deletedObject } from './informer.js';
import { listWatcherFor } from './reflector.js';
import { RestClient } from './rest.js';
import { metaNamespaceKey, splitMetaNamespaceKey } from './store.js';
import { runWorkers, processNextWorkItem } from './worker.js';
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

describe('processNextWorkItem', () => {
  test('success forgets, failure re-adds rate-limited, maxRetries drops the item', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(10, 1000) });
    const errors: string[] = [];
    const failing = async (item: string) => {
      throw new Error(`no ${item}`);
    };
    q.add('a');
    assert.equal(await processNextWorkItem(q, failing, { maxRetries: 2, onError: (i) => errors.push(i) }), true);
    assert.equal(q.numRequeues('a'), 1);
    assert.equal(q.len(), 0, 'waiting for its backoff');
    clock.step(10);
    await processNextWorkItem(q, failing, { maxRetries: 2 });
    clock.step(20);
    await processNextWorkItem(q, failing, { maxRetries: 2 });
    assert.equal(q.numRequeues('a'), 0, 'dropped after maxRetries');
    clock.step(10_000);
    assert.equal(q.len(), 0);
    assert.deepEqual(errors, ['a']);

    q.add('b');
    q.addRateLimited('b');
    const seen: string[] = [];
    await processNextWorkItem(q, async (i) => void seen.push(i));
    assert.deepEqual(seen, ['b']);
    assert.equal(q.numRequeues('b'), 0, 'forgotten on success');
    q.shutDown();
    assert.equal(await processNextWorkItem(q, async () => undefined), false);
  });
});

describe('a controller loop on a real server', () => {
  let srv: TestServer;
  let client: RestClient;
  before(async () => {
    srv = await startTestServer();
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('informer → rate-limited queue → workers: one worker per key, failures retried with backoff, forget on success', async () => {
    await client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'wq' } });
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const informer = new SharedIndexInformer(listWatcherFor(cms, { namespace: 'wq' }));
    const queue = new RateLimitingQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    const enqueue = (o: ConfigMap | DeletedFinalStateUnknown<ConfigMap>) => queue.add(metaNamespaceKey(deletedObject(o)));
    informer.addEventHandler({ onAdd: enqueue, onUpdate: (_, o) => enqueue(o), onDelete: enqueue });

    const inFlight = new Set<string>();
    let overlaps = 0;
    const attempts = new Map<string, number>();
    const requeuesSeen: number[] = [];
    // Mirrors every ConfigMap labelled mirror=yes into "<name>-mirror"; the first attempt per key fails on purpose.
    async function reconcile(key: string): Promise<void> {
      if (inFlight.has(key)) overlaps++;
      inFlight.add(key);
      try {
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (n === 1) throw new Error('transient');
        requeuesSeen.push(queue.numRequeues(key));
        const { namespace, name } = splitMetaNamespaceKey(key);
        const src = informer.lister().namespace(namespace).get(name);
        if (!src || src.metadata?.labels?.mirror !== 'yes') return;
        const mirror: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-mirror` }, data: src.data };
        await cms.patch(`${name}-mirror`, mirror, { namespace, type: 'apply', fieldManager: 'mirror-controller', force: true });
      } finally {
        inFlight.delete(key);
      }
    }

    informer.run();
    const failures: string[] = [];
    const workers = runWorkers(queue, 3, reconcile, { onError: (key) => failures.push(key) });
    try {
      assert.equal(await informer.waitForCacheSync(10_000), true);
      for (let i = 0; i < 5; i++) {
        await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `src${i}`, labels: { mirror: 'yes' } }, data: { v: '1' } }, { namespace: 'wq' });
      }
      // Rapid updates to one key while workers run: deduplicated, never processed concurrently.
      for (let v = 2; v <= 6; v++) await cms.patch('src0', { data: { v: String(v) } }, { namespace: 'wq', type: 'merge' });

      const deadline = Date.now() + 10_000;
      for (;;) {
        const mirrors = (await cms.list({ namespace: 'wq' })).items.filter((o) => o.metadata?.name?.endsWith('-mirror'));
        const src0 = mirrors.find((m) => m.metadata?.name === 'src0-mirror');
        // The mirrors are keys too (their first attempt fails as well): wait until every key has had its retry.
        const retried = [...attempts.values()].every((n) => n >= 2) && inFlight.size === 0;
        if (mirrors.length === 5 && src0?.data?.v === '6' && retried) break;
        assert.ok(Date.now() < deadline, `not converged: ${JSON.stringify(mirrors.map((m) => [m.metadata?.name, m.data]))}, attempts ${JSON.stringify([...attempts])}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(overlaps, 0, 'no key was held by two workers at once');
      assert.ok([...attempts.values()].every((n) => n >= 2), 'every key failed once and was retried');
      assert.deepEqual(new Set(failures), new Set(attempts.keys()));
      assert.ok(requeuesSeen.some((n) => n >= 1), 'a retried key carried its failure count until forget');
      for (const key of attempts.keys()) assert.equal(queue.numRequeues(key), 0, `${key} forgotten after success`);
    } finally {
      await queue.shutDownWithDrain();
      await workers;
      await informer.stop();
    }
  });
});
