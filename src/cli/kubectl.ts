// `skiff kubectl ...`: the real kubectl, pointed at this machine's skiff server unless told otherwise.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { defaultKubeconfigPath } from './paths.js';

export const KUBECTL_BINARY = '/usr/bin/kubectl';

/** Environment for kubectl: KUBECONFIG defaults to the server's kubeconfig when that file exists. */
export function kubectlEnv(env: NodeJS.ProcessEnv, kubeconfig = defaultKubeconfigPath()): NodeJS.ProcessEnv {
  if (env.KUBECONFIG || !existsSync(kubeconfig)) return env;
  return { ...env, KUBECONFIG: kubeconfig };
}

/** Runs kubectl with the terminal attached; resolves with its exit code (128+n when killed by signal n). */
export function runKubectl(args: string[], binary = KUBECTL_BINARY): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { stdio: 'inherit', env: kubectlEnv(process.env) });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    child.once('error', (err: NodeJS.ErrnoException) => {
      for (const s of signals) process.off(s, forward);
      reject(err.code === 'ENOENT' ? new Error(`kubectl not found at ${binary}`) : err);
    });
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolvePromise(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
