// writeJsonItems: how JSON list responses are written (one piece, or pieces that yield to the event loop); readBody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ApiError } from '../../machinery/errors.js';
import type { AddressInfo } from 'node:net';
import { LIST_CHUNK_ITEMS, readBody, writeJsonItems } from './negotiation.js';

/** Serves one writeJsonItems response and returns what a client received, and the pieces written. */
async function served(items: string[]): Promise<{ body: string; headers: IncomingHttpHeaders; writes: number; turnsBetween: number }> {
  let writes = 0;
  let turns = 0;
  let turnsBetween = 0;
  const server = createServer((_req, res) => {
    const write = res.write.bind(res) as (chunk: string) => boolean;
    res.write = ((chunk: string) => {
      writes++;
      turnsBetween = turns;
      return write(chunk);
    }) as typeof res.write;
    // Counts event-loop turns while the response is being written.
    const tick = (): void => {
      turns++;
      if (!res.writableEnded) setImmediate(tick);
    };
    setImmediate(tick);
    void writeJsonItems(res, '{"items":[', items, ']}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ body, headers: res.headers, writes, turnsBetween }));
      }).on('error', reject);
    });
  } finally {
    server.close();
  }
}

test('writeJsonItems: a short list is one piece with a Content-Length', async () => {
  const items = ['{"a":1}', '{"b":2}'];
  const r = await served(items);
  assert.deepEqual(JSON.parse(r.body), { items: [{ a: 1 }, { b: 2 }] });
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
  assert.equal(r.writes, 0);
});

test('writeJsonItems: a long list goes out in pieces of LIST_CHUNK_ITEMS, with event-loop turns in between', async () => {
  const items = Array.from({ length: LIST_CHUNK_ITEMS * 2 + 7 }, (_, i) => JSON.stringify({ i, s: 'ü"' }));
  const r = await served(items);
  assert.deepEqual(JSON.parse(r.body), { items: items.map((t) => JSON.parse(t) as unknown) });
  assert.equal(r.headers['content-length'], undefined);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  // head + 3 pieces
  assert.equal(r.writes, 4);
  // The last piece was written at least two event-loop turns after the first.
  assert.ok(r.turnsBetween >= 2, `turns between pieces: ${r.turnsBetween}`);
});

test('writeJsonItems: empty list', async () => {
  const r = await served([]);
  assert.deepEqual(JSON.parse(r.body), { items: [] });
});

/** A request-like stream: chunks pushed on later turns, with headers. */
function bodyStream(chunks: (string | Buffer)[], headers: Record<string, string> = {}, end = true): IncomingMessage {
  const r = new Readable({ read() {} });
  let i = 0;
  const next = (): void => {
    if (i < chunks.length) {
      r.push(chunks[i++]);
      setImmediate(next);
    } else if (end) r.push(null);
  };
  setImmediate(next);
  return Object.assign(r, { headers }) as unknown as IncomingMessage;
}

test('readBody: the chunks in order, as one Buffer', async () => {
  const body = await readBody(bodyStream(['{"a":', Buffer.from('1,"b":"é"'), '}']));
  assert.ok(Buffer.isBuffer(body));
  assert.equal(body.toString('utf8'), '{"a":1,"b":"é"}');
  assert.equal((await readBody(bodyStream([]))).length, 0);
});

test('readBody: over the limit is 413, declared or as it arrives; the rest is drained', async () => {
  await assert.rejects(readBody(bodyStream(['x'], { 'content-length': '11' }), 10), (e: ApiError) => e.code === 413 && e.status.message === 'Request entity too large: limit is 10');
  const streamed = bodyStream(['12345', '67890', 'x', 'more', 'and more']);
  await assert.rejects(readBody(streamed, 10), (e: ApiError) => e.code === 413 && e.status.reason === 'RequestEntityTooLarge');
  // Drained to its end (flowing), not left paused holding the connection.
  await new Promise<void>((resolve) => (streamed.readableEnded ? resolve() : streamed.once('end', resolve)));
  assert.equal(streamed.listenerCount('data'), 0);
  // Exactly the limit is accepted.
  assert.equal((await readBody(bodyStream(['12345', '67890']), 10)).toString(), '1234567890');
});

test('readBody: a stream error or a close before the end rejects; an ended stream is empty', async () => {
  const failing = bodyStream(['part'], {}, false);
  setTimeout(() => failing.destroy(new Error('aborted')), 5);
  await assert.rejects(readBody(failing), /aborted/);
  const closed = bodyStream(['part'], {}, false);
  setTimeout(() => closed.destroy(), 5);
  await assert.rejects(readBody(closed), (e: NodeJS.ErrnoException) => e.code === 'ERR_STREAM_PREMATURE_CLOSE');
  const ended = bodyStream(['abc']);
  assert.equal((await readBody(ended)).toString(), 'abc');
  assert.equal((await readBody(ended)).length, 0);
  assert.equal(ended.listenerCount('end'), 0);
});
