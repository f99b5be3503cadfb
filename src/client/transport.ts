// How the REST client reaches an API server. The HTTPS transport talks to a real server with the kubeconfig's client
// certificate; an in-process transport (calling the server's handler directly) can implement the same interface.
import { Agent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  method: HttpMethod;
  /** Path with query string, e.g. "/api/v1/namespaces/default/pods?limit=500". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TransportStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it arrives, as UTF-8 text chunks; ends when the server ends the response or close() is called. */
  chunks: AsyncIterable<string>;
  close(): void;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  /** Like request(), but hands the body over while it streams (watch). */
  stream(req: TransportRequest): Promise<TransportStream>;
  /** Release connections. */
  close(): void;
}

export interface HttpsTransportOptions {
  /** Base URL, e.g. "https://127.0.0.1:6443". */
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** Per-request timeout for non-streaming calls (default 60 s). */
  timeoutMs?: number;
}

export class HttpsTransport implements Transport {
  private agent: Agent;
  private readonly base: URL;

  constructor(private readonly opts: HttpsTransportOptions) {
    this.base = new URL(opts.server);
    if (this.base.protocol !== 'https:') throw new Error(`unsupported server URL ${opts.server}: only https is supported`);
    this.agent = this.newAgent(opts.cert, opts.key);
  }

  private newAgent(cert: string | undefined, key: string | undefined): Agent {
    // One TLS context for every connection: node would otherwise parse the CA, certificate and key for each new socket.
    const secureContext = createSecureContext({ ca: this.opts.ca, cert, key });
    return new Agent({ keepAlive: true, secureContext, rejectUnauthorized: !this.opts.insecureSkipTlsVerify });
  }

  /**
   * Switches to a renewed client certificate: new connections present it, and every open one is closed (watches
   * end and their reflectors reconnect), as the kubelet does after rotating its client certificate.
   */
  setClientCertificate(cert: string, key: string): void {
    const old = this.agent;
    this.agent = this.newAgent(cert, key);
    old.destroy();
  }

  private send(req: TransportRequest, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void, timeoutMs?: number) {
    const url = new URL(req.path, this.base);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'skiff-client', ...req.headers };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const r = httpsRequest(url, { method: req.method, headers, agent: this.agent, signal: req.signal }, onResponse);
    if (timeoutMs) r.setTimeout(timeoutMs, () => r.destroy(new Error(`${req.method} ${url.pathname}: timed out after ${timeoutMs}ms`)));
    r.on('error', onError);
    r.end(req.body);
    return r;
  }

  request(req: TransportRequest): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      this.send(
        req,
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
          res.on('error', reject);
        },
        reject,
        this.opts.timeoutMs ?? 60_000,
      );
    });
  }

  stream(req: TransportRequest): Promise<TransportStream> {
    return new Promise((resolve, reject) => {
      const r = this.send(
        req,
        (res) => {
          res.setEncoding('utf8');
          let closed = false;
          // The response's iterator rejects when we destroy the socket ourselves; a watch we closed simply ends.
          async function* chunks(): AsyncGenerator<string> {
            try {
              for await (const chunk of res) yield chunk as string;
            } catch (err) {
              if (!closed) throw err;
            }
          }
          const close = () => {
            closed = true;
            r.destroy();
          };
          resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks: chunks(), close });
        },
        reject,
      );
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
