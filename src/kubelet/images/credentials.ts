// Registry credentials from a pod's imagePullSecrets, as upstream's credentialprovider keyring reads them: secrets of
// type kubernetes.io/dockerconfigjson (.dockerconfigjson: {"auths": {KEY: entry}}) and kubernetes.io/dockercfg
// (.dockercfg: {KEY: entry}); an entry holds username/password or "auth" (base64 of user:password). A key matches an
// image when its host matches (a "*" matches one DNS label), its port is the same and its path is a prefix of the
// repository's; the most specific keys come first and the kubelet tries each in turn.
import type { Secret } from 'kubernetes-types/core/v1.js';
import type { AuthConfig } from '../cri/types.js';
import { parseImageReference } from './reference.js';

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';

/** The CRI's AuthConfig (what PullImage takes). */
export type RegistryAuth = AuthConfig;

interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface KeyringEntry {
  key: string;
  host: string;
  port: string;
  path: string;
  auth: RegistryAuth;
}

/** Splits a config key ("https://index.docker.io/v1/", "127.0.0.1:5000", "*.example.com/team") into host, port, path. */
function parseKey(raw: string): { key: string; host: string; port: string; path: string } {
  let key = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  key = key.replace(/\/+$/, '');
  // docker's legacy index address means docker.io.
  if (/^index\.docker\.io(\/v1)?$/.test(key) || key === 'registry-1.docker.io') key = 'docker.io';
  const slash = key.indexOf('/');
  const hostPort = slash < 0 ? key : key.slice(0, slash);
  const path = slash < 0 ? '' : key.slice(slash + 1);
  const colon = hostPort.lastIndexOf(':');
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const port = colon < 0 ? '' : hostPort.slice(colon + 1);
  return { key, host: host.toLowerCase(), port, path: path.replace(/^v[12]$/, '') };
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => {
    if (!label.includes('*')) return label === h[i];
    const re = new RegExp(`^${label.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
    return re.test(h[i]!);
  });
}

function decodeAuth(entry: DockerConfigEntry): RegistryAuth {
  const auth: RegistryAuth = {};
  if (entry.username !== undefined) auth.username = entry.username;
  if (entry.password !== undefined) auth.password = entry.password;
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon >= 0) {
      auth.username = text.slice(0, colon);
      auth.password = text.slice(colon + 1);
    }
  }
  if (entry.identitytoken) auth.identityToken = entry.identitytoken;
  if (entry.registrytoken) auth.registryToken = entry.registrytoken;
  return auth;
}

/** The entries of one pull secret (an unreadable or foreign secret gives none). */
function secretEntries(secret: Secret): Record<string, DockerConfigEntry> {
  const data = secret.data ?? {};
  const read = (k: string): unknown => {
    const v = data[k];
    if (v === undefined) return undefined;
    try {
      return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
  const asEntries = (v: unknown): Record<string, DockerConfigEntry> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, DockerConfigEntry>) : {};
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON) return asEntries((read('.dockerconfigjson') as { auths?: unknown } | undefined)?.auths);
  if (secret.type === SECRET_TYPE_DOCKERCFG) return asEntries(read('.dockercfg'));
  return {};
}

export class DockerKeyring {
  private readonly entries: KeyringEntry[] = [];

  /** A keyring of the given pull secrets (their order kept for keys of equal specificity). */
  static fromSecrets(secrets: Secret[]): DockerKeyring {
    const ring = new DockerKeyring();
    for (const s of secrets) for (const [k, e] of Object.entries(secretEntries(s))) ring.add(k, decodeAuth(e ?? {}));
    return ring;
  }

  add(key: string, auth: RegistryAuth): void {
    const parsed = parseKey(key);
    // containerd 1.6 parses serverAddress as a URL and uses the credentials only for the host it names, so it gets
    // the registry as https://host[:port] (upstream sends the bare key, which such a containerd cannot parse).
    const host = parsed.host === 'docker.io' ? 'registry-1.docker.io' : parsed.host;
    const hostPort = parsed.port ? `${host}:${parsed.port}` : host;
    this.entries.push({ ...parsed, auth: { ...auth, serverAddress: `https://${hostPort}` } });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The credentials whose key matches `image`, most specific key first (empty: pull anonymously). */
  lookup(image: string): RegistryAuth[] {
    let domain: string;
    let path: string;
    try {
      ({ domain, path } = parseImageReference(image));
    } catch {
      return [];
    }
    const colon = domain.lastIndexOf(':');
    const host = (colon < 0 ? domain : domain.slice(0, colon)).toLowerCase();
    const port = colon < 0 ? '' : domain.slice(colon + 1);
    const matches = this.entries.filter(
      (e) => e.port === port && hostMatches(e.host, host) && (e.path === '' || path === e.path || path.startsWith(`${e.path}/`)),
    );
    // Upstream sorts its index in reverse order so longer (more specific) keys come first; stable for equal keys.
    return matches
      .map((e, i) => ({ e, i }))
      .sort((a, b) => (a.e.key === b.e.key ? a.i - b.i : a.e.key < b.e.key ? 1 : -1))
      .map(({ e }) => e.auth);
  }
}
