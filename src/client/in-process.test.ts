// The in-process transport against a real API handler (memory storage), client-side retries on 429 + Retry-After with
// a FakeClock, and the reflector's watch-list mode (with its fallback to list and watch).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startInProcessApi, type InProcessApi } from '../controllers/testing/in-process-api.js';
import { ApiError } from '../machinery/errors.js';
import { FakeClock } from './clock.js';
import { FakeListerWatcher, listOf } from './fake-lister-watcher.js';
import { Reflector, listWatcherFor, INITIAL_EVENTS_END_ANNOTATION, type ReflectorStore } from './reflector.js';
import { RestClient, retryAfterSeconds } from './rest.js';
import type { Transport, TransportRequest, TransportResponse, TransportStream } from './transport.js';
import { eventually } from '../../test/e2e/harness.js';
import { InProcessTransport } from './in-process.js';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

function cm(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}


function mapStore(): ReflectorStore<ConfigMap> & { objects: Map<string, ConfigMap>; replaces: string[] } {
  const objects = new Map<string, ConfigMap>();
  const replaces: string[] = [];
  return {
    objects,
    replaces,
    replace(items, rv) {
      objects.clear();
      for (const i of items) objects.set(i.metadata!.name!, i);
      replaces.push(rv);
    },
    add: (o) => void objects.set(o.metadata!.name!, o),
    update: (o) => void objects.set(o.metadata!.name!, o),
    delete: (o) => void objects.delete(o.metadata!.name!),
  };
}

describe('InProcessTransport', () => {
  let api: InProcessApi;
  before(async () => {
    api = await startInProcessApi();
  });
  after(async () => {
    await api.close();
  });

  test('create, get, patch, list and delete go through the real handlers; errors are ApiErrors', async () => {
    const cms = api.client.resource<ConfigMap>(CONFIGMAPS);
    const created = await cms.create(cm('one', { a: '1' }));
    assert.ok(created.metadata?.uid);
    const patched = await cms.patch('one', { data: { b: '2' } }, { namespace: 'default', type: 'merge' });
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    assert.equal((await cms.list({ namespace: 'default' })).items.length, 1);
    await assert.rejects(cms.create(cm('one')), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists');
    await cms.delete('one', { namespace: 'default' });
    await assert.rejects(cms.get('one', { namespace: 'default' }), (e: unknown) => e instanceof ApiError && e.code === 404);
  });

  test('a watch streams events and stops when the client stops it', async () => {
    const cms = api.client.resource<ConfigMap>(CONFIGMAPS);
    const rv = (await cms.list({ namespace: 'default' })).metadata.resourceVersion;
    const watcher = await cms.watch({ namespace: 'default', resourceVersion: rv });
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of watcher) {
        seen.push(`${ev.type} ${ev.type === 'ERROR' ? '' : ev.object.metadata?.name}`);
        if (seen.length === 2) watcher.stop();
      }
    })();
    await cms.create(cm('w1'));
    await cms.patch('w1', { data: { x: 'y' } }, { namespace: 'default', type: 'merge' });
    await done;
    assert.deepEqual(seen, ['ADDED w1', 'MODIFIED w1']);
  });

  test('each request is handed to the handler in a later turn of the event loop, not in a chain of microtasks', async () => {
    // A component awaiting request after request must let the event loop turn (timers, the watch hub's flushes) in
    // between: an immediate queued before the first request runs before that request's handler.
    const order: string[] = [];
    const transport = new InProcessTransport((req, res) => {
      order.push(`handler ${req.url}`);
      res.end('{}');
    });
    setImmediate(() => order.push('immediate'));
    for (const path of ['/a', '/b']) await transport.request({ method: 'GET', path });
    assert.deepEqual(order, ['immediate', 'handler /a', 'handler /b']);
  });

  test('arrivesAsTask: a request that came in as its own task (a port message) is handed over at once', async () => {
    const order: string[] = [];
    const transport = new InProcessTransport(
      (req, res) => {
        order.push(`handler ${req.url}`);
        res.end('{}');
      },
      { arrivesAsTask: true },
    );
    setImmediate(() => order.push('immediate'));
    await transport.request({ method: 'GET', path: '/a' });
    assert.deepEqual(order, ['handler /a']);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(transport.request({ method: 'GET', path: '/gone', signal: aborted.signal }), { name: 'AbortError' });
    assert.deepEqual(order, ['handler /a'], 'a request given up before the hand-over still never reaches the handler');
  });

  test('a request given up before it is handed over never reaches the handler', async () => {
    let handled = 0;
    const transport = new InProcessTransport((_req, res) => {
      handled++;
      res.end('{}');
    });
    const abort = new AbortController();
    const watching = transport.stream({ method: 'GET', path: '/w?watch=true', signal: abort.signal });
    abort.abort();
    await assert.rejects(watching, { name: 'AbortError' });
    await transport.request({ method: 'GET', path: '/after' });
    assert.equal(handled, 1);
  });

  test('the reflector fills its store from a watch-list stream ending with the initial-events-end bookmark', async () => {
    const cms = api.client.resource<ConfigMap>(CONFIGMAPS);
    await cms.create(cm('wl-a'));
    await cms.create(cm('wl-b'));
    const store = mapStore();
    const reflector = new Reflector(listWatcherFor(cms, { namespace: 'default' }), store, { useWatchList: true, watchTimeoutSeconds: 60 });
    reflector.run();
    try {
      await eventually('initial state', () => store.replaces.length === 1);
      assert.ok(store.objects.has('wl-a') && store.objects.has('wl-b'));
      assert.equal(reflector.stats.lists, 0, 'no LIST call');
      assert.equal(reflector.stats.watchLists, 1);
      await cms.create(cm('wl-c'));
      await eventually('event after the bookmark', () => store.objects.has('wl-c'));
      assert.equal(reflector.stats.watches, 1, 'the watch-list stream keeps serving events');
    } finally {
      await reflector.stop();
    }
  });
});

describe('watch-list against a server that refuses it', () => {
  test('the reflector falls back to list and watch', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cm('x')], '10'));
    lw.watchErrors.push(new ApiError({ message: 'sendInitialEvents is forbidden', reason: 'Invalid', code: 422 }));
    const store = mapStore();
    const errors: unknown[] = [];
    const reflector = new Reflector(lw, store, { useWatchList: true, onError: (e) => errors.push(e), watchTimeoutSeconds: 60 });
    reflector.run();
    try {
      await lw.waitForWatches(1);
      assert.deepEqual(lw.watchCalls[0], {
        resourceVersion: '',
        resourceVersionMatch: 'NotOlderThan',
        sendInitialEvents: true,
        allowWatchBookmarks: true,
        timeoutSeconds: 60,
      });
      assert.equal(lw.listCalls.length, 1);
      assert.deepEqual([...store.objects.keys()], ['x']);
      assert.equal(lw.watchCalls[1]?.resourceVersion, '10');
      assert.equal(lw.watchCalls[1]?.sendInitialEvents, undefined);
      assert.equal(reflector.stats.watchListFallbacks, 1);
      assert.equal(errors.length, 1);
    } finally {
      await reflector.stop();
    }
  });

  test('a stream that ends before the bookmark falls back too; the bookmark annotation is what ends the initial state', async () => {
    const lw = new FakeListerWatcher<ConfigMap>(listOf([cm('listed')], '20'));
    const store = mapStore();
    const reflector = new Reflector(lw, store, { useWatchList: true, onError: () => undefined, watchTimeoutSeconds: 60 });
    reflector.run();
    try {
      const first = await lw.waitForWatches(1);
      first.push({ type: 'ADDED', object: cm('streamed') });
      // A bookmark without the annotation does not end the initial state.
      first.push({ type: 'BOOKMARK', object: { ...cm('ignored'), metadata: { resourceVersion: '15' } } });
      first.stop();
      await lw.waitForWatches(2);
      assert.equal(store.replaces.length, 1);
      assert.deepEqual([...store.objects.keys()], ['listed']);
    } finally {
      await reflector.stop();
    }
    assert.equal(INITIAL_EVENTS_END_ANNOTATION, 'k8s.io/initial-events-end');
  });
});

/** A transport answering from a script: each reply is used once, in order. */
class ScriptedTransport implements Transport {
  readonly requests: TransportRequest[] = [];
  constructor(private readonly replies: TransportResponse[]) {}
  async request(req: TransportRequest): Promise<TransportResponse> {
    this.requests.push(req);
    const r = this.replies.shift();
    if (!r) throw new Error('no scripted reply left');
    return r;
  }
  stream(): Promise<TransportStream> {
    throw new Error('not scripted');
  }
  close(): void {}
}

const tooMany = (retryAfter?: string): TransportResponse => ({
  status: 429,
  headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'slow down' }),
});
const ok: TransportResponse = { status: 200, headers: {}, body: JSON.stringify(cm('fine')) };

describe('client-side retry on 429 with Retry-After', () => {
  test('retryAfterSeconds: only 429/5xx replies with whole seconds', () => {
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': '3' } }), 3);
    assert.equal(retryAfterSeconds({ status: 503, headers: { 'retry-after': '1' } }), 1);
    assert.equal(retryAfterSeconds({ status: 429, headers: {} }), undefined);
    assert.equal(retryAfterSeconds({ status: 409, headers: { 'retry-after': '1' } }), undefined);
    assert.equal(retryAfterSeconds({ status: 429, headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } }), undefined);
  });

  test('waits Retry-After seconds on the clock, then succeeds', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport([tooMany('2'), tooMany('1'), ok]);
    const client = new RestClient(transport, { clock });
    const got = client.resource<ConfigMap>(CONFIGMAPS).get('fine', { namespace: 'default' });
    await eventually('first attempt', () => transport.requests.length === 1 && clock.pendingTimers() === 1);
    clock.step(1999);
    assert.equal(transport.requests.length, 1, 'not before Retry-After');
    clock.step(1);
    await eventually('second attempt', () => transport.requests.length === 2 && clock.pendingTimers() === 1);
    clock.step(1000);
    assert.equal((await got).metadata?.name, 'fine');
    assert.equal(transport.requests.length, 3);
  });

  test('bounded: after maxRetries the 429 is the caller’s; no Retry-After means no retry', async () => {
    const clock = new FakeClock();
    const transport = new ScriptedTransport([tooMany('1'), tooMany('1'), tooMany('1')]);
    const client = new RestClient(transport, { clock, maxRetries: 2 });
    const got = client.resource<ConfigMap>(CONFIGMAPS).get('x', { namespace: 'default' });
    const stepper = setInterval(() => clock.step(1000), 1);
    try {
      await assert.rejects(got, (e: unknown) => e instanceof ApiError && e.code === 429);
    } finally {
      clearInterval(stepper);
    }
    assert.equal(transport.requests.length, 3);
    const once = new ScriptedTransport([tooMany()]);
    await assert.rejects(new RestClient(once, { clock }).resource<ConfigMap>(CONFIGMAPS).get('x', { namespace: 'default' }), (e: unknown) => e instanceof ApiError && e.code === 429);
    assert.equal(once.requests.length, 1);
  });
});
