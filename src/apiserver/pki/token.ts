// The cluster join token, in k3s's format: "K10<sha256 of the cluster CA bundle, hex>::<user>:<password>" (the full
// token), or just the password (a short token). An agent holding a full token fetches the CA from /cacerts and trusts
// it only when its hash matches; the password proves the agent to the server.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './cluster.js';

export const TOKEN_PREFIX = 'K10';
/** The user part of tokens the server writes (k3s: "server"). */
export const SERVER_TOKEN_USERNAME = 'server';

export interface ParsedToken {
  /** sha256 (hex, lower case) of the CA bundle; absent for a short token. */
  caHash?: string;
  username?: string;
  password: string;
}

/** The hash a full token carries: sha256 over the CA bundle exactly as /cacerts serves it. */
export function caHash(caPem: string | Buffer): string {
  return createHash('sha256').update(caPem).digest('hex');
}

export function parseToken(token: string): ParsedToken {
  const t = token.trim();
  if (!t.startsWith(TOKEN_PREFIX) || !t.includes('::')) return { password: t };
  const sep = t.indexOf('::');
  const hash = t.slice(TOKEN_PREFIX.length, sep).toLowerCase();
  const creds = t.slice(sep + 2);
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('invalid token: the CA hash after "K10" must be 64 hex digits (sha256)');
  const colon = creds.indexOf(':');
  if (colon < 0) return { caHash: hash, password: creds };
  const username = creds.slice(0, colon);
  const password = creds.slice(colon + 1);
  if (!password) throw new Error('invalid token: empty password');
  return { caHash: hash, username, password };
}

export function formatToken(caPem: string, password: string, username = SERVER_TOKEN_USERNAME): string {
  return `${TOKEN_PREFIX}${caHash(caPem)}::${username}:${password}`;
}

/** <data-dir>/server/token: the full token agents join with (k3s also writes it as node-token). */
export function tokenFile(dataDir: string): string {
  return join(dataDir, 'server', 'token');
}

/**
 * The server's join password: --token (short or full; a full one must name this cluster's CA), else the one kept in
 * the token file, else a new random one. The full token is (re)written to <data-dir>/server/token and node-token.
 */
export async function ensureServerToken(dataDir: string, caPem: string, flag: string | undefined): Promise<{ password: string; token: string }> {
  let password: string | undefined;
  if (flag !== undefined) {
    const parsed = parseToken(flag);
    if (parsed.caHash && parsed.caHash !== caHash(caPem)) {
      throw new Error(`invalid --token: its CA hash ${parsed.caHash} does not match this cluster's CA (${caHash(caPem)})`);
    }
    password = parsed.password;
  } else {
    const existing = await readFile(tokenFile(dataDir), 'utf8').catch(() => undefined);
    if (existing) password = parseToken(existing).password;
  }
  password ??= randomBytes(16).toString('hex');
  const token = formatToken(caPem, password);
  await writeFileAtomic(tokenFile(dataDir), `${token}\n`, 0o600);
  await writeFileAtomic(join(dataDir, 'server', 'node-token'), `${token}\n`, 0o600);
  return { password, token };
}
