// The cluster's certificates under <data-dir>/server/tls/: made at first start, reused afterwards. Restarting with
// other addresses re-issues only the serving certificate; the CA (and so every kubeconfig) stays valid.
import type { UserInfo } from '../auth/user.js';
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, dirname } from 'node:path';
import { isIssuedAndFresh, loadCertAndKey, sameSans, subjectAltNames, type CertAndKey, type SubjectAltNames } from './crypto.js';
import { nthAddress, parseCidr } from './cidr.js';

export interface ClusterPki {
  dir: string;
  ca: CertAndKey;
  serving: CertAndKey;
  admin: CertAndKey;
}

export interface ServingSanOptions {
  serviceCidr: string;
  advertiseAddress?: string;
  bindAddress?: string;
  /** Defaults to os.hostname(). */
  hostname?: string;
}

/** Renew leaf certificates this long before they expire (k3s uses the same window). */
const RENEW_BEFORE_DAYS = 90;
const ADMIN_USER = 'system:admin';
const ADMIN_GROUPS = ['system:masters'];
/** The admin client certificate's identity: what the components inside `skiff server` act as, over either transport. */
export const ADMIN_USER_INFO: Readonly<UserInfo> = { name: ADMIN_USER, groups: ADMIN_GROUPS };

export function tlsDir(dataDir: string): string {
  return join(dataDir, 'server', 'tls');
}

/** The names clients use to reach the API server: loopback, this host, the kubernetes service and its IP. */
export function servingSans(opts: ServingSanOptions): SubjectAltNames {
  const dnsNames = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const host = (opts.hostname ?? hostname()).toLowerCase();
  if (host && !dnsNames.includes(host) && isIP(host) === 0) dnsNames.push(host);
  const ips = ['127.0.0.1', '::1', nthAddress(parseCidr(opts.serviceCidr), 1)];
  for (const extra of [opts.advertiseAddress, opts.bindAddress]) {
    if (extra && isIP(extra) && !isUnspecified(extra) && !ips.includes(extra)) ips.push(extra);
  }
  return { dnsNames, ips };
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/** Loads the cluster's certificates, creating or re-issuing whichever is missing, stale or for other names. */
export async function ensureClusterPki(dataDir: string, sans: SubjectAltNames): Promise<ClusterPki> {
  const dir = tlsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  // The issuing library costs hundreds of milliseconds to load: only when something must be issued.
  const issuer = () => import('./issue.js');
  let ca = await loadPair(dir, 'ca');
  let caIsNew = false;
  if (!ca) {
    ca = await (await issuer()).createCA(`skiff-ca@${Math.floor(Date.now() / 1000)}`);
    await savePair(dir, 'ca', ca);
    caIsNew = true;
  }

  let serving = caIsNew ? undefined : await loadPair(dir, 'serving-kube-apiserver');
  if (!serving || !isIssuedAndFresh(serving.cert, ca, RENEW_BEFORE_DAYS) || !sameSans(subjectAltNames(serving.cert), sans)) {
    serving = await (await issuer()).issueServingCert(ca, 'kube-apiserver', sans);
    await savePair(dir, 'serving-kube-apiserver', serving);
  }

  let admin = caIsNew ? undefined : await loadPair(dir, 'client-admin');
  if (!admin || !isIssuedAndFresh(admin.cert, ca, RENEW_BEFORE_DAYS)) {
    admin = await (await issuer()).issueClientCert(ca, ADMIN_USER, ADMIN_GROUPS);
    await savePair(dir, 'client-admin', admin);
  }
  return { dir, ca, serving, admin };
}

async function loadPair(dir: string, base: string): Promise<CertAndKey | undefined> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(join(dir, `${base}.crt`), 'utf8'), readFile(join(dir, `${base}.key`), 'utf8')]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return await loadCertAndKey(certPem, keyPem);
  } catch (e) {
    throw new Error(`unreadable certificate or key ${join(dir, base)}.{crt,key}: ${(e as Error).message}`, { cause: e });
  }
}

async function savePair(dir: string, base: string, pair: CertAndKey): Promise<void> {
  await writeFileAtomic(join(dir, `${base}.key`), pair.keyPem, 0o600);
  await writeFileAtomic(join(dir, `${base}.crt`), pair.certPem, 0o644);
}

/** Writes via a temporary file and rename, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode); // the umask may have narrowed or the file pre-existed
  await rename(tmp, path);
}
