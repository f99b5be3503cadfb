import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Duplex, PassThrough } from 'node:stream';
import {
  controlFrame,
  dataFrames,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderDecompressor,
  SPDY3_DICTIONARY,
  SpdyClient,
  type Frame,
} from './spdy.js';

test('the SPDY/3 header dictionary is the one of the draft (1423 bytes, known digest)', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\u0007options');
});

test('header blocks round-trip, names lower-cased', () => {
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ StreamType: 'stdin', port: '8080' })), { streamtype: 'stdin', port: '8080' });
});

test('the frame reader splits control and data frames across arbitrary chunk boundaries', () => {
  const bytes = Buffer.concat([controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 2])), ...dataFrames(5, Buffer.from('hello'), true)]);
  const r = new FrameReader();
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i += 3) frames.push(...r.push(bytes.subarray(i, i + 3)));
  assert.equal(frames.length, 2);
  assert.deepEqual(frames[0], { control: true, type: FrameType.PING, flags: 0, data: Buffer.from([0, 0, 0, 2]) });
  assert.equal(frames[1]!.control, false);
  assert.equal((frames[1] as { streamId: number }).streamId, 5);
  assert.equal(frames[1]!.flags, FLAG_FIN);
  assert.equal(frames[1]!.data.toString(), 'hello');
});

/** A SpdyClient over an in-memory pipe: what it writes is parsed as a server would. */
function pair() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const socket = Duplex.from({ writable: toServer, readable: toClient });
  const events: string[] = [];
  const client = new SpdyClient(socket, {
    data: (id, b) => events.push(`data ${id} ${b.toString()}`),
    end: (id) => events.push(`end ${id}`),
    close: () => events.push('close'),
  });
  const reader = new FrameReader();
  const inflate = new HeaderDecompressor();
  const seen: { frame: Frame; headers?: Record<string, string> }[] = [];
  let parsing = Promise.resolve();
  toServer.on('data', (b: Buffer) => {
    for (const frame of reader.push(b)) {
      // Header blocks share one zlib context: decompress them in order.
      parsing = parsing.then(async () => {
        const headers = frame.control && frame.type === FrameType.SYN_STREAM ? await inflate.decompress(frame.data.subarray(10)) : undefined;
        seen.push(headers ? { frame, headers } : { frame });
      });
    }
  });
  const settled = async (count: number) => {
    for (let i = 0; i < 200 && seen.length < count; i++) await new Promise((r) => setTimeout(r, 5));
    await parsing;
    return seen;
  };
  return { client, toClient, events, settled };
}

test('the client opens streams with compressed headers (odd IDs, in order), writes data and half-closes', async () => {
  const { client, settled } = pair();
  const err = client.openStream({ streamtype: 'error' });
  const stdin = client.openStream({ streamtype: 'stdin' });
  client.write(stdin, Buffer.from('abc'));
  client.end(stdin);
  assert.deepEqual([err, stdin], [1, 3]);
  const seen = await settled(4);
  assert.deepEqual(
    seen.map((s) => (s.frame.control ? `syn ${s.frame.data.readUInt32BE(0)} ${JSON.stringify(s.headers)}` : `data ${s.frame.streamId} ${s.frame.flags} ${s.frame.data.toString()}`)),
    ['syn 1 {"streamtype":"error"}', 'syn 3 {"streamtype":"stdin"}', 'data 3 0 abc', `data 3 ${FLAG_FIN} `],
  );
});

test('the client delivers data and FIN, answers PING, refuses streams the peer opens, and reports the close', async () => {
  const { client, toClient, events, settled } = pair();
  client.openStream({ streamtype: 'stdout' });
  await settled(1);
  toClient.write(Buffer.concat([...dataFrames(1, Buffer.from('out'), false), ...dataFrames(1, Buffer.alloc(0), true)]));
  toClient.write(controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 2])));
  const syn = Buffer.alloc(10);
  syn.writeUInt32BE(2, 0);
  toClient.write(controlFrame(FrameType.SYN_STREAM, 0, syn));
  const seen = await settled(3);
  assert.deepEqual(events, ['data 1 out', 'end 1']);
  const ping = seen[1]!.frame;
  assert.ok(ping.control && ping.type === FrameType.PING && ping.data.readUInt32BE(0) === 2);
  const rst = seen[2]!.frame;
  assert.ok(rst.control && rst.type === FrameType.RST_STREAM && rst.data.readUInt32BE(0) === 2);
  toClient.end();
  for (let i = 0; i < 100 && !events.includes('close'); i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(events, ['data 1 out', 'end 1', 'close']);
});
