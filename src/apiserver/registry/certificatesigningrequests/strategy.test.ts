import 'reflect-metadata';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '../../../api/object.js';
import { Strategy, prepareApprovalUpdate, setRequester, validateApprovalUpdate } from './strategy.js';
import { checkCSR } from './csr-parse.js';

x509.cryptoProvider.set(webcrypto);
const b64 = (s: string) => Buffer.from(s).toString('base64');
let ecCSR = '';
let rsaCSR = '';
let certPEM = '';

before(async () => {
  const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const ecKeys = await webcrypto.subtle.generateKey(ec, true, ['sign', 'verify']);
  ecCSR = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=system:node:n1,O=system:nodes', keys: ecKeys, signingAlgorithm: ec })).toString('pem');
  const rsa = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const rsaKeys = await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify']);
  rsaCSR = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=alice', keys: rsaKeys, signingAlgorithm: rsa })).toString('pem');
  certPEM = (await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=ca', keys: ecKeys, signingAlgorithm: ec, serialNumber: '01' })).toString('pem');
});

const csr = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'c' },
  spec: { request: b64(ecCSR), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
  ...(status ? { status } : {}),
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('CSR parsing', () => {
  test('accepts EC and RSA requests signed by their own key', () => {
    assert.equal(checkCSR(ecCSR), undefined);
    assert.equal(checkCSR(rsaCSR), undefined);
  });
  test('rejects other PEM blocks, garbage and bad signatures', () => {
    assert.equal(checkCSR('not pem'), 'PEM block type must be CERTIFICATE REQUEST');
    assert.equal(checkCSR(certPEM), 'PEM block type must be CERTIFICATE REQUEST');
    assert.match(checkCSR('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n') ?? '', /^x509: malformed certificate request/);
    const der = Buffer.from(ecCSR.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[40] ^= 0xff; // flips a byte of the subject, so the signature no longer matches
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    assert.equal(checkCSR(tampered), 'x509: ECDSA verification failure');
  });
});

describe('certificatesigningrequests strategy', () => {
  test('accepts a valid request', () => {
    assert.deepEqual(Strategy.validate(csr()), []);
    assert.deepEqual(Strategy.validate(csr({ request: b64(rsaCSR), usages: ['digital signature', 'key encipherment', 'server auth'], expirationSeconds: 3600 })), []);
  });

  test('create clears identity and status; setRequester fills identity from the request user', () => {
    const o = csr({ username: 'mallory', groups: ['system:masters'] }, { conditions: [{ type: 'Approved', status: 'True' }] });
    Strategy.prepareForCreate!(o);
    assert.deepEqual(o.status, {});
    assert.equal((o.spec as Record<string, unknown>).username, undefined);
    setRequester(o, { name: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated'] });
    assert.equal((o.spec as Record<string, unknown>).username, 'alice');
    assert.deepEqual((o.spec as Record<string, unknown>).groups, ['dev', 'system:authenticated']);
  });

  test('rejects bad requests, usages, signer names and expirations (upstream cases)', () => {
    assert.deepEqual(summary(Strategy.validate(csr({ request: b64('junk') }))), ['FieldValueInvalid spec.request: PEM block type must be CERTIFICATE REQUEST']);
    assert.deepEqual(summary(Strategy.validate(csr({ usages: [] }))), ['FieldValueRequired spec.usages: ']);
    const usageErrs = Strategy.validate(csr({ usages: ['client auth', 'teleport', 'client auth'] }));
    assert.deepEqual(usageErrs.map((e) => `${e.type} ${e.field}`), ['FieldValueNotSupported spec.usages[1]', 'FieldValueDuplicate spec.usages[2]']);
    assert.deepEqual(summary(Strategy.validate(csr({ signerName: '' }))), ['FieldValueRequired spec.signerName: ']);
    assert.deepEqual(summary(Strategy.validate(csr({ signerName: 'kubernetes.io/legacy-unknown' }))), [
      'FieldValueInvalid spec.signerName: the legacy signerName is not allowed via this API version',
    ]);
    assert.deepEqual(summary(Strategy.validate(csr({ signerName: 'example.com' }))), [
      "FieldValueInvalid spec.signerName: must be a fully qualified domain and path of the form 'example.com/signer-name'",
    ]);
    assert.deepEqual(summary(Strategy.validate(csr({ signerName: 'example/signer' }))), [
      'FieldValueInvalid spec.signerName: should be a domain with at least two segments separated by dots',
    ]);
    assert.equal(Strategy.validate(csr({ signerName: 'Example.com/signer' }))[0]?.detail?.startsWith('validating label "Example": '), true);
    assert.deepEqual(summary(Strategy.validate(csr({ expirationSeconds: 599 }))), [
      'FieldValueInvalid spec.expirationSeconds: may not specify a duration less than 600 seconds (10 minutes)',
    ]);
  });

  test('conditions and certificate (upstream cases)', () => {
    const withStatus = (status: Record<string, unknown>) => summary(Strategy.validate(csr({}, status)));
    assert.deepEqual(withStatus({ conditions: [{ type: 'Approved', status: 'False' }] }), ['FieldValueNotSupported status.conditions[0].status: supported values: "True"']);
    assert.deepEqual(withStatus({ conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] }), [
      'FieldValueInvalid status.conditions[1].type: Approved and Denied conditions are mutually exclusive',
    ]);
    assert.deepEqual(withStatus({ conditions: [{ type: 'Ready', status: 'Maybe' }, { type: 'Ready', status: 'True' }, { type: '', status: '' }] }), [
      'FieldValueNotSupported status.conditions[0].status: supported values: "False", "True", "Unknown"',
      'FieldValueDuplicate status.conditions[1].type: ',
      'FieldValueRequired status.conditions[2].type: ',
      'FieldValueRequired status.conditions[2].status: ',
    ]);
    assert.deepEqual(withStatus({ certificate: b64(certPEM) }), []);
    assert.deepEqual(withStatus({ certificate: b64(ecCSR) }), ['FieldValueInvalid status.certificate: only CERTIFICATE PEM blocks are allowed, found "CERTIFICATE REQUEST"']);
    assert.deepEqual(withStatus({ certificate: b64('nothing') }), ['FieldValueInvalid status.certificate: must contain at least one CERTIFICATE PEM block']);
  });

  test('main-resource updates keep spec and status', () => {
    const old = csr({}, { conditions: [{ type: 'Approved', status: 'True' }] });
    const next = csr({ usages: ['server auth'] }, { certificate: b64(certPEM) });
    Strategy.prepareForUpdate!(next, old);
    assert.deepEqual(next.spec, old.spec);
    assert.deepEqual(next.status, old.status);
  });

  test('approval changes only conditions and stamps them', () => {
    const old = csr({}, {});
    const next = csr({ usages: ['server auth'] }, { certificate: b64(certPEM), conditions: [{ type: 'Approved', reason: 'KubectlApprove', message: 'ok' }] });
    prepareApprovalUpdate(next, old, new Date('2024-01-02T03:04:05Z'));
    assert.deepEqual(next.spec, old.spec);
    assert.deepEqual(next.status, {
      conditions: [
        { type: 'Approved', reason: 'KubectlApprove', message: 'ok', status: 'True', lastUpdateTime: '2024-01-02T03:04:05Z', lastTransitionTime: '2024-01-02T03:04:05Z' },
      ],
    });
    assert.deepEqual(validateApprovalUpdate(next, old), []);
    const removed = csr({}, {});
    assert.deepEqual(summary(validateApprovalUpdate(removed, next)), ['FieldValueForbidden status.conditions: updates may not remove a condition of type "Approved"']);
  });

  test('status updates may not add, remove or modify approval, nor change an issued certificate', () => {
    const approved = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: b64(certPEM) });
    const sneaky = csr({}, { conditions: [{ type: 'Denied', status: 'True' }], certificate: b64(`${certPEM}${certPEM}`) });
    assert.deepEqual(summary(Strategy.validateStatusUpdate!(sneaky, approved)), [
      'FieldValueForbidden status.conditions: updates may not remove a condition of type "Approved"',
      'FieldValueForbidden status.conditions: updates may not add a condition of type "Denied"',
      'FieldValueForbidden status.certificate: updates may not modify existing certificate content',
    ]);
    const reworded = csr({}, { conditions: [{ type: 'Approved', status: 'True', message: 'edited' }], certificate: b64(certPEM) });
    assert.deepEqual(summary(Strategy.validateStatusUpdate!(reworded, approved)), ['FieldValueForbidden status.conditions: updates may not modify a condition of type "Approved"']);
    const issued = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: b64(certPEM) });
    assert.deepEqual(Strategy.validateStatusUpdate!(issued, csr({}, { conditions: [{ type: 'Approved', status: 'True' }] })), []);
    // Only /status may issue certificates.
    assert.deepEqual(summary(Strategy.validateUpdate!(issued, csr({}, { conditions: [{ type: 'Approved', status: 'True' }] }))), [
      'FieldValueForbidden status.certificate: updates may not set certificate content',
    ]);
  });

  test('objects stored under older rules stay updatable', () => {
    const legacy = csr({ signerName: 'kubernetes.io/legacy-unknown', usages: ['client auth', 'client auth'] }, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] });
    assert.deepEqual(Strategy.validateStatusUpdate!(legacy, legacy), []);
    assert.ok(Strategy.validate(legacy).length > 0);
  });

  test('spec.signerName is a selectable field', () => {
    assert.deepEqual(Strategy.selectableFields!(csr()), { 'spec.signerName': 'kubernetes.io/kube-apiserver-client' });
  });
});
