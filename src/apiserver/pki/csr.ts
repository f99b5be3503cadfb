// PKCS#10 certificate requests (RFC 2986) with node:crypto alone: an EC P-256 key, the subject (O=... groups, then
// CN), an extensionRequest carrying the subjectAltName, signed with ECDSA SHA-256. Agents make these to join; DER is
// written by hand so that an agent never loads the X.509 library (about 3 MiB of heap, measured) only for this.
import { generateKeyPairSync, sign } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { ipToBigInt } from './cidr.js';
import type { SubjectAltNames } from './crypto.js';

const OID = {
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
};

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER value: tag, length, contents. */
function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const v of rest) {
    const enc = [v % 128];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) enc.unshift((x % 128) | 0x80);
    bytes.push(...enc);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function ipBytes(ip: string): Buffer {
  const width = isIPv4(ip) ? 4 : 16;
  const out = Buffer.alloc(width);
  let v = ipToBigInt(ip);
  for (let i = width - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** GeneralNames: dNSName [2] and iPAddress [7], both implicitly tagged. */
function generalNames(sans: SubjectAltNames): Buffer {
  return sequence(...sans.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...sans.ips.map((ip) => tlv(0x87, ipBytes(ip))));
}

/** A new private key (PKCS#8 PEM) and a certificate request for it. */
export async function createKeyAndCSR(commonName: string, organizations: string[], sans?: SubjectAltNames): Promise<{ keyPem: string; csrPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = sequence(
    ...organizations.map((o) => set(sequence(objectId(OID.organization), utf8String(o)))),
    set(sequence(objectId(OID.commonName), utf8String(commonName))),
  );
  const extensions = sans ? [sequence(objectId(OID.subjectAltName), tlv(0x04, generalNames(sans)))] : [];
  const attributes = extensions.length ? [sequence(objectId(OID.extensionRequest), set(sequence(...extensions)))] : [];
  const info = sequence(
    tlv(0x02, Buffer.from([0])), // version 1 (0)
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0, ...attributes), // [0] IMPLICIT SET OF Attribute
  );
  const signature = sign('sha256', info, privateKey); // ECDSA-Sig-Value in DER
  const der = sequence(info, sequence(objectId(OID.ecdsaWithSHA256)), tlv(0x03, Buffer.from([0]), signature));
  const pem = (label: string, body: Buffer) => `-----BEGIN ${label}-----\n${body.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), csrPem: pem('CERTIFICATE REQUEST', der) };
}
