// The server end of the agents' reverse tunnels (k3s's /v1-k3s/connect): an agent authenticated by its node client
// certificate (system:node:<name> in system:nodes) opens a WebSocket to CONNECT_PATH; the session is kept by node
// name, a newer one replacing an older. The kubelet dialer (endpoints/kubelet-dialer.ts) opens streams through it.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApiError } from '../../machinery/errors.js';
import type { UserInfo } from '../auth/user.js';
import type { Logger } from '../log.js';
import { TunnelSession, type DialTarget, type TunnelStream } from './mux.js';

export const CONNECT_PATH = '/v1-skiff/connect';

/**
 * k3s's --egress-selector-mode. skiff's API server only dials kubelets (there is no pods/services proxy), so `pod` and
 * `cluster` route exactly as `agent` does: through the node's tunnel when it has one, else directly.
 */
export const EGRESS_SELECTOR_MODES = ['agent', 'cluster', 'pod', 'disabled'] as const;
export type EgressSelectorMode = (typeof EGRESS_SELECTOR_MODES)[number];

export function isTunnelConnect(req: IncomingMessage): boolean {
  return new URL(req.url ?? '/', 'https://skiff.invalid').pathname === CONNECT_PATH;
}

/** The node a user is, when it is a node identity (system:node:<name> in system:nodes). */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes('system:nodes') || !user.name.startsWith('system:node:')) return undefined;
  const name = user.name.slice('system:node:'.length);
  return name === '' ? undefined : name;
}

/** What the kubelet dialer needs: a stream to `target` on node `nodeName`, or undefined without a tunnel. */
export interface KubeletTunnel {
  dial(nodeName: string, target: DialTarget): TunnelStream | undefined;
}

export interface TunnelServerOptions {
  log?: Logger;
  /** Per-stream window and keepalive (tests). */
  window?: number;
  keepaliveMs?: number;
}

export class TunnelServer implements KubeletTunnel {
  private readonly sessions = new Map<string, TunnelSession>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });

  constructor(private readonly opts: TunnelServerOptions = {}) {}

  /** The upgrade of CONNECT_PATH, after authentication: only a node may open its own tunnel. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo): void {
    const nodeName = nodeNameOf(user);
    if (!nodeName) throw new ApiError({ message: `forbidden: User "${user.name}" cannot open a node tunnel: only nodes (system:nodes) may`, reason: 'Forbidden', code: 403 });
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw ApiError.badRequest('the tunnel is a WebSocket: Upgrade: websocket expected');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new TunnelSession(ws, {
        role: 'server',
        ...(this.opts.window ? { window: this.opts.window } : {}),
        ...(this.opts.keepaliveMs !== undefined ? { keepaliveMs: this.opts.keepaliveMs } : {}),
      });
      const previous = this.sessions.get(nodeName);
      this.sessions.set(nodeName, session);
      previous?.close();
      this.opts.log?.info('node tunnel connected', { node: nodeName });
      session.onClose(() => {
        if (this.sessions.get(nodeName) !== session) return;
        this.sessions.delete(nodeName);
        this.opts.log?.info('node tunnel closed', { node: nodeName });
      });
    });
  }

  hasSession(nodeName: string): boolean {
    return this.sessions.get(nodeName)?.isOpen ?? false;
  }

  dial(nodeName: string, target: DialTarget): TunnelStream | undefined {
    const session = this.sessions.get(nodeName);
    return session?.isOpen ? session.open(target) : undefined;
  }

  close(): void {
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
    this.wss.close();
  }
}
