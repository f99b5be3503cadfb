// The reflector against a real `skiff server` on etcd, reached through a TCP relay the test can cut: while it is cut,
// objects change and etcd is compacted, so the reflector's re-watch from its last resourceVersion gets 410 Expired and
// it must relist to catch up.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { startEtcd, type TestEtcd } from '../storage/testing/etcd.js';
import { openEtcdStorage } from '../storage/etcd/etcd.js';
import { loadKubeconfig } from './kubeconfig.js';
import { Reflector, listWatcherFor, type ReflectorStore } from './reflector.js';
import { RestClient } from './rest.js';
import { HttpsTransport } from './transport.js';
import { ApiError } from '../machinery/errors.js';
import { FakeListerWatcher, listOf } from './fake-lister-watcher.js';
import { eventually } from '../../test/e2e/harness.js';

/** A TCP relay to the API server that can refuse connections for a while (as a server restart would). */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Recorded {
  replaces: { names: string[]; rv: string }[];
  events: string[];
  objects: Map<string, ConfigMap>;
}

function recordingStore(): ReflectorStore<ConfigMap> & Recorded {
  const objects = new Map<string, ConfigMap>();
  const rec: Recorded = { replaces: [], events: [], objects };
  return {
    ...rec,
    replace(items, rv) {
      objects.clear();
      for (const i of items) objects.set(i.metadata!.name!, i);
      rec.replaces.push({ names: [...objects.keys()].sort(), rv });
    },
    add(o) {
      rec.events.push(`add ${o.metadata!.name}`);
      objects.set(o.metadata!.name!, o);
    },
    update(o) {
      rec.events.push(`update ${o.metadata!.name}`);
      objects.set(o.metadata!.name!, o);
    },
    delete(o) {
      rec.events.push(`delete ${o.metadata!.name}`);
      objects.delete(o.metadata!.name!);
    },
  };
}


const cm = (name: string, v: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } });

describe('Reflector against a real server', () => {
  let etcd: TestEtcd;
  let srv: TestServer;
  let direct: RestClient;
  let relayed: RestClient;
  let relay: Relay;

  before(async () => {
    etcd = await startEtcd();
    srv = await startTestServer({ args: ['--datastore-endpoint', etcd.endpoint] });
    direct = await RestClient.fromKubeconfig(srv.kubeconfig);
    relay = new Relay(srv.port);
    await relay.up();
    const settings = await loadKubeconfig(srv.kubeconfig);
    relayed = new RestClient(new HttpsTransport({ ...settings, server: `https://127.0.0.1:${relay.port}` }));
  });
  after(async () => {
    relayed?.close();
    direct?.close();
    await relay?.down();
    await srv?.stop();
    await etcd?.stop();
  });

  test('lists in pages, watches from the list, re-watches on close, relists after 410 Expired', async () => {
    await direct.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'refl' } });
    const cms = direct.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    // The root-ca-cert-publisher puts kube-root-ca.crt in every namespace; let it land before the reflector starts.
    await eventually('kube-root-ca.crt', async () => (await cms.list({ namespace: 'refl' })).items.length === 1);
    for (const n of ['a', 'b', 'c']) await cms.create(cm(n, '1'), { namespace: 'refl' });

    const store = recordingStore();
    const errors: unknown[] = [];
    const reflector = new Reflector(listWatcherFor(relayed.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' }), { namespace: 'refl' }), store, {
      pageSize: 2,
      watchTimeoutSeconds: 1,
      backoff: { initialMs: 20, maxMs: 100 },
      onError: (e) => errors.push(e),
    });
    reflector.run();
    try {
      await eventually('initial list', () => store.replaces.length === 1);
      assert.deepEqual(store.replaces[0].names, ['a', 'b', 'c', 'kube-root-ca.crt'], 'every page of the list');
      await eventually('watch open', () => reflector.stats.watches >= 1);

      await cms.create(cm('d', '1'), { namespace: 'refl' });
      await cms.patch('a', { data: { v: '2' } }, { namespace: 'refl', type: 'merge' });
      await eventually('watched events', () => store.events.length === 2);
      assert.deepEqual(store.events, ['add d', 'update a']);
      assert.equal(reflector.lastResourceVersion(), store.objects.get('a')!.metadata!.resourceVersion);

      // The 1 s server timeout ends the watch cleanly: the reflector watches again without relisting.
      await eventually('re-watch', () => reflector.stats.watches >= 2, 5000);
      assert.equal(store.replaces.length, 1);

      // Cut the connection, change things the watch will never see, and compact them out of history.
      await relay.down();
      await cms.delete('b', { namespace: 'refl' });
      await cms.patch('c', { data: { v: '2' } }, { namespace: 'refl', type: 'merge' });
      await cms.create(cm('e', '1'), { namespace: 'refl' });
      const latest = Number((await cms.list({ namespace: 'refl' })).metadata.resourceVersion);
      const storage = await openEtcdStorage(etcd.endpoint);
      try {
        await storage.compact(latest);
      } finally {
        await storage.close();
      }
      await eventually('a re-watch refused by the cut relay', () => errors.some((e) => (e as { code?: string }).code === 'ECONNREFUSED'));
      const listsBefore = reflector.stats.lists;
      await relay.up();

      await eventually('relist after 410', () => store.replaces.length === 2);
      assert.ok(reflector.stats.expired >= 1, 'the re-watch was answered 410');
      assert.ok(reflector.stats.lists > listsBefore);
      assert.deepEqual(store.replaces[1].names, ['a', 'c', 'd', 'e', 'kube-root-ca.crt']);
      assert.equal(store.objects.get('c')!.data!.v, '2');
      assert.ok(Number(store.replaces[1].rv) >= latest);

      // And it watches again from the relist.
      await cms.create(cm('f', '1'), { namespace: 'refl' });
      await eventually('event after relist', () => store.objects.has('f'));
    } finally {
      await reflector.stop();
    }
  });
});

const nullStore: ReflectorStore<ConfigMap> = { replace() {}, add() {}, update() {}, delete() {} };
const fastBackoff = { backoff: { initialMs: 1, maxMs: 2 } };
const cmAt = (name: string, rv: string): ConfigMap => ({ metadata: { namespace: 'ns', name, resourceVersion: rv } });

describe('Reflector (scripted server)', () => {
  test('first list at RV "0" in pages, watch from the list RV with bookmarks; bookmarks move the RV', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([], '1'));
    lw.listReplies.push(listOf([cmAt('a', '5')], '10', 'tok'), listOf([cmAt('b', '6')], '10'));
    const seen: string[] = [];
    const r = new Reflector(lw, { ...nullStore, replace: (items, rv) => seen.push(`${items.map((i) => i.metadata?.name).join(',')}@${rv}`) }, { pageSize: 1, ...fastBackoff });
    r.run();
    const w = await lw.waitForWatches(1);
    assert.deepEqual(lw.listCalls, [
      { resourceVersion: '0', limit: 1 },
      { limit: 1, continue: 'tok' },
    ]);
    assert.deepEqual(seen, ['a,b@10']);
    assert.equal(lw.watchCalls[0].resourceVersion, '10');
    assert.equal(lw.watchCalls[0].allowWatchBookmarks, true);
    assert.ok(lw.watchCalls[0].timeoutSeconds! >= 300 && lw.watchCalls[0].timeoutSeconds! < 600);
    w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } });
    w.stop();
    await lw.waitForWatches(2);
    assert.equal(lw.watchCalls[1].resourceVersion, '42', 'clean close: re-watch from the bookmark, no relist');
    assert.equal(lw.listCalls.length, 2);
    await r.stop();
  });

  test('410 on watch relists at the last RV; a 410 on that list falls back to a consistent list', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cmAt('a', '1')], '20'));
    lw.listReplies.push(listOf([cmAt('a', '1')], '10'), ApiError.expired('The resourceVersion for the provided list is too old.'));
    const r = new Reflector(lw, nullStore, fastBackoff);
    r.run();
    const w = await lw.waitForWatches(1);
    w.push({ type: 'MODIFIED', object: cmAt('a', '15') });
    w.push({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 15 (18)' } });
    await lw.waitForWatches(2);
    assert.deepEqual(lw.listCalls, [
      { resourceVersion: '0', limit: 500 },
      { resourceVersion: '15' },
      { resourceVersion: '', limit: 500 },
    ], 'a relist at a known RV is unpaged so a server cache can answer it');
    assert.equal(lw.watchCalls[1].resourceVersion, '20');
    assert.equal(r.stats.expired, 2);
    await r.stop();
  });

  test('an expired continue token falls back to one full list; refused watches are retried without relisting', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cmAt('a', '1'), cmAt('b', '2')], '30'));
    lw.listReplies.push(listOf([cmAt('a', '1')], '10', 'tok'), ApiError.expired('continue too old'));
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    lw.watchErrors.push(refused, refused);
    const errors: unknown[] = [];
    const r = new Reflector(lw, nullStore, { ...fastBackoff, pageSize: 1, onError: (e) => errors.push(e) });
    r.run();
    await lw.waitForWatches(1);
    assert.deepEqual(lw.listCalls, [{ resourceVersion: '0', limit: 1 }, { limit: 1, continue: 'tok' }, { resourceVersion: '0' }]);
    assert.equal(lw.watchCalls.length, 3);
    assert.ok(lw.watchCalls.every((c) => c.resourceVersion === '30'));
    assert.equal(errors.length, 2);
    await r.stop();
  });
  test('a paged "0" list keeps later relists paged; a 404 list leaves an empty, synced store', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cmAt('a', '1')], '9'));
    lw.listReplies.push(listOf([cmAt('a', '1')], '5', 'tok'), listOf([cmAt('b', '2')], '5'));
    const r = new Reflector(lw, nullStore, fastBackoff);
    r.run();
    const w = await lw.waitForWatches(1);
    w.push({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
    await lw.waitForWatches(2);
    assert.deepEqual(lw.listCalls[2], { resourceVersion: '5', limit: 500 });
    await r.stop();

    const missing = new FakeListerWatcher<ConfigMap>(listOf([], '1'));
    missing.listReplies.push(ApiError.pageNotFound());
    const replaced: string[] = [];
    const errors: unknown[] = [];
    const r2 = new Reflector(missing, { ...nullStore, replace: (items, rv) => replaced.push(`${items.length}@${rv}`) }, { ...fastBackoff, onError: (e) => errors.push(e) });
    r2.run();
    await missing.waitForWatches(1);
    assert.deepEqual(replaced, ['0@', '0@1']);
    assert.equal((errors[0] as ApiError).code, 404);
    await r2.stop();
  });
});

