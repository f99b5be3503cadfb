// A unary-only gRPC client over node:http2: what the kubelet needs to call the CRI runtime on its unix socket and the
// grpc.health.v1 probe over TCP. Each call is one HTTP/2 stream: a POST with the length-prefixed message, answered by
// headers, the length-prefixed reply and trailers carrying grpc-status / grpc-message (or a trailers-only answer).
// grpc-js does the same with a generic channel stack (resolvers, load balancing, filters, retries, per-call metadata
// and credentials objects): for a long-running node agent making a few calls a second that stack was most of the
// agent's idle allocation and CPU. One HTTP/2 session per channel, opened on first use and again after it closed.
import { connect as http2Connect, constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** gRPC status codes (google.golang.org/grpc/codes). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The name of a status code (UNKNOWN for codes outside the table). */
export function grpcStatusName(code: number): string {
  for (const [name, c] of Object.entries(GRPC_STATUS)) if (c === code) return name;
  return 'UNKNOWN';
}

/** A call ended with a non-OK status (from the server, or locally: deadline, connection failure). */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** The call never reached a server: the connection failed or did not come up before the deadline. */
    readonly connectFailed = false,
  ) {
    super(`${code} ${grpcStatusName(code)}: ${details}`);
  }
}

export interface GrpcChannelOptions {
  /** Largest reply accepted (default 16 MiB + 1 KiB, what the kubelet allows for CRI replies). */
  maxReceiveBytes?: number;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function decodeMessage(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function statusOf(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['grpc-status'];
  if (v === undefined) return undefined;
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isInteger(n) ? n : GRPC_STATUS.UNKNOWN;
}

/** HTTP status → gRPC code, for replies that are not gRPC (the gRPC HTTP/2 spec's table). */
function httpToGrpc(status: number): number {
  if (status === 400) return GRPC_STATUS.INTERNAL;
  if (status === 401) return GRPC_STATUS.UNAUTHENTICATED;
  if (status === 403) return GRPC_STATUS.PERMISSION_DENIED;
  if (status === 404) return GRPC_STATUS.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GRPC_STATUS.UNAVAILABLE;
  return GRPC_STATUS.UNKNOWN;
}

export class GrpcChannel {
  private session: ClientHttp2Session | undefined;
  private connected = false;
  private closed = false;
  private readonly maxReceiveBytes: number;

  /**
   * `target`: "unix:///path" or a socket path (a unix socket), or "host:port" (TCP; IPv6 hosts in brackets).
   */
  constructor(
    readonly target: string,
    opts: GrpcChannelOptions = {},
  ) {
    this.maxReceiveBytes = opts.maxReceiveBytes ?? 16 * 1024 * 1024 + 1024;
  }

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const t = this.target;
    const unixPath = t.startsWith('unix://') ? t.slice('unix://'.length) : t.startsWith('unix:') ? t.slice('unix:'.length) : t.startsWith('/') ? t : undefined;
    const session =
      unixPath !== undefined
        ? http2Connect('http://localhost', { createConnection: () => netConnect(unixPath) })
        : http2Connect(`http://${t}`);
    // An idle channel does not keep the process alive (a call's deadline timer does while it runs).
    session.unref();
    this.connected = false;
    session.once('connect', () => {
      if (this.session === session) this.connected = true;
    });
    const drop = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', drop);
    session.on('close', drop);
    session.on('goaway', drop);
    this.session = session;
    return session;
  }

  /**
   * Calls `path` ("/package.Service/Method") with the serialized request; resolves with the serialized reply.
   * Fails with a GrpcError: the server's status, DEADLINE_EXCEEDED after `timeoutMs`, UNAVAILABLE when the
   * connection fails.
   */
  unary(path: string, request: Uint8Array, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GrpcError(GRPC_STATUS.UNAVAILABLE, 'channel closed'));
    return new Promise<Buffer>((resolve, reject) => {
      let stream: ClientHttp2Stream;
      let done = false;
      const finish = (err: GrpcError | undefined, reply?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
          reject(err);
        } else resolve(reply!);
      };
      const timer = setTimeout(() => finish(new GrpcError(GRPC_STATUS.DEADLINE_EXCEEDED, 'context deadline exceeded', !this.connected)), timeoutMs);
      try {
        const session = this.connect();
        stream = session.request(
          {
            [h2.HTTP2_HEADER_METHOD]: 'POST',
            [h2.HTTP2_HEADER_PATH]: path,
            [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
            te: 'trailers',
            'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
          },
          { endStream: false },
        );
      } catch (err) {
        clearTimeout(timer);
        reject(new GrpcError(GRPC_STATUS.UNAVAILABLE, (err as Error).message, true));
        return;
      }
      let httpStatus = 0;
      let status: number | undefined;
      let message = '';
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (headers) => {
        httpStatus = Number(headers[h2.HTTP2_HEADER_STATUS] ?? 0);
        // A trailers-only reply carries the status in its headers.
        const s = statusOf(headers);
        if (s !== undefined) {
          status = s;
          message = decodeMessage(headers['grpc-message']);
        }
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxReceiveBytes + 5) {
          finish(new GrpcError(GRPC_STATUS.RESOURCE_EXHAUSTED, `received message larger than max (${size} vs. ${this.maxReceiveBytes})`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('trailers', (trailers) => {
        const s = statusOf(trailers);
        if (s !== undefined) {
          status = s;
          message = decodeMessage(trailers['grpc-message']);
        }
      });
      stream.on('error', (err: Error) => finish(new GrpcError(GRPC_STATUS.UNAVAILABLE, err.message, !this.connected)));
      stream.on('close', () => {
        if (done) return;
        if (status === undefined) {
          if (!this.connected) finish(new GrpcError(GRPC_STATUS.UNAVAILABLE, 'connection failed', true));
          else if (httpStatus !== 0 && httpStatus !== 200) finish(new GrpcError(httpToGrpc(httpStatus), `unexpected HTTP status code ${httpStatus}`));
          else finish(new GrpcError(stream.rstCode === h2.NGHTTP2_REFUSED_STREAM ? GRPC_STATUS.UNAVAILABLE : GRPC_STATUS.INTERNAL, `stream closed without a status (code ${stream.rstCode})`));
          return;
        }
        if (status !== GRPC_STATUS.OK) {
          finish(new GrpcError(status, message));
          return;
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        if (body.length < 5) {
          finish(new GrpcError(GRPC_STATUS.INTERNAL, 'no reply message'));
          return;
        }
        if (body[0] !== 0) {
          finish(new GrpcError(GRPC_STATUS.INTERNAL, 'compressed reply without an agreed encoding'));
          return;
        }
        const len = body.readUInt32BE(1);
        if (body.length < 5 + len) {
          finish(new GrpcError(GRPC_STATUS.INTERNAL, 'truncated reply message'));
          return;
        }
        finish(undefined, body.subarray(5, 5 + len));
      });
      const frame = Buffer.allocUnsafe(5 + request.length);
      frame[0] = 0;
      frame.writeUInt32BE(request.length, 1);
      frame.set(request, 5);
      stream.end(frame);
    });
  }

  /** Ends the session; later calls fail with UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}
