// pods/exec over WebSocket (the channel protocols kubectl speaks: v5/v4.channel.k8s.io), for commands without stdin or
// a TTY: the API server asks the pod's kubelet to run the command to completion (CRI ExecSync) and sends stdout on
// channel 1, stderr on channel 2 and the outcome as a Status on channel 3 (NonZeroExitCode makes kubectl exit with
// the command's code). Interactive exec (-i/-t) is not served yet and is refused with 400 before the upgrade.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApiError } from '../../machinery/errors.js';
import type { Registry } from '../registry/registry.js';
import { directKubeletDialer, type KubeletClientConfig, type KubeletDialer, type KubeletEndpoint } from './kubelet-dialer.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

interface PodShape {
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[] };
}

interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** True when this upgrade is a pods/exec request this module serves. */
export function isPodExec(req: IncomingMessage): boolean {
  return EXEC_PATH.test(new URL(req.url ?? '/', 'https://x').pathname);
}

function callKubelet(dialer: KubeletDialer, endpoint: KubeletEndpoint, path: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const r = dialer.request(endpoint, { method: 'POST', path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as ExecResult & { kind?: string; message?: string; reason?: string };
          if (res.statusCode !== 200) reject(new ApiError({ message: parsed.message ?? body, reason: 'BadRequest', code: res.statusCode ?? 500 }));
          else resolve(parsed);
        } catch {
          reject(new ApiError({ message: body || `kubelet answered ${res.statusCode}`, reason: 'InternalError', code: 500 }));
        }
      });
    });
    r.on('error', (err) => reject(new ApiError({ message: `error dialing backend: ${err.message}`, reason: 'InternalError', code: 500 })));
    r.end();
  });
}

function exitStatus(cmd: string[], exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => PROTOCOLS.find((p) => protocols.has(p)) ?? false });

export async function handlePodExecUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, registry: Registry, kubelet: KubeletClientConfig | undefined): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://x');
  const m = EXEC_PATH.exec(url.pathname);
  if (!m) throw ApiError.pageNotFound();
  const [namespace, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
  const q = url.searchParams;
  const command = q.getAll('command');
  if (command.length === 0) throw ApiError.badRequest('you must specify at least 1 command');
  if (q.get('stdin') === 'true' || q.get('tty') === 'true') throw ApiError.badRequest('interactive exec (stdin or tty) is not supported yet');

  const pod = (await registry.store('', 'pods').get(namespace, name)) as PodShape;
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const container = q.get('container') || (names.length === 1 ? names[0]! : '');
  if (!container) throw ApiError.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  if (![...names, ...(pod.spec?.initContainers ?? []).map((c) => c.name)].includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${name}`);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw ApiError.badRequest(`pod ${name} does not have a host assigned`);
  const dialer = directKubeletDialer(registry, kubelet);
  const endpoint = await dialer.endpoint(nodeName, 'exec');
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  if (!offered.some((p) => PROTOCOLS.includes(p))) {
    throw ApiError.badRequest(`unable to upgrade connection: only WebSocket exec (${PROTOCOLS.join(', ')}) is served, not SPDY`);
  }
  const params = new URLSearchParams(command.map((c): [string, string] => ['command', c]));
  const path = `/execSync/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${params}`;
  // Run first, so a container that cannot exec is reported as an HTTP error kubectl shows as is.
  const result = await callKubelet(dialer, endpoint, path);

  await new Promise<void>((resolve) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const frame = (channel: number, data: Buffer | string) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
      if (q.get('stdout') !== 'false' && result.stdout) frame(1, Buffer.from(result.stdout, 'base64'));
      if (q.get('stderr') !== 'false' && result.stderr) frame(2, Buffer.from(result.stderr, 'base64'));
      frame(3, JSON.stringify(exitStatus(command, result.exitCode)));
      ws.close(1000);
      ws.once('close', () => resolve());
    });
  });
}
