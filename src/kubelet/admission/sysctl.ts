// Upstream's sysctl admission (kubelet/sysctl): a pod's spec.securityContext.sysctls must all be allowed on this node:
// the safe sysctls (namespaced and isolated; some need a newer kernel) plus the node's --allowed-unsafe-sysctls
// (k3s: --kubelet-arg allowed-unsafe-sysctls=net.core.somaxconn,kernel.msg*). A pod with another one is refused with
// reason SysctlForbidden and "forbidden sysctl: \"<name>\" not allowlisted"; a net.* sysctl in a hostNetwork pod (or
// an IPC one in a hostIPC pod) with "... not allowed with host net enabled".
import { release } from 'node:os';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { kubeletArgs } from '../kubelet-args.js';
import type { AdmitResult } from './types.js';

export const SYSCTL_FORBIDDEN_REASON = 'SysctlForbidden';

type Namespace = 'ipc' | 'net';

/** Upstream's legacy safe sysctls (always allowed) and the newer ones with the kernel that namespaces them. */
const LEGACY_SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const NEWER_SAFE_SYSCTLS: readonly { name: string; kernel: [number, number] }[] = [
  { name: 'net.ipv4.ip_local_reserved_ports', kernel: [3, 16] },
  { name: 'net.ipv4.tcp_rmem', kernel: [4, 15] },
  { name: 'net.ipv4.tcp_wmem', kernel: [4, 15] },
];

/** The kernel's major.minor from a release string such as "6.1.0-18-amd64" (undefined if it does not parse). */
export function kernelVersion(rel: string = release()): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Upstream's SafeSysctlAllowlist for a kernel. */
export function safeSysctls(kernel: [number, number] | undefined): string[] {
  const atLeast = (want: [number, number]) => !!kernel && (kernel[0] > want[0] || (kernel[0] === want[0] && kernel[1] >= want[1]));
  return [...LEGACY_SAFE_SYSCTLS, ...NEWER_SAFE_SYSCTLS.filter((s) => atLeast(s.kernel)).map((s) => s.name)];
}

/** Upstream's NamespacedBy: which kernel namespace isolates a sysctl (undefined: not known to be namespaced). */
function namespacedBy(name: string): Namespace | undefined {
  if (name === 'kernel.sem') return 'ipc';
  if (name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name.startsWith('net.')) return 'net';
  return undefined;
}

/** Upstream's ConvertSysctlVariableToDotsSeparator: "net/ipv4/conf/eth0.100/x" becomes "net.ipv4.conf.eth0/100.x". */
export function sysctlWithDots(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

const SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const PATTERN_SEGMENT = '([a-z0-9][-_a-z0-9]*)?[a-z0-9*]';
const PATTERN_FMT = `(${SEGMENT}[\\./])*${PATTERN_SEGMENT}`;
const PATTERN = new RegExp(`^${PATTERN_FMT}$`);
const SYSCTL_MAX_LENGTH = 253;

/** The allowed sysctls and sysctl prefixes (a pattern ending in "*"), each with its namespace. */
export class SysctlAllowlist {
  private readonly sysctls = new Map<string, Namespace>();
  private readonly prefixes = new Map<string, Namespace>();

  /** Throws upstream's error for a pattern that is not valid or not known to be namespaced. */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      if (raw.length > SYSCTL_MAX_LENGTH || !PATTERN.test(raw)) {
        throw new Error(`sysctl ${JSON.stringify(raw)} must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${PATTERN_FMT}`);
      }
      const s = sysctlWithDots(raw);
      if (s.endsWith('*')) {
        const prefix = s.slice(0, -1);
        const ns = namespacedBy(prefix);
        if (!ns) throw new Error(`the sysctls ${JSON.stringify(s)} are not known to be namespaced`);
        this.prefixes.set(prefix, ns);
      } else {
        const ns = namespacedBy(s);
        if (!ns) throw new Error(`the sysctl ${JSON.stringify(s)} are not known to be namespaced`);
        this.sysctls.set(s, ns);
      }
    }
  }

  /** Why the sysctl may not be set in this pod, or undefined when it may. */
  private problem(name: string, hostNet: boolean, hostIPC: boolean): string | undefined {
    const s = sysctlWithDots(name);
    let ns = this.sysctls.get(s);
    for (const [p, n] of this.prefixes) {
      if (ns !== undefined) break;
      if (s.startsWith(p)) ns = n;
    }
    if (ns === undefined) return `${JSON.stringify(s)} not allowlisted`;
    if ((ns === 'ipc' && hostIPC) || (ns === 'net' && hostNet)) return `${JSON.stringify(s)} not allowed with host ${ns} enabled`;
    return undefined;
  }

  admit(pod: Pod): AdmitResult {
    for (const s of pod.spec?.securityContext?.sysctls ?? []) {
      const problem = this.problem(s.name, pod.spec?.hostNetwork === true, pod.spec?.hostIPC === true);
      if (problem) return { admit: false, reason: SYSCTL_FORBIDDEN_REASON, message: `forbidden sysctl: ${problem}` };
    }
    return { admit: true };
  }
}

/** --kubelet-arg allowed-unsafe-sysctls (comma-separated, repeatable; upstream's flag and KubeletConfiguration field). */
export function allowedUnsafeSysctlsFromKubeletArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of kubeletArgs(args)) {
    if (arg.name !== 'allowed-unsafe-sysctls') continue;
    out.push(...arg.value.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

/** The node's allowlist: safe sysctls and the allowed unsafe ones; throws for an invalid allowed-unsafe-sysctls entry. */
export function sysctlAllowlist(allowedUnsafe: readonly string[], kernel?: [number, number]): SysctlAllowlist {
  return new SysctlAllowlist([...safeSysctls(kernel ?? kernelVersion()), ...allowedUnsafe]);
}
