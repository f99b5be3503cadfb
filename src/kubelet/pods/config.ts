// Pod spec -> CRI sandbox and container configs (upstream's kuberuntime generatePodSandboxConfig and
// generateContainerConfig, for the fields skiff supports so far).
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../machinery/quantity.js';
import type { ContainerConfig, KeyValue, LinuxContainerResources, Mount, NamespaceOption, PodSandboxConfig, PortMapping } from '../cri/types.js';
import { ANNOTATION_INIT, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_MANAGED, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './runtime-state.js';

export interface DnsSettings {
  /** ClusterFirst pods: the cluster DNS service address and domain. */
  clusterDNS: string[];
  clusterDomain: string;
  /** dnsPolicy Default: the node's resolver settings. */
  host: { servers: string[]; searches: string[]; options: string[] };
}

/** Parses resolv.conf text (nameserver, search/domain, options). */
export function parseResolvConf(text: string): DnsSettings['host'] {
  const out = { servers: [] as string[], searches: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const f = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) out.servers.push(f[1]);
    else if ((f[0] === 'search' || f[0] === 'domain') && f.length > 1) out.searches = f.slice(1);
    else if (f[0] === 'options') out.options.push(...f.slice(1));
  }
  return out;
}

/** The pod's resolver settings per dnsPolicy and dnsConfig (upstream's kubelet/network/dns). */
export function podDnsConfig(pod: Pod, dns: DnsSettings): { servers: string[]; searches: string[]; options: string[] } {
  const spec = pod.spec ?? { containers: [] };
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  else if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  let cfg: { servers: string[]; searches: string[]; options: string[] };
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'ClusterFirst' && dns.clusterDNS.length > 0) {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = dns.clusterDomain;
    cfg = { servers: [...dns.clusterDNS], searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...dns.host.searches], options: ['ndots:5'] };
  } else cfg = { servers: [...dns.host.servers], searches: [...dns.host.searches], options: [...dns.host.options] };
  const extra = spec.dnsConfig;
  if (extra) {
    cfg.servers.push(...(extra.nameservers ?? []).filter((s) => !cfg.servers.includes(s)));
    cfg.searches.push(...(extra.searches ?? []).filter((s) => !cfg.searches.includes(s)));
    for (const o of extra.options ?? []) {
      const text = o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? '');
      const key = o.name ?? '';
      cfg.options = cfg.options.filter((x) => x.split(':')[0] !== key);
      cfg.options.push(text);
    }
  }
  return cfg;
}

export function podLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [LABEL_POD_NAME]: pod.metadata?.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata?.namespace ?? '',
    [LABEL_POD_UID]: pod.metadata?.uid ?? '',
    [LABEL_MANAGED]: 'true',
  };
}

/** <logRoot>/<namespace>_<name>_<uid>, as upstream's /var/log/pods layout. */
export function podLogDirectory(logRoot: string, pod: Pod): string {
  return `${logRoot}/${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`;
}

/** Relative to the log directory: <container>/<restartCount>.log. */
export function containerLogPath(name: string, restartCount: number): string {
  return `${name}/${restartCount}.log`;
}

function namespaceOptions(pod: Pod): NamespaceOption {
  const s = pod.spec;
  return {
    network: s?.hostNetwork ? 'NODE' : 'POD',
    pid: s?.hostPID ? 'NODE' : s?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s?.hostIPC ? 'NODE' : 'POD',
  };
}

/** The pod's supplementalGroups and then its fsGroup (upstream adds it to every container's groups). */
export function podSupplementalGroups(pod: Pod): number[] {
  const sc = pod.spec?.securityContext;
  const groups = [...(sc?.supplementalGroups ?? [])];
  if (sc?.fsGroup !== undefined && !groups.includes(sc.fsGroup)) groups.push(sc.fsGroup);
  return groups;
}

export function sandboxConfig(pod: Pod, attempt: number, logRoot: string, dns: DnsSettings, cgroupParent = ''): PodSandboxConfig {
  const spec = pod.spec;
  const ports: PortMapping[] = [];
  for (const c of spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      ports.push({ protocol: (p.protocol as PortMapping['protocol'] | undefined) ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  const hostname = (spec?.hostname ?? pod.metadata?.name ?? '').slice(0, 63).replace(/[-.]+$/, '');
  const sc = spec?.securityContext;
  return {
    metadata: { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', namespace: pod.metadata?.namespace ?? '', attempt },
    hostname: spec?.hostNetwork ? '' : hostname,
    logDirectory: podLogDirectory(logRoot, pod),
    dnsConfig: podDnsConfig(pod, dns),
    portMappings: ports,
    labels: podLabels(pod),
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    linux: {
      cgroupParent,
      securityContext: {
        namespaceOptions: namespaceOptions(pod),
        ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        supplementalGroups: podSupplementalGroups(pod),
        privileged: (spec?.containers ?? []).some((c) => c.securityContext?.privileged),
      },
      sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
    },
  };
}

/** Resolves `fieldRef` paths the kubelet knows (upstream's podFieldSelectorRuntimeValue). */
export function fieldRefValue(pod: Pod, path: string, podIPs: string[], hostIPs: string[]): string | undefined {
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.hostIP':
      return hostIPs[0];
    case 'status.hostIPs':
      return hostIPs.join(',');
    case 'status.podIP':
      return podIPs[0];
    case 'status.podIPs':
      return podIPs.join(',');
  }
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!];
  return undefined;
}

/** Expands $(VAR) references as upstream's expansion package: $$ escapes, unknown names stay as written. */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '$' && i + 1 < input.length) {
      const next = input[i + 1];
      if (next === '$') {
        out += '$';
        i++;
        continue;
      }
      if (next === '(') {
        const end = input.indexOf(')', i + 2);
        if (end > 0) {
          const name = input.slice(i + 2, end);
          const v = lookup(name);
          out += v ?? `$(${name})`;
          i = end;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

const MIN_SHARES = 2;
const CPU_PERIOD = 100_000;

/** cpu shares from the request, CFS quota from the limit, the memory limit (upstream's linux resources). */
export function containerResources(c: Container): LinuxContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const milli = (q: string | undefined) => (q === undefined ? undefined : parseQuantity(String(q)).milliValue());
  const cpuReq = milli(req.cpu as string | undefined) ?? milli(lim.cpu as string | undefined);
  const cpuLim = milli(lim.cpu as string | undefined);
  const memLim = lim.memory !== undefined ? parseQuantity(String(lim.memory)).value() : 0;
  const out: LinuxContainerResources = { cpuShares: cpuReq === undefined ? MIN_SHARES : Math.max(MIN_SHARES, Math.floor((cpuReq * 1024) / 1000)) };
  if (cpuLim !== undefined) {
    out.cpuPeriod = CPU_PERIOD;
    out.cpuQuota = Math.max(1000, Math.floor((cpuLim * CPU_PERIOD) / 1000));
  }
  if (memLim > 0) out.memoryLimitInBytes = memLim;
  return out;
}

export function containerConfig(
  pod: Pod,
  c: Container,
  opts: { restartCount: number; init: boolean; env: KeyValue[]; mounts?: Mount[]; oomScoreAdj?: number; targetId?: string },
): ContainerConfig {
  const env = opts.env;
  const lookup = (name: string) => env.find((e) => e.key === name)?.value;
  const sc = { ...(pod.spec?.securityContext ?? {}), ...(c.securityContext ?? {}) };
  return {
    metadata: { name: c.name, attempt: opts.restartCount },
    image: { image: c.image ?? '' },
    command: (c.command ?? []).map((s) => expandVars(s, lookup)),
    args: (c.args ?? []).map((s) => expandVars(s, lookup)),
    workingDir: c.workingDir ?? '',
    envs: env,
    mounts: [...(opts.mounts ?? [])],
    labels: {
      [LABEL_POD_NAME]: pod.metadata?.name ?? '',
      [LABEL_POD_NAMESPACE]: pod.metadata?.namespace ?? '',
      [LABEL_POD_UID]: pod.metadata?.uid ?? '',
      [LABEL_CONTAINER_NAME]: c.name,
      [LABEL_MANAGED]: 'true',
    },
    annotations: {
      [ANNOTATION_RESTART_COUNT]: String(opts.restartCount),
      'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': c.terminationMessagePolicy ?? 'File',
      'io.kubernetes.pod.terminationGracePeriod': String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      ...(opts.init ? { [ANNOTATION_INIT]: 'true' } : {}),
    },
    logPath: containerLogPath(c.name, opts.restartCount),
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: { ...containerResources(c), ...(opts.oomScoreAdj !== undefined ? { oomScoreAdj: opts.oomScoreAdj } : {}) },
      securityContext: {
        privileged: c.securityContext?.privileged ?? false,
        // An ephemeral container with a target joins that container's process namespace (CRI pid TARGET).
        namespaceOptions: opts.targetId ? { ...namespaceOptions(pod), pid: 'TARGET', targetId: opts.targetId } : namespaceOptions(pod),
        ...(sc.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        readonlyRootfs: c.securityContext?.readOnlyRootFilesystem ?? false,
        supplementalGroups: podSupplementalGroups(pod),
        ...(c.securityContext?.capabilities
          ? { capabilities: { addCapabilities: c.securityContext.capabilities.add ?? [], dropCapabilities: c.securityContext.capabilities.drop ?? [] } }
          : {}),
      },
    },
  };
}
