// Node join, as k3s serves it: GET /cacerts hands out the cluster CA (agents check it against the hash in their full
// token before trusting it); POST /v1-skiff/client-kubelet.crt and /v1-skiff/serving-kubelet.crt sign an agent's
// certificate requests after it proves the join token (HTTP Basic, any user name, the token's password). The agent
// keeps its private keys: it sends a PKCS#10 request and gets back the certificate followed by the CA.
//
// Why not upstream's TLS bootstrap (bootstrap token → CertificateSigningRequest → csrapproving → csrsigning): it needs
// bootstrap-token Secrets, a group-restricted authorizer, two controllers and a polling agent, and upstream never
// auto-approves kubelet serving certificates. k3s's endpoint works before any controller runs, in one round trip,
// and covers both certificates; the server still decides every name in them.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../machinery/errors.js';
import type { CertAndKey, SubjectAltNames } from './pki/crypto.js';
import { canonicalIp } from './pki/cidr.js';
import type { RequestInfo } from './request-info.js';
import type { UserInfo } from './auth/user.js';
import { NODE_USER_PREFIX, NODES_GROUP } from './auth/node.js';

export const CACERTS_PATH = '/cacerts';
export const CLIENT_KUBELET_PATH = '/v1-skiff/client-kubelet.crt';
export const SERVING_KUBELET_PATH = '/v1-skiff/serving-kubelet.crt';
/** The node an agent asks certificates for (k3s: k3s-Node-Name). */
export const NODE_NAME_HEADER = 'skiff-node-name';


const MAX_BODY = 64 * 1024;
/** DNS-1123 subdomain, as Node names are. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Paths anyone may call without credentials: the route itself checks the join token where one is needed. */
export function isJoinPath(path: string): boolean {
  return path === CACERTS_PATH || path === CLIENT_KUBELET_PATH || path === SERVING_KUBELET_PATH;
}

export interface JoinOptions {
  ca: CertAndKey;
  /** The join token's password. */
  password: string;
  /** Names of the API server's own serving certificate: a kubelet serving certificate may not claim them. */
  apiServerSans: SubjectAltNames;
  /** Node passwords (k3s's node-passwd): absent, every agent holding the token may take any node name. */
  nodePasswords?: NodePasswords;
  /** --cluster-signing-duration: node certificates' lifetime (default 365 days). */
  signingDurationMs?: number;
}

/** The node's own password, made once by the agent (k3s: k3s-Node-Password). */
export const NODE_PASSWORD_HEADER = 'skiff-node-password';

/**
 * k3s's node-passwd file (<data-dir>/server/cred/node-passwd, lines "<sha256 of the password>,<node name>"): the first
 * agent to take a node name records its node password; later requests for that name must bring the same one, so a
 * second machine cannot take over an existing node's name (and its NodeRestriction rights) with the join token alone.
 */
export class NodePasswords {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly file: string) {}

  /** Records the password of a new node name, or checks it against the recorded one. */
  check(nodeName: string, password: string): Promise<boolean> {
    const run = this.chain.then(async () => {
      const { readFile } = await import('node:fs/promises');
      const { writeFileAtomic } = await import('./pki/cluster.js');
      const text = await readFile(this.file, 'utf8').catch(() => '');
      const hash = createHash('sha256').update(password).digest('hex');
      for (const line of text.split('\n')) {
        const comma = line.indexOf(',');
        if (comma <= 0 || line.slice(comma + 1) !== nodeName) continue;
        const stored = line.slice(0, comma);
        return stored.length === hash.length && timingSafeEqual(Buffer.from(stored), Buffer.from(hash));
      }
      await writeFileAtomic(this.file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${hash},${nodeName}\n`, 0o600);
      return true;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** Anyone may call the join paths (anonymous included): /cacerts is public and the route checks the token itself. */
export class JoinPathAuthorizer {
  authorize(attrs: { isResourceRequest: boolean; path: string }): { decision: 'allow' | 'no-opinion' } {
    return !attrs.isResourceRequest && isJoinPath(attrs.path) ? { decision: 'allow' } : { decision: 'no-opinion' };
  }
}

/** The password of an "Authorization: Basic" header (k3s sends user "node" or "server"). */
function basicPassword(header: string | undefined): string | undefined {
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function samePassword(a: string, b: string): boolean {
  const d = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(d(a), d(b));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError({ message: 'certificate request too large', reason: 'RequestEntityTooLarge', code: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The names a kubelet serving certificate gets: the node name and the IPs it asked for, never the API server's. */
export function kubeletServingSans(nodeName: string, requested: SubjectAltNames, apiServer: SubjectAltNames): SubjectAltNames {
  const takenIps = new Set(apiServer.ips.map(canonicalIp));
  const ips = [...new Set(requested.ips.filter((ip) => isIP(ip) !== 0).map(canonicalIp))].filter((ip) => !takenIps.has(ip));
  const dnsNames = apiServer.dnsNames.includes(nodeName) ? [] : [nodeName];
  return { dnsNames, ips };
}

/** Serves /cacerts and the certificate endpoints; returns false for other paths. */
export function joinRoute(o: JoinOptions): (req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo) => Promise<boolean> {
  return async (req, res, info) => {
    if (info.isResourceRequest || !isJoinPath(info.path)) return false;
    if (info.path === CACERTS_PATH) {
      if (req.method !== 'GET') throw ApiError.methodNotAllowed();
      res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Content-Length': Buffer.byteLength(o.ca.certPem) });
      res.end(o.ca.certPem);
      return true;
    }
    if (req.method !== 'POST') throw ApiError.methodNotAllowed();
    const password = basicPassword(req.headers.authorization);
    if (password === undefined || !samePassword(password, o.password)) throw ApiError.unauthorized();
    const nodeName = String(req.headers[NODE_NAME_HEADER] ?? '');
    if (!NODE_NAME.test(nodeName) || nodeName.length > 253) throw ApiError.badRequest(`invalid ${NODE_NAME_HEADER} header ${JSON.stringify(nodeName)}`);
    if (o.nodePasswords) {
      const nodePassword = String(req.headers[NODE_PASSWORD_HEADER] ?? '');
      if (!nodePassword) throw ApiError.badRequest(`missing ${NODE_PASSWORD_HEADER} header`);
      if (!(await o.nodePasswords.check(nodeName, nodePassword))) {
        throw ApiError.forbidden('', 'nodes', nodeName, `Node password rejected, duplicate hostname or contents of the agent's node-password file may not match the server's node-passwd entry for node "${nodeName}"`);
      }
    }
    const csrPem = await readBody(req);
    const { inspectCSR, signCSR } = await import('./pki/issue.js');
    let asked;
    try {
      asked = await inspectCSR(csrPem);
    } catch (e) {
      throw ApiError.badRequest((e as Error).message);
    }
    const commonName = `${NODE_USER_PREFIX}${nodeName}`;
    if (asked.commonName !== commonName || !asked.organizations.includes(NODES_GROUP)) {
      throw ApiError.badRequest(`the certificate request must have CN=${commonName} and O=${NODES_GROUP}`);
    }
    const serving = info.path === SERVING_KUBELET_PATH;
    const certPem = await signCSR(o.ca, csrPem, {
      commonName,
      organizations: [NODES_GROUP],
      usage: serving ? 'server' : 'client',
      ...(serving ? { sans: kubeletServingSans(nodeName, asked.sans, o.apiServerSans) } : {}),
      ...(o.signingDurationMs ? { validityMs: o.signingDurationMs } : {}),
    });
    const body = certPem + o.ca.certPem;
    res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  };
}
