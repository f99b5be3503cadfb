// The kubelet's HTTPS API (upstream's port 10250): what the API server proxies pods/log to. TLS with a serving
// certificate signed by the cluster CA at join (or one the kubelet makes for itself); callers must present a client
// certificate from the cluster CA (the API server uses its own), so nothing else can read container logs.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeContainer, RuntimePod } from '../pods/runtime-state.js';
import { podLogDirectory } from '../pods/config.js';
import { streamLog, type LogOptions } from './logs.js';
import { renderMetricsResource, summaryOf, type ResourceUsage } from '../metrics/collector.js';
import { proxyUpgrade, StreamingError, streamingUrl, type StreamingDeps } from './streaming.js';

export interface KubeletServerDeps extends StreamingDeps {
  /** The pod as the kubelet's informer has it. */
  pod(namespace: string, name: string): Pod | undefined;
  /** The runtime's view of a pod, by UID. */
  runtime(uid: string): Promise<RuntimePod | undefined>;
  /**
   * What the kubelet last saw of the pod (the PLEG's cache, at most a relist old), which logs read as upstream reads
   * them from its pod status instead of asking the runtime; absent, or lacking the container, the runtime is asked.
   */
  cachedRuntime?(uid: string): RuntimePod | undefined;
  /** Whether a container still runs (for follow). */
  running(containerId: string): Promise<boolean>;
  /** Runs a command to completion in a container (CRI ExecSync). */
  exec(containerId: string, command: string[]): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }>;
  logRoot: string;
  /** Node, pod and container usage, read now (/metrics/resource, /stats/summary). */
  resourceUsage?(): Promise<ResourceUsage>;
  /** When the node booted (ms since the epoch), for /stats/summary. */
  nodeStartTime?: number;
}

export interface KubeletServerOptions {
  agentDir: string;
  nodeName: string;
  addresses: string[];
  /** The cluster CA that signs acceptable client certificates; without it every request is refused. */
  clientCA?: string;
  /** A serving certificate (chain) and key signed by the cluster CA; without one the kubelet makes a self-signed one. */
  serving?: { cert: string; key: string };
  bindAddress?: string;
  /** 0: any free port (reported in the Node's daemonEndpoints). */
  port: number;
}

/**
 * The given serving certificate (from the cluster CA, so the API server can verify the kubelet); otherwise one kept
 * under <agent>/pki, made once (self-signed CA + leaf, as upstream's kubelet does without a CA-signed one).
 */
async function servingCert(o: KubeletServerOptions): Promise<{ cert: string; key: string }> {
  if (o.serving) return o.serving;
  const dir = join(o.agentDir, 'pki');
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  const { createCA, issueServingCert } = await import('../../apiserver/pki/issue.js');
  const ca = await createCA(`${o.nodeName}-ca@${Math.floor(Date.now() / 1000)}`);
  const leaf = await issueServingCert(ca, `${o.nodeName}@${Math.floor(Date.now() / 1000)}`, { dnsNames: [o.nodeName, 'localhost'], ips: [...new Set([...o.addresses, '127.0.0.1'])] });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(certFile, leaf.certPem + ca.certPem, { mode: 0o644 });
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });
  return { cert: leaf.certPem + ca.certPem, key: leaf.keyPem };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

const int = (v: string | null): number | undefined => (v === null || v === '' || !/^-?\d+$/.test(v) ? undefined : Number(v));

/** GET /containerLogs/{namespace}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes */
async function containerLogs(deps: KubeletServerDeps, req: IncomingMessage, res: ServerResponse, url: URL, parts: string[]): Promise<void> {
  const [namespace, name, container] = parts.map(decodeURIComponent);
  if (!namespace || !name || !container) return status(res, 400, 'BadRequest', 'expected /containerLogs/{namespace}/{pod}/{container}');
  const pod = deps.pod(namespace, name);
  if (!pod) return status(res, 404, 'NotFound', `pod "${name}" not found`);
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].find((c) => c.name === container);
  if (!spec) return status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
  const q = url.searchParams;
  const previous = q.get('previous') === 'true';
  const uid = pod.metadata?.uid ?? '';
  const runsIn = (r: RuntimePod | undefined): RuntimeContainer[] => r?.containers.filter((c) => c.name === container) ?? [];
  let runs = runsIn(deps.cachedRuntime?.(uid));
  if (!(previous ? runs[1] : runs[0])) runs = runsIn(await deps.runtime(uid));
  const run = previous ? runs[1] : runs[0];
  if (!run) {
    if (previous) return status(res, 400, 'BadRequest', `previous terminated container "${container}" in pod "${name}" not found`);
    const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
    const reason = all.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
    return status(res, 400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ${reason}`);
  }
  const opts: LogOptions = {
    follow: q.get('follow') === 'true' && !previous,
    timestamps: q.get('timestamps') === 'true',
  };
  const tail = int(q.get('tailLines'));
  if (tail !== undefined) opts.tailLines = tail;
  const limit = int(q.get('limitBytes'));
  if (limit !== undefined) opts.limitBytes = limit;
  const sinceSeconds = int(q.get('sinceSeconds'));
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined) opts.sinceMs = Date.now() - sinceSeconds * 1000;
  else if (sinceTime) opts.sinceMs = Date.parse(sinceTime);
  const path = join(podLogDirectory(deps.logRoot, pod), container, `${run.restartCount}.log`);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  req.on('close', () => (closed = true));
  res.on('close', () => (closed = true));
  await streamLog(path, opts, { write: (s) => res.write(s), closed: () => closed }, () => deps.running(run.id));
  res.end();
}

/** POST /execSync/{namespace}/{pod}/{container}?command=…: runs a command to completion in a running container. */
async function execSync(deps: KubeletServerDeps, res: ServerResponse, url: URL, parts: string[]): Promise<void> {
  const [namespace, name, container] = parts.map(decodeURIComponent);
  const pod = deps.pod(namespace!, name!);
  if (!pod) return status(res, 404, 'NotFound', `pod "${name}" not found`);
  const command = url.searchParams.getAll('command');
  if (command.length === 0) return status(res, 400, 'BadRequest', 'you must specify at least 1 command');
  const runtime = await deps.runtime(pod.metadata?.uid ?? '');
  const run = runtime?.containers.find((c) => c.name === container && c.state === 'running');
  if (!run) return status(res, 400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`);
  const r = await deps.exec(run.id, command);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ stdout: r.stdout.toString('base64'), stderr: r.stderr.toString('base64'), exitCode: r.exitCode }));
}

export interface KubeletServer {
  port: number;
  /** Serves a renewed certificate on new connections (certificate rotation). */
  setServingCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

export async function startKubeletServer(o: KubeletServerOptions, deps: KubeletServerDeps): Promise<KubeletServer> {
  const { cert, key } = await servingCert(o);
  const server: Server = createServer(
    { cert, key, requestCert: true, rejectUnauthorized: false, ...(o.clientCA ? { ca: o.clientCA } : {}) },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      if (!o.clientCA || !socket.authorized) {
        status(res, 401, 'Unauthorized', 'Unauthorized: a client certificate from the cluster CA is required');
        return;
      }
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const parts = url.pathname.split('/').filter((p) => p !== '');
      const route = async () => {
        if (req.method === 'GET' && parts[0] === 'healthz') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('ok');
          return;
        }
        if (req.method === 'GET' && parts[0] === 'containerLogs' && parts.length === 4) return containerLogs(deps, req, res, url, parts.slice(1));
        if (req.method === 'GET' && deps.resourceUsage && url.pathname === '/metrics/resource') {
          const text = renderMetricsResource(await deps.resourceUsage());
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
          return;
        }
        if (req.method === 'GET' && deps.resourceUsage && url.pathname === '/stats/summary') {
          const body = JSON.stringify(summaryOf(await deps.resourceUsage(), deps.nodeStartTime ?? 0));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(body);
          return;
        }
        if (req.method === 'POST' && parts[0] === 'execSync' && parts.length === 4) return execSync(deps, res, url, parts.slice(1));
        status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      };
      route().catch((err: unknown) => status(res, 500, 'InternalError', (err as Error).message));
    },
  );
  // /exec, /attach and /portForward arrive as upgrades (SPDY/3.1 or WebSocket) and continue on the runtime's server.
  server.on('upgrade', (req: IncomingMessage, socket: TLSSocket, head: Buffer) => {
    const refuse = (code: number, reason: string, message: string) => {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
      socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    socket.on('error', () => socket.destroy());
    if (!o.clientCA || !socket.authorized) return refuse(401, 'Unauthorized', 'Unauthorized: a client certificate from the cluster CA is required');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const kind = parts[0];
    if ((kind !== 'exec' && kind !== 'attach' && kind !== 'portForward') || parts.length !== (kind === 'portForward' ? 3 : 4)) {
      return refuse(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    }
    streamingUrl(deps, kind, parts.slice(1), url.searchParams)
      .then((target) => proxyUpgrade(req, socket, head, target))
      .catch((err: unknown) => (err instanceof StreamingError ? refuse(err.code, err.reason, err.message) : refuse(500, 'InternalError', (err as Error).message)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bindAddress ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    setServingCertificate: (cert, key) => server.setSecureContext({ cert, key, ...(o.clientCA ? { ca: o.clientCA } : {}) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
