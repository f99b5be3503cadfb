// kube-apiserver flags skiff honours, passed as k3s does: `skiff server --kube-apiserver-arg
// default-unreachable-toleration-seconds=30`. Unknown flags are refused so a typo does not go unnoticed.
import type { ApiServerOptions } from './apiserver.js';
import { parseGoDuration } from '../machinery/duration.js';
import { admissionFlagErrors } from './admission/plugins.js';

export type ApiServerArgs = Pick<
  ApiServerOptions,
  | 'defaultNotReadyTolerationSeconds'
  | 'defaultUnreachableTolerationSeconds'
  | 'serviceAccountMaxTokenExpirationSeconds'
  | 'serviceAccountExtendTokenExpiration'
  | 'admissionPlugins'
  | 'serviceAccountJwksUri'
  | 'authorizationMode'
>;

/** Comma-separated plugin names, as kube-apiserver's string-slice flags take them. */
const nameList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ADMISSION_FLAGS: Record<string, 'enable' | 'disable'> = {
  'enable-admission-plugins': 'enable',
  'disable-admission-plugins': 'disable',
};

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

/** An https URL (kube-apiserver refuses other --service-account-jwks-uri values at start). */
const httpsUrl = (v: string): string => {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(v)}`);
  }
  if (u.protocol !== 'https:') throw new Error('service-account-jwks-uri requires https scheme');
  return u.toString();
};

const FLAGS: Record<string, [keyof ApiServerArgs, (v: string) => number | boolean | string]> = {
  'default-not-ready-toleration-seconds': ['defaultNotReadyTolerationSeconds', nonNegativeInt],
  'default-unreachable-toleration-seconds': ['defaultUnreachableTolerationSeconds', nonNegativeInt],
  'service-account-max-token-expiration': ['serviceAccountMaxTokenExpirationSeconds', durationSeconds],
  'service-account-extend-token-expiration': ['serviceAccountExtendTokenExpiration', bool],
  'service-account-jwks-uri': ['serviceAccountJwksUri', httpsUrl],
};

/** --authorization-mode values skiff implements (upstream also has ABAC and Webhook). */
export const AUTHORIZATION_MODES = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];
/** kube-apiserver's default as k3s and kubeadm set it. */
export const DEFAULT_AUTHORIZATION_MODE: readonly AuthorizationMode[] = ['Node', 'RBAC'];

function authorizationModes(v: string): AuthorizationMode[] {
  const modes = nameList(v);
  if (!modes.length) throw new Error('at least one authorization-mode must be passed');
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) throw new Error(`authorization-mode ${JSON.stringify(m)} is not a valid mode (skiff supports ${AUTHORIZATION_MODES.join(', ')})`);
    if (modes.indexOf(m) !== modes.lastIndexOf(m)) throw new Error(`authorization-mode ${JSON.stringify(m)} has mode specified more than once`);
  }
  return modes as AuthorizationMode[];
}

/** `name=value` items (a leading "--" is allowed) → API server options; throws naming the item at fault. */
export function parseApiServerArgs(args: readonly string[]): ApiServerArgs {
  const out: ApiServerArgs = {};
  for (const arg of args) {
    const m = /^(?:--)?([a-z0-9-]+)=(.*)$/.exec(arg.trim());
    if (!m) throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: expected name=value`);
    if (m[1] === 'authorization-mode') {
      try {
        out.authorizationMode = authorizationModes(m[2]);
      } catch (e) {
        throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: ${(e as Error).message}`);
      }
      continue;
    }
    const list = ADMISSION_FLAGS[m[1]];
    if (list) {
      // Repeated flags add to the list.
      const plugins = (out.admissionPlugins ??= {});
      plugins[list] = [...(plugins[list] ?? []), ...nameList(m[2])];
      continue;
    }
    const flag = FLAGS[m[1]];
    if (!flag) {
      const known = [...Object.keys(FLAGS), ...Object.keys(ADMISSION_FLAGS), 'authorization-mode'];
      throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: unknown flag --${m[1]} (known: ${known.join(', ')})`);
    }
    try {
      (out as Record<string, number | boolean | string>)[flag[0]] = flag[1](m[2]);
    } catch (e) {
      throw new Error(`invalid --kube-apiserver-arg ${JSON.stringify(arg)}: ${(e as Error).message}`);
    }
  }
  const errs = out.admissionPlugins ? admissionFlagErrors(out.admissionPlugins) : [];
  if (errs.length) throw new Error(`invalid --kube-apiserver-arg: ${errs.join('; ')}`);
  return out;
}
