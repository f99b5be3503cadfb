// pods/exec, pods/attach and pods/portforward: upgrade requests the API server carries to the pod's kubelet (its
// /exec, /attach and /portForward endpoints, which continue on the container runtime's streaming server).
// - SPDY/3.1 (`Upgrade: SPDY/3.1`, kubectl's fallback and older kubectl): the request is replayed to the kubelet and
//   the two connections are spliced after the kubelet's 101, so kubectl and the runtime speak SPDY end to end.
// - WebSocket `v5.channel.k8s.io` / `v4.channel.k8s.io` (exec, attach): the API server translates, as upstream's
//   stream translator does: it speaks SPDY remotecommand v4 to the kubelet and maps WebSocket channels to SPDY streams
//   (0 stdin, 1 stdout, 2 stderr, 3 error Status, 4 resize; v5's close signal 255 half-closes stdin).
// - WebSocket `SPDY/3.1+portforward.k8s.io` (port-forward): the WebSocket messages carry SPDY frames; the API server
//   upgrades to SPDY portforward.k8s.io at the kubelet and relays the bytes between the two.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { ApiError } from '../../machinery/errors.js';
import type { Registry } from '../registry/registry.js';
import { directKubeletDialer, type KubeletClientConfig } from './kubelet-dialer.js';
import { kubeletUpgrade, type KubeletUpgrade } from '../streaming/kubelet-upgrade.js';
import { SpdyClient } from '../streaming/spdy.js';

const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const PORT_FORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
const STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;
/** The remotecommand protocol the API server speaks to the kubelet when it translates WebSocket. */
const REMOTECOMMAND_V4 = 'v4.channel.k8s.io';
const CH_STDIN = 0;
const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;
const CH_RESIZE = 4;
const CH_CLOSE = 255;

interface PodShape {
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
  status?: { phase?: string };
}

/** True when this upgrade is a pods/exec, pods/attach or pods/portforward request this module serves. */
export function isPodExec(req: IncomingMessage): boolean {
  return STREAM_PATH.test(new URL(req.url ?? '/', 'https://x').pathname);
}

const bool = (q: URLSearchParams, name: string): boolean => q.get(name) === 'true' || q.get(name) === '1';

const channelServer = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => CHANNEL_PROTOCOLS.find((p) => protocols.has(p)) ?? false });
// `SPDY/3.1+portforward.k8s.io` is not a valid token for ws's subprotocol parser: the header is taken off the request
// before the handshake and the chosen protocol is added to the 101 here.
const tunnelServer = new WebSocketServer({ noServer: true, perMessageDeflate: false });
tunnelServer.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL}`));

function acceptWebSocket(server: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
  return new Promise((resolve) => server.handleUpgrade(req, socket, head, resolve));
}

export async function handlePodExecUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, registry: Registry, kubelet: KubeletClientConfig | undefined): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://x');
  const m = STREAM_PATH.exec(url.pathname);
  if (!m) throw ApiError.pageNotFound();
  const [namespace, name, sub] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3] as 'exec' | 'attach' | 'portforward'];
  const q = url.searchParams;
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const webSocket = upgrade === 'websocket';
  if (!webSocket && !upgrade.startsWith('spdy/')) throw ApiError.badRequest(`unable to upgrade connection: unsupported upgrade ${req.headers.upgrade ?? ''}`);
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s);

  const pod = (await registry.store('', 'pods').get(namespace, name)) as PodShape;
  const kubeletQuery = new URLSearchParams();
  let io = { stdin: false, stdout: false, stderr: false, tty: false };
  let container = '';
  if (sub !== 'portforward') {
    const command = q.getAll('command');
    if (sub === 'exec' && command.length === 0) throw ApiError.badRequest('you must specify at least 1 command');
    io = { stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr'), tty: bool(q, 'tty') };
    if (!io.stdin && !io.stdout && !io.stderr) throw ApiError.badRequest('you must specify at least one of stdin, stdout, stderr');
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    container = q.get('container') || (names.length === 1 ? names[0]! : '');
    if (!container) throw ApiError.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
    const all = [...names, ...(pod.spec?.initContainers ?? []).map((c) => c.name), ...(pod.spec?.ephemeralContainers ?? []).map((c) => c.name)];
    if (!all.includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${name}`);
    for (const c of command) kubeletQuery.append('command', c);
    // Upstream's names for the kubelet: input, output, error, tty.
    if (io.stdin) kubeletQuery.set('input', '1');
    if (io.stdout) kubeletQuery.set('output', '1');
    if (io.stderr && !io.tty) kubeletQuery.set('error', '1');
    if (io.tty) kubeletQuery.set('tty', '1');
  } else {
    for (const p of q.getAll('ports')) kubeletQuery.append('port', p);
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw ApiError.badRequest(`pod ${name} does not have a host assigned`);
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
    throw ApiError.badRequest(`cannot ${sub === 'portforward' ? 'port-forward to' : `${sub} into`} a container in a completed pod; current phase is ${pod.status.phase}`);
  }
  const dialer = directKubeletDialer(registry, kubelet);
  const endpoint = await dialer.endpoint(nodeName, sub);
  const kubeletPath =
    sub === 'portforward'
      ? `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`
      : `/${sub}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
  const path = `${kubeletPath}${kubeletQuery.size ? `?${kubeletQuery}` : ''}`;

  if (!webSocket) {
    // SPDY: replay the upgrade with kubectl's protocol offers, hand the kubelet's 101 back, then splice.
    const versions: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === 'x-stream-protocol-version') versions.push(req.rawHeaders[i + 1]!);
    }
    const up = await kubeletUpgrade(dialer, endpoint, req.method ?? 'POST', path, { Upgrade: String(req.headers.upgrade), 'X-Stream-Protocol-Version': versions });
    socket.write(up.responseHead);
    if (up.rest.length) socket.write(up.rest);
    if (head.length) up.socket.write(head);
    return splice(socket, up.socket);
  }

  if (sub === 'portforward') {
    if (!offered.includes(PORT_FORWARD_TUNNEL)) throw ApiError.badRequest(`unable to upgrade connection: port-forward over WebSocket needs the ${PORT_FORWARD_TUNNEL} protocol`);
    const up = await kubeletUpgrade(dialer, endpoint, 'POST', path, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    delete req.headers['sec-websocket-protocol'];
    const ws = await acceptWebSocket(tunnelServer, req, socket, head);
    return tunnel(ws, up);
  }

  if (!offered.some((p) => CHANNEL_PROTOCOLS.includes(p))) {
    throw ApiError.badRequest(`unable to upgrade connection: none of the offered protocols (${offered.join(', ')}) is served; use ${CHANNEL_PROTOCOLS.join(' or ')}`);
  }
  const up = await kubeletUpgrade(dialer, endpoint, 'POST', path, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': REMOTECOMMAND_V4 });
  const ws = await acceptWebSocket(channelServer, req, socket, head);
  return translate(ws, up, io);
}

/** Splices two upgraded connections until both ends are closed; each side's end is passed on (half-close). */
function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let open = 2;
    const closed = () => {
      if (--open === 0) resolve();
    };
    a.pipe(b);
    b.pipe(a);
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
    a.once('close', closed);
    b.once('close', closed);
    b.resume();
  });
}

/** port-forward over WebSocket: each binary message is a piece of the SPDY byte stream. */
function tunnel(ws: WebSocket, up: KubeletUpgrade): Promise<void> {
  return new Promise((resolve) => {
    const k = up.socket;
    if (up.rest.length) ws.send(up.rest);
    ws.on('message', (data: RawData) => k.write(toBuffer(data)));
    k.on('data', (b: Buffer) => ws.send(b));
    k.resume();
    const finish = () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
      k.destroy();
      resolve();
    };
    ws.on('close', finish);
    ws.on('error', finish);
    k.on('close', finish);
    k.on('error', finish);
  });
}

const toBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

/** exec/attach over WebSocket channels, spoken to the kubelet as SPDY remotecommand v4 streams. */
function translate(ws: WebSocket, up: KubeletUpgrade, io: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const channelOf = new Map<number, number>();
    let errorStatus = Buffer.alloc(0);
    let finished = false;
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      // The error stream carries the outcome (a metav1.Status) for channel 3; it comes last, as upstream sends it.
      if (errorStatus.length) send(CH_ERROR, errorStatus);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      up.socket.destroy();
      resolve();
    };
    const spdy = new SpdyClient(
      up.socket,
      {
        data: (id, data) => {
          const ch = channelOf.get(id);
          if (ch === CH_ERROR) errorStatus = Buffer.concat([errorStatus, data]);
          else if (ch !== undefined) send(ch, data);
        },
        end: () => undefined,
        close: finish,
      },
      up.rest,
    );
    // Streams in client-go's order: error, stdin, stdout, stderr (not with a TTY), resize (with a TTY).
    channelOf.set(spdy.openStream({ streamtype: 'error' }), CH_ERROR);
    const stdin = io.stdin ? spdy.openStream({ streamtype: 'stdin' }) : undefined;
    if (io.stdout) channelOf.set(spdy.openStream({ streamtype: 'stdout' }), CH_STDOUT);
    if (io.stderr && !io.tty) channelOf.set(spdy.openStream({ streamtype: 'stderr' }), CH_STDERR);
    const resize = io.tty ? spdy.openStream({ streamtype: 'resize' }) : undefined;
    let stdinOpen = stdin !== undefined;
    ws.on('message', (raw: RawData) => {
      const msg = toBuffer(raw);
      if (msg.length === 0) return;
      const ch = msg[0]!;
      const body = msg.subarray(1);
      if (ch === CH_STDIN && stdin !== undefined && stdinOpen) spdy.write(stdin, body);
      else if (ch === CH_RESIZE && resize !== undefined) spdy.write(resize, body);
      else if (ch === CH_CLOSE && body[0] === CH_STDIN && stdin !== undefined && stdinOpen) {
        stdinOpen = false;
        spdy.end(stdin);
      }
    });
    ws.on('close', finish);
    ws.on('error', finish);
  });
}
