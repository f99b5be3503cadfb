import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import { findResource } from '../../api/catalog.js';
import { ApiError } from '../../machinery/errors.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { Strategy as deploymentStrategy } from './deployments/strategy.js';
import { Store, storedJsonWithVersion } from './store.js';
import type { Strategy } from './strategy.js';

const user = { name: 'tester', groups: ['system:authenticated'] };
const ctx = { user, dryRun: false };

function configMapStore(strategy: Strategy = { validate: () => [] }) {
  return new Store({ info: findResource('', 'v1', 'configmaps')!, storage: openMemoryStorage(), strategy, now: () => new Date('2024-01-02T03:04:05Z') });
}

function deploymentStore(strategy: Strategy = { validate: () => [] }) {
  return new Store({ info: findResource('apps', 'v1', 'deployments')!, storage: openMemoryStorage(), strategy, tracksGeneration: true });
}

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: labels ? { name, labels } : { name },
  data,
});

async function rejects(p: Promise<unknown>, code: number, reason?: string): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (reason) assert.equal(err.reason, reason);
    return err;
  }
  assert.fail('expected rejection');
}

describe('generic store', () => {
  test('create sets uid, timestamp and resourceVersion; duplicate is 409 AlreadyExists', async () => {
    const s = configMapStore();
    const created = await s.create('default', cm('a'), ctx);
    assert.match(created.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(created.metadata.creationTimestamp, '2024-01-02T03:04:05Z');
    assert.equal(created.metadata.namespace, 'default');
    assert.ok(Number(created.metadata.resourceVersion) > 0);
    const got = await s.get('default', 'a');
    assert.deepEqual(got, created);
    const err = await rejects(s.create('default', cm('a'), ctx), 409, 'AlreadyExists');
    assert.equal(err.message, 'configmaps "a" already exists');
  });

  test('a resourceVersion on create is refused as upstream', async () => {
    const s = configMapStore();
    const err = await rejects(s.create('default', { ...cm('rv'), metadata: { name: 'rv', resourceVersion: '5' } }, ctx), 500, 'InternalError');
    assert.equal(err.message, 'Internal error occurred: resourceVersion should not be set on objects to be created');
  });

  test('generateName appends a random suffix', async () => {
    const s = configMapStore();
    const created = await s.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'web-' } }, ctx);
    assert.match(created.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test('invalid names are 422 with field causes', async () => {
    const s = configMapStore();
    const err = await rejects(s.create('default', cm('Bad_Name'), ctx), 422, 'Invalid');
    assert.match(err.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
    assert.equal(err.status.details?.causes?.[0].field, 'metadata.name');
  });

  test('update with a stale resourceVersion is 409 Conflict; without one it applies', async () => {
    const s = configMapStore();
    const created = await s.create('default', cm('a', { k: '1' }), ctx);
    const stale = created.metadata.resourceVersion;
    await s.update('default', 'a', (cur) => ({ ...cur!, data: { k: '2' } }), ctx);
    const err = await rejects(
      s.update('default', 'a', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, resourceVersion: stale }, data: { k: '3' } }), ctx),
      409,
      'Conflict',
    );
    assert.equal(
      err.message,
      'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    );
    const { object } = await s.update('default', 'a', (cur) => ({ ...cur!, metadata: { name: 'a' }, data: { k: '4' } }), ctx);
    assert.deepEqual(object.data, { k: '4' });
    assert.equal(object.metadata.uid, created.metadata.uid);
  });

  test('an update that changes nothing keeps the resourceVersion', async () => {
    const s = configMapStore();
    const created = await s.create('default', cm('a', { k: '1' }), ctx);
    const { object } = await s.update('default', 'a', (cur) => cur!, ctx);
    assert.equal(object.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  test('generation bumps on spec changes only; status updates keep spec and main updates keep status', async () => {
    const s = deploymentStore();
    const d: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1 }, status: { replicas: 9 } };
    const created = await s.create('default', d, ctx);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status, undefined, 'status is cleared on create');
    const labelled = await s.update('default', 'd', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, labels: { a: 'b' } } }), ctx);
    assert.equal(labelled.object.metadata.generation, 1);
    const scaled = await s.update('default', 'd', (cur) => ({ ...cur!, spec: { replicas: 3 }, status: { replicas: 100 } }), ctx);
    assert.equal(scaled.object.metadata.generation, 2);
    assert.equal(scaled.object.status, undefined, 'main-resource updates cannot write status');
    const status = await s.update('default', 'd', (cur) => ({ ...cur!, spec: { replicas: 50 }, status: { replicas: 3 } }), { ...ctx, subresource: 'status' });
    assert.deepEqual(status.object.spec, { replicas: 3 });
    assert.deepEqual(status.object.status, { replicas: 3 });
    assert.equal(status.object.metadata.generation, 2);
    assert.deepEqual(status.object.metadata.labels, { a: 'b' });
  });

  test('status updates keep metadata as it was, unless the strategy lets it through (Deployment annotations)', async () => {
    const withAnnotation = (cur: KubeObject | undefined): KubeObject => ({
      ...cur!,
      metadata: { ...cur!.metadata, labels: { changed: 'yes' }, annotations: { 'deployment.kubernetes.io/revision': '2' } },
      status: { replicas: 1 },
    });
    const plain = deploymentStore();
    await plain.create('default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: 'b' } }, spec: {} }, ctx);
    const reset = await plain.update('default', 'd', withAnnotation, { ...ctx, subresource: 'status' });
    assert.equal(reset.object.metadata.annotations, undefined, 'ResetObjectMetaForStatus by default');
    assert.deepEqual(reset.object.metadata.labels, { a: 'b' });

    const real = deploymentStore(deploymentStrategy);
    await real.create('default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: 'b' } }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }, ctx);
    const through = await real.update('default', 'd', withAnnotation, { ...ctx, subresource: 'status' });
    assert.deepEqual(through.object.metadata.annotations, { 'deployment.kubernetes.io/revision': '2' });
    assert.deepEqual(through.object.metadata.labels, { a: 'b' }, 'labels stay as upstream deploymentStatusStrategy keeps them');
    assert.deepEqual(through.object.status, { replicas: 1 });
  });

  test('delete with finalizers marks; removing the last finalizer deletes', async () => {
    const s = configMapStore();
    await s.create('default', { ...cm('f'), metadata: { name: 'f', finalizers: ['example.com/hold'] } }, ctx);
    const res = await s.delete('default', 'f', {}, ctx);
    assert.equal(res.deleted, false);
    assert.ok(res.object.metadata.deletionTimestamp);
    const err = await rejects(
      s.update('default', 'f', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, finalizers: ['example.com/hold', 'example.com/new'] } }), ctx),
      422,
    );
    assert.match(err.message, /no new finalizers can be added/);
    await s.update('default', 'f', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, finalizers: [] } }), ctx);
    await rejects(s.get('default', 'f'), 404, 'NotFound');
  });

  test('delete preconditions', async () => {
    const s = configMapStore();
    await s.create('default', cm('p'), ctx);
    const err = await rejects(s.delete('default', 'p', { preconditions: { uid: 'nope' } }, ctx), 409, 'Conflict');
    assert.match(err.message, /Precondition failed: UID in precondition: nope/);
    const res = await s.delete('default', 'p', {}, ctx);
    assert.equal(res.deleted, true);
    await rejects(s.delete('default', 'p', {}, ctx), 404);
  });

  test('propagation policies set the orphan / foregroundDeletion finalizers as upstream decides them', async () => {
    const s = configMapStore();
    const fin = async (name: string) => (await s.get('default', name)).metadata.finalizers;
    await s.create('default', cm('o'), ctx);
    assert.deepEqual((await s.delete('default', 'o', { propagationPolicy: 'Orphan' }, ctx)).object.metadata.finalizers, ['orphan']);
    // A second delete with another policy swaps the finalizer; without a policy the existing one stays.
    await s.delete('default', 'o', { propagationPolicy: 'Foreground' }, ctx);
    assert.deepEqual(await fin('o'), ['foregroundDeletion']);
    await s.delete('default', 'o', {}, ctx);
    assert.deepEqual(await fin('o'), ['foregroundDeletion']);
    await s.delete('default', 'o', { orphanDependents: true }, ctx);
    assert.deepEqual(await fin('o'), ['orphan']);
    // Background drops both: nothing holds the object any more, so it goes.
    assert.equal((await s.delete('default', 'o', { propagationPolicy: 'Background' }, ctx)).deleted, true);
    await s.create('default', { ...cm('k'), metadata: { name: 'k', finalizers: ['example.com/hold'] } }, ctx);
    await s.delete('default', 'k', { propagationPolicy: 'Foreground' }, ctx);
    assert.deepEqual(await fin('k'), ['example.com/hold', 'foregroundDeletion']);
    await s.delete('default', 'k', { propagationPolicy: 'Background' }, ctx);
    assert.deepEqual(await fin('k'), ['example.com/hold']);

    // core/v1 ReplicationControllers orphan by default.
    const rcs = new Store({ info: findResource('', 'v1', 'replicationcontrollers')!, storage: openMemoryStorage(), strategy: { validate: () => [] }, defaultGarbageCollectionPolicy: 'OrphanDependents' });
    await rcs.create('default', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc' } }, ctx);
    assert.deepEqual((await rcs.delete('default', 'rc', {}, ctx)).object.metadata.finalizers, ['orphan']);
  });

  test('dry run writes nothing', async () => {
    const s = configMapStore();
    await s.create('default', cm('d'), { user, dryRun: true });
    await rejects(s.get('default', 'd'), 404);
  });

  test('list pages with continue tokens and filters', async () => {
    const s = configMapStore();
    for (let i = 0; i < 7; i++) await s.create('default', cm(`c${i}`, {}, { even: String(i % 2 === 0) }), ctx);
    await s.create('other', cm('x'), ctx);
    const first = await s.list({ namespace: 'default', limit: 3 });
    assert.deepEqual(first.items.map((o) => o.metadata.name), ['c0', 'c1', 'c2']);
    assert.equal(first.metadata.remainingItemCount, 4);
    assert.ok(first.metadata.continue);
    const second = await s.list({ namespace: 'default', limit: 3, continue: first.metadata.continue });
    assert.deepEqual(second.items.map((o) => o.metadata.name), ['c3', 'c4', 'c5']);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    const third = await s.list({ namespace: 'default', limit: 3, continue: second.metadata.continue });
    assert.deepEqual(third.items.map((o) => o.metadata.name), ['c6']);
    assert.equal(third.metadata.continue, undefined);
    const all = await s.list({});
    assert.equal(all.items.length, 8);
    const even = await s.list({ namespace: 'default', limit: 2, filter: (o) => o.metadata.labels?.even === 'true', filtered: true });
    assert.deepEqual(even.items.map((o) => o.metadata.name), ['c0', 'c2']);
    const rest = await s.list({ namespace: 'default', limit: 5, continue: even.metadata.continue, filter: (o) => o.metadata.labels?.even === 'true', filtered: true });
    assert.deepEqual(rest.items.map((o) => o.metadata.name), ['c4', 'c6']);
    await rejects(s.list({ continue: 'garbage!' }), 400, 'BadRequest');
  });

  test('a read at a future resourceVersion is 504 Too large resource version', async () => {
    const s = configMapStore();
    await rejects(s.list({ resourceVersion: '999999', resourceVersionMatch: 'NotOlderThan' }), 504, 'Timeout');
  });

  test('listJson gives the objects list gives, as JSON text with their resourceVersion, page for page', async () => {
    const s = configMapStore();
    for (let i = 0; i < 5; i++) await s.create('default', cm(`c${i}`, { k: `v"${i}` }), ctx);
    await s.update('default', 'c1', (cur) => ({ ...cur!, data: { k: 'changed' } }), ctx);
    // A nested metadata before the top-level one (key order of the client's body): found by depth, not by position.
    await s.create('default', { data: { metadata: '{"metadata":{' }, metadata: { name: 'c5' }, apiVersion: 'v1', kind: 'ConfigMap' } as KubeObject, ctx);
    const objects = await s.list({ namespace: 'default', limit: 4 });
    const texts = await s.listJson({ namespace: 'default', limit: 4 });
    assert.deepEqual(texts.metadata, objects.metadata);
    assert.deepEqual(texts.items.map((t) => JSON.parse(t) as unknown), objects.items);
    const rest = await s.list({ namespace: 'default', continue: objects.metadata.continue });
    const restTexts = await s.listJson({ namespace: 'default', continue: texts.metadata.continue });
    assert.deepEqual(restTexts.items.map((t) => JSON.parse(t) as unknown), rest.items);
    assert.deepEqual(rest.items.map((o) => o.metadata.name), ['c4', 'c5']);
  });

  test('getJson is the object get returns, as JSON text with its resourceVersion', async () => {
    const s = configMapStore();
    await s.create('default', cm('a', { k: 'v' }), ctx);
    await s.update('default', 'a', (cur) => ({ ...cur!, data: { k: 'w' } }), ctx);
    const text = await s.getJson('default', 'a');
    assert.deepEqual(JSON.parse(text), await s.get('default', 'a'));
    assert.match(text, /^\{"apiVersion":"v1","kind":"ConfigMap","metadata":\{"resourceVersion":"\d+",/);
    await rejects(s.getJson('default', 'missing'), 404, 'NotFound');
  });

  test('writtenJson: the object create returned, as JSON text from its stored text; nothing for other objects', async () => {
    const s = configMapStore();
    const created = await s.create('default', cm('w', { k: 'v' }, { app: 'x' }), ctx);
    const text = s.writtenJson(created);
    assert.ok(text !== undefined);
    assert.deepEqual(JSON.parse(text), created);
    assert.match(text, /^\{"apiVersion":"v1","kind":"ConfigMap","metadata":\{"resourceVersion":"\d+",/);
    assert.equal(text, await s.getJson('default', 'w'));
    assert.equal(s.writtenJson(await s.get('default', 'w')), undefined, 'a read object has no written text');
    const { object: updated } = await s.update('default', 'w', (cur) => ({ ...cur!, data: { k: 'v2' } }), ctx);
    assert.equal(s.writtenJson(updated), undefined, 'updates are not remembered');
  });

  test('watch put events carry the object as JSON text from the stored text', async () => {
    const s = configMapStore();
    const seen: { object: KubeObject; json: string | undefined }[] = [];
    const w = s.watch('default', 0, undefined, {
      onEvents: (events) => {
        for (const e of events) {
          if (e.type !== 'put') continue;
          // The text first (a plain JSON watch reads only the text and the revision), the object decoded on demand.
          const json = e.json;
          assert.equal(typeof e.revision, 'number');
          assert.equal(e.object, e.object, 'decoded once, shared');
          assert.equal(e.object.metadata.resourceVersion, String(e.revision));
          seen.push({ object: e.object, json });
        }
      },
      onError: (err) => assert.fail(err.message),
    });
    await s.create('default', cm('e1', { a: '1' }), ctx);
    await s.update('default', 'e1', (cur) => ({ ...cur!, data: { a: '2' } }), ctx);
    const deadline = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    w.stop();
    assert.equal(seen.length, 2);
    for (const { object, json } of seen) {
      assert.ok(json !== undefined);
      assert.deepEqual(JSON.parse(json), object);
      assert.ok(json.startsWith(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"${object.metadata.resourceVersion}",`));
    }
    assert.deepEqual(seen.map((e) => e.object.data), [{ a: '1' }, { a: '2' }]);
  });

  test('storedJsonWithVersion splices the resourceVersion into the top-level metadata only', () => {
    const kv = (value: string) => ({ key: '/k', value, createRevision: 1, modRevision: 42 });
    assert.equal(storedJsonWithVersion(kv('{"kind":"X","metadata":{"name":"a"}}')), '{"kind":"X","metadata":{"resourceVersion":"42","name":"a"}}');
    assert.equal(storedJsonWithVersion(kv('{"metadata":{}}')), '{"metadata":{"resourceVersion":"42"}}');
    assert.equal(
      storedJsonWithVersion(kv('{"spec":{"template":{"metadata":{"x":1}}},"metadata":{"name":"a"}}')),
      undefined,
      'the first "metadata":{ is nested: left to the decoding path',
    );
    assert.equal(
      storedJsonWithVersion(kv(JSON.stringify({ a: '\\', b: ['"metadata":{'], metadata: { name: 'a' } }))),
      JSON.stringify({ a: '\\', b: ['"metadata":{'], metadata: { resourceVersion: '42', name: 'a' } }),
    );
  });
});
