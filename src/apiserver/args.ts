// kube-apiserver flags skiff honours, passed as k3s does: `skiff server --kube-apiserver-arg
// default-unreachable-toleration-seconds=30`. Unknown flags are refused so a typo does not go unnoticed.
import type { ApiServerOptions } from './apiserver.js';

export type ApiServerArgs = Pick<ApiServerOptions, 'defaultNotReadyTolerationSeconds' | 'defaultUnreachableTolerationSeconds'>;

const nonNegativeInt = (v: string): number => {
  if (!/^\d+$/.test(v.trim())) throw new Error(`invalid integer ${JSON.stringify(v)}`);
  return Number(v);
};

const FLAGS: Record<string, [keyof ApiServerArgs, (v: string) => number]> = {
  'default-not-ready-toleration-seconds': ['defaultNotReadyTolerationSeconds', nonNegativeInt],
  'default-unreachable-toleration-seconds': ['defaultUnreachableTolerationSeconds', nonNegativeInt],
};

/** `name=value` items (a leading "--" is allowed) → API server options; throws naming the item at fault. */
export function parseApiServerArgs(args: readonly string[]): ApiServerArgs {
  const out: ApiServerArgs = {};
  for (const arg of args) {
    const m = /^(?:--)?([a-z0-9-]+)=(.*)$/.exec(arg.trim());
    if (!m) throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: expected name=value`);
    const flag = FLAGS[m[1]];
    if (!flag) throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: unknown flag --${m[1]} (known: ${Object.keys(FLAGS).join(', ')})`);
    try {
      out[flag[0]] = flag[1](m[2]);
    } catch (e) {
      throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: ${(e as Error).message}`);
    }
  }
  return out;
}
