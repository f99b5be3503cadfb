// The four probe mechanisms as upstream's kubelet runs them (pkg/probe/{exec,http,tcp,grpc}): exec through CRI ExecSync
// with the probe's timeout, httpGet to the pod IP (or host) with upstream's headers, status range and redirect rule,
// tcpSocket as a plain connect, grpc as grpc.health.v1.Health/Check. Each returns a result and the output upstream
// would put into its events ("Liveness probe failed: <output>"). Lifecycle hooks reuse the request building.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP } from 'node:net';
import type { Container, HTTPGetAction, HTTPHeader, Probe } from 'kubernetes-types/core/v1.js';
import { KUBERNETES_MAJOR, KUBERNETES_MINOR } from '../../apiserver/version.js';
import { CriError } from '../cri/client.js';
import { GRPC_STATUS, GrpcChannel, GrpcError } from '../cri/grpc.js';
import type { ExecSyncResult } from '../cri/types.js';
import { expandVars } from '../pods/config.js';

/** Success, Warning (counts as success, reported as ProbeWarning), Failure, or Unknown (the prober itself failed). */
export type ProbeResult = 'success' | 'warning' | 'failure' | 'unknown';

export interface ProbeOutcome {
  result: ProbeResult;
  output: string;
}

/** Upstream keeps at most this much of a probe's output or response body. */
export const MAX_PROBE_OUTPUT = 10 * 1024;
const MAX_REDIRECTS = 10;

export type ExecFn = (containerId: string, cmd: string[], timeoutSeconds: number) => Promise<ExecSyncResult>;

/** A port as the probe names it: a number, or the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, container: Container): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (port === undefined || port === '') throw new Error('port is required');
  else if (/^\d+$/.test(port)) n = Number(port);
  else {
    const found = (container.ports ?? []).find((p) => p.name === port);
    if (!found) throw new Error(`couldn't find port: ${port} in ${JSON.stringify(container.ports ?? [])}`);
    n = found.containerPort;
  }
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw new Error(`invalid port number: ${n}`);
  return n;
}

/** Only the container's literal env values expand in probe commands (upstream's ExpandContainerCommandOnlyStatic). */
export function expandStatic(command: string[], container: Container): string[] {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) if (e.value !== undefined && !e.valueFrom) env.set(e.name, e.value);
  return command.map((s) => expandVars(s, (n) => env.get(n)));
}

const hostPort = (host: string, port: number) => (isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);

/** The URL of an httpGet action: scheme://host:port/path, host defaulting to the pod IP (upstream's formatURL). */
export function httpGetURL(action: HTTPGetAction, podIP: string, container: Container): URL {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || podIP;
  const port = resolvePort(action.port as number | string, container);
  let path = action.path ?? '';
  if (!path.startsWith('/')) path = `/${path}`;
  return new URL(`${scheme}://${hostPort(host, port)}${path}`);
}

/** Headers upstream's prober sends: User-Agent kube-probe/<major>.<minor> and Accept (any type) unless the probe sets them. */
export function probeHeaders(headers: HTTPHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const has = (n: string) => Object.keys(out).some((k) => k.toLowerCase() === n.toLowerCase());
  for (const h of headers ?? []) {
    const key = Object.keys(out).find((k) => k.toLowerCase() === h.name.toLowerCase()) ?? h.name;
    out[key] = out[key] !== undefined ? `${out[key]}, ${h.value}` : h.value;
  }
  if (!has('user-agent')) out['User-Agent'] = `kube-probe/${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}`;
  if (!has('accept')) out['Accept'] = '*/*';
  return out;
}

interface HttpResponse {
  status: number;
  body: string;
  location?: string;
}

function getOnce(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const hostHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'host')?.[1];
    const opts = {
      method: 'GET',
      headers: { ...headers, ...(hostHeader ? {} : { Host: url.host }) },
      signal,
      rejectUnauthorized: false,
    };
    const onRes = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        if (size < MAX_PROBE_OUTPUT) chunks.push(d);
        size += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT).toString(), ...(res.headers.location ? { location: res.headers.location } : {}) }));
      res.on('error', reject);
    };
    const req = url.protocol === 'https:' ? httpsRequest(url, opts, onRes) : httpRequest(url, opts, onRes);
    req.on('error', reject);
    req.end();
  });
}

/** Go's net error texts for the common failures, so outputs read as upstream's. */
function dialError(err: NodeJS.ErrnoException, addr: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    default:
      return err.message;
  }
}

/**
 * GET with upstream's probe client: a timeout over the whole exchange, redirects followed on the same host (up to 10),
 * a redirect elsewhere not followed (its 3xx is then a Warning). `followNonLocal` follows every redirect (hooks).
 */
export async function httpGet(url: URL, headers: Record<string, string>, timeoutMs: number, followNonLocal = false): Promise<{ res: HttpResponse; url: URL; stoppedAtRedirect: boolean }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const first = url;
  let current = url;
  try {
    for (let i = 0; ; i++) {
      let res: HttpResponse;
      try {
        res = await getOnce(current, headers, ctl.signal);
      } catch (err) {
        if (ctl.signal.aborted) throw new Error(`Get "${current.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
        throw new Error(`Get "${current.href}": ${dialError(err as NodeJS.ErrnoException, current.host)}`);
      }
      if (res.status < 300 || res.status >= 400 || !res.location || [304, 305, 306].includes(res.status)) return { res, url: current, stoppedAtRedirect: false };
      const next = new URL(res.location, current);
      if (!followNonLocal && next.hostname !== first.hostname) return { res, url: current, stoppedAtRedirect: true };
      if (i + 1 >= MAX_REDIRECTS) throw new Error(`Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects`);
      current = next;
    }
  } finally {
    clearTimeout(timer);
  }
}

export async function httpProbe(action: HTTPGetAction, podIP: string, container: Container, timeoutSeconds: number): Promise<ProbeOutcome> {
  let url: URL;
  try {
    url = httpGetURL(action, podIP, container);
  } catch (err) {
    return { result: 'unknown', output: (err as Error).message };
  }
  try {
    const { res, stoppedAtRedirect } = await httpGet(url, probeHeaders(action.httpHeaders), timeoutSeconds * 1000);
    if (res.status >= 200 && res.status < 400) {
      if (stoppedAtRedirect || (res.status >= 300 && res.status < 400)) {
        return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
      }
      return { result: 'success', output: res.body };
    }
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
  } catch (err) {
    return { result: 'failure', output: (err as Error).message };
  }
}

export function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutSeconds * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: dialError(err, addr) });
    });
  });
}

export async function execProbe(exec: ExecFn, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    const r = await exec(containerId, cmd, timeoutSeconds);
    const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, MAX_PROBE_OUTPUT).toString();
    return r.exitCode === 0 ? { result: 'success', output } : { result: 'failure', output };
  } catch (err) {
    if (err instanceof CriError && (err.code === GRPC_STATUS.DEADLINE_EXCEEDED || /timeout|deadline exceeded/i.test(err.details))) {
      return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    }
    return { result: 'unknown', output: (err as Error).message };
  }
}

// grpc.health.v1: HealthCheckRequest { string service = 1; }, HealthCheckResponse { ServingStatus status = 1; }.
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function encodeHealthRequest(service: string): Buffer {
  // An empty service is still sent as an explicit empty field 1: some servers (grpc-js) drop a zero-length message.
  const s = Buffer.from(service);
  const len: number[] = [];
  let n = s.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), s]);
}

/** Reads field 1 (varint) of a HealthCheckResponse; other fields are skipped. */
export function decodeHealthResponse(buf: Buffer): number {
  let i = 0;
  let status = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++] ?? 0;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80 || i >= buf.length) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 1) status = v;
    } else if (wire === 2) i += varint();
    else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else break;
  }
  return status;
}

/**
 * grpc.health.v1.Health/Check, as upstream's probe: it first waits (until the timeout) for a connection, then makes
 * the call with what is left of the timeout.
 */
export async function grpcProbe(host: string, port: number, service: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let channel: GrpcChannel | undefined;
  try {
    for (let wait = 20; ; wait = Math.min(wait * 2, 1000)) {
      channel = new GrpcChannel(addr);
      try {
        const res = await channel.unary('/grpc.health.v1.Health/Check', encodeHealthRequest(service), Math.max(1, deadline - Date.now()));
        const status = decodeHealthResponse(res);
        if (status === 1) return { result: 'success', output: 'service healthy' };
        return { result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status] ?? String(status))})` };
      } catch (err) {
        const e = err as GrpcError;
        if (e.connectFailed) {
          // Not connected yet: try again until the deadline (grpc-go's blocking dial).
          channel.close();
          if (Date.now() + wait >= deadline) return { result: 'failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeoutSeconds}s: ${e.details}` };
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        if (e.code === GRPC_STATUS.UNIMPLEMENTED) return { result: 'failure', output: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` };
        if (e.code === GRPC_STATUS.DEADLINE_EXCEEDED) return { result: 'failure', output: `timeout: health rpc did not complete within ${timeoutSeconds}s` };
        return { result: 'failure', output: `error: health rpc probe failed: ${e.message}` };
      }
    }
  } finally {
    channel?.close();
  }
}

/** Runs a probe of any kind against a container (exec through `exec`, the network kinds against `podIP`). */
export async function runProbe(exec: ExecFn, probe: Probe, container: Container, containerId: string, podIP: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    if (probe.exec) return await execProbe(exec, containerId, expandStatic(probe.exec.command ?? [], container), timeoutSeconds);
    if (probe.httpGet) return await httpProbe(probe.httpGet, podIP, container, timeoutSeconds);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || podIP, resolvePort(probe.tcpSocket.port as number | string, container), timeoutSeconds);
    if (probe.grpc) return await grpcProbe(podIP, resolvePort(probe.grpc.port, container), probe.grpc.service ?? '', timeoutSeconds);
  } catch (err) {
    return { result: 'unknown', output: (err as Error).message };
  }
  return { result: 'unknown', output: 'missing probe handler' };
}
