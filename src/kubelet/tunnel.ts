// The agent end of the reverse tunnel (k3s's remotedialer client): the agent dials the server's CONNECT_PATH over
// WebSocket with its node client certificate and keeps the session up, reconnecting with backoff when the server
// restarts or the connection drops. The server opens streams through it to reach this node's kubelet even when it
// cannot route to the node (NAT, firewalls). As k3s's agent, only allowed destinations are dialled: the kubelet port
// on the node's own addresses and loopback; anything else is refused with a RESET naming it.
import { connect as netConnect } from 'node:net';
import { WebSocket } from 'ws';
import type { Logger } from '../apiserver/log.js';
import { TunnelSession, type DialTarget, type TunnelStream } from '../apiserver/tunnel/mux.js';
import { CONNECT_PATH } from '../apiserver/tunnel/server.js';

export interface TunnelClientOptions {
  /** https://host:port of the server. */
  server: string;
  /** Cluster CA, node client certificate and key (system:node:<name>). */
  ca: string;
  cert: string;
  key: string;
  /** Which destinations the server may open. */
  allowed: (target: DialTarget) => boolean;
  log: Logger;
  /** Reconnect delays: doubling from initialMs up to maxMs (defaults 500 ms, 10 s). */
  backoff?: { initialMs: number; maxMs: number };
  window?: number;
  keepaliveMs?: number;
}

export interface TunnelClient {
  /** True while a session is up. */
  readonly connected: boolean;
  /** Sessions established so far (1 after the first connect; grows with every reconnect). */
  readonly sessions: number;
  stop(): Promise<void>;
}

/** The kubelet port on the node's own addresses and loopback (k3s's agent-mode authorizer). */
export function kubeletOnly(nodeAddresses: readonly string[], kubeletPort: number): (t: DialTarget) => boolean {
  const hosts = new Set([...nodeAddresses, '127.0.0.1', '::1', 'localhost']);
  return (t) => t.port === kubeletPort && hosts.has(t.host);
}

/** Splices an accepted tunnel stream to a TCP connection to `target`. */
function splice(target: DialTarget, stream: TunnelStream): void {
  const sock = netConnect({ host: target.host, port: target.port });
  let connected = false;
  sock.once('connect', () => (connected = true));
  stream.pipe(sock);
  sock.pipe(stream);
  sock.on('error', (err) => stream.destroy(new Error(connected ? err.message : `dial tcp ${target.host}:${target.port}: ${err.message}`)));
  stream.on('error', () => sock.destroy());
}

export function startTunnelClient(o: TunnelClientOptions): TunnelClient {
  const url = new URL(CONNECT_PATH, o.server.replace(/^https:/, 'wss:')).toString();
  const initial = o.backoff?.initialMs ?? 500;
  const max = o.backoff?.maxMs ?? 10_000;
  let delay = initial;
  let stopped = false;
  let session: TunnelSession | undefined;
  let ws: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sessions = 0;
  let lastError = '';

  const connect = (): void => {
    timer = undefined;
    if (stopped) return;
    const socket = new WebSocket(url, { ca: o.ca, cert: o.cert, key: o.key, perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 1 << 20 });
    ws = socket;
    socket.on('open', () => {
      sessions++;
      delay = initial;
      lastError = '';
      session = new TunnelSession(socket, {
        role: 'agent',
        onConnect: (target, stream) => {
          if (!o.allowed(target)) throw new Error(`connect not allowed: ${target.host}:${target.port}`);
          splice(target, stream);
        },
        ...(o.window ? { window: o.window } : {}),
        ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}),
      });
      o.log.info('tunnel to the server connected', { url });
    });
    socket.on('error', (err) => {
      // Logged once per distinct failure, not on every retry.
      if (err.message !== lastError) o.log.warn('tunnel to the server failed; retrying', { url, err: err.message });
      lastError = err.message;
    });
    socket.on('close', () => {
      if (ws !== socket) return;
      if (session) o.log.info('tunnel to the server closed; reconnecting', { url });
      session = undefined;
      ws = undefined;
      if (stopped) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, max);
    });
  };
  connect();

  return {
    get connected() {
      return session?.isOpen ?? false;
    },
    get sessions() {
      return sessions;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const s = ws;
      session?.close();
      if (s && s.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.terminate();
        });
      }
    },
  };
}
