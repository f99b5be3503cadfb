// The hub's index hint: a watcher indexed by a value gets only events carrying that value (in the object or, for an
// update, the previous one), unindexed watchers get everything, and removal leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchHub } from './watch-hub.js';
import type { KeyValue, WatchEvent, WatchIndex } from './types.js';

type Change = WatchEvent & { type: 'put' | 'delete' };

function kv(key: string, node: string, rev: number): KeyValue {
  return { key, value: JSON.stringify({ node }), createRevision: rev, modRevision: rev };
}

function setup() {
  let rev = 0;
  const hub = new WatchHub({ history: () => [], currentRevision: () => rev, compactRevision: () => 0 });
  let calls = 0;
  const index = (value: string): WatchIndex => ({
    name: '/pods/#node',
    prefix: '/pods/',
    value,
    valuesOf: (e) => {
      calls++;
      const node = (k: KeyValue) => (JSON.parse(k.value) as { node: string }).node;
      if (e.type === 'delete') return [node(e.prev)];
      return e.prev ? [node(e.kv), node(e.prev)] : [node(e.kv)];
    },
  });
  const watch = (prefix: string, value?: string) => {
    const got: string[] = [];
    const w = hub.watch(prefix, { afterRevision: 0, ...(value !== undefined ? { index: index(value) } : {}) }, {
      onEvents: (events) => {
        for (const e of events) if (e.type !== 'progress') got.push(`${e.type} ${e.type === 'put' ? e.kv.key : e.key}`);
      },
      onError: (err) => assert.fail(String(err)),
    });
    return { got, w };
  };
  const put = (key: string, node: string, prev?: KeyValue): KeyValue => {
    const next = kv(key, node, ++rev);
    const e: Change = { type: 'put', kv: next, ...(prev ? { prev } : {}) };
    hub.publish(e);
    return next;
  };
  const del = (key: string, prev: KeyValue) => hub.publish({ type: 'delete', key, revision: ++rev, prev });
  const tick = () => new Promise((r) => setImmediate(r));
  return { hub, watch, put, del, tick, calls: () => calls };
}

test('indexed watchers get only events with their value; plain watchers get all', async () => {
  const h = setup();
  const n1 = h.watch('/pods/', 'n1');
  const n2 = h.watch('/pods/ns/', 'n2');
  const none = h.watch('/pods/', '');
  const all = h.watch('/pods/');
  const a = h.put('/pods/ns/a', '');
  const b = h.put('/pods/ns/b', 'n2');
  const a2 = h.put('/pods/ns/a', 'n1', a); // bound: leaves "" and enters n1
  h.put('/pods/other/c', 'n2');
  h.del('/pods/ns/a', a2);
  h.put('/nodes/n1', 'n1'); // outside the index's prefix
  await h.tick();
  assert.deepEqual(n1.got, ['put /pods/ns/a', 'delete /pods/ns/a']);
  assert.deepEqual(n2.got, ['put /pods/ns/b']); // the prefix still applies
  assert.deepEqual(none.got, ['put /pods/ns/a', 'put /pods/ns/a']);
  assert.deepEqual(all.got, ['put /pods/ns/a', 'put /pods/ns/b', 'put /pods/ns/a', 'put /pods/other/c', 'delete /pods/ns/a']);
  assert.equal(h.calls(), 5, 'values are read once per event under the prefix, not once per watcher');
  void b;
});

test('stopped indexed watchers are forgotten; an index without watchers costs nothing', async () => {
  const h = setup();
  const n1 = h.watch('/pods/', 'n1');
  const other = h.watch('/pods/', 'n1');
  n1.w.stop();
  h.put('/pods/ns/a', 'n1');
  await h.tick();
  assert.deepEqual(n1.got, []);
  assert.deepEqual(other.got, ['put /pods/ns/a']);
  other.w.stop();
  const before = h.calls();
  h.put('/pods/ns/b', 'n1');
  await h.tick();
  assert.equal(h.calls(), before);
});

test('an index that cannot read an event offers it to every watcher of the index', async () => {
  let rev = 0;
  const hub = new WatchHub({ history: () => [], currentRevision: () => rev, compactRevision: () => 0 });
  const got: string[] = [];
  const broken: WatchIndex = { name: 'x', prefix: '/p/', value: 'v', valuesOf: () => { throw new Error('undecodable'); } };
  hub.watch('/p/', { afterRevision: 0, index: broken }, {
    onEvents: (events) => { for (const e of events) got.push(e.type); },
    onError: (err) => assert.fail(String(err)),
  });
  hub.publish({ type: 'put', kv: kv('/p/a', 'w', ++rev) });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['put']);
});
