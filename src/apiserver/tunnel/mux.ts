// The reverse tunnel's multiplexer (as k3s's remotedialer): one WebSocket between an agent and the server carries many
// TCP streams the server opens to destinations on the agent's side (the kubelet port), so a server that cannot reach
// the node still reaches its kubelet. Each WebSocket binary message is one frame:
//
//   type (1 byte) | stream id (uint32 BE) | payload
//
//   CONNECT  server → agent   payload JSON {"host","port"}: dial that address and splice it to the stream
//   DATA     both             payload bytes (at most the sender's window for the stream)
//   WINDOW   both             payload uint32 BE: the receiver consumed that many more bytes (credit returned)
//   FIN      both             the sender will write no more (half-close; the stream ends once both sent FIN)
//   RESET    both             payload UTF-8 reason: the stream is aborted both ways
//
// Flow control is per stream and credit-based: a sender may have at most INITIAL_WINDOW bytes outstanding that the
// receiver's reader has not consumed yet; the receiver returns credit as its reader drains, so a slow reader stops
// its peer's writer instead of buffering without bound (each side buffers at most the window plus the Readable's
// highWaterMark per stream). Writes complete when the WebSocket has written the frame, which carries the socket's own
// backpressure to the writer as well.
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export const FrameType = { Connect: 1, Data: 2, Window: 3, Fin: 4, Reset: 5 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Bytes a sender may have outstanding per stream before the receiver returns credit. */
export const INITIAL_WINDOW = 256 * 1024;
/** The largest DATA payload (WebSocket messages stay small, so streams interleave). */
export const MAX_DATA_FRAME = 32 * 1024;
const HEADER = 5;

export function encodeFrame(type: FrameType, id: number, payload?: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER + (payload?.length ?? 0));
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(id, 1);
  if (payload) payload.copy(frame, HEADER);
  return frame;
}

export interface Frame {
  type: FrameType;
  id: number;
  payload: Buffer;
}

export function decodeFrame(data: Buffer): Frame | undefined {
  if (data.length < HEADER) return undefined;
  const type = data.readUInt8(0) as FrameType;
  if (type < FrameType.Connect || type > FrameType.Reset) return undefined;
  return { type, id: data.readUInt32BE(1), payload: data.subarray(HEADER) };
}

/** A destination the server asks the agent to dial. */
export interface DialTarget {
  host: string;
  port: number;
}

export interface SessionOptions {
  /** 'server' opens streams (odd ids); 'agent' accepts them. */
  role: 'server' | 'agent';
  /** Agent side: a CONNECT arrived. Return the connected stream's other end, or throw to refuse (sent as RESET). */
  onConnect?: (target: DialTarget, stream: TunnelStream) => void;
  /** Per-stream window (tests use small ones). */
  window?: number;
  /** WebSocket ping interval; a peer that misses two pongs is cut off (default 15 s, 0 = none). */
  keepaliveMs?: number;
}

/** One multiplexed stream: a Duplex whose writes go to the peer and whose reads are what the peer wrote. */
export class TunnelStream extends Duplex {
  private sendWindow: number;
  private pending: { chunk: Buffer; cb: (err?: Error | null) => void } | undefined;
  /** Bytes received and pushed but not yet credited back to the peer. */
  private unacked = 0;
  private finSent = false;
  private finReceived = false;
  private resetReceived = false;

  constructor(
    private readonly session: TunnelSession,
    readonly id: number,
    private readonly window: number,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = window;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending = { chunk, cb };
    this.flush();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finSent = true;
    this.session.send(FrameType.Fin, this.id, undefined, (err) => cb(err ?? null));
  }

  override _read(): void {
    // The reader wants more: credit back what it consumed (in batches, or at once when its buffer is empty).
    if (this.unacked > 0 && (this.unacked >= this.window / 4 || this.readableLength === 0)) this.returnCredit();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.pending?.cb(err ?? new Error('stream closed'));
    this.pending = undefined;
    const clean = this.finSent && this.finReceived;
    if (!clean && !this.resetReceived) this.session.send(FrameType.Reset, this.id, Buffer.from(err?.message ?? ''));
    this.session.forget(this.id);
    cb(err);
  }

  /** Sends what the window allows of the pending write; the write completes when its last frame is written. */
  private flush(): void {
    while (this.pending && this.sendWindow > 0) {
      const { chunk, cb } = this.pending;
      const n = Math.min(chunk.length, this.sendWindow, MAX_DATA_FRAME);
      this.sendWindow -= n;
      if (n === chunk.length) {
        this.pending = undefined;
        this.session.send(FrameType.Data, this.id, chunk, (err) => cb(err ?? null));
      } else {
        this.pending = { chunk: chunk.subarray(n), cb };
        this.session.send(FrameType.Data, this.id, chunk.subarray(0, n));
      }
    }
  }

  private returnCredit(): void {
    const credit = Buffer.allocUnsafe(4);
    credit.writeUInt32BE(this.unacked, 0);
    this.unacked = 0;
    this.session.send(FrameType.Window, this.id, credit);
  }

  /** @internal A frame for this stream arrived. */
  receive(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Data:
        if (this.finReceived || this.destroyed) return;
        this.unacked += frame.payload.length;
        if (this.push(frame.payload) && this.unacked >= this.window / 4) this.returnCredit();
        return;
      case FrameType.Window:
        if (frame.payload.length >= 4) this.sendWindow += frame.payload.readUInt32BE(0);
        this.flush();
        return;
      case FrameType.Fin:
        if (this.finReceived) return;
        this.finReceived = true;
        this.push(null);
        return;
      case FrameType.Reset: {
        this.resetReceived = true;
        const reason = frame.payload.toString('utf8');
        this.destroy(new Error(reason || 'stream reset by peer'));
        return;
      }
      default:
        return;
    }
  }
}

/**
 * Both ends of the tunnel: frames in and out of one WebSocket, the streams by id. Closing the WebSocket (either
 * side, or a failed keepalive) aborts every stream with "tunnel closed".
 */
export class TunnelSession {
  private readonly streams = new Map<number, TunnelStream>();
  private nextId: number;
  private closed = false;
  private readonly window: number;
  private readonly closeListeners: (() => void)[] = [];
  private keepalive: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: SessionOptions,
  ) {
    this.window = opts.window ?? INITIAL_WINDOW;
    this.nextId = opts.role === 'server' ? 1 : 2;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.receive(data);
    });
    ws.on('close', () => this.shutdown());
    ws.on('error', () => this.shutdown());
    const keepalive = opts.keepaliveMs ?? 15_000;
    if (keepalive > 0) {
      let alive = true;
      ws.on('pong', () => (alive = true));
      this.keepalive = setInterval(() => {
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, keepalive);
      this.keepalive.unref();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Streams currently open (tests, metrics). */
  get streamCount(): number {
    return this.streams.size;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Server side: a new stream to `target` on the agent's side. Data written before the agent dialled waits there. */
  open(target: DialTarget): TunnelStream {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new TunnelStream(this, id, this.window);
    if (this.closed) {
      process.nextTick(() => stream.destroy(new Error('tunnel closed')));
      return stream;
    }
    this.streams.set(id, stream);
    this.send(FrameType.Connect, id, Buffer.from(JSON.stringify(target)));
    return stream;
  }

  close(): void {
    if (this.closed) return;
    this.ws.close(1000);
    this.shutdown();
  }

  /** @internal */
  send(type: FrameType, id: number, payload?: Buffer, cb?: (err?: Error) => void): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      if (cb) process.nextTick(cb, new Error('tunnel closed'));
      return;
    }
    this.ws.send(encodeFrame(type, id, payload), { binary: true }, cb);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private receive(data: Buffer): void {
    const frame = decodeFrame(data);
    if (!frame) return;
    if (frame.type === FrameType.Connect) {
      this.accept(frame);
      return;
    }
    const stream = this.streams.get(frame.id);
    if (stream) stream.receive(frame);
    else if (frame.type !== FrameType.Reset && frame.type !== FrameType.Window) this.send(FrameType.Reset, frame.id, Buffer.from('unknown stream'));
  }

  private accept(frame: Frame): void {
    if (this.opts.role !== 'agent' || !this.opts.onConnect || this.streams.has(frame.id)) {
      this.send(FrameType.Reset, frame.id, Buffer.from('connect refused: not an agent session'));
      return;
    }
    let target: DialTarget;
    try {
      const parsed = JSON.parse(frame.payload.toString('utf8')) as Partial<DialTarget>;
      if (typeof parsed.host !== 'string' || typeof parsed.port !== 'number') throw new Error('bad target');
      target = { host: parsed.host, port: parsed.port };
    } catch {
      this.send(FrameType.Reset, frame.id, Buffer.from('connect refused: malformed target'));
      return;
    }
    const stream = new TunnelStream(this, frame.id, this.window);
    this.streams.set(frame.id, stream);
    try {
      this.opts.onConnect(target, stream);
    } catch (err) {
      // Refused: the reason goes to the opener as RESET; nobody here listens.
      stream.on('error', () => undefined);
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    for (const s of [...this.streams.values()]) s.destroy(new Error('tunnel closed'));
    this.streams.clear();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
    for (const l of this.closeListeners.splice(0)) l();
  }
}
