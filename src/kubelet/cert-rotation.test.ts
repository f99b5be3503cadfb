// Certificate rotation with real certificates from a test CA and a fake clock: renewal at 70-90 % of the lifetime
// with a new key written under the agent dir and handed on, retries after a failed signing, and the jittered
// deadline itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, inspectCSR, signCSR } from '../apiserver/pki/issue.js';
import { createLogger } from '../apiserver/log.js';
import { FakeClock } from '../client/index.js';
import { eventually } from '../../test/e2e/harness.js';
import { agentCertPaths, issueNodeCertificate, type NodeCertificateRequest } from './certs.js';
import { CertificateRotator, rotationDeadline } from './cert-rotation.js';

const LIFETIME_MS = 100_000;

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-rotate-'));
  const ca = await createCA('test-ca');
  let signings = 0;
  let failNext = 0;
  const request: NodeCertificateRequest = {
    agentDir: dir,
    nodeName: 'n1',
    addresses: ['127.0.0.1'],
    caPem: ca.certPem,
    sign: async (kind, csrPem) => {
      if (failNext > 0) {
        failNext--;
        throw new Error('server unavailable');
      }
      signings++;
      const asked = await inspectCSR(csrPem);
      return signCSR(ca, csrPem, { commonName: asked.commonName, organizations: asked.organizations, usage: kind === 'client' ? 'client' : 'server', validityMs: LIFETIME_MS, ...(kind === 'serving' ? { sans: asked.sans } : {}) });
    },
  };
  return { dir, request, signings: () => signings, failTimes: (n: number) => (failNext = n) };
}

test('the rotation deadline lies between 70 % and 90 % of the lifetime', async () => {
  const { dir, request } = await setup();
  try {
    const { cert } = await issueNodeCertificate(request, 'client');
    const x = new X509Certificate(cert);
    const from = Date.parse(x.validFrom);
    const total = Date.parse(x.validTo) - from;
    assert.equal(rotationDeadline(cert, 0), from + total * 0.7);
    assert.equal(rotationDeadline(cert, 1), from + total * 0.9);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a certificate is renewed with a new key before it expires, written and handed on; a failed signing is retried', async () => {
  const { dir, request, signings, failTimes } = await setup();
  try {
    const first = await issueNodeCertificate(request, 'serving');
    const clock = new FakeClock(Date.now());
    const rotated: { cert: string; key: string }[] = [];
    const rotator = new CertificateRotator({ kind: 'serving', request, clock, random: () => 0, log: createLogger('error'), onRotated: (cert, key) => rotated.push({ cert, key }) });
    rotator.start(first.cert);
    const deadline = rotationDeadline(first.cert, 0);
    clock.step(deadline - clock.now() - 1000);
    assert.equal(rotated.length, 0, 'not before the deadline');
    failTimes(1);
    clock.step(2000);
    // The first attempt fails; the retry 2 s later succeeds.
    await eventually('the retry after the failed attempt', () => clock.pendingTimers() === 1 && signings() === 1, 20_000, () => JSON.stringify({ pending: clock.pendingTimers(), signings: signings(), rotations: rotator.rotations, rotated: rotated.length }));
    clock.step(2000);
    await eventually('the renewal', () => rotated.length === 1);
    assert.equal(signings(), 2, 'the first certificate and its renewal');
    rotator.stop();
    const renewed = rotated[0];
    assert.notEqual(renewed.cert, first.cert);
    assert.notEqual(renewed.key, first.key);
    const paths = agentCertPaths(dir);
    assert.equal(await readFile(paths.servingCert, 'utf8'), renewed.cert);
    assert.equal(await readFile(paths.servingKey, 'utf8'), renewed.key);
    const x = new X509Certificate(renewed.cert);
    assert.notEqual(x.serialNumber, new X509Certificate(first.cert).serialNumber);
    assert.ok(Date.parse(x.validTo) >= Date.parse(new X509Certificate(first.cert).validTo));
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
