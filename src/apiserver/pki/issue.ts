// Certificate issuance with @peculiar/x509 (node:crypto can read certificates but cannot create them). Loaded only
// when a certificate must be made. Keys are EC P-256: generating one takes about a millisecond.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { KEY_ALGORITHM, type CertAndKey, type CryptoKey, type SubjectAltNames } from './crypto.js';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** Leaf certificates last a year (as k3s); the CA ten years. */
export const LEAF_VALIDITY_DAYS = 365;
export const CA_VALIDITY_DAYS = 3650;
/** Allow for clocks slightly behind ours. */
const BACKDATE_MS = 60 * 60 * 1000;

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive INTEGER
  b[0] |= 0x01; // and no leading zero byte to trim
  return b.toString('hex');
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** From an hour ago (clock skew) for `days`, or for `ms` when given (backdated by a tenth of it, at most an hour). */
function validity(days: number, ms?: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  if (ms !== undefined) return { notBefore: new Date(now - Math.min(BACKDATE_MS, ms / 10)), notAfter: new Date(now + ms) };
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

async function finish(cert: x509.X509Certificate, key: CryptoKey): Promise<CertAndKey> {
  const certPem = cert.toString('pem') + '\n';
  return { certPem, keyPem: (await privateKeyPem(key)) + '\n', cert: new NodeX509(certPem), key };
}

/** A self-signed CA certificate. */
export async function createCA(commonName: string): Promise<CertAndKey> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    ...validity(CA_VALIDITY_DAYS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(cert, keys.privateKey);
}

/** Signs a leaf certificate for `publicKey` with the CA. */
async function signLeaf(
  ca: CertAndKey,
  subject: x509.JsonName,
  usage: 'server' | 'client',
  publicKey: CryptoKey,
  sans?: SubjectAltNames,
  validityMs?: number,
): Promise<x509.X509Certificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sans) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...sans.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: caCert.subjectName,
    ...validity(LEAF_VALIDITY_DAYS, validityMs),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey,
    signingKey: ca.key,
    extensions,
  });
}

async function issue(
  ca: CertAndKey,
  subject: x509.JsonName,
  usage: 'server' | 'client',
  sans?: SubjectAltNames,
): Promise<CertAndKey> {
  const keys = await newKeyPair();
  return finish(await signLeaf(ca, subject, usage, keys.publicKey, sans), keys.privateKey);
}

/** Subject names: one RDN per organization, then the common name, as upstream's certificates have them. */
function subjectName(cn: string, orgs: readonly string[]): x509.JsonName {
  return [...orgs.map((o) => ({ O: [o] })), { CN: [cn] }];
}

/** What a PKCS#10 request asks for, once its signature is checked. */
export interface CertificateRequestInfo {
  commonName: string;
  organizations: string[];
  sans: SubjectAltNames;
}

async function readCSR(csrPem: string): Promise<{ csr: x509.Pkcs10CertificateRequest; info: CertificateRequestInfo }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new Error(`not a PEM certificate request: ${(e as Error).message}`, { cause: e });
  }
  if (!(await csr.verify())) throw new Error('the certificate request is not signed by its own key');
  const names = csr.subjectName.toJSON();
  const all = (type: string) => names.flatMap((rdn) => rdn[type] ?? []);
  const rawSan = csr.getExtension('2.5.29.17');
  const sanExt = rawSan ? new x509.SubjectAlternativeNameExtension(rawSan.rawData) : undefined;
  const sans: SubjectAltNames = { dnsNames: [], ips: [] };
  for (const n of sanExt?.names.toJSON() ?? []) {
    if (n.type === 'dns') sans.dnsNames.push(n.value);
    else if (n.type === 'ip') sans.ips.push(n.value);
  }
  return { csr, info: { commonName: all('CN')[0] ?? '', organizations: all('O'), sans } };
}

/** The subject and names a certificate request carries (its signature checked). */
export async function inspectCSR(csrPem: string): Promise<CertificateRequestInfo> {
  return (await readCSR(csrPem)).info;
}

/**
 * Signs a certificate request with the CA. The caller decides the subject and names (normally after checking them
 * against what the request asked for); only the request's public key is taken from it.
 */
export async function signCSR(
  ca: CertAndKey,
  csrPem: string,
  cert: { commonName: string; organizations: string[]; usage: 'server' | 'client'; sans?: SubjectAltNames; validityMs?: number },
): Promise<string> {
  const { csr } = await readCSR(csrPem);
  const publicKey = await csr.publicKey.export(KEY_ALGORITHM, ['verify']);
  const signed = await signLeaf(ca, subjectName(cert.commonName, cert.organizations), cert.usage, publicKey, cert.sans, cert.validityMs);
  return signed.toString('pem') + '\n';
}

/** Certificate requests are made with node:crypto alone (agents need no X.509 library for them). */
export { createKeyAndCSR } from './csr.js';

/** A serving certificate for the given DNS names and IP addresses. */
export function issueServingCert(ca: CertAndKey, commonName: string, sans: SubjectAltNames): Promise<CertAndKey> {
  return issue(ca, [{ CN: [commonName] }], 'server', sans);
}

/** A client certificate: CN is the user name and each organization a group (e.g. node certs later). */
export function issueClientCert(ca: CertAndKey, cn: string, orgs: string[]): Promise<CertAndKey> {
  return issue(ca, subjectName(cn, orgs), 'client');
}

