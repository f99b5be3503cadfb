// A small SPDY/3.1 client: enough of the protocol to speak the kubelet streaming protocols (remotecommand and
// portforward) as the client side, the way kubectl's SPDY transport does. Frames as the SPDY/3 draft defines them:
// control frames (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) and data frames;
// header blocks are zlib streams that share one compression context per direction, primed with the SPDY/3 header
// dictionary. Flow-control windows are neither enforced nor announced, as the Go implementation the kubelet and
// containerd use ignores them.
import { createDeflate, createInflate, constants as zc, type Deflate, type Inflate } from 'node:zlib';
import type { Duplex } from 'node:stream';

export const SPDY_VERSION = 3;
export const FrameType = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;

/** The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1): length-prefixed words, then one string. */
const DICT_WORDS = (
  'options,head,post,put,delete,trace,accept,accept-charset,accept-encoding,accept-language,' +
  'accept-ranges,age,allow,authorization,cache-control,connection,content-base,content-encoding,' +
  'content-language,content-length,content-location,content-md5,content-range,content-type,date,etag,' +
  'expect,expires,from,host,if-match,if-modified-since,if-none-match,if-range,if-unmodified-since,' +
  'last-modified,location,max-forwards,pragma,proxy-authenticate,proxy-authorization,range,referer,' +
  'retry-after,server,te,trailer,transfer-encoding,upgrade,user-agent,vary,via,warning,' +
  'www-authenticate,method,get,status,200 OK,version,HTTP/1.1,url,public,set-cookie,keep-alive,origin'
).split(',');
const DICT_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...DICT_WORDS.map((w) => {
    const b = Buffer.alloc(4 + w.length);
    b.writeUInt32BE(w.length, 0);
    b.write(w, 4, 'latin1');
    return b;
  }),
  Buffer.from(DICT_TAIL, 'latin1'),
]);

export type SpdyHeaders = Record<string, string>;

/** An uncompressed SPDY/3 name/value header block (names lower-case, as the protocol requires). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(Object.keys(headers).length, 0);
  parts.push(n);
  for (const [k, v] of Object.entries(headers)) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length, 0);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const read = (): string => {
    const len = block.readUInt32BE(off);
    const s = block.subarray(off + 4, off + 4 + len).toString('utf8');
    off += 4 + len;
    return s;
  };
  const count = block.readUInt32BE(0);
  off = 4;
  for (let i = 0; i < count; i++) {
    const k = read();
    out[k] = read();
  }
  return out;
}

/** One compression context (a direction of a connection): each block is flushed with Z_SYNC_FLUSH. */
class HeaderCompressor {
  private readonly z: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  private chunks: Buffer[] = [];
  constructor() {
    this.z.on('data', (b: Buffer) => this.chunks.push(b));
  }
  compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.z.write(block);
      this.z.flush(zc.Z_SYNC_FLUSH, () => {
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        if (out.length === 0) reject(new Error('spdy: header compression produced nothing'));
        else resolve(out);
      });
    });
  }
  close(): void {
    this.z.close();
  }
}

export class HeaderDecompressor {
  private readonly z: Inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  private chunks: Buffer[] = [];
  constructor() {
    this.z.on('data', (b: Buffer) => this.chunks.push(b));
  }
  decompress(block: Buffer): Promise<SpdyHeaders> {
    return new Promise((resolve, reject) => {
      this.z.once('error', reject);
      this.z.write(block);
      this.z.flush(zc.Z_SYNC_FLUSH, () => {
        this.z.off('error', reject);
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        try {
          resolve(decodeHeaderBlock(out));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  }
  close(): void {
    this.z.close();
  }
}

export interface ControlFrame {
  control: true;
  type: number;
  flags: number;
  data: Buffer;
}
export interface DataFrame {
  control: false;
  streamId: number;
  flags: number;
  data: Buffer;
}
export type Frame = ControlFrame | DataFrame;

/** Splits a byte stream into SPDY frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) break;
      const flags = this.buf[4]!;
      const data = this.buf.subarray(8, 8 + len);
      if (this.buf[0]! & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`spdy: unsupported version ${version}`);
        frames.push({ control: true, type: this.buf.readUInt16BE(2), flags, data });
      } else {
        frames.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(payload.length, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

/** DATA frames of at most 16 MiB - 1 (the 24-bit length); larger writes are split. */
export function dataFrames(streamId: number, data: Buffer, fin: boolean): Buffer[] {
  const max = 0xffffff;
  const out: Buffer[] = [];
  let off = 0;
  do {
    const part = data.subarray(off, off + max);
    off += part.length;
    const h = Buffer.alloc(8);
    h.writeUInt32BE(streamId & 0x7fffffff, 0);
    h.writeUInt32BE(part.length, 4);
    h[4] = fin && off >= data.length ? FLAG_FIN : 0;
    out.push(h, part);
  } while (off < data.length);
  return out;
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

export interface SpdyClientEvents {
  /** Bytes the peer sent on a stream this side opened. */
  data(streamId: number, data: Buffer): void;
  /** The peer half-closed (FIN) or reset a stream. */
  end(streamId: number): void;
  /** The connection is gone. */
  close(): void;
}

/**
 * The client side of a SPDY/3.1 connection over an already upgraded socket: opens streams (odd IDs), sends data and
 * half-closes, answers PINGs, refuses streams the peer opens.
 */
export class SpdyClient {
  private nextId = 1;
  private readonly compressor = new HeaderCompressor();
  private readonly reader = new FrameReader();
  /** Frames are written in order through this chain (header compression is asynchronous). */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly events: SpdyClientEvents,
    initial?: Buffer,
  ) {
    socket.on('data', (b: Buffer) => this.receive(b));
    socket.on('close', () => this.shutdown());
    socket.on('end', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    if (initial?.length) this.receive(initial);
    socket.resume();
  }

  /** Opens a stream with these headers (SYN_STREAM); returns its ID at once. */
  openStream(headers: SpdyHeaders, fin = false): number {
    const id = this.nextId;
    this.nextId += 2;
    this.enqueue(async () => {
      const block = await this.compressor.compress(encodeHeaderBlock(headers));
      // stream ID, associated-to stream ID 0, priority 0, slot 0.
      const payload = Buffer.concat([u32(id, 0), Buffer.from([0, 0]), block]);
      return [controlFrame(FrameType.SYN_STREAM, fin ? FLAG_FIN : 0, payload)];
    });
    return id;
  }

  write(streamId: number, data: Buffer): void {
    if (data.length) this.enqueue(() => Promise.resolve(dataFrames(streamId, data, false)));
  }

  /** Half-closes this side of a stream: an empty DATA frame with FIN. */
  end(streamId: number): void {
    this.enqueue(() => Promise.resolve(dataFrames(streamId, Buffer.alloc(0), true)));
  }

  reset(streamId: number, status = RST_CANCEL): void {
    this.enqueue(() => Promise.resolve([controlFrame(FrameType.RST_STREAM, 0, u32(streamId, status))]));
  }

  /** Ends the connection once everything queued is written. */
  close(): void {
    void this.chain.then(() => this.socket.end());
  }

  private enqueue(make: () => Promise<Buffer[]>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const frames = await make();
      if (!this.closed) for (const f of frames) this.socket.write(f);
    });
    this.chain = this.chain.catch(() => {
      this.socket.destroy();
    });
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const f of frames) {
      if (!f.control) {
        if (f.data.length) this.events.data(f.streamId, f.data);
        if (f.flags & FLAG_FIN) this.events.end(f.streamId);
        continue;
      }
      switch (f.type) {
        case FrameType.SYN_STREAM: {
          // This side serves no streams: refuse what the peer opens (its header block is not needed).
          const id = f.data.readUInt32BE(0) & 0x7fffffff;
          this.enqueue(() => Promise.resolve([controlFrame(FrameType.RST_STREAM, 0, u32(id, RST_REFUSED_STREAM))]));
          break;
        }
        case FrameType.SYN_REPLY:
          // Accepted; the reply's headers carry nothing the streaming protocols use. A FIN here ends the stream.
          if (f.flags & FLAG_FIN) this.events.end(f.data.readUInt32BE(0) & 0x7fffffff);
          break;
        case FrameType.RST_STREAM:
          this.events.end(f.data.readUInt32BE(0) & 0x7fffffff);
          break;
        case FrameType.PING:
          this.enqueue(() => Promise.resolve([controlFrame(FrameType.PING, 0, Buffer.from(f.data))]));
          break;
        case FrameType.GOAWAY:
          this.close();
          break;
        default:
          // SETTINGS, HEADERS, WINDOW_UPDATE: nothing to do.
          break;
      }
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.compressor.close();
    this.events.close();
  }
}
