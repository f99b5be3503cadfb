import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../../api/catalog.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { Store } from '../registry/store.js';
import { NamespaceCache } from './namespace-cache.js';

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
