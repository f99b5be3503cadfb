// A Transport over a MessagePort (node:worker_threads): API clients running in a worker thread of `skiff server`
// (the scheduler, the controller manager, simulated nodes) send each request to the thread that runs the API server,
// which hands it to another Transport there (the in-process one, so the request goes through the server's request
// pipeline as before: no socket, TLS or HTTP parsing) and sends the response back; a watch's body comes back in
// chunks while it streams. serveTransport() is that thread's end.
import type { MessagePort } from 'node:worker_threads';
import type { IncomingHttpHeaders } from 'node:http';
import { ChunkSink, sinkStream } from './in-process.js';
import type { HttpMethod, Transport, TransportRequest, TransportResponse, TransportStream } from './transport.js';

/** Client → server. */
type ClientMessage =
  | { t: 'req'; id: number; stream: boolean; method: HttpMethod; path: string; headers?: Record<string, string>; body?: string }
  | { t: 'cancel'; id: number };

/** Server → client. `chunk` carries the stream's text since the last one (several writes coalesced). */
type ServerMessage =
  | { t: 'res'; id: number; status: number; headers: IncomingHttpHeaders; body: string }
  | { t: 'head'; id: number; status: number; headers: IncomingHttpHeaders }
  | { t: 'chunk'; id: number; data: string }
  | { t: 'end'; id: number }
  | { t: 'fail'; id: number; name: string; message: string };

/** The port both ends use (a worker_threads MessagePort, or anything with the same methods). */
export type TransportPort = Pick<MessagePort, 'postMessage' | 'on' | 'off' | 'close'>;

interface Pending {
  /** Settles a request() or the head of a stream(). */
  resolve(msg: ServerMessage & { t: 'res' | 'head' }): void;
  reject(err: Error): void;
  /** A stream's body. */
  sink?: ChunkSink;
  /** A stream's head has arrived: failures from now on end the body instead of rejecting stream(). */
  headSeen?: boolean;
}

function failure(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

const abortError = () => failure('AbortError', 'The operation was aborted');

/** The client's end: runs where the API clients run (the worker). */
export class MessagePortTransport implements Transport {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private readonly onMessage = (msg: ServerMessage) => this.receive(msg);

  constructor(private readonly port: TransportPort) {
    port.on('message', this.onMessage);
  }

  private receive(msg: ServerMessage): void {
    const p = this.pending.get(msg.id);
    if (!p) return; // given up on: a cancel is on its way
    switch (msg.t) {
      case 'res':
        this.pending.delete(msg.id);
        p.resolve(msg);
        return;
      case 'head':
        p.headSeen = true;
        p.resolve(msg);
        return;
      case 'chunk':
        p.sink?.push(msg.data);
        return;
      case 'end':
        this.pending.delete(msg.id);
        p.sink?.end();
        return;
      case 'fail': {
        this.pending.delete(msg.id);
        const err = failure(msg.name, msg.message);
        if (p.headSeen) p.sink?.end(err);
        else p.reject(err);
        return;
      }
    }
  }

  private send(req: TransportRequest, stream: boolean): { id: number; head: Promise<ServerMessage & { t: 'res' | 'head' }> } {
    if (this.closed) throw new Error('message port transport is closed');
    const id = this.nextId++;
    const head = new Promise<ServerMessage & { t: 'res' | 'head' }>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const signal = req.signal;
    if (signal) {
      const aborted = () => this.giveUp(id, abortError());
      if (signal.aborted) queueMicrotask(aborted);
      else signal.addEventListener('abort', aborted, { once: true });
    }
    const msg: ClientMessage = {
      t: 'req',
      id,
      stream,
      method: req.method,
      path: req.path,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body !== undefined ? { body: req.body } : {}),
    };
    this.port.postMessage(msg);
    return { id, head };
  }

  /** Ends one exchange on our side and tells the server to stop serving it. */
  private giveUp(id: number, err: Error | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (!this.closed) this.port.postMessage({ t: 'cancel', id } satisfies ClientMessage);
    if (p.headSeen) p.sink?.end(err);
    else p.reject(err ?? new Error('message port transport closed before the response'));
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const msg = await this.send(req, false).head;
    if (msg.t !== 'res') throw new Error(`unexpected ${msg.t} for a request`);
    return { status: msg.status, headers: msg.headers, body: msg.body };
  }

  async stream(req: TransportRequest): Promise<TransportStream> {
    const { id, head } = this.send(req, true);
    const sink = new ChunkSink();
    // Chunks may follow the head in the same turn: the sink must be in place before the head's promise settles.
    const p = this.pending.get(id);
    if (p) p.sink = sink;
    const msg = await head;
    return sinkStream(msg.status, msg.headers, sink, () => this.giveUp(id, undefined));
  }

  /** Ends every exchange still open (the server is told to stop each) and stops listening on the port. */
  close(): void {
    if (this.closed) return;
    for (const id of [...this.pending.keys()]) this.giveUp(id, undefined);
    this.closed = true;
    this.port.off('message', this.onMessage);
  }
}

export interface ServedPort {
  /** Ends every exchange still being served and stops listening on the port. */
  close(): void;
}

/**
 * The server's end: hands each request arriving on `port` to `transport` (e.g. the in-process transport of the API
 * handler) and posts the response back. A stream's chunks are coalesced per turn of the event loop, so a burst of
 * watch events crosses the thread boundary as one message.
 */
export function serveTransport(port: TransportPort, transport: Transport): ServedPort {
  /** What to call to stop serving an exchange (abort the request, close the stream). */
  const open = new Map<number, () => void>();
  let closed = false;
  const post = (msg: ServerMessage) => {
    if (!closed) port.postMessage(msg);
  };
  const fail = (id: number, err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ t: 'fail', id, name: e.name, message: e.message });
  };

  const serveRequest = (id: number, req: TransportRequest, controller: AbortController) => {
    open.set(id, () => controller.abort());
    transport.request(req).then(
      (res) => {
        if (!open.delete(id)) return;
        post({ t: 'res', id, status: res.status, headers: res.headers, body: res.body });
      },
      (err: unknown) => {
        if (open.delete(id)) fail(id, err);
      },
    );
  };

  const serveStream = (id: number, req: TransportRequest, controller: AbortController) => {
    let stream: TransportStream | undefined;
    open.set(id, () => {
      controller.abort();
      stream?.close();
    });
    transport.stream(req).then(
      async (s) => {
        if (!open.has(id)) return s.close();
        stream = s;
        post({ t: 'head', id, status: s.status, headers: s.headers });
        let buffered = '';
        let scheduled = false;
        const flush = () => {
          scheduled = false;
          if (!buffered || !open.has(id)) return;
          post({ t: 'chunk', id, data: buffered });
          buffered = '';
        };
        try {
          for await (const chunk of s.chunks) {
            buffered += chunk;
            if (!scheduled) {
              scheduled = true;
              setImmediate(flush);
            }
          }
          flush();
          if (open.delete(id)) post({ t: 'end', id });
        } catch (err) {
          flush();
          if (open.delete(id)) fail(id, err);
        }
      },
      (err: unknown) => {
        if (open.delete(id)) fail(id, err);
      },
    );
  };

  const onMessage = (msg: ClientMessage) => {
    if (msg.t === 'cancel') {
      const stop = open.get(msg.id);
      open.delete(msg.id);
      stop?.();
      return;
    }
    const controller = new AbortController();
    const req: TransportRequest = {
      method: msg.method,
      path: msg.path,
      ...(msg.headers ? { headers: msg.headers } : {}),
      ...(msg.body !== undefined ? { body: msg.body } : {}),
      signal: controller.signal,
    };
    try {
      if (msg.stream) serveStream(msg.id, req, controller);
      else serveRequest(msg.id, req, controller);
    } catch (err) {
      open.delete(msg.id);
      fail(msg.id, err);
    }
  };
  port.on('message', onMessage);
  return {
    close: () => {
      if (closed) return;
      closed = true;
      port.off('message', onMessage);
      for (const stop of [...open.values()]) stop();
      open.clear();
    },
  };
}
