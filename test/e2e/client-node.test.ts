// The official JavaScript client (@kubernetes/client-node 1.4) against the real `skiff server`: typed CRUD, a Deployment,
// a raw Watch, and an informer (ListWatch) that keeps its cache right across a server restart (rewatch, or relist
// after 410 Expired).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, KubeConfig, Watch, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { startTestServer, type TestServer, eventually } from './harness.js';
import { openSqliteStorage } from '../../src/storage/sqlite/sqlite.js';
import { defaultSqlitePath } from '../../src/storage/registry.js';

/** Polls `check` until it returns true (or throws its last assertion error after `timeoutMs`). */

function configMap(name: string, data: Record<string, string>): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

describe('@kubernetes/client-node against skiff', () => {
  let srv: TestServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let nsCounter = 0;

  before(async () => {
    srv = await startTestServer();
    kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await srv?.stop();
  });

  async function newNamespace(): Promise<string> {
    const name = `cn${++nsCounter}`;
    await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    // Every namespace gets kube-root-ca.crt from the root-ca-cert-publisher, as upstream; let it land first.
    await eventually('kube-root-ca.crt', async () => (await core.listNamespacedConfigMap({ namespace: name })).items.length === 1);
    return name;
  }
  const names = (items: readonly V1ConfigMap[]): (string | undefined)[] => items.map((o) => o.metadata?.name).filter((n) => n !== 'kube-root-ca.crt');

  test('CoreV1Api: list, create, read, replace and delete ConfigMaps', async () => {
    const namespace = await newNamespace();
    assert.deepEqual(names((await core.listNamespacedConfigMap({ namespace })).items), []);
    const created = await core.createNamespacedConfigMap({ namespace, body: configMap('settings', { mode: 'a' }) });
    assert.equal(created.metadata?.namespace, namespace);
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp instanceof Date, 'timestamps deserialize as dates');

    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    assert.deepEqual(read.data, { mode: 'a' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace, body: { ...read, data: { mode: 'b' } } });
    assert.deepEqual(replaced.data, { mode: 'b' });
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));

    // A replace with a stale resourceVersion is a 409 Conflict surfaced as an ApiException.
    await assert.rejects(core.replaceNamespacedConfigMap({ name: 'settings', namespace, body: { ...read, data: { mode: 'c' } } }), (err: {
      code?: number;
      body?: string;
    }) => {
      assert.equal(err.code, 409);
      assert.equal(JSON.parse(err.body ?? '{}').reason, 'Conflict');
      return true;
    });

    const list = await core.listNamespacedConfigMap({ namespace });
    assert.deepEqual(list.items.filter((c) => c.metadata?.name !== 'kube-root-ca.crt').map((c) => [c.metadata?.name, c.data?.mode]), [['settings', 'b']]);
    assert.ok(list.metadata?.resourceVersion);

    const status = await core.deleteNamespacedConfigMap({ name: 'settings', namespace });
    assert.equal(status.status, 'Success');
    assert.equal(status.details?.name, 'settings');
    await assert.rejects(core.readNamespacedConfigMap({ name: 'settings', namespace }), (err: { code?: number }) => err.code === 404);
  });

  test('AppsV1Api: create a Deployment and read back its defaults', async () => {
    const namespace = await newNamespace();
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'web' };
    const created = await apps.createNamespacedDeployment({
      namespace,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      },
    });
    assert.equal(created.metadata?.generation, 1);
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.spec?.strategy?.type, 'RollingUpdate');
    assert.equal(created.spec?.revisionHistoryLimit, 10);
    const read = await apps.readNamespacedDeployment({ name: 'web', namespace });
    assert.equal(read.spec?.template.spec?.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(read.metadata?.uid, created.metadata?.uid);
  });

  test('Watch receives ADDED, MODIFIED and DELETED', async () => {
    const namespace = await newNamespace();
    const list = await core.listNamespacedConfigMap({ namespace });
    const events: [string, string | undefined, string | undefined][] = [];
    let ended: unknown = 'open';
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (phase, obj: V1ConfigMap) => {
        if (phase !== 'BOOKMARK') events.push([phase, obj.metadata?.name, obj.data?.v]);
      },
      (err) => (ended = err),
    );
    const created = await core.createNamespacedConfigMap({ namespace, body: configMap('w', { v: '1' }) });
    await core.replaceNamespacedConfigMap({ name: 'w', namespace, body: { ...created, data: { v: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'w', namespace });
    await eventually('three watch events', () => events.length >= 3, 5000);
    assert.deepEqual(events, [
      ['ADDED', 'w', '1'],
      ['MODIFIED', 'w', '2'],
      ['DELETED', 'w', '2'],
    ]);
    assert.equal(ended, 'open');
    controller.abort();
  });

  test('an informer sees adds, updates and deletes, and keeps going across a server restart', async () => {
    const namespace = await newNamespace();
    await core.createNamespacedConfigMap({ namespace, body: configMap('before', { v: '1' }) });
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    let lists = 0;
    const informer = makeInformer(kc, path, () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace });
    });
    const seen: string[] = [];
    let errors = 0;
    let stopped = false;
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    // client-node leaves restarting after an error to the caller (as its README shows): retry shortly.
    informer.on('error', () => {
      errors++;
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 100);
    });
    try {
      await informer.start();
      await eventually('initial add', () => seen.includes('add before'), 5000);

      const a = await core.createNamespacedConfigMap({ namespace, body: configMap('a', { v: '1' }) });
      await eventually('add a', () => seen.includes('add a'), 5000);
      await core.replaceNamespacedConfigMap({ name: 'a', namespace, body: { ...a, data: { v: '2' } } });
      await eventually('update a', () => seen.includes('update a 2'), 5000);
      await core.deleteNamespacedConfigMap({ name: 'before', namespace });
      await eventually('delete before', () => seen.includes('delete before'), 5000);
      assert.equal(lists, 1);
      assert.deepEqual(names(informer.list(namespace)), ['a']);

      // While the server is down, 'a' goes away and history is compacted past the informer's resourceVersion: its
      // rewatch gets 410 Expired, so it must relist to learn about the deletion. Same port and data dir: the
      // kubeconfig and the informer's clients stay valid.
      await srv.kill9();
      const storage = openSqliteStorage({ path: defaultSqlitePath(srv.dataDir), compactIntervalMs: 0 });
      try {
        await storage.delete(`/registry/configmaps/${namespace}/a`);
        await storage.compact(await storage.currentRevision());
      } finally {
        await storage.close();
      }
      await srv.restart();
      await eventually('the relist after the restart to drop a', () => seen.includes('delete a'), 15_000);
      assert.ok(errors > 0, 'the informer noticed the restart');
      assert.equal(lists, 2, 'one list at start, one after the 410');
      assert.deepEqual(names(informer.list(namespace)), []);

      const b = await core.createNamespacedConfigMap({ namespace, body: configMap('b', { v: '1' }) });
      await eventually('add b after restart', () => seen.includes('add b'), 5000);
      await core.replaceNamespacedConfigMap({ name: 'b', namespace, body: { ...b, data: { v: '3' } } });
      await eventually('update b after restart', () => seen.includes('update b 3'), 5000);
      assert.deepEqual(
        informer.list(namespace).filter((o) => o.metadata?.name !== 'kube-root-ca.crt').map((o) => [o.metadata?.name, o.data?.v]),
        [['b', '3']],
      );
      assert.equal(informer.get('b', namespace)?.data?.v, '3');
      // Nothing was announced twice.
      assert.equal(seen.filter((s) => s === 'add a').length, 1);
      assert.equal(seen.filter((s) => s === 'add b').length, 1);
      await core.deleteNamespacedConfigMap({ name: 'b', namespace });
      await eventually('delete b', () => seen.includes('delete b'), 5000);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
