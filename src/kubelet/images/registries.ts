// Private registry configuration as k3s reads it (registries.yaml: `mirrors` and `configs`), written into the agent's
// containerd as k3s does for containerd 1.6+: one certs.d/<host>/hosts.toml per registry (endpoints, TLS: ca_file,
// cert_file/key_file, insecure_skip_verify) under the CRI plugin's `config_path`, and each registry's credentials as
// the CRI plugin's `registry.configs."<host>".auth` (containerd 1.6 reads no credentials from hosts.toml).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface RegistryTLS {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
}

export interface RegistryAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  identityToken?: string;
}

export interface RegistriesConfig {
  /** Registry host (or "*" for every registry) -> the endpoints to pull from, in order. */
  mirrors: Record<string, { endpoints: string[] }>;
  /** Registry host (host:port, or an endpoint's host) -> how to talk to it. */
  configs: Record<string, { tls?: RegistryTLS; auth?: RegistryAuthConfig }>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${where}: must be a string`);
  return v;
}

/** Parses registries.yaml (k3s's field names); throws with the file's path and the field at fault. */
export function parseRegistries(text: string, file = 'registries.yaml'): RegistriesConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const out: RegistriesConfig = { mirrors: {}, configs: {} };
  if (doc === null || doc === undefined) return out;
  if (!isObject(doc)) throw new Error(`${file}: expected a mapping with "mirrors" and "configs"`);
  for (const key of Object.keys(doc)) if (key !== 'mirrors' && key !== 'configs') throw new Error(`${file}: unknown field "${key}"`);
  if (doc.mirrors !== undefined && doc.mirrors !== null) {
    if (!isObject(doc.mirrors)) throw new Error(`${file}: mirrors: expected a mapping`);
    for (const [host, m] of Object.entries(doc.mirrors)) {
      const where = `${file}: mirrors."${host}"`;
      if (!isObject(m)) throw new Error(`${where}: expected a mapping`);
      const eps = m.endpoint ?? [];
      if (!Array.isArray(eps)) throw new Error(`${where}.endpoint: expected a list of URLs`);
      const endpoints = eps.map((e, i) => {
        const s = str(e, `${where}.endpoint[${i}]`) ?? '';
        try {
          const u = new URL(s);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
        } catch {
          throw new Error(`${where}.endpoint[${i}]: ${JSON.stringify(s)} is not an http(s) URL`);
        }
        return s.replace(/\/+$/, '');
      });
      out.mirrors[host] = { endpoints };
    }
  }
  if (doc.configs !== undefined && doc.configs !== null) {
    if (!isObject(doc.configs)) throw new Error(`${file}: configs: expected a mapping`);
    for (const [host, c] of Object.entries(doc.configs)) {
      const where = `${file}: configs."${host}"`;
      if (!isObject(c)) throw new Error(`${where}: expected a mapping`);
      const entry: { tls?: RegistryTLS; auth?: RegistryAuthConfig } = {};
      if (isObject(c.tls)) {
        const t = c.tls;
        const tls: RegistryTLS = {};
        const ca = str(t.ca_file, `${where}.tls.ca_file`);
        const cert = str(t.cert_file, `${where}.tls.cert_file`);
        const key = str(t.key_file, `${where}.tls.key_file`);
        if (ca) tls.caFile = ca;
        if (cert) tls.certFile = cert;
        if (key) tls.keyFile = key;
        if (t.insecure_skip_verify !== undefined) {
          if (typeof t.insecure_skip_verify !== 'boolean') throw new Error(`${where}.tls.insecure_skip_verify: must be true or false`);
          tls.insecureSkipVerify = t.insecure_skip_verify;
        }
        if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new Error(`${where}.tls: cert_file and key_file go together`);
        entry.tls = tls;
      }
      if (isObject(c.auth)) {
        const a = c.auth;
        const auth: RegistryAuthConfig = {};
        const u = str(a.username, `${where}.auth.username`);
        const p = str(a.password, `${where}.auth.password`);
        const b = str(a.auth, `${where}.auth.auth`);
        const t = str(a.identity_token, `${where}.auth.identity_token`);
        if (u !== undefined) auth.username = u;
        if (p !== undefined) auth.password = p;
        if (b !== undefined) auth.auth = b;
        if (t !== undefined) auth.identityToken = t;
        entry.auth = auth;
      }
      out.configs[host] = entry;
    }
  }
  return out;
}

/** The host[:port] of an endpoint URL (what `configs` is keyed by). */
function endpointHost(url: string): string {
  return new URL(url).host;
}

/** The default server of a registry host in hosts.toml (docker.io's registry is registry-1.docker.io). */
function defaultServer(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

const q = (s: string) => JSON.stringify(s);

function tlsLines(tls: RegistryTLS | undefined, indent: string): string[] {
  if (!tls) return [];
  const lines: string[] = [];
  if (tls.caFile) lines.push(`${indent}ca = ${q(tls.caFile)}`);
  if (tls.certFile && tls.keyFile) lines.push(`${indent}client = [[${q(tls.certFile)}, ${q(tls.keyFile)}]]`);
  if (tls.insecureSkipVerify) lines.push(`${indent}skip_verify = true`);
  return lines;
}

/** The host directory name containerd looks up for a registry ("_default" for k3s's "*" mirror). */
export function hostDirName(host: string): string {
  return host === '*' ? '_default' : host;
}

/**
 * hosts.toml per registry host: mirrors first (in their order, pull and resolve), then the registry itself as the
 * fallback server; TLS settings come from `configs` of each endpoint's host. Registries that have only a `configs`
 * entry with TLS get a hosts.toml for their own server.
 */
export function hostsTomlFiles(cfg: RegistriesConfig): Map<string, string> {
  const files = new Map<string, string>();
  const hosts = new Set([...Object.keys(cfg.mirrors), ...Object.entries(cfg.configs).filter(([, c]) => c.tls).map(([h]) => h)]);
  for (const host of hosts) {
    const lines = ['# Written by skiff from registries.yaml at every agent start; edits are overwritten.'];
    if (host !== '*') lines.push(`server = ${q(defaultServer(host))}`);
    // containerd 1.6 drops a hosts.toml without [host] tables (falling back to its defaults: plain HTTP with
    // verification off for loopback registries), so a registry without mirrors is listed as its own host.
    const endpoints = cfg.mirrors[host]?.endpoints ?? [];
    for (const ep of endpoints.length > 0 || host === '*' ? endpoints : [defaultServer(host)]) {
      lines.push('', `[host.${q(ep)}]`, '  capabilities = ["pull", "resolve"]');
      lines.push(...tlsLines(cfg.configs[endpointHost(ep)]?.tls, '  '));
    }
    files.set(hostDirName(host), `${lines.join('\n')}\n`);
  }
  return files;
}

/** The CRI plugin's registry section of config.toml: config_path, and each registry's credentials. */
export function registryConfigToml(cfg: RegistriesConfig, certsDir: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const lines = [`[${cri}.registry]`, `  config_path = ${q(certsDir)}`];
  for (const [host, c] of Object.entries(cfg.configs)) {
    if (!c.auth) continue;
    lines.push('', `[${cri}.registry.configs.${q(host)}.auth]`);
    if (c.auth.username !== undefined) lines.push(`  username = ${q(c.auth.username)}`);
    if (c.auth.password !== undefined) lines.push(`  password = ${q(c.auth.password)}`);
    if (c.auth.auth !== undefined) lines.push(`  auth = ${q(c.auth.auth)}`);
    if (c.auth.identityToken !== undefined) lines.push(`  identitytoken = ${q(c.auth.identityToken)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads registries.yaml (a missing file is an empty configuration, as in k3s). */
export async function loadRegistries(file: string | undefined): Promise<RegistriesConfig> {
  if (!file || !existsSync(file)) return { mirrors: {}, configs: {} };
  return parseRegistries(await readFile(file, 'utf8'), file);
}

/** Replaces `certsDir` with the hosts.toml files of `cfg`. */
export async function writeHostsDir(cfg: RegistriesConfig, certsDir: string): Promise<void> {
  await rm(certsDir, { recursive: true, force: true });
  await mkdir(certsDir, { recursive: true });
  for (const [dir, text] of hostsTomlFiles(cfg)) {
    await mkdir(join(certsDir, dir), { recursive: true });
    await writeFile(join(certsDir, dir, 'hosts.toml'), text);
  }
}
