import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { FakeClock } from './clock.js';
import { FakeListerWatcher, listOf } from './fake-lister-watcher.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { parseSelector } from '../machinery/labels.js';
import { DeletedFinalStateUnknown, SharedIndexInformer, SharedInformerFactory, deletedObject, type EventHandler } from './informer.js';
import { RestClient } from './rest.js';
import { eventually } from '../../test/e2e/harness.js';

const cm = (name: string, rv: string, v = '1'): ConfigMap => ({ metadata: { namespace: 'ns', name, resourceVersion: rv }, data: { v } });

function recorder(log: string[]): EventHandler<ConfigMap> {
  return {
    onAdd: (o, initial) => log.push(`add ${o.metadata?.name}${initial ? ' (initial)' : ''}`),
    onUpdate: (a, b) => log.push(`update ${a.metadata?.name} ${a.data?.v}->${b.data?.v}`),
    onDelete: (o) => log.push(`delete ${deletedObject(o).metadata?.name}${o instanceof DeletedFinalStateUnknown ? ` (tombstone ${o.key})` : ''}`),
  };
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
      'update a 2->3',
      'add d',
      'delete b (tombstone ns/b)',
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
    await eventually('sync', () => informer.hasSynced());
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

describe('SharedInformerFactory against a real server', () => {
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

  test('initial list and watch feed the cache, indexes, listers and handlers', async () => {
    const namespaces = client.resource({ group: '', version: 'v1', resource: 'namespaces' });
    for (const name of ['inf-a', 'inf-b']) await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const make = (ns: string, name: string, tier: string): Promise<ConfigMap> =>
      cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } }, data: { v: '1' } }, { namespace: ns });
    await make('inf-a', 'one', 'web');
    await make('inf-b', 'two', 'db');

    const factory = new SharedInformerFactory(client);
    const informer = factory.informerFor<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    assert.equal(factory.informerFor({ group: '', version: 'v1', resource: 'configmaps' }), informer, 'one shared informer per resource');
    informer.addIndexers({ tier: (o) => [o.metadata?.labels?.tier ?? ''] });
    const log: string[] = [];
    // The test's own objects: not other namespaces', nor the kube-root-ca.crt the publisher puts in every namespace.
    const ours = (o: ConfigMap): boolean => !!o.metadata?.namespace?.startsWith('inf-') && o.metadata.name !== 'kube-root-ca.crt';
    informer.addEventHandler({
      onAdd: (o, initial) => ours(o) && log.push(`add ${o.metadata?.name}${initial ? ' (initial)' : ''}`),
      onUpdate: (a, b) => ours(b) && log.push(`update ${b.metadata?.name} ${a.data?.v}->${b.data?.v}`),
      onDelete: (o) => ours(deletedObject(o)) && log.push(`delete ${deletedObject(o).metadata?.name}`),
    });
    factory.start();
    try {
      assert.equal(await factory.waitForCacheSync(10_000), true);
      assert.deepEqual(log.sort(), ['add one (initial)', 'add two (initial)']);
      log.length = 0;

      await make('inf-a', 'three', 'web');
      await cms.patch('one', { data: { v: '2' } }, { namespace: 'inf-a', type: 'merge' });
      await cms.delete('two', { namespace: 'inf-b' });
      await eventually('watch events', () => log.length === 3);
      assert.deepEqual(log, ['add three', 'update one 1->2', 'delete two']);

      const lister = informer.lister();
      assert.deepEqual(
        lister.namespace('inf-a').list().filter(ours).map((o) => o.metadata?.name).sort(),
        ['one', 'three'],
      );
      assert.equal(lister.namespace('inf-b').list().filter(ours).length, 0);
      assert.equal(lister.namespace('inf-a').get('one')?.data?.v, '2');
      assert.deepEqual(
        informer.indexer.byIndex('tier', 'web').map((o) => o.metadata?.name).sort(),
        ['one', 'three'],
      );
      assert.deepEqual(
        lister.list(parseSelector('tier=web')).map((o) => o.metadata?.name).sort(),
        ['one', 'three'],
      );
    } finally {
      await factory.shutdown();
    }
  });

  test('a scope shares the informers; its shutdown removes only its handlers and leaves the informers running', async () => {
    await client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'inf-scope' } });
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const make = (name: string): Promise<ConfigMap> => cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } }, { namespace: 'inf-scope' });
    const gvr = { group: '', version: 'v1', resource: 'configmaps' };
    const ours = (o: ConfigMap): boolean => o.metadata?.namespace === 'inf-scope' && o.metadata.name !== 'kube-root-ca.crt';
    await make('before');

    const factory = new SharedInformerFactory(client);
    const base = factory.informerFor<ConfigMap>(gvr);
    const seenByOwner: string[] = [];
    base.addEventHandler({ onAdd: (o) => ours(o) && seenByOwner.push(o.metadata!.name!) });
    factory.start();
    try {
      assert.equal(await factory.waitForCacheSync(10_000), true);
      const term = (seen: string[]) => {
        const scope = factory.scope();
        const view = scope.informerFor<ConfigMap>(gvr);
        view.addIndexers({ byValue: (o) => [o.data?.v ?? ''] });
        view.addEventHandler({ onAdd: (o) => ours(o) && seen.push(o.metadata!.name!) });
        scope.start();
        return { scope, view };
      };
      const first: string[] = [];
      const one = term(first);
      assert.ok(one.view instanceof SharedIndexInformer);
      assert.equal(one.view.indexer, base.indexer, 'one cache');
      assert.equal(await one.scope.waitForCacheSync(10_000), true);
      assert.deepEqual(first, ['before'], 'a late handler gets the cache as adds');
      await make('during');
      await eventually('both handlers see the add', () => first.includes('during') && seenByOwner.includes('during'));
      await one.scope.shutdown();

      // The next term: same informer, the same index asked for again, and only its own handler hears new events.
      const second: string[] = [];
      const two = term(second);
      await make('after');
      await eventually('the owner and the new scope see the add', () => seenByOwner.includes('after') && second.includes('after'));
      assert.deepEqual(first, ['before', 'during'], 'the stopped scope heard nothing more');
      assert.deepEqual(base.indexer.byIndex('byValue', '1').filter(ours).map((o) => o.metadata?.name).sort(), ['after', 'before', 'during']);
      assert.equal(base.hasSynced(), true, 'the informer still runs');
      await two.scope.shutdown();
    } finally {
      await factory.shutdown();
    }
  });
});
