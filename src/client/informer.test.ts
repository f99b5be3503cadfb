import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { FakeClock } from './clock.js';
import { FakeListerWatcher, listOf } from './fake-lister-watcher.js';
import { DeletedFinalStateUnknown, SharedIndexInformer, deletedObject, type EventHandler } from './informer.js';

const cm = (name: string, rv: string, v = '1'): ConfigMap => ({ metadata: { namespace: 'ns', name, resourceVersion: rv }, data: { v } });

function recorder(log: string[]): EventHandler<ConfigMap> {
  return {
    onAdd: (o, initial) => log.push(`add ${o.metadata?.name}${initial ? ' (initial)' : ''}`),
    onUpdate: (a, b) => log.push(`update ${a.metadata?.name} ${a.data?.v}->${b.data?.v}`),
    onDelete: (o) => log.push(`delete ${deletedObject(o).metadata?.name}${o instanceof DeletedFinalStateUnknown ? ` (tombstone ${o.key})` : ''}`),
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const fastBackoff = { backoff: { initialMs: 1, maxMs: 2 } };

describe('SharedIndexInformer (scripted server)', () => {
  test('initial adds, watch events, hasSynced, tombstones for deletes missed before a relist', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cm('a', '1'), cm('b', '2')], '2'));
    const informer = new SharedIndexInformer(lw, { reflector: fastBackoff });
    const log: string[] = [];
    const reg = informer.addEventHandler(recorder(log));
    assert.equal(informer.hasSynced(), false);
    informer.run();
    assert.equal(await informer.waitForCacheSync(), true);
    assert.equal(reg.hasSynced(), true);
    const w = await lw.waitForWatches(1);
    w.push({ type: 'ADDED', object: cm('c', '3') });
    w.push({ type: 'MODIFIED', object: cm('a', '4', '2') });
    w.push({ type: 'DELETED', object: cm('c', '5') });
    // The next list misses b (deleted while we were not watching) and has a changed and d new.
    lw.defaultList = listOf([cm('a', '7', '3'), cm('d', '6')], '7');
    w.push({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
    await lw.waitForWatches(2);
    assert.deepEqual(log, [
      'add a (initial)',
      'add b (initial)',
      'add c',
      'update a 1->2',
      'delete c',
      'delete b (tombstone ns/b)',
      'update a 2->3',
      'add d',
    ]);
    assert.deepEqual(informer.indexer.listKeys().sort(), ['ns/a', 'ns/d']);
    assert.deepEqual(
      informer.lister().namespace('ns').list().map((o) => o.metadata?.name).sort(),
      ['a', 'd'],
    );
    await informer.stop();
  });

  test('late handlers get the cache as adds; resync replays updates on the injected clock; handler errors are contained', async () => {
    const clock = new FakeClock();
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cm('a', '1')], '1'));
    const errors: unknown[] = [];
    const informer = new SharedIndexInformer(lw, { clock, resyncPeriodMs: 1000, reflector: { backoff: { initialMs: 1, maxMs: 2 } }, onHandlerError: (e) => errors.push(e) });
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    informer.run();
    await until('sync', () => informer.hasSynced());
    assert.equal(errors.length, 1);
    const log: string[] = [];
    const reg = informer.addEventHandler(recorder(log), 500);
    assert.deepEqual(log, ['add a (initial)']);
    assert.equal(reg.hasSynced(), true);
    clock.step(499);
    assert.equal(log.length, 1);
    clock.step(1);
    assert.deepEqual(log.slice(1), ['update a 1->1']);
    clock.step(500);
    assert.equal(log.length, 3);
    reg.remove();
    clock.step(5000);
    assert.equal(log.length, 3, 'removed handlers hear nothing');
    await informer.stop();
  });
});
