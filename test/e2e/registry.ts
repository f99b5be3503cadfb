// A small OCI distribution (v2) registry for tests (no registry is reachable from these machines): HTTPS on
// 127.0.0.1 with a certificate from its own CA, serving manifests and blobs of OCI archives built offline
// (src/kubelet/images/build.ts). Pulls are what containerd does: HEAD/GET /v2/<name>/manifests/<tag|digest> and
// GET /v2/<name>/blobs/<digest>. Repositories under a private prefix answer 401 with a Basic challenge unless the
// request carries one of the configured users' credentials; unknown names answer 404 MANIFEST_UNKNOWN / BLOB_UNKNOWN.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCA, issueServingCert } from '../../src/apiserver/pki/issue.js';

const run = promisify(execFile);

export interface TestRegistryOptions {
  /** Repositories whose name starts with this need basic auth (default "private/"). */
  privatePrefix?: string;
  /** user -> password accepted for private repositories. */
  users?: Record<string, string>;
}

export interface RegistryRequest {
  method: string;
  path: string;
  status: number;
  user?: string;
}

export interface TestRegistry {
  /** host:port (127.0.0.1:N), the registry part of image names. */
  host: string;
  /** PEM of the CA that signed the registry's certificate (registries.yaml tls.ca_file). */
  caPem: string;
  /** Every request served, in order. */
  requests: RegistryRequest[];
  /** Serves the image of an OCI archive as `repo:tag`; returns the manifest digest. */
  push(archive: string, repo: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

interface Manifest {
  mediaType: string;
  body: Buffer;
}

const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/;

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export async function startTestRegistry(opts: TestRegistryOptions = {}): Promise<TestRegistry> {
  const privatePrefix = opts.privatePrefix ?? 'private/';
  const users = opts.users ?? {};
  const work = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  const ca = await createCA('skiff-test-registry-ca');
  const serving = await issueServingCert(ca, '127.0.0.1', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  /** "repo:tag" and "repo@digest" -> manifest. */
  const manifests = new Map<string, Manifest>();
  /** digest -> file holding the blob. */
  const blobs = new Map<string, string>();
  const requests: RegistryRequest[] = [];
  let archives = 0;

  const userOf = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Basic ')) return undefined;
    const text = Buffer.from(h.slice(6), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    const user = text.slice(0, colon);
    return colon > 0 && users[user] !== undefined && users[user] === text.slice(colon + 1) ? user : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const path = new URL(req.url ?? '/', 'https://registry').pathname;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      sendError(res, 405, 'UNSUPPORTED', 'the test registry only serves pulls');
      return 405;
    }
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
      res.end(head ? undefined : '{}');
      return 200;
    }
    const m = MANIFEST_PATH.exec(path) ?? BLOB_PATH.exec(path);
    if (!m) {
      sendError(res, 404, 'NOT_FOUND', 'not found');
      return 404;
    }
    const repo = m[1]!;
    if (repo.startsWith(privatePrefix) && !userOf(req)) {
      sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': 'Basic realm="skiff-test-registry"' });
      return 401;
    }
    if (MANIFEST_PATH.test(path)) {
      const ref = m[2]!;
      const man = manifests.get(ref.startsWith('sha256:') ? `${repo}@${ref}` : `${repo}:${ref}`);
      if (!man) {
        sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
        return 404;
      }
      const digest = `sha256:${createHash('sha256').update(man.body).digest('hex')}`;
      res.writeHead(200, { 'Content-Type': man.mediaType, 'Content-Length': man.body.length, 'Docker-Content-Digest': digest, 'Docker-Distribution-API-Version': 'registry/2.0' });
      res.end(head ? undefined : man.body);
      return 200;
    }
    const file = blobs.get(m[2]!);
    if (!file) {
      sendError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      return 404;
    }
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length, 'Docker-Content-Digest': m[2]! });
    res.end(head ? undefined : data);
    return 200;
  };

  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    handle(req, res).then(
      (status) => requests.push({ method: req.method ?? '', path: req.url ?? '', status, ...(userOf(req) ? { user: userOf(req)! } : {}) }),
      (err: unknown) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 500 });
        if (!res.headersSent) sendError(res, 500, 'UNKNOWN', (err as Error).message);
        else res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    host,
    caPem: ca.certPem,
    requests,
    async push(archive, repo, tag) {
      const dir = join(work, `archive-${archives++}`);
      await mkdir(dir, { recursive: true });
      await run('tar', ['-xf', archive, '-C', dir]);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; mediaType: string }[] };
      const desc = index.manifests[0]!;
      const blobFile = (digest: string) => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
      const body = await readFile(blobFile(desc.digest));
      const parsed = JSON.parse(body.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)]) blobs.set(d, blobFile(d));
      const man = { mediaType: desc.mediaType, body };
      manifests.set(`${repo}:${tag}`, man);
      manifests.set(`${repo}@${desc.digest}`, man);
      return desc.digest;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(work, { recursive: true, force: true });
    },
  };
}
