// A Transport that hands requests straight to an HTTP request handler in the same process: no socket, no TLS, no HTTP
// parsing. Controllers running inside `skiff server` can talk to its API handler this way. The handler sees a request
// object (a Readable with method, url and headers) and a response object with the ServerResponse methods the API
// handlers use (writeHead, setHeader, flushHeaders, write, end, destroy, headersSent, 'close'/'error' events).
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Transport, TransportRequest, TransportResponse, TransportStream } from './transport.js';

export type InProcessHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Pushes chunks to an async iterator; ends (or fails) once. */
export class ChunkSink {
  private readonly queue: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  push(chunk: string): void {
    if (this.ended) return;
    this.queue.push(chunk);
    this.wake?.();
  }
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.wake?.();
  }
  async *iterate(): AsyncGenerator<string> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift() as string;
      if (this.ended) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * A TransportStream whose body is `sink`; close() calls `giveUp` and ends the body where it is (a failure the sink
 * reports after that is not the caller's).
 */
export function sinkStream(status: number, headers: IncomingHttpHeaders, sink: ChunkSink, giveUp: () => void): TransportStream {
  let closed = false;
  async function* chunks(): AsyncGenerator<string> {
    try {
      yield* sink.iterate();
    } catch (err) {
      if (!closed) throw err;
    }
  }
  return {
    status,
    headers,
    chunks: chunks(),
    close: () => {
      closed = true;
      giveUp();
    },
  };
}

function toText(chunk: unknown, encoding?: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return '';
}

/** The part of ServerResponse the API handlers use. */
class InProcessResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  finished = false;
  destroyed = false;
  private readonly headers = new Map<string, OutgoingHttpHeader>();
  private readonly onHead: () => void;

  constructor(
    readonly sink: ChunkSink,
    onHead: () => void,
    private readonly onDone: () => void,
  ) {
    super();
    this.onHead = onHead;
  }

  setHeader(name: string, value: OutgoingHttpHeader): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.headers.get(name.toLowerCase());
  }
  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }
  getHeaders(): OutgoingHttpHeaders {
    return Object.fromEntries(this.headers);
  }

  /** The response headers as a client receives them. */
  incomingHeaders(): IncomingHttpHeaders {
    const out: IncomingHttpHeaders = {};
    for (const [k, v] of this.headers) out[k] = Array.isArray(v) ? v.map(String) : String(v);
    return out;
  }

  writeHead(status: number, reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (this.headersSent) throw new Error('ERR_HTTP_HEADERS_SENT: Cannot write headers after they are sent to the client');
    this.statusCode = status;
    const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
    if (headers && !Array.isArray(headers)) for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(k, v);
    this.sendHead();
    return this;
  }

  flushHeaders(): void {
    this.sendHead();
  }

  private sendHead(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.onHead();
  }

  write(chunk: unknown, encoding?: unknown, cb?: () => void): boolean {
    if (this.writableEnded || this.destroyed) return false;
    this.sendHead();
    const text = toText(chunk, encoding);
    if (text) this.sink.push(text);
    const done = typeof encoding === 'function' ? (encoding as () => void) : cb;
    if (done) queueMicrotask(done);
    return true;
  }

  end(chunk?: unknown, encoding?: unknown, cb?: () => void): this {
    if (this.writableEnded || this.destroyed) return this;
    if (typeof chunk === 'function') return this.end(undefined, undefined, chunk as () => void);
    if (chunk !== undefined && chunk !== null) this.write(chunk, typeof encoding === 'function' ? undefined : encoding);
    this.sendHead();
    this.writableEnded = true;
    this.finished = true;
    this.sink.end();
    const done = typeof encoding === 'function' ? (encoding as () => void) : cb;
    if (done) queueMicrotask(done);
    this.emit('finish');
    this.close();
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.sendHead();
    this.sink.end(this.writableEnded ? undefined : (err ?? new Error('socket hang up')));
    this.close();
    return this;
  }

  private close(): void {
    this.onDone();
    this.emit('close');
  }
}

function makeRequest(req: TransportRequest): IncomingMessage {
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers: IncomingHttpHeaders = { accept: 'application/json', 'user-agent': 'skiff-client' };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  if (body) headers['content-length'] = String(body.length);
  // 'close' is emitted by hand when the exchange ends or the client gives up, as node does for a real request.
  const readable = new Readable({ autoDestroy: false, emitClose: false, read() {} });
  if (body) readable.push(body);
  readable.push(null);
  const extra = {
    method: req.method,
    url: req.path,
    headers,
    httpVersion: '1.1',
    socket: { remoteAddress: '127.0.0.1', encrypted: false },
  };
  return Object.assign(readable, extra) as unknown as IncomingMessage;
}

export class InProcessTransport implements Transport {
  private readonly open = new Set<(err?: Error) => void>();
  private closed = false;

  /**
   * `arrivesAsTask`: each request already starts its own turn of the event loop (it came in as a message from another
   * thread, see serveTransport), so the handler runs at once instead of after this turn's other I/O.
   */
  constructor(
    private readonly handler: InProcessHandler,
    private readonly opts: { arrivesAsTask?: boolean } = {},
  ) {}

  private start(req: TransportRequest): { res: InProcessResponse; head: Promise<void>; abort: (err?: Error) => void } {
    if (this.closed) throw new Error('in-process transport is closed');
    const incoming = makeRequest(req);
    let headSent: () => void = () => undefined;
    let headFailed: (err: Error) => void = () => undefined;
    const head = new Promise<void>((resolve, reject) => {
      headSent = resolve;
      headFailed = reject;
    });
    head.catch(() => undefined); // request() reads the body instead
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.open.delete(abort);
      incoming.emit('close');
    };
    const res = new InProcessResponse(new ChunkSink(), () => headSent(), finish);
    // Giving up: a caller's abort signal fails what is still pending (as node's request does, with an AbortError);
    // closing a stream, or the transport, ends the body where it is.
    const abort = (err?: Error) => {
      if (finished) return;
      finish();
      const failure = err ?? (res.headersSent ? undefined : new Error('in-process transport closed before the response'));
      if (failure && !res.headersSent) headFailed(failure);
      res.sink.end(failure);
    };
    const aborted = () => abort(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
    this.open.add(abort);
    if (req.signal) {
      if (req.signal.aborted) aborted();
      else req.signal.addEventListener('abort', aborted, { once: true });
    }
    // The handler runs in a later turn of the event loop, as for a request arriving on a socket: a component sending
    // a burst of requests yields between them (timers, I/O and the watch hub's flushes run in between), rather than
    // the whole burst running in one chain of microtasks.
    const handOver = () => {
      if (finished) return; // given up before it was handed over
      Promise.resolve(this.handler(incoming, res as unknown as ServerResponse)).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    };
    if (this.opts.arrivesAsTask) queueMicrotask(handOver);
    else setImmediate(handOver);
    return { res, head, abort };
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const { res } = this.start(req);
    let body = '';
    for await (const chunk of res.sink.iterate()) body += chunk;
    return { status: res.statusCode, headers: res.incomingHeaders(), body };
  }

  async stream(req: TransportRequest): Promise<TransportStream> {
    const { res, head, abort } = this.start(req);
    await head;
    return sinkStream(res.statusCode, res.incomingHeaders(), res.sink, () => abort());
  }

  /** Ends every exchange still open (watches), as closing a connection pool would. */
  close(): void {
    this.closed = true;
    for (const abort of [...this.open]) abort();
  }
}
