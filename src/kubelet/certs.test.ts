// Node join against a real API server (memory storage): /cacerts checked against the token's hash, node client and
// serving certificates signed by the cluster CA, kept and reused, and the client certificate authenticating as the node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCSR } from '../apiserver/pki/issue.js';
import { parseToken, formatToken, tokenFile } from '../apiserver/pki/token.js';
import { createLogger, startServer, type RunningServer } from '../apiserver/server.js';
import { toServerConfig } from '../cli/server.js';
import { agentCertPaths, ensureNodeCertificates, fetchClusterCA, nodePassword, remoteSigner } from './certs.js';

let dir = '';
let srv: RunningServer;
let token = '';

function whoami(cert: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A path every authenticated user may POST to (system:basic-user), so authorization lets the echo handler answer.
    const req = httpsRequest(`${srv.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, { method: 'POST', ca: srv.pki.ca.certPem, cert, key, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('node join', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-join-'));
    srv = await startServer(
      // The flags `skiff server` would get, through its own flag parsing.
      toServerConfig({ dataDir: join(dir, 'server-data'), bindAddress: '127.0.0.1', httpsListenPort: '0', datastoreEndpoint: 'memory://', disableAgent: true, logLevel: 'error' }),
      {
        logger: createLogger('error'),
        apiHandler: async (_req, res, user) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(user));
        },
      },
    );
    token = (await readFile(tokenFile(join(dir, 'server-data')), 'utf8')).trim();
  });
  after(async () => {
    await srv?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the CA is trusted only when it matches the full token', async () => {
    let unverified = 0;
    const ca = await fetchClusterCA(srv.url, parseToken(token), () => unverified++);
    assert.equal(ca, srv.pki.ca.certPem);
    assert.equal(unverified, 0);
    const other = formatToken('another CA', parseToken(token).password);
    await assert.rejects(fetchClusterCA(srv.url, parseToken(other), () => undefined), /token CA hash does not match the Cluster CA certificate hash/);
    await fetchClusterCA(srv.url, parseToken(parseToken(token).password), () => unverified++);
    assert.equal(unverified, 1);
  });

  test('node certificates: signed by the cluster CA, the node identity, kept and reused', async () => {
    const agentDir = join(dir, 'agent');
    const { password } = parseToken(token);
    const ca = srv.pki.ca.certPem;
    const certs = await ensureNodeCertificates({ agentDir, nodeName: 'n1', addresses: ['198.18.255.2'], caPem: ca, sign: remoteSigner(srv.url, ca, password, 'n1', 'n1-pass') });
    const client = new X509Certificate(certs.clientCertPem);
    assert.equal(client.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.ok(client.checkIssued(new X509Certificate(ca)));
    assert.equal(client.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), true);
    const serving = new X509Certificate(certs.servingCertPem);
    assert.equal(serving.subjectAltName, 'DNS:n1, IP Address:198.18.255.2');
    assert.equal(serving.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), true);
    // The client certificate authenticates as the node.
    const user = JSON.parse(await whoami(certs.clientCertPem, certs.clientKeyPem)) as { name: string; groups: string[] };
    assert.equal(user.name, 'system:node:n1');
    assert.deepEqual(user.groups, ['system:nodes', 'system:authenticated']);
    // Kept under the agent dir and reused; a new address gets a new serving certificate only.
    const p = agentCertPaths(agentDir);
    assert.equal(await readFile(p.clientCert, 'utf8'), certs.clientCertPem);
    assert.equal(await readFile(p.ca, 'utf8'), ca);
    const failing = async () => {
      throw new Error('must not be asked');
    };
    const again = await ensureNodeCertificates({ agentDir, nodeName: 'n1', addresses: ['198.18.255.2'], caPem: ca, sign: failing });
    assert.deepEqual(again, certs);
    const moved = await ensureNodeCertificates({ agentDir, nodeName: 'n1', addresses: ['198.18.255.6'], caPem: ca, sign: remoteSigner(srv.url, ca, password, 'n1', 'n1-pass') });
    assert.equal(moved.clientCertPem, certs.clientCertPem);
    assert.notEqual(moved.servingCertPem, certs.servingCertPem);
  });

  test('the server refuses a wrong password, a request for another node, another node password, and the API server\'s own names', async () => {
    const ca = srv.pki.ca.certPem;
    const { password } = parseToken(token);
    await assert.rejects(
      ensureNodeCertificates({ agentDir: join(dir, 'bad'), nodeName: 'n2', addresses: ['198.18.255.2'], caPem: ca, sign: remoteSigner(srv.url, ca, 'wrong', 'n2', 'n2-pass') }),
      /Unauthorized/,
    );
    const { csrPem } = await createKeyAndCSR('system:node:n3', ['system:nodes']);
    await assert.rejects(remoteSigner(srv.url, ca, password, 'n2', 'n2-pass')('client', csrPem), /status 400: .*CN=system:node:n2 and O=system:nodes/);
    const masters = await createKeyAndCSR('system:node:n2', ['system:masters']);
    await assert.rejects(remoteSigner(srv.url, ca, password, 'n2', 'n2-pass')('client', masters.csrPem), /status 400/);
    // Another machine with the token but not n1's node password cannot take over n1.
    const other = await createKeyAndCSR('system:node:n1', ['system:nodes']);
    await assert.rejects(remoteSigner(srv.url, ca, password, 'n1', 'someone-else')('client', other.csrPem), /Node password rejected/);
    assert.match(await remoteSigner(srv.url, ca, password, 'n1', 'n1-pass')('client', other.csrPem), /BEGIN CERTIFICATE/);
    const passwd = await readFile(join(dir, 'server-data', 'server', 'cred', 'node-passwd'), 'utf8');
    assert.match(passwd, /^[0-9a-f]{64},n1\n/m);
    assert.doesNotMatch(passwd, /n1-pass/);
    assert.equal((await nodePassword(join(dir, 'np'))).length, 32);
    assert.equal(await nodePassword(join(dir, 'np')), await nodePassword(join(dir, 'np')));
    // 127.0.0.1 is the API server's: a kubelet serving certificate never names it.
    await assert.rejects(
      ensureNodeCertificates({ agentDir: join(dir, 'loop'), nodeName: 'n2', addresses: ['127.0.0.1'], caPem: ca, sign: remoteSigner(srv.url, ca, password, 'n2', 'n2-pass') }),
      /does not fit node n2/,
    );
  });
});
