// SQLite specifics beyond the shared conformance suite: rows really go away on compaction, the periodic compactor,
// and state (revisions, compaction point, TTLs) surviving a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from './sqlite.js';
import { isStorageError } from '../types.js';
import { withTempDir } from '../testing/temp-dir.js';

const withDir = (fn: (dir: string) => Promise<void>): Promise<void> => withTempDir('skiff-sqlite-', fn);

function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM kine').get()!.n;
  } finally {
    db.close();
  }
}

test('compaction deletes superseded rows and tombstones, in batches, and keeps live rows', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const s = openSqliteStorage({ path, compactIntervalMs: 0, compactBatchSize: 3 });
    let kv = await s.create('/a', '0');
    for (let i = 1; i < 20; i++) kv = await s.update('/a', String(i), kv.modRevision);
    await s.create('/b', 'b');
    await s.delete('/b');
    const live = await s.create('/c', 'c');
    assert.equal(rowCount(path), 23);
    await s.compact(live.modRevision);
    assert.equal(rowCount(path), 2); // the newest /a and /c
    assert.equal(await s.oldestRevision(), live.modRevision + 1);
    assert.deepEqual((await s.list('/')).items, [kv, live]);
    await s.close();
  });
});

test('the periodic compactor keeps only the configured number of recent revisions', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const s = openSqliteStorage({ path, compactIntervalMs: 30, compactRetainRevisions: 5 });
    let kv = await s.create('/a', '0');
    for (let i = 1; i < 50; i++) kv = await s.update('/a', String(i), kv.modRevision);
    const deadline = Date.now() + 5000;
    while ((await s.oldestRevision()) < kv.modRevision - 5 + 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await s.oldestRevision(), kv.modRevision - 5 + 1);
    await assert.rejects(s.list('/', { revision: kv.modRevision - 10 }), (e) => isStorageError(e, 'Compacted'));
    assert.equal((await s.list('/', { revision: kv.modRevision - 4 })).items.length, 1);
    await s.close();
  });
});

test('revisions, the compaction point and TTLs survive a reopen', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const first = openSqliteStorage({ path, compactIntervalMs: 0 });
    const a = await first.create('/a', 'a');
    await first.create('/gone', 'x');
    await first.delete('/gone');
    await first.create('/ttl', 'short', { ttlSeconds: 1 });
    await first.compact(a.modRevision);
    const rev = await first.currentRevision();
    await first.close();

    const second = openSqliteStorage({ path, compactIntervalMs: 0, ttlCheckIntervalMs: 50 });
    assert.equal(await second.currentRevision(), rev);
    assert.equal(await second.oldestRevision(), a.modRevision + 1);
    // Recreating a key whose tombstone was not compacted yet still works and gets the next revision.
    const again = await second.create('/gone', 'back');
    assert.equal(again.modRevision, rev + 1);
    const deadline = Date.now() + 5000;
    while ((await second.get('/ttl')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await second.get('/ttl'), undefined);
    await second.close();
  });
});
