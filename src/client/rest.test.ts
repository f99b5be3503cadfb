// The REST client against a real `skiff server` over HTTPS with the kubeconfig it writes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { ApiError } from '../machinery/errors.js';
import { RestClient, errorFromResponse, type WatchEvent } from './rest.js';

/** The ConfigMap the root-ca-cert-publisher puts in every namespace is not the test's. */
const notRootCA = (name: string | undefined): boolean => name !== 'kube-root-ca.crt';

const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

async function rejectsApi(p: Promise<unknown>, code: number, reason: string): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason);
    assert.equal(e.status.kind, 'Status');
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('RestClient over HTTPS', () => {
  let srv: TestServer;
  let client: RestClient;
  before(async () => {
    srv = await startTestServer();
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    await client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rest' } });
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('create, get, paged list, update with optimistic concurrency, errors carry the server Status', async () => {
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const a = await cms.create(cm('a', { v: '1' }), { namespace: 'rest' });
    assert.equal(a.metadata?.namespace, 'rest');
    await cms.create({ ...cm('b', { v: '1' }), metadata: { name: 'b', namespace: 'rest' } });
    await cms.create(cm('c', { v: '1' }), { namespace: 'rest' });
    assert.equal((await cms.get('a', { namespace: 'rest' })).data?.v, '1');

    const page1 = await cms.list({ namespace: 'rest', limit: 2 });
    assert.deepEqual(page1.items.map((i) => i.metadata?.name), ['a', 'b']);
    assert.ok(page1.metadata.continue);
    const page2 = await cms.list({ namespace: 'rest', limit: 2, continue: page1.metadata.continue });
    // Every namespace also gets kube-root-ca.crt (root-ca-cert-publisher), sorted after "c".
    assert.deepEqual(page2.items.map((i) => i.metadata?.name).filter(notRootCA), ['c']);

    const a2 = await cms.update({ ...a, data: { v: '2' } });
    assert.notEqual(a2.metadata?.resourceVersion, a.metadata?.resourceVersion);
    const stale = await rejectsApi(cms.update({ ...a, data: { v: '3' } }), 409, 'Conflict');
    assert.match(stale.message, /^Operation cannot be fulfilled on configmaps "a": the object has been modified/);
    const missing = await rejectsApi(cms.get('nope', { namespace: 'rest' }), 404, 'NotFound');
    assert.equal(missing.message, 'configmaps "nope" not found');
    await rejectsApi(cms.create(cm('a', {}), { namespace: 'rest' }), 409, 'AlreadyExists');
    await rejectsApi(cms.create(cm('Bad_Name', {}), { namespace: 'rest' }), 422, 'Invalid');
  });

  test('patch: merge, strategic, json, and server-side apply with field managers and force', async () => {
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    await cms.create(cm('p', { a: '1' }), { namespace: 'rest' });
    assert.deepEqual((await cms.patch('p', { data: { b: '2' } }, { namespace: 'rest', type: 'merge' })).data, { a: '1', b: '2' });
    assert.deepEqual((await cms.patch('p', { data: { c: '3' } }, { namespace: 'rest', type: 'strategic' })).data, { a: '1', b: '2', c: '3' });
    const j = await cms.patch('p', [{ op: 'remove', path: '/data/a' }], { namespace: 'rest', type: 'json' });
    assert.deepEqual(j.data, { b: '2', c: '3' });

    const applied = await cms.patch('s', cm('s', { k: 'one' }), { namespace: 'rest', type: 'apply', fieldManager: 'alice' });
    assert.equal(applied.data?.k, 'one');
    assert.ok(applied.metadata?.managedFields?.some((m) => m.manager === 'alice' && m.operation === 'Apply'));
    const conflict = await rejectsApi(cms.patch('s', cm('s', { k: 'two' }), { namespace: 'rest', type: 'apply', fieldManager: 'bob' }), 409, 'Conflict');
    assert.match(conflict.message, /conflict/i);
    const forced = await cms.patch('s', cm('s', { k: 'two' }), { namespace: 'rest', type: 'apply', fieldManager: 'bob', force: true });
    assert.equal(forced.data?.k, 'two');
    assert.throws(() => cms.patch('s', {}, { namespace: 'rest', type: 'apply' }), /fieldManager/);
  });

  test('status subresource: updateStatus changes status only', async () => {
    const deploys = client.resource<Deployment>({ group: 'apps', version: 'v1', resource: 'deployments' });
    const d = await deploys.create(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        },
      },
      { namespace: 'rest' },
    );
    const updated = await deploys.updateStatus({ ...d, spec: { ...d.spec!, replicas: 5 }, status: { replicas: 1, observedGeneration: 1 } });
    assert.equal(updated.status?.replicas, 1);
    assert.equal(updated.spec?.replicas, 1, 'spec changes are ignored on the status subresource');
    assert.equal((await deploys.get('web', { namespace: 'rest', subresource: 'status' })).status?.observedGeneration, 1);
  });

  test('watch streams events from a resourceVersion; delete and deletecollection', async () => {
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    await client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rest-w' } });
    const start = await cms.list({ namespace: 'rest-w' });
    const watcher = await cms.watch({ namespace: 'rest-w', resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true });
    const seen: WatchEvent<ConfigMap>[] = [];
    const collecting = (async () => {
      for await (const ev of watcher) {
        if (ev.type !== 'ERROR' && !notRootCA(ev.object.metadata?.name)) continue;
        seen.push(ev);
        if (seen.length === 5) watcher.stop();
      }
    })();
    await cms.create(cm('x', { v: '1' }, { group: 'g' }), { namespace: 'rest-w' });
    await cms.create(cm('y', { v: '1' }, { group: 'g' }), { namespace: 'rest-w' });
    await cms.patch('x', { data: { v: '2' } }, { namespace: 'rest-w', type: 'merge' });
    await cms.delete('x', { namespace: 'rest-w' });
    await cms.deleteCollection({ namespace: 'rest-w', labelSelector: 'group=g' });
    await collecting;
    assert.deepEqual(
      seen.map((e) => [e.type, e.type === 'ERROR' ? '' : e.object.metadata?.name]),
      [
        ['ADDED', 'x'],
        ['ADDED', 'y'],
        ['MODIFIED', 'x'],
        ['DELETED', 'x'],
        ['DELETED', 'y'],
      ],
    );
    assert.deepEqual((await cms.list({ namespace: 'rest-w' })).items.map((i) => i.metadata?.name).filter(notRootCA), []);
    await rejectsApi(cms.delete('x', { namespace: 'rest-w' }), 404, 'NotFound');
  });
});

describe('errorFromResponse', () => {
  test('keeps a Status body as is and makes one from a bare HTTP failure', () => {
    const e = errorFromResponse(404, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404, details: { name: 'x', kind: 'pods' } }));
    assert.equal(e.message, 'pods "x" not found');
    assert.deepEqual(e.status.details, { name: 'x', kind: 'pods' });
    const bare = errorFromResponse(503, 'upstream unavailable\n');
    assert.equal(bare.reason, 'ServiceUnavailable');
    assert.equal(bare.code, 503);
    assert.equal(bare.message, 'upstream unavailable');
    assert.equal(errorFromResponse(418, '').message, 'the server responded with HTTP 418');
  });
});
