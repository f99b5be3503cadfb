// The agent's reverse tunnel against a real API server (startServer, memory storage, x509 authentication): the agent
// connects with its node certificate, the kubelet dialer reaches a kubelet through the tunnel (TLS end to end, both
// certificates verified), destinations other than the kubelet port are refused, only nodes may open a tunnel, and
// the agent reconnects on its own after the server restarts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { eventually } from '../../test/e2e/harness.js';
import { directKubeletDialer, type KubeletClientConfig, type KubeletEndpoint } from '../apiserver/endpoints/kubelet-dialer.js';
import { issueClientCert, issueServingCert } from '../apiserver/pki/issue.js';
import type { Registry } from '../apiserver/registry/registry.js';
import { createLogger, startServer, type RunningServer } from '../apiserver/server.js';
import { CONNECT_PATH, TunnelServer } from '../apiserver/tunnel/server.js';
import { toServerConfig } from '../cli/server.js';
import { kubeletOnly, startTunnelClient, type TunnelClient } from './tunnel.js';

const NODE = 'tunnel-node';
let dir = '';
let srv: RunningServer;
let tunnels: TunnelServer;
let port = 0;
let kubelet: HttpsServer;
let kubeletPort = 0;
let other: HttpsServer;
let client: TunnelClient;
let nodeCert: { certPem: string; keyPem: string };
const allowedAsked: string[] = [];
/** Client certificate subjects the stub kubelet saw. */
const kubeletCallers: string[] = [];

async function start(listenPort: number): Promise<void> {
  tunnels = new TunnelServer({ keepaliveMs: 0 });
  const t = tunnels;
  srv = await startServer(
    toServerConfig({ dataDir: join(dir, 'server'), bindAddress: '127.0.0.1', httpsListenPort: String(listenPort), datastoreEndpoint: 'memory://', disableAgent: true, logLevel: 'error' }),
    {
      logger: createLogger('error'),
      apiHandler: async (_req, res) => void res.end('{}'),
      upgradeHandler: (req, socket, head, user) => t.handleUpgrade(req, socket, head, user),
    },
  );
  srv.lifecycle.registerLongRunning(() => t.close());
}

function get(config: KubeletClientConfig, endpoint: KubeletEndpoint, path: string): Promise<{ code: number; body: string }> {
  const dialer = directKubeletDialer({} as Registry, config);
  return new Promise((resolve, reject) => {
    const req = dialer.request(endpoint, { method: 'GET', path }, (res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const kubeletConfig = (): KubeletClientConfig => ({ certPem: srv.pki.admin.certPem, keyPem: srv.pki.admin.keyPem, caPem: srv.pki.ca.certPem, tunnel: tunnels });

describe('agent reverse tunnel', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-tunnel-'));
    await start(0);
    port = srv.port;
    const serving = await issueServingCert(srv.pki.ca, NODE, { dnsNames: [NODE], ips: ['127.0.0.1'] });
    // A stand-in kubelet: the cluster CA's serving certificate, client certificates required.
    kubelet = createHttpsServer({ cert: serving.certPem, key: serving.keyPem, ca: srv.pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      kubeletCallers.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
      res.end(`kubelet says ${req.url}`);
    });
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
    kubeletPort = (kubelet.address() as AddressInfo).port;
    other = createHttpsServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => res.end('not the kubelet'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    nodeCert = await issueClientCert(srv.pki.ca, `system:node:${NODE}`, ['system:nodes']);
    const allowed = kubeletOnly(['198.18.77.7'], kubeletPort);
    client = startTunnelClient({
      server: srv.url,
      ca: srv.pki.ca.certPem,
      cert: nodeCert.certPem,
      key: nodeCert.keyPem,
      allowed: (t) => {
        allowedAsked.push(`${t.host}:${t.port}`);
        return allowed(t);
      },
      log: createLogger('error'),
      backoff: { initialMs: 50, maxMs: 200 },
      keepaliveMs: 0,
    });
  });
  after(async () => {
    await client?.stop();
    await srv?.stop();
    kubelet?.close();
    other?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the node connects and the kubelet dialer reaches the kubelet through the tunnel, TLS verified end to end', async () => {
    await eventually('the tunnel session', () => tunnels.hasSession(NODE));
    const r = await get(kubeletConfig(), { nodeName: NODE, host: '127.0.0.1', port: kubeletPort }, '/pods');
    assert.deepEqual(r, { code: 200, body: 'kubelet says /pods' });
    assert.deepEqual(allowedAsked, [`127.0.0.1:${kubeletPort}`]);
    assert.deepEqual(kubeletCallers, ['system:admin']);
    // A node without a tunnel is dialled directly (k3s's fallback): the agent is not asked.
    const direct = await get(kubeletConfig(), { nodeName: 'no-tunnel', host: '127.0.0.1', port: kubeletPort }, '/direct');
    assert.equal(direct.body, 'kubelet says /direct');
    assert.equal(allowedAsked.length, 1);
  });

  test('the agent refuses destinations other than its kubelet port, and the error reaches the caller', async () => {
    const otherPort = (other.address() as AddressInfo).port;
    await assert.rejects(get(kubeletConfig(), { nodeName: NODE, host: '127.0.0.1', port: otherPort }, '/'), new RegExp(`connect not allowed: 127\\.0\\.0\\.1:${otherPort}`));
    // A wrong serving certificate name over the tunnel fails verification as a direct dial would.
    await assert.rejects(get(kubeletConfig(), { nodeName: NODE, host: 'localhost', port: kubeletPort }, '/'), /Hostname\/IP does not match certificate|localhost/);
  });

  test('only a node identity may open a tunnel', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${srv.url.replace('https:', 'wss:')}${CONNECT_PATH}`, { ca: srv.pki.ca.certPem, cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem });
      ws.on('open', () => resolve('open'));
      ws.on('error', (e) => resolve(e.message));
    });
    assert.match(refused, /Unexpected server response: 403/);
  });

  test('after the server restarts, the agent reconnects with backoff and the kubelet is reachable again', async () => {
    assert.equal(client.sessions, 1);
    await srv.stop();
    await eventually('the agent to notice', () => !client.connected);
    await start(port);
    await eventually('the reconnected session', () => tunnels.hasSession(NODE) && client.sessions === 2);
    const r = await get(kubeletConfig(), { nodeName: NODE, host: '127.0.0.1', port: kubeletPort }, '/again');
    assert.equal(r.body, 'kubelet says /again');
    assert.equal(allowedAsked.at(-1), `127.0.0.1:${kubeletPort}`);
  });
});
