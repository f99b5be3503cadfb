// kube-apiserver flags skiff honours, passed as k3s does: `skiff server --kube-apiserver-arg
// default-unreachable-toleration-seconds=30`. Unknown flags are refused so a typo does not go unnoticed.
import type { ApiServerOptions } from './apiserver.js';
import { parseGoDuration } from '../machinery/duration.js';

export type ApiServerArgs = Pick<
  ApiServerOptions,
  'defaultNotReadyTolerationSeconds' | 'defaultUnreachableTolerationSeconds' | 'serviceAccountMaxTokenExpirationSeconds' | 'serviceAccountExtendTokenExpiration'
>;

const nonNegativeInt = (v: string): number => {
  if (!/^\d+$/.test(v.trim())) throw new Error(`invalid integer ${JSON.stringify(v)}`);
  return Number(v);
};

/** A Go duration ("48h", "3600s") in whole seconds. */
const durationSeconds = (v: string): number => {
  const ms = parseGoDuration(v.trim());
  if (ms === undefined || ms < 0) throw new Error(`invalid duration ${JSON.stringify(v)}`);
  return Math.floor(ms / 1000);
};

const bool = (v: string): boolean => {
  const t = v.trim().toLowerCase();
  if (['true', '1', 't'].includes(t)) return true;
  if (['false', '0', 'f'].includes(t)) return false;
  throw new Error(`invalid boolean ${JSON.stringify(v)}`);
};

const FLAGS: Record<string, [keyof ApiServerArgs, (v: string) => number | boolean]> = {
  'default-not-ready-toleration-seconds': ['defaultNotReadyTolerationSeconds', nonNegativeInt],
  'default-unreachable-toleration-seconds': ['defaultUnreachableTolerationSeconds', nonNegativeInt],
  'service-account-max-token-expiration': ['serviceAccountMaxTokenExpirationSeconds', durationSeconds],
  'service-account-extend-token-expiration': ['serviceAccountExtendTokenExpiration', bool],
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
      (out as Record<string, number | boolean>)[flag[0]] = flag[1](m[2]);
    } catch (e) {
      throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: ${(e as Error).message}`);
    }
  }
  return out;
}
