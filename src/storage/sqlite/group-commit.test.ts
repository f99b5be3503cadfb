// Group commit on SQLite: the writes of one event-loop turn share one transaction. An acknowledged write is already
// committed (another connection sees it, a reopen keeps it), the group's watch events come after the COMMIT in
// revision order, compare-and-swap stays exact inside a group, and a failed COMMIT fails every write of the group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteLog, openSqliteStorage } from './sqlite.js';
import { LocalStorage } from '../local/local-storage.js';
import type { LogStore } from '../local/log-store.js';
import { isStorageError, type KeyValue, type Storage, type WatchEvent } from '../types.js';
import { withTempDir } from '../testing/temp-dir.js';
import { eventually } from '../../../test/e2e/harness.js';


interface CommitProbe {
  commits: number;
  /** Make the next COMMIT throw (before reaching SQLite), as a full disk or I/O error would. */
  failNext: boolean;
}

/** A LocalStorage over the real SQLite log whose COMMITs are counted and can be made to fail. */
function probedStorage(path: string): { storage: Storage; probe: CommitProbe } {
  const log = openSqliteLog(path);
  const tx = log.transactions!;
  const probe: CommitProbe = { commits: 0, failNext: false };
  const transactions: NonNullable<LogStore['transactions']> = {
    begin: () => tx.begin(),
    commit: () => {
      if (probe.failNext) {
        probe.failNext = false;
        throw new Error('injected commit failure');
      }
      tx.commit();
      probe.commits++;
    },
    rollback: () => tx.rollback(),
  };
  const wrapped = new Proxy(log, {
    get(target, prop) {
      if (prop === 'transactions') return transactions;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { storage: new LocalStorage('sqlite', wrapped, { compactIntervalMs: 0 }), probe };
}

/** A probed store in a fresh directory, closed (idempotent) and removed afterwards. */
function withProbedStorage(fn: (c: { storage: Storage; probe: CommitProbe; path: string }) => Promise<void>): Promise<void> {
  return withTempDir('skiff-group-', async (dir) => {
    const path = join(dir, 'state.db');
    const { storage, probe } = probedStorage(path);
    try {
      await fn({ storage, probe, path });
    } finally {
      await storage.close();
    }
  });
}

function collect(storage: Storage, prefix: string): { events: WatchEvent[]; stop(): void } {
  const events: WatchEvent[] = [];
  const w = storage.watch(prefix, { afterRevision: 0 }, { onEvents: (b) => events.push(...b), onError: () => {} });
  return { events, stop: () => w.stop() };
}

test('writes of one turn share one COMMIT and each is committed when acknowledged; all survive a reopen', async () => {
  await withProbedStorage(async ({ storage, probe, path }) => {
    // A second connection sees only what was committed.
    const reader = new Database(path, { readonly: true });
    const present = reader.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM kine WHERE name = ?');
    const notCommittedWhenAcked: string[] = [];
    const keys = Array.from({ length: 50 }, (_, i) => `/durable/${String(i).padStart(2, '0')}`);
    const writes = keys.map((k) =>
      storage.create(k, `v-${k}`).then((kv) => {
        if (present.get(k)!.n !== 1) notCommittedWhenAcked.push(k);
        return kv;
      }),
    );
    const done = await Promise.all(writes);
    assert.deepEqual(notCommittedWhenAcked, []);
    assert.equal(probe.commits, 1, 'one transaction for the writes of one turn');
    // Revisions follow the order the writes were issued in.
    for (let i = 1; i < done.length; i++) assert.equal(done[i]!.modRevision, done[i - 1]!.modRevision + 1);

    // Sequential writes (one per turn) each get their own transaction.
    let kv = done[0]!;
    for (let i = 0; i < 3; i++) kv = await storage.update(kv.key, `again-${i}`, kv.modRevision);
    assert.equal(probe.commits, 4);
    reader.close();
    await storage.close();

    const reopened = openSqliteStorage({ path, compactIntervalMs: 0 });
    try {
      const listed = await reopened.list('/durable/');
      assert.deepEqual(
        listed.items.map((i) => i.key),
        keys,
      );
      assert.deepEqual(await reopened.get(kv.key), kv);
    } finally {
      await reopened.close();
    }
  });
});

test('a group publishes its events after the COMMIT in revision order, with the right prev values', async () => {
  await withProbedStorage(async ({ storage, probe }) => {
    const base = await storage.create('/order/b', 'b0');
    const w = collect(storage, '/order/');
    await new Promise((r) => setImmediate(r));
    const rev = base.modRevision;
    // One turn: revisions are assigned in call order, so later writes can name earlier ones' revisions.
    const a1 = storage.create('/order/a', 'a1');
    const b1 = storage.update('/order/b', 'b1', rev);
    const a2 = storage.update('/order/a', 'a2', rev + 1);
    const bDel = storage.delete('/order/b', rev + 2);
    const c1 = storage.create('/order/c', 'c1');
    // Reads during the open group see committed state only.
    const readA = storage.get('/order/a');
    const readB = storage.get('/order/b');
    const listed = storage.list('/order/');
    assert.deepEqual(w.events, []);
    const [ra1, rb1, ra2, rbDel, rc1] = await Promise.all([a1, b1, a2, bDel, c1]);
    assert.equal(probe.commits, 2);
    assert.equal(await readA, undefined);
    assert.deepEqual(await readB, base);
    assert.deepEqual((await listed).items, [base]);
    assert.equal((await listed).revision, rev);

    await eventually('5 events', () => w.events.length >= 5);
    await new Promise((r) => setTimeout(r, 50));
    w.stop();
    assert.deepEqual(w.events, [
      { type: 'put', kv: ra1 },
      { type: 'put', kv: rb1, prev: base },
      { type: 'put', kv: ra2, prev: ra1 },
      { type: 'delete', key: '/order/b', revision: rbDel.revision, prev: rb1 },
      { type: 'put', kv: rc1 },
    ]);
    assert.deepEqual(
      [ra1.modRevision, rb1.modRevision, ra2.modRevision, rbDel.revision, rc1.modRevision],
      [rev + 1, rev + 2, rev + 3, rev + 4, rev + 5],
    );
    assert.equal(await storage.currentRevision(), rev + 5);
  });
});

test('compare-and-swap is exact inside a group: the second write of a key sees the first', async () => {
  await withProbedStorage(async ({ storage, probe }) => {
    const k0 = await storage.create('/cas/k', '0');
    const before = probe.commits;
    const first = storage.update('/cas/k', '1', k0.modRevision);
    const stale = storage.update('/cas/k', 'stale', k0.modRevision);
    const staleDelete = storage.delete('/cas/k', k0.modRevision);
    const dupCreate = storage.create('/cas/k', 'dup');
    const chained = storage.update('/cas/k', '2', k0.modRevision + 1);
    const gone = storage.delete('/cas/k');
    const recreated = storage.create('/cas/k', 'again');
    const results = await Promise.allSettled([first, stale, staleDelete, dupCreate, chained, gone, recreated]);
    assert.equal(probe.commits, before + 1);
    const [r1, rStale, rStaleDel, rDup, r2, rGone, rAgain] = results;
    assert.equal(r1.status, 'fulfilled');
    const v1 = (r1 as PromiseFulfilledResult<KeyValue>).value;
    for (const r of [rStale, rStaleDel]) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as unknown;
      assert.ok(isStorageError(err, 'Conflict'), String(err));
      assert.deepEqual(err.current, v1);
    }
    assert.equal(rDup.status, 'rejected');
    assert.ok(isStorageError((rDup as PromiseRejectedResult).reason, 'KeyExists'));
    assert.equal(r2.status, 'fulfilled');
    const v2 = (r2 as PromiseFulfilledResult<KeyValue>).value;
    assert.equal(v2.modRevision, v1.modRevision + 1);
    assert.equal(rGone.status, 'fulfilled');
    assert.deepEqual((rGone as PromiseFulfilledResult<{ prev: KeyValue }>).value.prev, v2);
    assert.equal(rAgain.status, 'fulfilled');
    const again = (rAgain as PromiseFulfilledResult<KeyValue>).value;
    assert.equal(again.createRevision, again.modRevision);
    assert.deepEqual(await storage.get('/cas/k'), again);
  });
});

test('a failed COMMIT fails every write of the group, publishes none of its events and leaves no trace', async () => {
  await withProbedStorage(async ({ storage, probe, path }) => {
    let rev = 0;
    try {
      const existing = await storage.create('/fail/existing', 'e0');
      const w = collect(storage, '/fail/');
      await new Promise((r) => setImmediate(r));
      rev = await storage.currentRevision();
      probe.failNext = true;
      const group = [
        storage.create('/fail/a', 'a'),
        storage.update('/fail/existing', 'e1', existing.modRevision),
        storage.create('/fail/b', 'b'),
        // Judged against the group's own first update, which never happened.
        storage.update('/fail/existing', 'e2', existing.modRevision),
        storage.delete('/fail/a'),
      ];
      const results = await Promise.allSettled(group);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        const err = (r as PromiseRejectedResult).reason as unknown;
        assert.ok(isStorageError(err, 'Internal'), String(err));
        assert.match(err.message, /commit failed: injected commit failure/);
      }
      assert.equal(await storage.currentRevision(), rev);
      assert.equal(await storage.get('/fail/a'), undefined);
      assert.deepEqual(await storage.get('/fail/existing'), existing);

      // The log continues at the next revision; the watcher's first event is this write, nothing of the failed group.
      const after = await storage.update('/fail/existing', 'e3', existing.modRevision);
      assert.equal(after.modRevision, rev + 1);
      await eventually('the event after the failed group', () => w.events.length >= 1);
      await new Promise((r) => setTimeout(r, 50));
      w.stop();
      assert.deepEqual(w.events, [{ type: 'put', kv: after, prev: existing }]);
    } finally {
      await storage.close();
    }
    const reopened = openSqliteStorage({ path, compactIntervalMs: 0 });
    try {
      assert.deepEqual(
        (await reopened.list('/fail/')).items.map((i) => [i.key, i.value]),
        [['/fail/existing', 'e3']],
      );
      assert.equal(await reopened.currentRevision(), rev + 1);
    } finally {
      await reopened.close();
    }
  });
});
