// List and watch semantics of the real `skiff server` over raw HTTPS, on SQLite and on a real etcd: resourceVersion
// rules (unset, "0", Exact, NotOlderThan, too new), continue tokens, watch starting points, selectors, bookmarks,
// initial events, compaction and the Table form of watch events, as upstream's API concepts page describes them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { kubeconfigCredentials, startTestServer, type KubeconfigCredentials, type TestServer } from './harness.js';
import { startEtcd, type TestEtcd } from '../../src/storage/testing/etcd.js';
import { openEtcdStorage } from '../../src/storage/etcd/etcd.js';
import { openSqliteStorage } from '../../src/storage/sqlite/sqlite.js';
import { defaultSqlitePath } from '../../src/storage/registry.js';

/** Bookmarks every 300 ms instead of every minute, so the bookmark tests stay short (read by the server at start). */
const BOOKMARK_INTERVAL_ENV = 'SKIFF_WATCH_BOOKMARK_INTERVAL_MS';


/** The parts of objects, lists, Tables and Statuses these tests read from parsed JSON. */
interface Doc {
  kind?: string;
  apiVersion?: string;
  metadata: {
    name: string;
    resourceVersion: string;
    continue: string;
    remainingItemCount?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data: Record<string, string>;
  items: Doc[];
  reason?: string;
  message: string;
  code?: number;
  details: { causes: { reason: string }[] };
  columnDefinitions: { name: string }[] | null;
  rows: { cells: unknown[]; object: Doc }[];
}

interface Reply {
  status: number;
  // Parsed JSON body: a Kubernetes object, list or Status.
  body: Doc;
}

interface WatchEventJson {
  type: string;
  object: Doc;
}

/** A watch stream read event by event. */
interface WatchStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Next event, or undefined when the stream ended; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<WatchEventJson | undefined>;
  /** Every event that arrives within `ms` (for checking that nothing more comes). */
  drain(ms: number): Promise<WatchEventJson[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

class Client {
  constructor(
    private readonly base: string,
    private readonly creds: KubeconfigCredentials,
  ) {}

  private options(method: string, headers: Record<string, string>): RequestOptions {
    return { method, ca: this.creds.ca, cert: this.creds.cert, key: this.creds.key, agent: false, headers };
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const h = { Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json' } : {}), ...headers };
      const req = httpsRequest(`${this.base}${path}`, this.options(method, h), (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Doc });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode} non-JSON body: ${text}`));
          }
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  async ok(method: string, path: string, body?: unknown): Promise<Doc> {
    const r = await this.request(method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  watch(path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
    return new Promise((resolveStream, rejectStream) => {
      const req = httpsRequest(`${this.base}${path}`, this.options('GET', { Accept: 'application/json', ...headers }), (res) => {
        const queue: WatchEventJson[] = [];
        const waiters: (() => void)[] = [];
        let done = false;
        let buffer = '';
        const wake = () => waiters.splice(0).forEach((w) => w());
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buffer += d;
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) queue.push(JSON.parse(line) as WatchEventJson);
          }
          wake();
        });
        const ended = new Promise<void>((resolve) => {
          const finish = () => {
            done = true;
            wake();
            resolve();
          };
          res.on('end', finish);
          res.on('close', finish);
          res.on('error', finish);
        });
        const next = async (timeoutMs = 5000): Promise<WatchEventJson | undefined> => {
          const deadline = Date.now() + timeoutMs;
          while (!queue.length && !done) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no watch event on ${path} within ${timeoutMs}ms`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              waiters.push(() => {
                clearTimeout(t);
                r();
              });
            });
          }
          return queue.shift();
        };
        resolveStream({
          status: res.statusCode ?? 0,
          headers: res.headers,
          next,
          async drain(ms) {
            await new Promise((r) => setTimeout(r, ms));
            return queue.splice(0);
          },
          ended,
          close: () => req.destroy(),
        });
      });
      req.on('error', (err) => rejectStream(err));
      req.end();
    });
  }
}

function cm(name: string, data: Record<string, string>, labels?: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

const rvOf = (o: Doc): number => Number(o.metadata.resourceVersion);

function describeBackend(datastore: 'sqlite' | 'etcd'): void {
  describe(`list and watch semantics (${datastore})`, () => {
    let srv: TestServer;
    let etcd: TestEtcd | undefined;
    let api: Client;
    let nsCounter = 0;

    async function connect(): Promise<void> {
      api = new Client(srv.url, await kubeconfigCredentials(srv.kubeconfig));
    }

    before(async () => {
      process.env[BOOKMARK_INTERVAL_ENV] = '300';
      // Our own etcd (rather than the harness's) so the test can compact it directly.
      if (datastore === 'etcd') etcd = await startEtcd();
      // These cases count every ConfigMap of their namespaces: no kube-root-ca.crt publisher (API semantics only).
      const noPublisher = ['--disable-controllers', 'root-ca-cert-publisher'];
      srv = await startTestServer({ args: etcd ? ['--datastore-endpoint', etcd.endpoint, ...noPublisher] : noPublisher });
      delete process.env[BOOKMARK_INTERVAL_ENV];
      await connect();
    });
    after(async () => {
      await srv?.stop();
      await etcd?.stop();
    });

    async function namespace(): Promise<string> {
      const name = `w${++nsCounter}-${datastore}`;
      await api.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return name;
    }

    /** Forget history up to `revision`, as the periodic compaction would. SQLite is compacted while the server is down. */
    async function compact(revision: number): Promise<void> {
      if (etcd) {
        const storage = await openEtcdStorage(etcd.endpoint);
        try {
          await storage.compact(revision);
        } finally {
          await storage.close();
        }
        return;
      }
      await srv.kill9();
      const storage = openSqliteStorage({ path: defaultSqlitePath(srv.dataDir), compactIntervalMs: 0 });
      try {
        await storage.compact(revision);
      } finally {
        await storage.close();
      }
      await srv.restart();
      await connect();
    }

    test('get and list: resourceVersion unset, "0", Exact, NotOlderThan and too new', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const a1 = await api.ok('POST', base, cm('a', { v: '1' }));
      const a2 = await api.ok('PUT', `${base}/a`, { ...a1, data: { v: '2' } });
      const b = await api.ok('POST', base, cm('b', { v: '1' }));
      assert.ok(rvOf(a1) < rvOf(a2) && rvOf(a2) < rvOf(b));

      assert.equal((await api.ok('GET', `${base}/a`)).data.v, '2');
      assert.equal((await api.ok('GET', `${base}/a?resourceVersion=0`)).data.v, '2');
      // A get at an older resourceVersion means "not older than": the newest state.
      assert.equal((await api.ok('GET', `${base}/a?resourceVersion=${rvOf(a1)}`)).data.v, '2');

      const latest = await api.ok('GET', base);
      assert.deepEqual(latest.items.map((i) => i.metadata?.name), ['a', 'b']);
      assert.ok(rvOf(latest) >= rvOf(b));
      assert.equal((await api.ok('GET', `${base}?resourceVersion=0`)).items.length, 2);

      // Exact: the collection as it was at that revision, stamped with it.
      const exact = await api.ok('GET', `${base}?resourceVersion=${rvOf(a1)}&resourceVersionMatch=Exact`);
      assert.equal(exact.metadata.resourceVersion, a1.metadata.resourceVersion);
      assert.deepEqual(exact.items.map((i) => [i.metadata?.name, i.data?.v, i.metadata?.resourceVersion]), [
        ['a', '1', a1.metadata.resourceVersion],
      ]);
      const notOlder = await api.ok('GET', `${base}?resourceVersion=${rvOf(a1)}&resourceVersionMatch=NotOlderThan`);
      assert.deepEqual(notOlder.items.map((i) => i.data?.v), ['2', '1']);
      assert.ok(rvOf(notOlder) >= rvOf(b));
      // Legacy: a resourceVersion with a limit and no match is served exactly.
      const legacy = await api.ok('GET', `${base}?resourceVersion=${rvOf(a2)}&limit=5`);
      assert.deepEqual(legacy.items.map((i) => [i.metadata?.name, i.data?.v]), [['a', '2']]);
      assert.equal(legacy.metadata.resourceVersion, a2.metadata.resourceVersion);

      const tooNew = rvOf(latest) + 1_000_000;
      for (const path of [`${base}/a?resourceVersion=${tooNew}`, `${base}?resourceVersion=${tooNew}`, `${base}?resourceVersion=${tooNew}&resourceVersionMatch=NotOlderThan`, `${base}?resourceVersion=${tooNew}&resourceVersionMatch=Exact`]) {
        const r = await api.request('GET', path);
        assert.equal(r.status, 504, `${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.reason, 'Timeout');
        assert.match(r.body.message, new RegExp(`^Timeout: Too large resource version: ${tooNew}, current: \\d+$`));
        assert.equal(r.body.details.causes[0].reason, 'ResourceVersionTooLarge');
      }

      const exactZero = await api.request('GET', `${base}?resourceVersion=0&resourceVersionMatch=Exact`);
      assert.equal(exactZero.status, 422, JSON.stringify(exactZero.body));
      assert.match(exactZero.body.message, /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/);
      const bad = await api.request('GET', `${base}?resourceVersion=abc&resourceVersionMatch=Exact`);
      assert.equal(bad.status, 400);
    });

    test('continue tokens page one consistent snapshot, with remainingItemCount', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      for (let i = 0; i < 5; i++) await api.ok('POST', base, cm(`c${i}`, { v: 'old' }));
      const page1 = await api.ok('GET', `${base}?limit=2`);
      assert.deepEqual(page1.items.map((i) => i.metadata?.name), ['c0', 'c1']);
      assert.equal(page1.metadata.remainingItemCount, 3);
      assert.ok(page1.metadata.continue);

      // Writes between pages must not show up in later pages.
      await api.ok('DELETE', `${base}/c2`);
      const c3 = await api.ok('GET', `${base}/c3`);
      await api.ok('PUT', `${base}/c3`, { ...c3, data: { v: 'new' } });
      await api.ok('POST', base, cm('c5', { v: 'new' }));

      const page2 = await api.ok('GET', `${base}?limit=2&continue=${encodeURIComponent(page1.metadata.continue)}`);
      assert.deepEqual(page2.items.map((i) => [i.metadata?.name, i.data?.v]), [
        ['c2', 'old'],
        ['c3', 'old'],
      ]);
      assert.equal(page2.metadata.resourceVersion, page1.metadata.resourceVersion);
      assert.equal(page2.metadata.remainingItemCount, 1);
      const page3 = await api.ok('GET', `${base}?limit=2&continue=${encodeURIComponent(page2.metadata.continue)}`);
      assert.deepEqual(page3.items.map((i) => i.metadata?.name), ['c4']);
      assert.equal(page3.metadata.continue, undefined);
      assert.equal(page3.metadata.remainingItemCount, undefined);

      const withRv = await api.request('GET', `${base}?limit=2&resourceVersion=${page1.metadata.resourceVersion}&continue=${encodeURIComponent(page1.metadata.continue)}`);
      assert.equal(withRv.status, 400);
      assert.equal(withRv.body.message, 'specifying resource version is not allowed when using continue');
      const garbage = await api.request('GET', `${base}?limit=2&continue=not-a-token`);
      assert.equal(garbage.status, 400);
      assert.match(garbage.body.message, /^continue key is not valid/);
    });

    test('a watch from a list resourceVersion misses and repeats nothing while writes race', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const total = 30;
      let listed: Doc | undefined;
      let watching: Promise<WatchStream> | undefined;
      // Writes go on while we list and while the watch connects; list and watch together must see each object once.
      const writers = [0, 1].map(async (writer) => {
        for (let i = writer; i < total; i += 2) {
          await api.ok('POST', base, cm(`r${i}`, { i: String(i) }));
          if (i === 10) {
            listed = await api.ok('GET', base);
            watching = api.watch(`${base}?watch=1&resourceVersion=${listed.metadata.resourceVersion}`);
          }
        }
      });
      await Promise.all(writers);
      assert.ok(listed && watching);
      const w = await watching;
      assert.equal(w.status, 200);
      const seen: string[] = listed.items.map((i) => i.metadata?.name);
      let lastRv = rvOf(listed);
      while (seen.length < total) {
        const ev = await w.next();
        assert.ok(ev, 'watch ended early');
        assert.equal(ev.type, 'ADDED');
        assert.ok(rvOf(ev.object) > lastRv, 'events come in revision order after the list');
        lastRv = rvOf(ev.object);
        seen.push(ev.object.metadata.name);
      }
      assert.equal(new Set(seen).size, total);
      // Then updates and deletes, in order.
      const r0 = await api.ok('GET', `${base}/r0`);
      const r0b = await api.ok('PUT', `${base}/r0`, { ...r0, data: { i: 'x' } });
      await api.ok('DELETE', `${base}/r0`);
      const mod = await w.next();
      assert.equal(mod?.type, 'MODIFIED');
      assert.equal(mod.object.data.i, 'x');
      assert.equal(mod.object.metadata.resourceVersion, r0b.metadata.resourceVersion);
      const del = await w.next();
      assert.equal(del?.type, 'DELETED');
      assert.equal(del.object.metadata.name, 'r0');
      assert.ok(rvOf(del.object) > rvOf(r0b), 'a DELETED event carries the revision of the deletion');
      assert.deepEqual(await w.drain(200), []);
      w.close();
    });

    test('a watch with resourceVersion unset or "0" starts with the current state as ADDED', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      await api.ok('POST', base, cm('s1', {}));
      await api.ok('POST', base, cm('s2', {}));
      for (const rv of ['', '&resourceVersion=0']) {
        const names = (await api.ok('GET', base)).items.map((i) => i.metadata?.name);
        const w = await api.watch(`${base}?watch=true${rv}`);
        const first = [];
        for (const _ of names) first.push(await w.next());
        assert.deepEqual(first.map((e) => [e?.type, e?.object.metadata.name]).sort(), names.map((n: string) => ['ADDED', n]));
        assert.deepEqual(await w.drain(100), []);
        const created = await api.ok('POST', base, cm(`s3${rv ? 'b' : 'a'}`, {}));
        const ev = await w.next();
        assert.equal(ev?.type, 'ADDED');
        assert.equal(ev.object.metadata.resourceVersion, created.metadata.resourceVersion);
        w.close();
      }
    });

    test('label and field selector watches report objects leaving as DELETED and entering as ADDED', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const start = await api.ok('GET', base);
      const byLabel = await api.watch(`${base}?watch=1&labelSelector=app%3Dweb&resourceVersion=${start.metadata.resourceVersion}`);
      const byField = await api.watch(`${base}?watch=1&fieldSelector=metadata.name%3Dsel&resourceVersion=${start.metadata.resourceVersion}`);
      const created = await api.ok('POST', base, cm('sel', { v: '1' }, { app: 'web' }));
      await api.ok('POST', base, cm('other', { v: '1' }, { app: 'web' }));
      const moved = await api.ok('PUT', `${base}/sel`, { ...created, metadata: { ...created.metadata, labels: { app: 'db' } } });
      const back = await api.ok('PUT', `${base}/sel`, { ...moved, metadata: { ...moved.metadata, labels: { app: 'web' } } });
      const changed = await api.ok('PUT', `${base}/sel`, { ...back, data: { v: '2' } });
      await api.ok('DELETE', `${base}/sel`);

      const labelEvents: [string, string, string][] = [];
      for (let i = 0; i < 6; i++) {
        const e = await byLabel.next();
        assert.ok(e);
        labelEvents.push([e.type, e.object.metadata.name, e.object.metadata.labels?.app ?? ""]);
        if (i === 2) {
          // Leaving the selection: the last state that matched, at the revision of the change.
          assert.equal(e.object.metadata.resourceVersion, moved.metadata.resourceVersion);
        }
      }
      assert.deepEqual(labelEvents, [
        ['ADDED', 'sel', 'web'],
        ['ADDED', 'other', 'web'],
        ['DELETED', 'sel', 'web'],
        ['ADDED', 'sel', 'web'],
        ['MODIFIED', 'sel', 'web'],
        ['DELETED', 'sel', 'web'],
      ]);
      const fieldEvents: [string, string][] = [];
      for (let i = 0; i < 5; i++) {
        const e = await byField.next();
        assert.ok(e);
        fieldEvents.push([e.type, e.object.metadata.resourceVersion]);
      }
      assert.deepEqual(fieldEvents.slice(0, 4), [
        ['ADDED', created.metadata.resourceVersion],
        ['MODIFIED', moved.metadata.resourceVersion],
        ['MODIFIED', back.metadata.resourceVersion],
        ['MODIFIED', changed.metadata.resourceVersion],
      ]);
      assert.equal(fieldEvents[4][0], 'DELETED');
      assert.deepEqual(await byLabel.drain(100), []);
      assert.deepEqual(await byField.drain(0), []);
      byLabel.close();
      byField.close();

      const unsupported = await api.request('GET', `${base}?watch=1&fieldSelector=data.v%3D1`);
      assert.equal(unsupported.status, 400);
      assert.match(unsupported.body.message, /field label not supported: data\.v/);
    });

    test('spec.nodeName watches (indexed by node) see only their node\'s pods, entering on binding', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/pods`;
      const start = await api.ok('GET', base);
      const from = `&resourceVersion=${start.metadata.resourceVersion}`;
      const onN1 = await api.watch(`${base}?watch=1&fieldSelector=spec.nodeName%3Dn1${from}`);
      const onN2 = await api.watch(`${base}?watch=1&fieldSelector=spec.nodeName%3Dn2${from}`);
      const unassigned = await api.watch(`${base}?watch=1&fieldSelector=spec.nodeName%3D${from}`);
      const pod = (name: string, nodeName?: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        // No scheduler serves this name, so nothing but the test writes the pods.
        spec: { ...(nodeName ? { nodeName } : {}), schedulerName: 'nobody', containers: [{ name: 'c', image: 'busybox' }] },
      });
      await api.ok('POST', base, pod('p1'));
      await api.ok('POST', base, pod('p2', 'n2'));
      await api.ok('POST', `${base}/p1/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } });
      await api.ok('DELETE', `${base}/p1?gracePeriodSeconds=0`);
      const events = async (w: Awaited<ReturnType<Client['watch']>>, n: number) => {
        const out: [string, string, string][] = [];
        for (let i = 0; i < n; i++) {
          const e = await w.next();
          assert.ok(e);
          out.push([e.type, e.object.metadata.name, (e.object as Doc & { spec?: { nodeName?: string } }).spec?.nodeName ?? '']);
        }
        return out;
      };
      assert.deepEqual(await events(unassigned, 2), [
        ['ADDED', 'p1', ''],
        ['DELETED', 'p1', ''],
      ]);
      assert.deepEqual(await events(onN1, 2), [
        ['ADDED', 'p1', 'n1'],
        ['DELETED', 'p1', 'n1'],
      ]);
      assert.deepEqual(await events(onN2, 1), [['ADDED', 'p2', 'n2']]);
      assert.deepEqual(await onN2.drain(100), []);
      assert.deepEqual(await onN1.drain(0), []);
      assert.deepEqual(await unassigned.drain(0), []);
      for (const w of [onN1, onN2, unassigned]) w.close();
    });

    test('allowWatchBookmarks brings BOOKMARK events that carry only a resourceVersion', async () => {
      const ns = await namespace();
      const other = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const start = await api.ok('GET', base);
      const withBookmarks = await api.watch(`${base}?watch=1&allowWatchBookmarks=true&resourceVersion=${start.metadata.resourceVersion}`);
      const without = await api.watch(`${base}?watch=1&resourceVersion=${start.metadata.resourceVersion}`);
      // A write elsewhere moves the store's revision on; the bookmark tells this watch it has seen everything up to it.
      const elsewhere = await api.ok('POST', `/api/v1/namespaces/${other}/configmaps`, cm('elsewhere', {}));
      let bookmark: WatchEventJson | undefined;
      for (;;) {
        bookmark = await withBookmarks.next(3000);
        assert.ok(bookmark);
        assert.equal(bookmark.type, 'BOOKMARK');
        if (rvOf(bookmark.object) >= rvOf(elsewhere)) break;
      }
      assert.equal(bookmark.object.kind, 'ConfigMap');
      assert.equal(bookmark.object.apiVersion, 'v1');
      assert.deepEqual(Object.keys(bookmark.object.metadata), ['resourceVersion']);
      assert.equal(bookmark.object.data, undefined);
      // A watch after the bookmark's revision sees later changes, and the bookmarked watch goes on delivering them.
      const after = await api.ok('POST', base, cm('after', {}));
      let ev;
      do ev = await withBookmarks.next(3000);
      while (ev?.type === 'BOOKMARK');
      assert.equal(ev?.type, 'ADDED');
      assert.equal(ev.object.metadata.resourceVersion, after.metadata.resourceVersion);
      const plain = await without.drain(700);
      assert.deepEqual(plain.map((e) => e.type), ['ADDED'], 'no bookmarks unless asked for');
      withBookmarks.close();
      without.close();
    });

    test('sendInitialEvents streams the state, then a BOOKMARK marking the end of initial events', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const x = await api.ok('POST', base, cm('x', {}));
      await api.ok('POST', base, cm('y', {}));
      for (const rv of ['', `&resourceVersion=${x.metadata.resourceVersion}`]) {
        const names = (await api.ok('GET', base)).items.map((i) => i.metadata?.name);
        const w = await api.watch(`${base}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true${rv}`);
        assert.equal(w.status, 200);
        const initial: WatchEventJson[] = [];
        for (const _ of names) initial.push((await w.next())!);
        assert.deepEqual(initial.map((e) => [e.type, e.object.metadata.name]).sort(), names.map((n: string) => ['ADDED', n]));
        const end = await w.next();
        assert.equal(end?.type, 'BOOKMARK');
        assert.deepEqual(end.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
        assert.ok(initial.every((e) => rvOf(end.object) >= rvOf(e.object)));
        const z = await api.ok('POST', base, cm(`z${rv ? 2 : 1}`, {}));
        let ev;
        do ev = await w.next(3000);
        while (ev?.type === 'BOOKMARK');
        assert.equal(ev?.type, 'ADDED');
        assert.equal(ev.object.metadata.resourceVersion, z.metadata.resourceVersion);
        w.close();
      }
      const noMatch = await api.request('GET', `${base}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true`);
      assert.equal(noMatch.status, 422);
      assert.match(noMatch.body.message, /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/);
      // Without bookmarks: the initial events alone, no end marker.
      const count = (await api.ok('GET', base)).items.length;
      const quiet = await api.watch(`${base}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
      const events = [];
      for (let i = 0; i < count; i++) events.push((await quiet.next())!.type);
      assert.deepEqual([...events, ...(await quiet.drain(200)).map((e) => e.type)], events.map(() => 'ADDED'));
      quiet.close();
      // sendInitialEvents=false: only changes from now on.
      const fromNow = await api.watch(`${base}?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan`);
      assert.deepEqual(await fromNow.drain(200), []);
      await api.ok('POST', base, cm('later', {}));
      assert.equal((await fromNow.next())?.object.metadata.name, 'later');
      fromNow.close();
      const matchOnly = await api.request('GET', `${base}?watch=1&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
      assert.equal(matchOnly.status, 422);
      assert.match(matchOnly.body.message, /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/);
    });

    test('timeoutSeconds ends a watch', async () => {
      const ns = await namespace();
      const t0 = Date.now();
      const w = await api.watch(`/api/v1/namespaces/${ns}/configmaps?watch=1&timeoutSeconds=1`);
      await w.ended;
      const took = Date.now() - t0;
      assert.ok(took >= 900 && took < 4000, `watch lasted ${took}ms`);
    });

    test('watch events as Tables: column definitions come with the first event only', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      await api.ok('POST', base, cm('t1', { a: '1', b: '2' }));
      const w = await api.watch(`${base}?watch=1`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      assert.match(String(w.headers['content-type']), /^application\/json;as=Table;v=v1;g=meta\.k8s\.io/);
      const first = await w.next();
      assert.equal(first?.type, 'ADDED');
      assert.equal(first.object.kind, 'Table');
      assert.equal(first.object.apiVersion, 'meta.k8s.io/v1');
      assert.deepEqual(first.object.columnDefinitions?.map((c: { name: string }) => c.name), ['Name', 'Data', 'Age']);
      assert.deepEqual(first.object.rows[0].cells.slice(0, 2), ['t1', 2]);
      assert.equal(first.object.rows[0].object.kind, 'PartialObjectMetadata');
      await api.ok('POST', base, cm('t2', {}));
      const second = await w.next();
      assert.equal(second?.type, 'ADDED');
      assert.equal(second.object.kind, 'Table');
      assert.ok(!second.object.columnDefinitions?.length, 'later events carry no column definitions');
      assert.equal(second.object.rows[0].cells[0], 't2');
      w.close();
    });

    // Last: on SQLite it restarts the server.
    test('compacted revisions: continue → 410 Expired, Exact list → 410, watch → ERROR 410', async () => {
      const ns = await namespace();
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      for (let i = 0; i < 3; i++) await api.ok('POST', base, cm(`k${i}`, {}));
      const page1 = await api.ok('GET', `${base}?limit=1`);
      const oldRv = rvOf(page1);
      await api.ok('POST', base, cm('k3', {}));
      const latest = await api.ok('POST', base, cm('k4', {}));
      await compact(rvOf(latest) - 1);

      const cont = await api.request('GET', `${base}?limit=1&continue=${encodeURIComponent(page1.metadata.continue)}`);
      assert.equal(cont.status, 410, JSON.stringify(cont.body));
      assert.equal(cont.body.reason, 'Expired');
      assert.match(cont.body.message, /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results\./);
      // The inconsistent continue token in the Status goes on from the same place at the newest revision.
      assert.ok(cont.body.metadata.continue, 'Status carries a continue token');
      const rest = await api.ok('GET', `${base}?limit=10&continue=${encodeURIComponent(cont.body.metadata.continue)}`);
      assert.deepEqual(rest.items.map((i) => i.metadata?.name), ['k1', 'k2', 'k3', 'k4']);

      const exact = await api.request('GET', `${base}?resourceVersion=${oldRv}&resourceVersionMatch=Exact`);
      assert.equal(exact.status, 410);
      assert.equal(exact.body.reason, 'Expired');
      assert.equal(exact.body.message, 'The resourceVersion for the provided list is too old.');

      const w = await api.watch(`${base}?watch=1&resourceVersion=${oldRv}`);
      assert.equal(w.status, 200);
      const err = await w.next();
      assert.equal(err?.type, 'ERROR');
      assert.equal(err.object.kind, 'Status');
      assert.equal(err.object.code, 410);
      assert.equal(err.object.reason, 'Expired');
      assert.match(err.object.message, new RegExp(`^too old resource version: ${oldRv} \\(\\d+\\)$`));
      const compactedAt = Number(/\((\d+)\)$/.exec(err.object.message)![1]);
      assert.ok(compactedAt >= oldRv && compactedAt < rvOf(latest), `compacted revision ${compactedAt}`);
      await w.ended;

      // A watch from the newest revision still works.
      const ok = await api.watch(`${base}?watch=1&resourceVersion=${latest.metadata.resourceVersion}`);
      const k5 = await api.ok('POST', base, cm('k5', {}));
      const ev = await ok.next();
      assert.equal(ev?.type, 'ADDED');
      assert.equal(ev.object.metadata.resourceVersion, k5.metadata.resourceVersion);
      ok.close();
    });
  });
}

describeBackend('sqlite');
describeBackend('etcd');
