// The kubelet's streaming endpoints (upstream's /exec, /attach and /portForward on port 10250). As upstream's kubelet
// with a CRI runtime, it asks the runtime for a streaming session (CRI Exec, Attach or PortForward answer with a URL on
// containerd's streaming server) and proxies the caller's upgrade request to that URL unchanged: containerd's server
// speaks the kubelet streaming protocols (SPDY/3.1 with remotecommand v1–v4 or portforward.k8s.io, and the older
// WebSocket channel protocols), so after the 101 the bytes flow through untouched in both directions.
import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimePod } from '../pods/runtime-state.js';

/** What the streaming endpoints need from the kubelet. */
export interface StreamingDeps {
  pod(namespace: string, name: string): Pod | undefined;
  runtime(uid: string): Promise<RuntimePod | undefined>;
  /** CRI Exec / Attach / PortForward: the runtime's streaming URL. */
  execUrl(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
  attachUrl(req: { containerId: string; stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean }): Promise<string>;
  portForwardUrl(sandboxId: string, ports: number[]): Promise<string>;
}

/** A failure answered before any upgrade, as a Status the API server passes on. */
export class StreamingError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API server passes PodExecOptions/PodAttachOptions to the kubelet with upstream's short names. */
const flag = (q: URLSearchParams, name: string): boolean => {
  const v = q.get(name);
  return v === '1' || v === 'true';
};

/** The runtime URL for an /exec, /attach or /portForward request (path segments after the first). */
export async function streamingUrl(deps: StreamingDeps, kind: 'exec' | 'attach' | 'portForward', parts: string[], q: URLSearchParams): Promise<string> {
  const [namespace, name, container] = parts.map(decodeURIComponent);
  if (!namespace || !name || (kind !== 'portForward' && !container)) throw new StreamingError(400, 'BadRequest', `expected /${kind}/{namespace}/{pod}${kind === 'portForward' ? '' : '/{container}'}`);
  const pod = deps.pod(namespace, name);
  if (!pod) throw new StreamingError(404, 'NotFound', `pod "${name}" not found`);
  const runtime = await deps.runtime(pod.metadata?.uid ?? '');
  if (kind === 'portForward') {
    const sandbox = runtime?.sandboxes.find((s) => s.ready);
    if (!sandbox) throw new StreamingError(400, 'BadRequest', `pod ${name} is not running`);
    const ports = q.getAll('port').map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
    return deps.portForwardUrl(sandbox.id, ports);
  }
  const run = runtime?.containers.find((c) => c.name === container && c.state === 'running');
  if (!run) throw new StreamingError(400, 'BadRequest', `container not found ("${container}")`);
  const io = { stdin: flag(q, 'input'), stdout: flag(q, 'output'), stderr: flag(q, 'error'), tty: flag(q, 'tty') };
  if (kind === 'attach') return deps.attachUrl({ containerId: run.id, ...io });
  const cmd = q.getAll('command');
  if (cmd.length === 0) throw new StreamingError(400, 'BadRequest', 'you must specify at least 1 command');
  return deps.execUrl({ containerId: run.id, cmd, ...io });
}

/** Headers a proxy must not forward as they are (the connection to the runtime is a new one). */
const DROP = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * Replays the upgrade request to the runtime's streaming URL and splices the two connections. The runtime's answer
 * (101 and the session, or an error) reaches the caller as it is.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: string): Promise<void> {
  const url = new URL(target);
  if (url.protocol !== 'http:') throw new StreamingError(500, 'InternalError', `unsupported streaming URL ${target}`);
  return new Promise((resolve) => {
    const upstream: Socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
    let lines = `${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!;
      if (!DROP.has(k.toLowerCase())) lines += `${k}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    lines += '\r\n';
    let open = 2;
    const closed = () => {
      if (--open === 0) resolve();
    };
    upstream.once('connect', () => {
      upstream.setNoDelay(true);
      upstream.write(lines);
      if (head.length) upstream.write(head);
      // Each side's end reaches the other (half-close), so what is in flight is delivered before the close.
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!socket.destroyed && upstream.bytesRead === 0) {
        const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: "error dialing the runtime's streaming server", reason: 'InternalError', code: 500 });
        socket.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      } else socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    upstream.once('close', closed);
    socket.once('close', closed);
  });
}
