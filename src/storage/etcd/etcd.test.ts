import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isStorageError } from '../types.js';
import { openEtcdStorage, parseEtcdEndpoint } from './etcd.js';
import { startEtcd } from '../testing/etcd.js';

test('parses k3s-style datastore endpoints', () => {
  assert.deepEqual(parseEtcdEndpoint('http://127.0.0.1:2379'), { hosts: ['127.0.0.1:2379'], tls: false });
  assert.deepEqual(parseEtcdEndpoint('http://a:2379,b:2380'), { hosts: ['a:2379', 'b:2380'], tls: false });
  assert.deepEqual(parseEtcdEndpoint('https://a:2379,https://b:2379/'), { hosts: ['a:2379', 'b:2379'], tls: true });
  assert.throws(() => parseEtcdEndpoint('a:2379'), /expected http:\/\/ or https:\/\//);
  assert.throws(() => parseEtcdEndpoint('http://a'), /needs a port/);
  assert.throws(() => parseEtcdEndpoint('http://a:1,https://b:2'), /invalid etcd endpoint entry/);
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}

test('an unreachable cluster yields StorageError Unavailable', async () => {
  const storage = await openEtcdStorage(`http://127.0.0.1:${await closedPort()}`, { requestTimeoutMs: 1000 });
  try {
    await assert.rejects(storage.get('/x'), (err) => isStorageError(err, 'Unavailable'));
    await assert.rejects(storage.create('/x', 'v'), (err) => isStorageError(err, 'Unavailable'));
  } finally {
    await storage.close();
  }
});

test('a watch resumes after etcd restarts without losing or repeating events', async () => {
  const etcd = await startEtcd();
  const storage = await openEtcdStorage(etcd.endpoint, { requestTimeoutMs: 2000 });
  try {
    const revisions: number[] = [];
    const errors: unknown[] = [];
    const first = await storage.create('/r/a', '0');
    const watch = storage.watch('/r/', { afterRevision: first.modRevision - 1 }, {
      onEvents: (evs) => evs.forEach((e) => e.type === 'put' && revisions.push(e.kv.modRevision)),
      onError: (err) => errors.push(err),
    });
    const written = [first.modRevision];
    const writeSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const kv = await storage.update('/r/a', String(i), written[written.length - 1]!);
        written.push(kv.modRevision);
      }
    };
    const waitForAll = async (): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (revisions.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await writeSome(3);
    await waitForAll();
    await etcd.restart();
    // Writes while the watch is still reconnecting must arrive too.
    let wrote = false;
    for (const deadline = Date.now() + 15_000; !wrote && Date.now() < deadline; ) {
      try {
        await writeSome(3);
        wrote = true;
      } catch (err) {
        if (!isStorageError(err, 'Unavailable')) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(wrote, 'etcd did not come back');
    await waitForAll();
    watch.stop();
    assert.deepEqual(errors, []);
    assert.deepEqual(revisions, written);
  } finally {
    await storage.close();
    await etcd.stop();
  }
});
