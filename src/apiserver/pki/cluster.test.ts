import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { ensureClusterPki, servingSans } from './cluster.js';
import { subjectAltNames } from './crypto.js';
import { issueClientCert } from './issue.js';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-pki-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('serving SANs cover loopback, the host, the kubernetes service names and its first IP', () => {
  const sans = servingSans({ serviceCidr: '198.19.0.0/16', advertiseAddress: '198.18.5.5', bindAddress: '0.0.0.0', hostname: 'Node-A' });
  assert.deepEqual(sans.dnsNames, [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'node-a',
  ]);
  assert.deepEqual(sans.ips, ['127.0.0.1', '::1', '198.19.0.1', '198.18.5.5']);
});

test('first start creates CA, serving and admin certs; a restart reuses them', async () => {
  await withDir(async (dir) => {
    const sans = servingSans({ serviceCidr: '198.19.0.0/16', hostname: 'h1' });
    const first = await ensureClusterPki(dir, sans);
    assert.ok(first.serving.cert.checkIssued(first.ca.cert));
    assert.ok(first.serving.cert.verify(first.ca.cert.publicKey));
    assert.ok(first.admin.cert.verify(first.ca.cert.publicKey));
    assert.equal(first.ca.cert.ca, true);
    assert.equal(first.serving.cert.ca, false);
    assert.deepEqual(subjectAltNames(first.serving.cert), sans);
    assert.match(first.admin.cert.subject, /CN=system:admin/);
    assert.match(first.admin.cert.subject, /O=system:masters/);
    assert.equal((await stat(join(dir, 'server/tls/ca.key'))).mode & 0o777, 0o600);

    const again = await ensureClusterPki(dir, sans);
    assert.equal(again.ca.certPem, first.ca.certPem);
    assert.equal(again.serving.certPem, first.serving.certPem);
    assert.equal(again.admin.certPem, first.admin.certPem);

    // A new address re-issues the serving cert only, under the same CA.
    const moved = await ensureClusterPki(dir, servingSans({ serviceCidr: '198.19.0.0/16', hostname: 'h1', advertiseAddress: '198.18.0.9' }));
    assert.equal(moved.ca.certPem, first.ca.certPem);
    assert.equal(moved.admin.certPem, first.admin.certPem);
    assert.notEqual(moved.serving.certPem, first.serving.certPem);
    assert.ok(subjectAltNames(moved.serving.cert).ips.includes('198.18.0.9'));
    assert.ok(moved.serving.cert.verify(first.ca.cert.publicKey));
  });
});

test('a corrupt key file is a clear error, not a crash', async () => {
  await withDir(async (dir) => {
    await ensureClusterPki(dir, servingSans({ serviceCidr: '198.19.0.0/16' }));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'server/tls/ca.key'), 'garbage');
    await assert.rejects(ensureClusterPki(dir, servingSans({ serviceCidr: '198.19.0.0/16' })), /unreadable certificate or key .*ca\.\{crt,key\}/);
  });
});

test('issueClientCert puts the user in CN and groups in O', async () => {
  await withDir(async (dir) => {
    const pki = await ensureClusterPki(dir, servingSans({ serviceCidr: '198.19.0.0/16' }));
    const node = await issueClientCert(pki.ca, 'system:node:n1', ['system:nodes', 'extra, group']);
    const cert = new X509Certificate(node.certPem);
    assert.ok(cert.verify(pki.ca.cert.publicKey));
    assert.match(cert.subject, /CN=system:node:n1/);
    assert.match(cert.subject, /O=system:nodes/);
    assert.match(cert.subject, /^O=extra\\, group$/m);
    assert.match(node.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });
});

test('kubeconfig embeds CA, client cert and key and honours the file mode', async () => {
  await withDir(async (dir) => {
    const pki = await ensureClusterPki(dir, servingSans({ serviceCidr: '198.19.0.0/16' }));
    const params = { server: 'https://127.0.0.1:6443', caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem };
    const doc = parse(renderKubeconfig(params)) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-key-data': string } }[];
      'current-context': string;
    };
    assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
    assert.equal(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), pki.ca.certPem);
    assert.equal(Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString(), pki.admin.keyPem);
    assert.equal(doc['current-context'], 'default');
    const path = join(dir, 'sub', 'kubeconfig.yaml');
    await writeKubeconfig(path, params, 0o644);
    assert.equal((await stat(path)).mode & 0o777, 0o644);
    await writeKubeconfig(path, params, 0o600);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), renderKubeconfig(params));
  });
});
