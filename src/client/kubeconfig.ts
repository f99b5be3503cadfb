// Reads a kubeconfig (current context, or a named one) into the settings the HTTPS transport needs.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../api/object.js';
import type { HttpsTransportOptions } from './transport.js';

export interface KubeconfigSettings extends HttpsTransportOptions {
  /** The context's default namespace ("default" when unset). */
  namespace: string;
}

function named(list: unknown, name: string, what: string, path: string): Record<string, unknown> {
  const entry = Array.isArray(list) ? list.find((e) => isPlainObject(e) && e.name === name) : undefined;
  if (!isPlainObject(entry) || !isPlainObject(entry[what])) throw new Error(`kubeconfig ${path}: no ${what} named "${name}"`);
  return entry[what];
}

/** Load `path`; relative file references resolve against the kubeconfig's directory, as kubectl does. */
export async function loadKubeconfig(path: string, contextName?: string): Promise<KubeconfigSettings> {
  const doc: unknown = parseYaml(await readFile(path, 'utf8'));
  if (!isPlainObject(doc)) throw new Error(`kubeconfig ${path}: not a YAML mapping`);
  const ctxName = contextName ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : '');
  if (!ctxName) throw new Error(`kubeconfig ${path}: no current-context`);
  const context = named(doc.contexts, ctxName, 'context', path);
  const cluster = named(doc.clusters, String(context.cluster ?? ''), 'cluster', path);
  const user = typeof context.user === 'string' && context.user ? named(doc.users, context.user, 'user', path) : {};

  const base = dirname(path);
  const material = async (data: unknown, file: unknown): Promise<string | undefined> => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
    if (typeof file === 'string' && file) return readFile(isAbsolute(file) ? file : join(base, file), 'utf8');
    return undefined;
  };
  if (typeof cluster.server !== 'string' || !cluster.server) throw new Error(`kubeconfig ${path}: cluster has no server`);
  return {
    server: cluster.server,
    ca: await material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: await material(user['client-certificate-data'], user['client-certificate']),
    key: await material(user['client-key-data'], user['client-key']),
    token: typeof user.token === 'string' ? user.token : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: typeof context.namespace === 'string' && context.namespace ? context.namespace : 'default',
  };
}
