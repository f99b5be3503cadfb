// The admin kubeconfig: CA, client certificate and key embedded, so the file alone reaches the cluster.
import { stringify } from 'yaml';
import { writeFileAtomic } from './cluster.js';

export interface KubeconfigParams {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Cluster, user and context name. */
  name?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function renderKubeconfig(p: KubeconfigParams): string {
  const name = p.name ?? 'default';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
    users: [{ name, user: { 'client-certificate-data': b64(p.clientCertPem), 'client-key-data': b64(p.clientKeyPem) } }],
  });
}

export async function writeKubeconfig(path: string, p: KubeconfigParams, mode: number): Promise<void> {
  await writeFileAtomic(path, renderKubeconfig(p), mode);
}
