import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCSR } from './csr.js';
import { createCA, inspectCSR, signCSR } from './issue.js';

test('a request made with node:crypto: subject, SANs (DNS, IPv4, IPv6) and signature read back by the X.509 library', async () => {
  const { keyPem, csrPem } = await createKeyAndCSR('system:node:n1', ['system:nodes', 'extra'], { dnsNames: ['n1', 'n1.example'], ips: ['127.0.0.1', '198.18.3.4', '::1', 'fd00::12:1'] });
  assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyType, 'ec');
  const info = await inspectCSR(csrPem);
  assert.equal(info.commonName, 'system:node:n1');
  assert.deepEqual(info.organizations, ['system:nodes', 'extra']);
  assert.deepEqual(info.sans.dnsNames, ['n1', 'n1.example']);
  assert.deepEqual(info.sans.ips, ['127.0.0.1', '198.18.3.4', '::1', 'fd00::12:1']);
  // Signed by the CA, the certificate carries the request's key.
  const ca = await createCA('test-ca');
  const cert = new X509Certificate(await signCSR(ca, csrPem, { commonName: info.commonName, organizations: info.organizations, usage: 'client' }));
  assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)));
});

test('a request without SANs; openssl agrees the signature is good', async () => {
  const { csrPem } = await createKeyAndCSR('system:node:n2', ['system:nodes']);
  const info = await inspectCSR(csrPem);
  assert.deepEqual(info, { commonName: 'system:node:n2', organizations: ['system:nodes'], sans: { dnsNames: [], ips: [] } });
  const dir = mkdtempSync(join(tmpdir(), 'csr-'));
  try {
    writeFileSync(join(dir, 'r.csr'), csrPem);
    const out = execFileSync('openssl', ['req', '-in', join(dir, 'r.csr'), '-noout', '-verify', '-subject'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /O\s*=\s*system:nodes, CN\s*=\s*system:node:n2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
