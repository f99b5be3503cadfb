// One behavioural contract for every Storage backend. Each test works under its own key prefix so backends that
// share state across tests (a real etcd) stay isolated; revisions are compared relatively, never as constants.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageError, type Storage, type StorageError, type WatchEvent, type WatchOptions } from './types.js';

let unique = 0;
const prefixFor = (name: string): string => `/conformance/${Date.now().toString(36)}-${unique++}/${name}/`;

interface Collector {
  events: WatchEvent[];
  errors: StorageError[];
  waitFor(pred: (events: WatchEvent[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): void;
}

function collect(storage: Storage, prefix: string, opts: WatchOptions): Collector {
  const events: WatchEvent[] = [];
  const errors: StorageError[] = [];
  const watch = storage.watch(prefix, opts, {
    onEvents: (batch) => events.push(...batch),
    onError: (err) => errors.push(err),
  });
  return {
    events,
    errors,
    async waitFor(pred, what, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(events)) {
        if (Date.now() > deadline) {
          assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(events)} errors ${errors.map(String)}`);
        }
        await sleep(10);
      }
    },
    stop: () => watch.stop(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const changes = (events: WatchEvent[]): Array<WatchEvent & { type: 'put' | 'delete' }> =>
  events.filter((e): e is WatchEvent & { type: 'put' | 'delete' } => e.type !== 'progress');
const revOf = (e: WatchEvent): number => (e.type === 'put' ? e.kv.modRevision : e.revision);

async function rejectsWith(p: Promise<unknown>, code: StorageError['code']): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStorageError(err, code), `expected StorageError ${code}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected StorageError ${code}, but the call succeeded`);
}

export function runConformance(name: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${name}`, () => {
    let s: Storage;
    before(async () => {
      s = await open();
    });
    after(async () => {
      await s.close();
    });

    test('create, get and KeyExists', async () => {
      const p = prefixFor('create');
      const kv = await s.create(`${p}a`, 'v1');
      assert.equal(kv.key, `${p}a`);
      assert.equal(kv.value, 'v1');
      assert.equal(kv.createRevision, kv.modRevision);
      assert.deepEqual(await s.get(`${p}a`), kv);
      assert.equal(await s.get(`${p}missing`), undefined);
      await rejectsWith(s.create(`${p}a`, 'v2'), 'KeyExists');
      assert.equal((await s.get(`${p}a`))?.value, 'v1');
    });

    test('compare-and-swap update, Conflict carries the current value, NotFound', async () => {
      const p = prefixFor('update');
      const v1 = await s.create(`${p}a`, 'v1');
      const v2 = await s.update(`${p}a`, 'v2', v1.modRevision);
      assert.ok(v2.modRevision > v1.modRevision);
      assert.equal(v2.createRevision, v1.createRevision);
      assert.equal(v2.value, 'v2');
      const conflict = await rejectsWith(s.update(`${p}a`, 'v3', v1.modRevision), 'Conflict');
      assert.deepEqual(conflict.current, v2);
      assert.equal((await s.get(`${p}a`))?.value, 'v2');
      await rejectsWith(s.update(`${p}missing`, 'x', v1.modRevision), 'NotFound');
      await rejectsWith(s.update(`${p}missing`, 'x', 0), 'NotFound');
      assert.equal(await s.get(`${p}missing`), undefined);
    });

    test('delete with and without precondition', async () => {
      const p = prefixFor('delete');
      const a = await s.create(`${p}a`, 'va');
      const del = await s.delete(`${p}a`);
      assert.deepEqual(del.prev, a);
      assert.ok(del.revision > a.modRevision);
      assert.equal(await s.get(`${p}a`), undefined);
      await rejectsWith(s.delete(`${p}a`), 'NotFound');

      const b1 = await s.create(`${p}b`, 'b1');
      const b2 = await s.update(`${p}b`, 'b2', b1.modRevision);
      const conflict = await rejectsWith(s.delete(`${p}b`, b1.modRevision), 'Conflict');
      assert.deepEqual(conflict.current, b2);
      assert.deepEqual(await s.get(`${p}b`), b2);
      const ok = await s.delete(`${p}b`, b2.modRevision);
      assert.deepEqual(ok.prev, b2);
      await rejectsWith(s.delete(`${p}b`, b2.modRevision), 'NotFound');

      // A deleted key can be created again, with a new create revision.
      const again = await s.create(`${p}a`, 'va2');
      assert.ok(again.createRevision > del.revision);
    });

    test('list pages with limit, startAfter, more and remaining', async () => {
      const p = prefixFor('list');
      const keys = Array.from({ length: 25 }, (_, i) => `${p}k${String(i).padStart(2, '0')}`);
      for (const k of [...keys].reverse()) await s.create(k, `value-${k}`);
      await s.create(`${p.slice(0, -1)}x/outside`, 'no');
      await s.create(`${p.slice(0, -1)}`, 'no');

      const all = await s.list(p);
      assert.deepEqual(all.items.map((i) => i.key), keys);
      assert.equal(all.more, false);
      assert.equal(all.items[3]!.value, `value-${keys[3]}`);

      const page1 = await s.list(p, { limit: 10 });
      assert.deepEqual(page1.items.map((i) => i.key), keys.slice(0, 10));
      assert.equal(page1.more, true);
      assert.equal(page1.remaining, 15);
      await s.create(`${p}k10a`, 'added after page 1');
      const page2 = await s.list(p, { limit: 10, startAfter: keys[9], revision: page1.revision });
      assert.deepEqual(page2.items.map((i) => i.key), keys.slice(10, 20));
      assert.equal(page2.revision, page1.revision);
      assert.equal(page2.more, true);
      assert.equal(page2.remaining, 5);
      const page3 = await s.list(p, { limit: 10, startAfter: keys[19], revision: page1.revision });
      assert.deepEqual(page3.items.map((i) => i.key), keys.slice(20));
      assert.equal(page3.more, false);
      const latest = await s.list(p, { limit: 10, startAfter: keys[9] });
      assert.deepEqual(latest.items.slice(0, 2).map((i) => i.key), [keys[10], `${p}k10a`]);
      assert.equal(latest.remaining, 6);
    });

    test('list at an older revision sees the state of that time', async () => {
      const p = prefixFor('listold');
      const a1 = await s.create(`${p}a`, 'a1');
      const b1 = await s.create(`${p}b`, 'b1');
      const then = b1.modRevision;
      const a2 = await s.update(`${p}a`, 'a2', a1.modRevision);
      await s.delete(`${p}b`);
      const c1 = await s.create(`${p}c`, 'c1');
      const old = await s.list(p, { revision: then });
      assert.equal(old.revision, then);
      assert.deepEqual(old.items, [a1, b1]);
      const now = await s.list(p);
      assert.deepEqual(now.items, [a2, c1]);
      assert.ok(now.revision >= c1.modRevision);
    });

    test('count counts live keys under a prefix', async () => {
      const p = prefixFor('count');
      assert.equal(await s.count(p), 0);
      for (let i = 0; i < 7; i++) await s.create(`${p}${i}`, 'x');
      await s.create(`${p.slice(0, -1)}-other`, 'x');
      await s.delete(`${p}3`);
      assert.equal(await s.count(p), 6);
    });

    test('watch from a revision replays history, then continues live, in order, without gaps or duplicates', async () => {
      const p = prefixFor('watch');
      const a1 = await s.create(`${p}a`, 'a1');
      const a2 = await s.update(`${p}a`, 'a2', a1.modRevision);
      const b1 = await s.create(`${p}b`, 'b1');
      const w = collect(s, p, { afterRevision: a1.modRevision });
      const bDel = await s.delete(`${p}b`);
      const a3 = await s.update(`${p}a`, 'a3', a2.modRevision);
      const c1 = await s.create(`${p}c`, 'c1');
      await w.waitFor((ev) => changes(ev).length >= 5, '5 events');
      await sleep(100);
      w.stop();
      const ev = changes(w.events);
      assert.deepEqual(ev, [
        { type: 'put', kv: a2, prev: a1 },
        { type: 'put', kv: b1 },
        { type: 'delete', key: `${p}b`, revision: bDel.revision, prev: b1 },
        { type: 'put', kv: a3, prev: a2 },
        { type: 'put', kv: c1 },
      ]);
      const revs = ev.map(revOf);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!);
      assert.deepEqual(w.errors, []);
    });

    test('watch from now sees only later changes, and only under its prefix', async () => {
      const p = prefixFor('prefix');
      await s.create(`${p}a/before`, 'x');
      const w = collect(s, `${p}a/`, { afterRevision: 0 });
      await sleep(200);
      await s.create(`${p}b/x`, 'x');
      await s.create(`${p}ab`, 'x');
      const inside = await s.create(`${p}a/x`, 'x');
      await s.create(`${p}b/y`, 'x');
      const last = await s.create(`${p}a/y`, 'y');
      await w.waitFor((ev) => changes(ev).length >= 2, '2 events');
      await sleep(100);
      w.stop();
      assert.deepEqual(changes(w.events), [
        { type: 'put', kv: inside },
        { type: 'put', kv: last },
      ]);
    });

    test('many watchers see the same ordered stream under concurrent writes', async () => {
      const p = prefixFor('fanout');
      const start = await s.currentRevision();
      const watchers = [collect(s, p, { afterRevision: start }), collect(s, p, { afterRevision: start })];
      const total = 200;
      let done = 0;
      const pending = Array.from({ length: total }, async (_, i) => {
        await sleep(i % 50);
        const kv = await s.create(`${p}${i}`, String(i));
        // A watcher that starts while writes are still landing switches from replay to live mid-stream.
        if (++done === total / 2) watchers.push(collect(s, p, { afterRevision: start }));
        return kv;
      });
      const writes = await Promise.all(pending);
      watchers.push(collect(s, p, { afterRevision: start }));
      const expected = writes.map((w) => w.modRevision).sort((x, y) => x - y);
      assert.equal(watchers.length, 4);
      for (const w of watchers) {
        await w.waitFor((ev) => changes(ev).length >= total, `${total} events`);
        await sleep(50);
        w.stop();
        assert.deepEqual(changes(w.events).map(revOf), expected);
      }
    });

    test('compaction makes older revisions unreadable for list and watch', async () => {
      const p = prefixFor('compact');
      let kv = await s.create(`${p}a`, '0');
      const first = kv.modRevision;
      for (let i = 1; i <= 5; i++) kv = await s.update(`${p}a`, String(i), kv.modRevision);
      await s.create(`${p}b`, 'b');
      const target = kv.modRevision;
      await s.create(`${p}c`, 'c');
      await s.compact(target);
      assert.ok((await s.oldestRevision()) > target);
      await rejectsWith(s.list(p, { revision: first }), 'Compacted');
      await rejectsWith(s.list(p, { revision: target }), 'Compacted');
      const readable = await s.list(p, { revision: target + 1 });
      assert.deepEqual(readable.items.map((i) => i.key), [`${p}a`, `${p}b`]);
      assert.deepEqual(await s.get(`${p}a`), kv);
      assert.equal((await s.list(p)).items.length, 3);

      const w = collect(s, p, { afterRevision: first });
      const deadline = Date.now() + 5000;
      while (w.errors.length === 0 && Date.now() < deadline) await sleep(10);
      assert.equal(w.errors.length, 1);
      assert.equal(w.errors[0]!.code, 'Compacted');
      assert.deepEqual(changes(w.events), []);
      w.stop();

      // From the compacted revision itself, everything after it is still there.
      const ok = collect(s, p, { afterRevision: target });
      await ok.waitFor((ev) => changes(ev).length >= 1, 'event after the compacted revision');
      assert.equal(changes(ok.events)[0]!.type, 'put');
      assert.deepEqual(ok.errors, []);
      ok.stop();
    });

    test('progress events report revisions past writes elsewhere', async () => {
      const p = prefixFor('progress');
      const w = collect(s, p, { afterRevision: 0, progressIntervalMs: 100 });
      await sleep(200);
      const elsewhere = await s.create(`${p.slice(0, -1)}-elsewhere`, 'x');
      await w.waitFor(
        (ev) => ev.some((e) => e.type === 'progress' && e.revision >= elsewhere.modRevision),
        'a progress event at or past the write elsewhere',
      );
      const mine = await s.create(`${p}a`, 'x');
      await w.waitFor((ev) => changes(ev).length === 1, 'own event');
      w.stop();
      // A progress event never claims a revision beyond an event delivered after it.
      let seen = 0;
      for (const e of w.events) {
        assert.ok(revOf(e) >= seen, `revision went backwards in ${JSON.stringify(w.events)}`);
        seen = revOf(e);
      }
      assert.deepEqual(changes(w.events), [{ type: 'put', kv: mine }]);
    });

    test('TTL expiry deletes the key with a watch delete event', async () => {
      const p = prefixFor('ttl');
      const w = collect(s, p, { afterRevision: 0 });
      await sleep(100);
      const kv = await s.create(`${p}event`, 'short-lived', { ttlSeconds: 1 });
      const keep = await s.create(`${p}keep`, 'stays');
      await w.waitFor((ev) => ev.some((e) => e.type === 'delete'), 'delete by TTL', 10_000);
      w.stop();
      assert.equal(await s.get(`${p}event`), undefined);
      assert.deepEqual(await s.get(`${p}keep`), keep);
      const del = changes(w.events).find((e) => e.type === 'delete');
      assert.ok(del && del.type === 'delete');
      assert.equal(del.key, kv.key);
      assert.deepEqual(del.prev, kv);
    });

    test('concurrent creates of one key: exactly one wins', async () => {
      const p = prefixFor('race');
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create(`${p}k`, String(i))));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'KeyExists'));
      const winner = (won[0] as PromiseFulfilledResult<{ value: string }>).value;
      assert.equal((await s.get(`${p}k`))?.value, winner.value);
    });

    test('updates issued together with one expected revision: exactly one wins, the others see it', async () => {
      const p = prefixFor('together');
      const k0 = await s.create(`${p}k`, '0');
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => s.update(`${p}k`, `v${i}`, k0.modRevision)),
      );
      const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<Storage['update']>>> => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      const winner = won[0]!.value;
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        assert.ok(isStorageError(r.reason, 'Conflict'), String(r.reason));
        assert.deepEqual(r.reason.current, winner);
      }
      assert.deepEqual(await s.get(`${p}k`), winner);
    });

    test('a burst of writes issued without waiting reaches a watcher once each, in revision order', async () => {
      const p = prefixFor('burst');
      const w = collect(s, p, { afterRevision: await s.currentRevision() });
      const created = await Promise.all(Array.from({ length: 30 }, (_, i) => s.create(`${p}${i}`, `c${i}`)));
      const updated = await Promise.all(created.map((kv) => s.update(kv.key, `u-${kv.key}`, kv.modRevision)));
      const deleted = await Promise.all(updated.slice(0, 10).map((kv) => s.delete(kv.key, kv.modRevision)));
      await w.waitFor((ev) => changes(ev).length >= 70, '70 events');
      await sleep(50);
      w.stop();
      const expected: WatchEvent[] = [
        ...created.map((kv): WatchEvent => ({ type: 'put', kv })),
        ...updated.map((kv, i): WatchEvent => ({ type: 'put', kv, prev: created[i]! })),
        ...deleted.map((d, i): WatchEvent => ({ type: 'delete', key: updated[i]!.key, revision: d.revision, prev: updated[i]! })),
      ].sort((a, b) => revOf(a) - revOf(b));
      assert.deepEqual(changes(w.events), expected);
    });

    test('revisions strictly increase across writes', async () => {
      const p = prefixFor('revs');
      const revs: number[] = [];
      let kv = await s.create(`${p}a`, '0');
      revs.push(kv.modRevision);
      for (let i = 0; i < 10; i++) {
        kv = await s.update(`${p}a`, String(i), kv.modRevision);
        revs.push(kv.modRevision);
        revs.push((await s.create(`${p}n${i}`, 'x')).modRevision);
      }
      revs.push((await s.delete(`${p}a`)).revision);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `revisions ${revs.join(',')}`);
      assert.ok((await s.currentRevision()) >= revs[revs.length - 1]!);
    });
  });
}
