// SQLite specifics beyond the shared conformance suite: rows really go away on compaction, the periodic compactor,
// and state (revisions, compaction point, TTLs) surviving a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from './sqlite.js';
import { isStorageError, type Storage, type WatchEvent } from '../types.js';
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

test("a paged list's remaining count reads only the (name, id, deleted) index; a database with the old index is migrated", async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    // A database as earlier versions made it: the plain (name) index.
    const old = new Database(path);
    old.exec(`CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created INTEGER NOT NULL,
      deleted INTEGER NOT NULL, create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, lease INTEGER NOT NULL,
      value TEXT NOT NULL, old_value TEXT); CREATE INDEX kine_name_index ON kine (name);`);
    old.close();
    const s = openSqliteStorage({ path, compactIntervalMs: 0 });
    try {
      for (let i = 0; i < 5; i++) await s.create(`/registry/pods/ns/p${i}`, 'v');
      await s.delete('/registry/pods/ns/p4');
      const page = await s.list('/registry/pods/', { limit: 2 });
      assert.equal(page.remaining, 2);
    } finally {
      await s.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const indexes = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kine'").all().map((r) => r.name);
      assert.ok(indexes.includes('kine_name_id_deleted_index'));
      assert.ok(!indexes.includes('kine_name_index'));
      const plan = db
        .prepare<[], { detail: string }>(
          `EXPLAIN QUERY PLAN SELECT COUNT(*) FROM kine k WHERE name >= 'a' AND name < 'b' AND name > 'a'
           AND id = (SELECT MAX(id) FROM kine k2 WHERE k2.name = k.name AND k2.id <= 100) AND deleted = 0`,
        )
        .all()
        .map((r) => r.detail);
      assert.ok(plan.every((d) => !/^SCAN|SEARCH k USING INDEX/.test(d)), plan.join(' | '));
      assert.ok(plan.some((d) => /COVERING INDEX kine_name_id_deleted_index/.test(d)), plan.join(' | '));
    } finally {
      db.close();
    }
  });
});

test('paged lists report the remaining count at their revision on every page, with writes between pages', async () => {
  await withDir(async (dir) => {
    const s = openSqliteStorage({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
    for (let i = 0; i < 25; i++) await s.create(`/p/k${String(i).padStart(2, '0')}`, String(i));
    await s.create('/q/other', 'x');
    const seen: { keys: string[]; remaining: number | undefined }[] = [];
    let page = await s.list('/p/', { limit: 4 });
    const revision = page.revision;
    for (;;) {
      seen.push({ keys: page.items.map((kv) => kv.key.slice(3)), remaining: page.remaining });
      // Writes after the list started (inside and outside the range) change neither its items nor its counts.
      await s.create(`/p/k${String(seen.length).padStart(2, '0')}x`, 'new');
      await s.delete(`/p/k${String(24 - seen.length).padStart(2, '0')}`);
      if (!page.more) break;
      page = await s.list('/p/', { limit: 4, startAfter: page.items.at(-1)!.key, revision });
      assert.equal(page.revision, revision);
    }
    assert.deepEqual(
      seen.map((p) => p.remaining),
      [21, 17, 13, 9, 5, 1, undefined],
    );
    assert.deepEqual(seen.flatMap((p) => p.keys), Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    // A page started after a key no earlier page ended on is counted afresh.
    const mid = await s.list('/p/', { limit: 3, startAfter: '/p/k10', revision });
    assert.deepEqual([mid.items.map((kv) => kv.key.slice(3)), mid.remaining], [['k11', 'k12', 'k13'], 11]);
    await s.close();
  });
});

/** Events of a watch replayed from `after`, collected until `upTo` is seen. */
async function replay(s: Storage, prefix: string, after: number, upTo: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    const w = s.watch(prefix, { afterRevision: after }, {
      onEvents: (batch) => {
        events.push(...batch);
        if (batch.some((e) => e.type !== 'progress' && (e.type === 'put' ? e.kv.modRevision : e.revision) >= upTo)) {
          w.stop();
          resolve();
        }
      },
      onError: reject,
    });
  });
  return events;
}

test('rows are written once (no old_value copy); replayed watch events still carry the previous value, after compaction and for rows of earlier versions', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const s = openSqliteStorage({ path, compactIntervalMs: 0 });
    const a1 = await s.create('/r/a', 'a1');
    const a2 = await s.update('/r/a', 'a2', a1.modRevision);
    const b1 = await s.create('/r/b', 'b1');
    const a3 = await s.update('/r/a', 'a3', a2.modRevision);
    const bDel = await s.delete('/r/b', b1.modRevision);
    const b2 = await s.create('/r/b', 'b2');
    const db = new Database(path, { readonly: true });
    try {
      const copies = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM kine WHERE old_value IS NOT NULL').get()!.n;
      assert.equal(copies, 0);
    } finally {
      db.close();
    }
    // Compacting up to a2 deletes a1 (superseded by a2); a replay after a2 still finds a3's previous value (a2's row).
    await s.compact(a2.modRevision);
    assert.deepEqual(await replay(s, '/r/', a2.modRevision, b2.modRevision), [
      { type: 'put', kv: b1 },
      { type: 'put', kv: a3, prev: a2 },
      { type: 'delete', key: '/r/b', revision: bDel.revision, prev: b1 },
      { type: 'put', kv: b2 },
    ]);
    await s.close();
    // A file written by an earlier version keeps old_value in its rows: it is used as it is.
    const rw = new Database(path);
    rw.prepare('UPDATE kine SET old_value = ? WHERE id = ?').run('a2-as-stored', a3.modRevision);
    rw.close();
    const again = openSqliteStorage({ path, compactIntervalMs: 0 });
    try {
      const events = await replay(again, '/r/a', a2.modRevision, a3.modRevision);
      assert.deepEqual(events, [{ type: 'put', kv: a3, prev: { ...a2, value: 'a2-as-stored' } }]);
    } finally {
      await again.close();
    }
  });
});

/** The prev_revision of a key's newest row, read from the file (what a create found as the key's latest row). */
function prevRevisionOf(path: string, key: string): number | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[string], { p: number }>('SELECT prev_revision AS p FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1').get(key)?.p;
  } finally {
    db.close();
  }
}

test('a create finds every earlier row of its key though new keys skip SQL (name filter): thousands of names, tombstones, one write group, compaction, reopen', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const n = 12_000; // three times the filter's first layer: the filter grows while names are added
    const keys = Array.from({ length: n }, (_, i) => `/f/k-${i}`);
    const s = openSqliteStorage({ path, compactIntervalMs: 0 });
    const first = await Promise.all(keys.map((k) => s.create(k, 'v1')));
    const gone = await Promise.all(keys.map((k, i) => s.delete(k, first[i]!.modRevision)));
    // Tombstones are not cached as live rows: each re-create must find its tombstone (a lookup that wrongly answered
    // "no row" would write prev_revision 0 again and collide with the first row).
    const again = await Promise.all(keys.map((k) => s.create(k, 'v2')));
    for (const [i, k] of [[0, keys[0]!], [n - 1, keys[n - 1]!]] as const) assert.equal(prevRevisionOf(path, k), gone[i]!.revision);
    await assert.rejects(s.create(keys[7]!, 'dup'), (e) => isStorageError(e, 'KeyExists'));
    // Create, delete and create again in one write group (one event-loop turn, one transaction).
    const [x1, xDel, x2] = await Promise.all([s.create('/f/x', 'a'), s.delete('/f/x'), s.create('/f/x', 'b')]);
    assert.equal(xDel.revision, x1.modRevision + 1);
    assert.equal(prevRevisionOf(path, '/f/x'), xDel.revision);
    assert.equal(x2.value, 'b');
    // Compacting past the first rows and the tombstones leaves only the re-created rows, whose prev_revision points
    // at a row that is gone: after a reopen (no cached rows) a create must still find the live row.
    await s.compact(again[0]!.modRevision - 1);
    assert.equal(rowCount(path), n + 3);
    await s.close();

    const reopened = openSqliteStorage({ path, compactIntervalMs: 0 });
    try {
      for (const k of [keys[0]!, keys[5000]!, keys[n - 1]!, '/f/x']) {
        await assert.rejects(reopened.create(k, 'dup'), (e) => isStorageError(e, 'KeyExists'), k);
      }
      assert.equal((await reopened.get(keys[42]!))?.value, 'v2');
      assert.equal(await reopened.get('/f/never'), undefined);
      // Names written before the reopen and deleted after it: their re-creates find the new tombstones.
      const del = await reopened.delete(keys[3]!);
      await reopened.create(keys[3]!, 'v3');
      assert.equal(prevRevisionOf(path, keys[3]!), del.revision);
      assert.equal((await reopened.list('/f/')).items.length, n + 1);
    } finally {
      await reopened.close();
    }
  });
});
