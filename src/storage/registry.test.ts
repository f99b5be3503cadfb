import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSqlitePath, openStorage, registerStorageDriver } from './registry.js';

test('no endpoint opens SQLite at <dataDir>/server/db/state.db', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  try {
    const s = await openStorage(undefined, { dataDir });
    assert.equal(s.name, 'sqlite');
    await s.create('/k', 'v');
    await s.close();
    assert.equal(defaultSqlitePath(dataDir), join(dataDir, 'server', 'db', 'state.db'));
    assert.ok(existsSync(defaultSqlitePath(dataDir)));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('sqlite://PATH opens that file and keeps data across reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  try {
    const path = join(dir, 'nested', 'my.db');
    const first = await openStorage(`sqlite://${path}`, { dataDir: '/nonexistent' });
    const kv = await first.create('/k', 'v');
    await first.close();
    const second = await openStorage(`sqlite://${path}`, { dataDir: '/nonexistent' });
    assert.deepEqual(await second.get('/k'), kv);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory:// opens the in-memory backend; http:// selects etcd', async () => {
  const m = await openStorage('memory://', { dataDir: '/nonexistent' });
  assert.equal(m.name, 'memory');
  await m.close();
  const e = await openStorage('http://127.0.0.1:1', { dataDir: '/nonexistent' });
  assert.equal(e.name, 'etcd');
  await e.close();
});

test('unknown schemes and duplicate registrations are rejected clearly', async () => {
  await assert.rejects(openStorage('postgres://db/k8s', { dataDir: '/x' }), /unsupported datastore endpoint "postgres:\/\/db\/k8s": expected one of sqlite:\/\/, http:\/\/, https:\/\/, memory:\/\//);
  await assert.rejects(openStorage('no-scheme', { dataDir: '/x' }), /unsupported datastore endpoint/);
  assert.throws(() => registerStorageDriver('sqlite', async () => { throw new Error('unused'); }), /already registered/);
});

test('an unusable SQLite path gives a clear error', async () => {
  await assert.rejects(openStorage('sqlite:///etc/passwd/state.db', { dataDir: '/x' }), /cannot open SQLite database \/etc\/passwd\/state.db/);
});
