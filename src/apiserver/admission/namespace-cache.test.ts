import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../../api/catalog.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { Store } from '../registry/store.js';
import { NamespaceCache, ObjectCache } from './namespace-cache.js';
import { QuotaPresence } from './resourcequota/admission.js';

const ctx = { user: { name: 'tester', groups: [] }, dryRun: false };
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const settle = () => new Promise((r) => setTimeout(r, 20));

test('namespace cache follows creates, updates and deletes, and falls back to storage on a miss', async () => {
  const storage = openMemoryStorage();
  const store = new Store({ info: findResource('', 'v1', 'namespaces')!, storage, strategy: { validate: () => [] } });
  const cache = new NamespaceCache(store);
  try {
    await store.create(undefined, ns('before'), ctx);
    await cache.start();
    assert.equal((await cache.get('before'))?.metadata.name, 'before');
    assert.equal(await cache.get('missing'), undefined);
    await store.create(undefined, ns('after'), ctx);
    assert.equal((await cache.get('after'))?.metadata.name, 'after', 'found at once, from the watch or from storage');
    await store.update(undefined, 'after', (cur) => ({ ...cur!, status: { phase: 'Terminating' } }), { ...ctx, subresource: 'status' });
    await settle();
    assert.deepEqual((await cache.get('after'))?.status, { phase: 'Terminating' });
    await store.delete(undefined, 'after', {}, ctx);
    await settle();
    assert.equal(await cache.get('after'), undefined);
  } finally {
    cache.stop();
    await storage.close();
  }
});

test('object cache lists per namespace from the watch', async () => {
  const storage = openMemoryStorage();
  const store = new Store({ info: findResource('', 'v1', 'configmaps')!, storage, strategy: { validate: () => [] } });
  const cache = new ObjectCache(store);
  const cm = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });
  try {
    await store.create('a', cm('a', 'one'), ctx);
    await cache.start();
    assert.deepEqual(cache.list('a').map((o) => o.metadata.name), ['one']);
    await store.create('a', cm('a', 'two'), ctx);
    await store.create('b', cm('b', 'three'), ctx);
    await settle();
    assert.deepEqual(cache.list('a').map((o) => o.metadata.name).sort(), ['one', 'two']);
    assert.deepEqual(cache.list('b').map((o) => o.metadata.name), ['three']);
    assert.deepEqual(cache.list('c'), []);
    await store.delete('a', 'one', {}, ctx);
    await settle();
    assert.deepEqual(cache.list('a').map((o) => o.metadata.name), ['two']);
    assert.equal(cache.cached('b', 'three')?.metadata.name, 'three');
  } finally {
    cache.stop();
    await storage.close();
  }
});

test('quota presence: watched quotas decide; without any, a live list that found none is trusted for 30 s', async () => {
  const storage = openMemoryStorage();
  const store = new Store({ info: findResource('', 'v1', 'resourcequotas')!, storage, strategy: { validate: () => [] } });
  let watched = 0;
  let now = 0;
  let lists = 0;
  const counting = new Proxy(store, {
    get: (target, prop, receiver) => {
      if (prop === 'list') return (req: Parameters<Store['list']>[0]) => (lists++, target.list(req));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const presence = new QuotaPresence(() => watched, () => counting, () => now);
  try {
    assert.equal(await presence.mayHaveQuotas('ns'), false);
    assert.equal(lists, 1);
    assert.equal(await presence.mayHaveQuotas('ns'), false);
    assert.equal(lists, 1, 'remembered');
    // Created but not yet watched: the remembered answer stands until it expires.
    await store.create('ns', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns' }, spec: { hard: { pods: '1' } } }, ctx);
    now += 30_001;
    assert.equal(await presence.mayHaveQuotas('ns'), true);
    assert.equal(lists, 2);
    watched = 1;
    assert.equal(await presence.mayHaveQuotas('ns'), true);
    assert.equal(lists, 2, 'the watched cache answers without a list');
  } finally {
    await storage.close();
  }
});
