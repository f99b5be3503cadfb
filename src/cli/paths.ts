// Where skiff keeps its state by default (shared by `skiff server` and `skiff kubectl`; no heavy imports).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** /var/lib/skiff as root, ~/.skiff otherwise (as k3s: /var/lib/rancher/k3s or ~/.rancher/k3s). */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/skiff' : join(homedir(), '.skiff');
}

export function defaultKubeconfigPath(dataDir = defaultDataDir()): string {
  return join(dataDir, 'kubeconfig.yaml');
}
