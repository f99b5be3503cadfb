// writeJsonItems: how JSON list responses are written (one piece, or pieces that yield to the event loop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIST_CHUNK_ITEMS, writeJsonItems } from './negotiation.js';

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
