// Reading and checking certificates with node:crypto alone, so a restart with valid certificates never loads the
// issuing library (see issue.ts).
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { canonicalIp } from './cidr.js';

export type CryptoKey = webcrypto.CryptoKey;

export const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate with its private key, as PEM text and as usable objects. */
export interface CertAndKey {
  certPem: string;
  keyPem: string;
  cert: NodeX509;
  key: CryptoKey;
}

export interface SubjectAltNames {
  dnsNames: string[];
  ips: string[];
}

/** Imports a PKCS#8 PEM EC private key for signing. */
export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new Error('no PKCS#8 "PRIVATE KEY" PEM block');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(m[1].replace(/\s+/g, ''), 'base64'), KEY_ALGORITHM, true, ['sign']);
}

/** Parses a PEM certificate and key pair written earlier; throws when either is unreadable. */
export async function loadCertAndKey(certPem: string, keyPem: string): Promise<CertAndKey> {
  return { certPem, keyPem, cert: new NodeX509(certPem), key: await importPrivateKey(keyPem) };
}

/** The certificate's DNS and IP SANs, IPs in canonical form (node prints "DNS:a, IP Address:1.2.3.4"). */
export function subjectAltNames(cert: NodeX509): SubjectAltNames {
  const out: SubjectAltNames = { dnsNames: [], ips: [] };
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) out.dnsNames.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) out.ips.push(canonicalIp(entry.slice(11)));
  }
  return out;
}

export function sameSans(a: SubjectAltNames, b: SubjectAltNames): boolean {
  const eq = (x: string[], y: string[]) => {
    const sx = new Set(x);
    const sy = new Set(y);
    return sx.size === sy.size && [...sx].every((v) => sy.has(v));
  };
  return eq(a.dnsNames, b.dnsNames) && eq(a.ips.map(canonicalIp), b.ips.map(canonicalIp));
}

/** True when `cert` was signed by `ca` and stays valid for at least `minRemainingDays`. */
export function isIssuedAndFresh(cert: NodeX509, ca: CertAndKey, minRemainingDays: number): boolean {
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return false;
  const notAfter = Date.parse(cert.validTo);
  return Number.isFinite(notAfter) && notAfter - Date.now() > minRemainingDays * DAY_MS;
}
