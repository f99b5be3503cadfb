// Synchronous PEM/PKCS#10 checks for CertificateSigningRequests, as upstream's certificates.ParseCSR +
// CheckSignature and validateCertificate do: validation runs inside a synchronous strategy, so this reads the
// DER structure directly and verifies with node:crypto instead of an async WebCrypto library.
import { X509Certificate, constants, createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface PemBlock {
  type: string;
  headers: Record<string, string>;
  bytes: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in the text, in order, like repeated calls of Go's pem.Decode. */
export function decodePEM(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const headers: Record<string, string> = {};
    let body = m[2];
    const blank = body.search(/\r?\n\r?\n/);
    if (blank >= 0 && body.slice(0, blank).includes(':')) {
      for (const line of body.slice(0, blank).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      body = body.slice(blank);
    }
    blocks.push({ type: m[1], headers, bytes: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}

interface TLV {
  tag: number;
  /** Start of the whole element (tag byte). */
  start: number;
  /** Start and end of the contents. */
  contentStart: number;
  end: number;
}

class MalformedError extends Error {}

function readTLV(der: Buffer, offset: number, limit = der.length): TLV {
  if (offset + 2 > limit) throw new MalformedError('truncated element');
  const tag = der[offset];
  let len = der[offset + 1];
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > limit) throw new MalformedError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[pos + i];
    pos += n;
  }
  if (pos + len > limit) throw new MalformedError('truncated element');
  return { tag, start: offset, contentStart: pos, end: pos + len };
}

/** The elements of a constructed element (SEQUENCE, ...). */
function children(der: Buffer, parent: TLV): TLV[] {
  const out: TLV[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const el = readTLV(der, pos, parent.end);
    out.push(el);
    pos = el.end;
  }
  return out;
}

function decodeOID(bytes: Buffer): string {
  if (bytes.length === 0) throw new MalformedError('empty OID');
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** Signature algorithms by OID: the hash for node's verify (null: the key decides), or PSS. */
const SIGNATURE_ALGORITHMS: Record<string, { hash: string | null; pss?: boolean }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1' },
  '1.2.840.113549.1.1.11': { hash: 'sha256' },
  '1.2.840.113549.1.1.12': { hash: 'sha384' },
  '1.2.840.113549.1.1.13': { hash: 'sha512' },
  '1.2.840.113549.1.1.10': { hash: 'sha256', pss: true },
  '1.2.840.10045.4.1': { hash: 'sha1' },
  '1.2.840.10045.4.3.2': { hash: 'sha256' },
  '1.2.840.10045.4.3.3': { hash: 'sha384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512' },
  '1.3.101.112': { hash: null },
};

/**
 * Upstream's ParseCSR + CheckSignature on the PEM text of spec.request. Returns the error message upstream's
 * validation would report, or undefined when the request is a well-formed, correctly self-signed CSR.
 */
export function checkCSR(pemText: string): string | undefined {
  const block = decodePEM(pemText)[0];
  if (!block || block.type !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  const der = block.bytes;
  let key: KeyObject;
  let tbs: Buffer;
  let signature: Buffer;
  let algorithm: string;
  try {
    const outer = readTLV(der, 0);
    const [info, algId, sig] = children(der, outer);
    if (outer.tag !== 0x30 || info?.tag !== 0x30 || algId?.tag !== 0x30 || sig?.tag !== 0x03) throw new MalformedError('not a certificate request');
    const [, subject, spki] = children(der, info);
    if (subject?.tag !== 0x30 || spki?.tag !== 0x30) throw new MalformedError('not a certificate request');
    key = createPublicKey({ key: der.subarray(spki.start, spki.end), format: 'der', type: 'spki' });
    tbs = der.subarray(info.start, info.end);
    const oid = children(der, algId)[0];
    if (oid?.tag !== 0x06) throw new MalformedError('bad signature algorithm');
    algorithm = decodeOID(der.subarray(oid.contentStart, oid.end));
    signature = der.subarray(sig.contentStart + 1, sig.end);
  } catch (e) {
    if (e instanceof MalformedError) return `x509: malformed certificate request: ${e.message}`;
    return `x509: failed to parse public key: ${(e as Error).message}`;
  }
  const alg = SIGNATURE_ALGORITHMS[algorithm];
  if (!alg) return 'x509: cannot verify signature: algorithm unimplemented';
  const ok = alg.pss
    ? ['sha256', 'sha384', 'sha512'].some((h) =>
        verify(h, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature),
      )
    : safeVerify(alg.hash, tbs, key, signature);
  if (!ok) return VERIFICATION_FAILURES[key.asymmetricKeyType ?? ''] ?? 'x509: signature verification failure';
  return undefined;
}

/** Go's messages for a signature that does not verify, by key type. */
const VERIFICATION_FAILURES: Record<string, string> = {
  rsa: 'crypto/rsa: verification error',
  'rsa-pss': 'crypto/rsa: verification error',
  ec: 'x509: ECDSA verification failure',
  ed25519: 'x509: Ed25519 verification failure',
};

function safeVerify(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** Upstream's validateCertificate: status.certificate holds only CERTIFICATE PEM blocks, at least one. */
export function checkCertificateChain(pemText: string): string | undefined {
  if (pemText.length === 0) return undefined;
  const blocks = decodePEM(pemText);
  for (const block of blocks) {
    if (block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${block.type}"`;
    if (Object.keys(block.headers).length > 0) return 'no PEM block headers are permitted';
    try {
      new X509Certificate(block.bytes);
    } catch (e) {
      return `x509: malformed certificate: ${(e as Error).message}`;
    }
  }
  return blocks.length === 0 ? 'must contain at least one CERTIFICATE PEM block' : undefined;
}
