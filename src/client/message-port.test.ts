// The MessagePort transport: against the real API handler (memory storage) through serveTransport + the in-process
// transport, and against a scripted transport for errors, aborts, coalesced chunks and close.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startInProcessApi, type InProcessApi } from '../controllers/testing/in-process-api.js';
import { ApiError } from '../machinery/errors.js';
import { eventually } from '../../test/e2e/harness.js';
import { ChunkSink, InProcessTransport } from './in-process.js';
import { MessagePortTransport, serveTransport, type ServedPort, type TransportPort } from './message-port.js';
import { RestClient } from './rest.js';
import { SharedInformerFactory } from './informer.js';
import type { Transport, TransportRequest, TransportResponse, TransportStream } from './transport.js';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

function cm(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

/** Both ends of one channel: the client's transport and the served end. */
function connect(server: Transport): { client: MessagePortTransport; served: ServedPort; close(): void; posted: () => number } {
  const { port1, port2 } = new MessageChannel();
  let posted = 0;
  const counting: TransportPort = {
    postMessage: (msg: unknown) => {
      posted++;
      port2.postMessage(msg);
    },
    on: port2.on.bind(port2),
    off: port2.off.bind(port2),
    close: port2.close.bind(port2),
  };
  const served = serveTransport(counting, server);
  const client = new MessagePortTransport(port1);
  return {
    client,
    served,
    posted: () => posted,
    close: () => {
      client.close();
      served.close();
      port1.close();
      port2.close();
    },
  };
}

describe('MessagePortTransport over the real API handler', () => {
  let api: InProcessApi;
  let link: ReturnType<typeof connect>;
  let client: RestClient;
  before(async () => {
    api = await startInProcessApi();
    link = connect(new InProcessTransport((req, res) => api.api.handler(req, res, { name: 'admin', groups: ['system:masters', 'system:authenticated'] })));
    client = new RestClient(link.client);
  });
  after(async () => {
    link.close();
    await api.close();
  });

  test('create, get, patch, list and delete; errors arrive as ApiErrors with their status', async () => {
    const cms = client.resource<ConfigMap>(CONFIGMAPS);
    const created = await cms.create(cm('one', { a: '1' }));
    assert.ok(created.metadata?.uid);
    const patched = await cms.patch('one', { data: { b: '2' } }, { namespace: 'default', type: 'merge' });
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    assert.deepEqual((await cms.list({ namespace: 'default' })).items.map((c) => c.metadata?.name), ['one']);
    await assert.rejects(cms.create(cm('one')), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists');
    await cms.delete('one', { namespace: 'default' });
    await assert.rejects(cms.get('one', { namespace: 'default' }), (e: unknown) => e instanceof ApiError && e.code === 404);
  });

  test("an informer lists and watches through the port: its cache follows creates, updates and deletes", async () => {
    const informers = new SharedInformerFactory(client);
    const cmInformer = informers.informerFor<ConfigMap>(CONFIGMAPS);
    informers.start();
    try {
      assert.equal(await informers.waitForCacheSync(20_000), true);
      const lister = cmInformer.lister();
      const cms = client.resource<ConfigMap>(CONFIGMAPS);
      await cms.create(cm('w1', { v: '1' }));
      await eventually('w1 in the cache', () => lister.namespace('default').get('w1')?.data?.v === '1');
      await cms.patch('w1', { data: { v: '2' } }, { namespace: 'default', type: 'merge' });
      await eventually('the update in the cache', () => lister.namespace('default').get('w1')?.data?.v === '2');
      await cms.delete('w1', { namespace: 'default' });
      await eventually('w1 gone from the cache', () => lister.namespace('default').get('w1') === undefined);
    } finally {
      await informers.shutdown();
    }
  });
});

/** A transport whose answers the test scripts; it records what it was asked and which exchanges ended. */
class ScriptedTransport implements Transport {
  readonly requests: TransportRequest[] = [];
  readonly streams: { req: TransportRequest; sink: ChunkSink; closed: boolean }[] = [];
  answer: (req: TransportRequest) => Promise<TransportResponse> = async () => ({ status: 200, headers: {}, body: '{}' });
  streamFails: Error | undefined;

  request(req: TransportRequest): Promise<TransportResponse> {
    this.requests.push(req);
    return this.answer(req);
  }
  async stream(req: TransportRequest): Promise<TransportStream> {
    if (this.streamFails) throw this.streamFails;
    const entry = { req, sink: new ChunkSink(), closed: false };
    this.streams.push(entry);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      chunks: entry.sink.iterate(),
      close: () => {
        entry.closed = true;
        entry.sink.end();
      },
    };
  }
  close(): void {}
}

/** Runs `body` over a fresh link to `server`, closing both ends after. */
async function withLink(server: Transport, body: (link: ReturnType<typeof connect>) => Promise<void>): Promise<void> {
  const link = connect(server);
  try {
    await body(link);
  } finally {
    link.close();
  }
}

/** A scripted server whose requests never answer; `signal()` is the last request's abort signal on the server. */
function hangingServer(): { server: ScriptedTransport; signal: () => AbortSignal | undefined } {
  const server = new ScriptedTransport();
  let last: AbortSignal | undefined;
  server.answer = (req) => {
    last = req.signal;
    return new Promise(() => undefined);
  };
  return { server, signal: () => last };
}

describe('MessagePortTransport protocol', () => {
  test('method, path, headers and body reach the server; status, headers and body come back', async () => {
    const server = new ScriptedTransport();
    server.answer = async (req) => ({ status: 201, headers: { 'content-type': 'application/json', 'x-echo': req.headers?.['x-one'] ?? '' }, body: `${req.method} ${req.path} ${req.body}` });
    await withLink(server, async (link) => {
      const res = await link.client.request({ method: 'POST', path: '/api/v1/namespaces?x=1', headers: { 'x-one': 'yes' }, body: '{"a":1}' });
      assert.equal(res.status, 201);
      assert.equal(res.headers['x-echo'], 'yes');
      assert.equal(res.body, 'POST /api/v1/namespaces?x=1 {"a":1}');
    });
  });

  test("a server transport's failure rejects the request with its name and message", async () => {
    const server = new ScriptedTransport();
    server.answer = async () => {
      throw Object.assign(new Error('socket hang up'), { name: 'ECONNRESET' });
    };
    await withLink(server, async (link) => {
      await assert.rejects(link.client.request({ method: 'GET', path: '/x' }), (e: unknown) => (e as Error).message === 'socket hang up' && (e as Error).name === 'ECONNRESET');
      server.streamFails = new Error('no watch for you');
      await assert.rejects(link.client.stream({ method: 'GET', path: '/w' }), /no watch for you/);
    });
  });

  test("chunks written in one turn cross as one message; a stream's failure mid-body fails its iterator", async () => {
    const server = new ScriptedTransport();
    await withLink(server, async (link) => {
      const stream = await link.client.stream({ method: 'GET', path: '/w?watch=1' });
      assert.equal(stream.headers['content-type'], 'application/json');
      const before = link.posted();
      const served = server.streams[0]!;
      served.sink.push('a');
      served.sink.push('b');
      served.sink.push('c');
      const it = stream.chunks[Symbol.asyncIterator]();
      assert.deepEqual(await it.next(), { value: 'abc', done: false });
      assert.equal(link.posted() - before, 1);
      served.sink.push('d');
      assert.deepEqual(await it.next(), { value: 'd', done: false });
      served.sink.end(new Error('watch broke'));
      await assert.rejects(it.next(), /watch broke/);
    });
  });

  test('a stream ends when the server ends it, and closing a stream closes it on the server', async () => {
    const server = new ScriptedTransport();
    await withLink(server, async (link) => {
      const first = await link.client.stream({ method: 'GET', path: '/one' });
      server.streams[0]!.sink.push('x');
      server.streams[0]!.sink.end();
      const got: string[] = [];
      for await (const c of first.chunks) got.push(c);
      assert.deepEqual(got, ['x']);

      const second = await link.client.stream({ method: 'GET', path: '/two' });
      second.close();
      const rest: string[] = [];
      for await (const c of second.chunks) rest.push(c);
      assert.deepEqual(rest, []);
      await eventually('the stream closed on the server', () => server.streams[1]!.closed);
    });
  });

  test("an aborted request rejects with AbortError and aborts the server's request", async () => {
    const { server, signal: serverSignal } = hangingServer();
    await withLink(server, async (link) => {
      const controller = new AbortController();
      const pending = link.client.request({ method: 'GET', path: '/slow', signal: controller.signal });
      await eventually('the request reached the server', () => serverSignal());
      controller.abort();
      await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
      await eventually('the server request aborted', () => serverSignal()?.aborted);
    });
  });

  test('close() fails pending requests, ends open streams (closing them on the server) and refuses new ones', async () => {
    const { server, signal: serverSignal } = hangingServer();
    await withLink(server, async (link) => {
      const stream = await link.client.stream({ method: 'GET', path: '/w' });
      const pending = link.client.request({ method: 'GET', path: '/slow' });
      await eventually('the request reached the server', () => serverSignal());
      link.client.close();
      await assert.rejects(pending, /closed before the response/);
      const rest: string[] = [];
      for await (const c of stream.chunks) rest.push(c);
      assert.deepEqual(rest, []);
      await eventually('the stream closed and the request aborted on the server', () => server.streams[0]!.closed && serverSignal()?.aborted);
      await assert.rejects(link.client.request({ method: 'GET', path: '/' }), /closed/);
    });
  });

  test("the served end's close() ends what it still serves", async () => {
    const server = new ScriptedTransport();
    await withLink(server, async (link) => {
      await link.client.stream({ method: 'GET', path: '/w' });
      link.served.close();
      assert.equal(server.streams[0]!.closed, true);
    });
  });
});
