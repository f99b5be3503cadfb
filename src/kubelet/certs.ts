// The agent's side of node join (k3s's): fetch the cluster CA from the server's /cacerts and trust it only when it
// matches the hash in the full token; then get a node client certificate (CN=system:node:<node>, O=system:nodes) and
// a kubelet serving certificate, both signed by the cluster CA, from the server's certificate endpoints. Keys are made
// here and never leave the node. Everything is kept under <data-dir>/agent and reused on restart while it still
// chains to the CA, names this node and its addresses, and has more than 90 days left.
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { canonicalIp } from '../apiserver/pki/cidr.js';
import { writeFileAtomic } from '../apiserver/pki/cluster.js';
import { subjectAltNames } from '../apiserver/pki/crypto.js';
import { createKeyAndCSR } from '../apiserver/pki/csr.js';
import { CACERTS_PATH, CLIENT_KUBELET_PATH, NODE_NAME_HEADER, NODE_PASSWORD_HEADER, SERVING_KUBELET_PATH } from '../apiserver/join.js';
import { NODE_USER_PREFIX, NODES_GROUP } from '../apiserver/auth/node.js';
import { caHash, type ParsedToken } from '../apiserver/pki/token.js';

const RENEW_BEFORE_MS = 90 * 24 * 60 * 60 * 1000;

export interface NodeCertificates {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
}

export type CertificateKind = 'client' | 'serving';

/** Signs one of the node's certificate requests: over HTTPS for `skiff agent`, in process for the server's own node. */
export type CertificateSigner = (kind: CertificateKind, csrPem: string) => Promise<string>;

export function agentCertPaths(agentDir: string) {
  return {
    ca: join(agentDir, 'server-ca.crt'),
    clientCert: join(agentDir, 'client-kubelet.crt'),
    clientKey: join(agentDir, 'client-kubelet.key'),
    servingCert: join(agentDir, 'serving-kubelet.crt'),
    servingKey: join(agentDir, 'serving-kubelet.key'),
  };
}

interface HttpResult {
  status: number;
  body: string;
}

function httpsCall(url: string, opts: { method: string; ca?: string; headers?: Record<string, string>; body?: string }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: opts.method,
        agent: false,
        timeout: 30_000,
        ...(opts.ca ? { ca: opts.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
        headers: { ...(opts.headers ?? {}), ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * The cluster CA from `server`'s /cacerts. With a full token its sha256 must equal the token's hash; a short token
 * carries none, so the CA is taken on trust (k3s does the same) and `onUnverified` is told.
 */
export async function fetchClusterCA(server: string, token: ParsedToken, onUnverified: () => void): Promise<string> {
  let r: HttpResult;
  try {
    r = await httpsCall(`${server}${CACERTS_PATH}`, { method: 'GET' });
  } catch (e) {
    throw new Error(`fetching the cluster CA from ${server}${CACERTS_PATH}: ${(e as Error).message}`, { cause: e });
  }
  if (r.status !== 200 || !r.body.includes('BEGIN CERTIFICATE')) throw new Error(`fetching the cluster CA from ${server}${CACERTS_PATH}: status ${r.status}`);
  if (token.caHash) {
    const got = caHash(r.body);
    if (got !== token.caHash) {
      throw new Error(`token CA hash does not match the Cluster CA certificate hash: ${token.caHash} != ${got} (is --server the cluster the token is from?)`);
    }
  } else onUnverified();
  return r.body;
}

/** The node's own password (k3s's /etc/rancher/node/password): made once, kept in <agent>/node-password. */
export async function nodePassword(agentDir: string): Promise<string> {
  const file = join(agentDir, 'node-password');
  const kept = (await readIfExists(file))?.trim();
  if (kept) return kept;
  const made = randomBytes(16).toString('hex');
  await writeFileAtomic(file, `${made}\n`, 0o600);
  return made;
}

/**
 * A signer that posts requests to the server's certificate endpoints, proving the join token's password and the
 * node's own password (the server remembers which node password took each node name).
 */
export function remoteSigner(server: string, caPem: string, password: string, nodeName: string, nodePass: string): CertificateSigner {
  return async (kind, csrPem) => {
    const path = kind === 'client' ? CLIENT_KUBELET_PATH : SERVING_KUBELET_PATH;
    const r = await httpsCall(`${server}${path}`, {
      method: 'POST',
      ca: caPem,
      headers: {
        Authorization: `Basic ${Buffer.from(`node:${password}`).toString('base64')}`,
        [NODE_NAME_HEADER]: nodeName,
        [NODE_PASSWORD_HEADER]: nodePass,
        'Content-Type': 'application/pkcs10',
      },
      body: csrPem,
    });
    if (r.status === 401) throw new Error(`${server}${path}: Unauthorized: the token's password is wrong`);
    if (r.status === 403) throw new Error(`${server}${path}: ${(JSON.parse(r.body) as { message?: string }).message ?? r.body}`);
    if (r.status !== 200) throw new Error(`${server}${path}: status ${r.status}: ${r.body}`);
    return r.body;
  };
}

/**
 * Whether a certificate is good for this node: chains to the CA, names the node (and its addresses), and has at
 * least `minRemainingMs` left (default: a kept certificate must have 90 days or 30 % of its lifetime left).
 */
export function reusable(certPem: string, caPem: string, nodeName: string, ips: string[] | undefined, now = Date.now(), minRemainingMs?: number): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    const notAfter = Date.parse(cert.validTo);
    const lifetime = notAfter - Date.parse(cert.validFrom);
    if (notAfter - now < (minRemainingMs ?? Math.min(RENEW_BEFORE_MS, lifetime * 0.3))) return false;
    if (!cert.subject.split('\n').includes(`CN=${NODE_USER_PREFIX}${nodeName}`)) return false;
    if (ips) {
      const have = new Set(subjectAltNames(cert).ips);
      if (!ips.every((ip) => have.has(canonicalIp(ip)))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export interface NodeCertificateRequest {
  agentDir: string;
  nodeName: string;
  addresses: string[];
  caPem: string;
  sign: CertificateSigner;
}

/** A new key and a certificate for it, signed by `sign` and written under the agent dir (the rotation's step too). */
export async function issueNodeCertificate(o: NodeCertificateRequest, kind: CertificateKind): Promise<{ cert: string; key: string }> {
  const p = agentCertPaths(o.agentDir);
  const ips = kind === 'serving' ? o.addresses : undefined;
  const sans = kind === 'serving' ? { dnsNames: [o.nodeName], ips: o.addresses } : undefined;
  const req = await createKeyAndCSR(`${NODE_USER_PREFIX}${o.nodeName}`, [NODES_GROUP], sans);
  const signed = await o.sign(kind, req.csrPem);
  if (!reusable(signed, o.caPem, o.nodeName, ips, Date.now(), 0)) throw new Error(`the server returned a ${kind} certificate that does not fit node ${o.nodeName}`);
  await writeFileAtomic(kind === 'client' ? p.clientKey : p.servingKey, req.keyPem, 0o600);
  await writeFileAtomic(kind === 'client' ? p.clientCert : p.servingCert, signed, 0o644);
  return { cert: signed, key: req.keyPem };
}

async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** The node's certificates: kept ones when still good, otherwise new keys and requests signed by `sign`. */
export async function ensureNodeCertificates(o: NodeCertificateRequest): Promise<NodeCertificates> {
  const p = agentCertPaths(o.agentDir);
  await writeFileAtomic(p.ca, o.caPem, 0o644);
  const one = async (kind: CertificateKind, certFile: string, keyFile: string): Promise<{ cert: string; key: string }> => {
    const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
    if (cert && key && reusable(cert, o.caPem, o.nodeName, kind === 'serving' ? o.addresses : undefined)) return { cert, key };
    return issueNodeCertificate(o, kind);
  };
  const client = await one('client', p.clientCert, p.clientKey);
  const serving = await one('serving', p.servingCert, p.servingKey);
  return { caPem: o.caPem, clientCertPem: client.cert, clientKeyPem: client.key, servingCertPem: serving.cert, servingKeyPem: serving.key };
}
