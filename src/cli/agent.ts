// `skiff agent` flags (k3s's names) -> a validated AgentConfig. The agent joins a cluster run by `skiff server`: as a
// real node (the kubelet on containerd), or with --simulated-nodes N as that many simulated ones. The agent itself is
// loaded only when the command runs.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../apiserver/log.js';
import { addNodeOptions, defaultNodeName, toSimulatedNodesConfig, type RawNodeOptions, type SimulatedNodesConfig } from './node-flags.js';
import { isIP } from 'node:net';
import { parseCidr } from '../apiserver/pki/cidr.js';
import { defaultDataDir } from './paths.js';
import { imageGCPolicyFromKubeletArgs, type ImageGCPolicy } from '../kubelet/images/gc.js';
import { evictionConfigFromKubeletArgs, type EvictionConfig } from '../kubelet/eviction/thresholds.js';
import { syncFrequencyFromKubeletArgs } from '../kubelet/pods/resync.js';
import { allowedUnsafeSysctlsFromKubeletArgs, sysctlAllowlist } from '../kubelet/admission/sysctl.js';

export interface RawAgentOptions extends RawNodeOptions {
  server?: string;
  token?: string;
  tokenFile?: string;
  dataDir?: string;
  clusterCidr?: string;
  logLevel?: string;
  nodeIp?: string;
  podCidr?: string;
  clusterDns?: string;
  containerRuntimeEndpoint?: string;
  podManifestPath?: string;
}

/** The real node's settings (`skiff agent` without --simulated-nodes, and `skiff server`'s local node). */
export interface KubeletNodeConfig {
  nodeIP?: string;
  /** The node's pod range when the cluster assigns none. */
  podCIDR?: string;
  clusterDNS?: string;
  /** A running CRI runtime to use instead of starting containerd. */
  containerRuntimeEndpoint?: string;
  /** Static pod manifests (default <data-dir>/agent/pod-manifests). */
  podManifestPath?: string;
  /** registries.yaml (--private-registry). */
  privateRegistry?: string;
  /** Image GC thresholds from --kubelet-arg. */
  imageGC?: ImageGCPolicy;
  /** --kubelet-arg sync-frequency: the per-pod resync period. */
  syncFrequencyMs?: number;
  /** Node-pressure eviction thresholds from --kubelet-arg (eviction-hard, eviction-soft, ...). */
  eviction?: EvictionConfig;
  /** --kubelet-arg allowed-unsafe-sysctls: sysctls (or prefixes ending in *) pods may set beyond the safe ones. */
  allowedUnsafeSysctls?: string[];
}

export function toKubeletNodeConfig(raw: {
  nodeIp?: string;
  podCidr?: string;
  clusterDns?: string;
  containerRuntimeEndpoint?: string;
  podManifestPath?: string;
  privateRegistry?: string;
  kubeletArg?: string[];
}): KubeletNodeConfig {
  const ip = (flag: string, v: string) => {
    if (isIP(v) === 0) throw new Error(`invalid ${flag} ${JSON.stringify(v)}: not an IP address`);
    return v;
  };
  if (raw.podCidr !== undefined) {
    try {
      parseCidr(raw.podCidr);
    } catch {
      throw new Error(`invalid --pod-cidr ${JSON.stringify(raw.podCidr)}: not a CIDR`);
    }
  }
  const syncFrequency = syncFrequencyFromKubeletArgs(raw.kubeletArg ?? []);
  const unsafeSysctls = allowedUnsafeSysctlsFromKubeletArgs(raw.kubeletArg ?? []);
  // An entry that is no valid sysctl pattern, or not known to be namespaced, stops the node as upstream's kubelet.
  if (unsafeSysctls.length) sysctlAllowlist(unsafeSysctls);
  return {
    ...(raw.nodeIp ? { nodeIP: ip('--node-ip', raw.nodeIp) } : {}),
    ...(raw.podCidr ? { podCIDR: raw.podCidr } : {}),
    ...(raw.clusterDns ? { clusterDNS: ip('--cluster-dns', raw.clusterDns) } : {}),
    ...(raw.containerRuntimeEndpoint ? { containerRuntimeEndpoint: raw.containerRuntimeEndpoint } : {}),
    ...(raw.podManifestPath ? { podManifestPath: raw.podManifestPath } : {}),
    ...(raw.privateRegistry ? { privateRegistry: resolve(raw.privateRegistry) } : {}),
    ...(raw.kubeletArg?.length ? { imageGC: imageGCPolicyFromKubeletArgs(raw.kubeletArg), eviction: evictionConfigFromKubeletArgs(raw.kubeletArg) } : {}),
    ...(syncFrequency !== undefined ? { syncFrequencyMs: syncFrequency } : {}),
    ...(unsafeSysctls.length ? { allowedUnsafeSysctls: unsafeSysctls } : {}),
  };
}

export interface AgentConfig {
  /** https://host:port of a `skiff server`. */
  server: string;
  /** The server's --token, sent as a bearer token. */
  token: string;
  dataDir: string;
  /** The agent's node name (--node-name, default the hostname). */
  nodeName: string;
  /** Where simulated nodes without spec.podCIDR take pod IPs from. */
  clusterCidr: string;
  logLevel: LogLevel;
  simulated?: SimulatedNodesConfig;
  /** Without --simulated-nodes: the kubelet on containerd. */
  kubelet?: KubeletNodeConfig;
}

export function toAgentConfig(raw: RawAgentOptions): AgentConfig {
  if (!raw.server) throw new Error('skiff agent: --server is required (e.g. --server https://127.0.0.1:6443)');
  let url: URL;
  try {
    url = new URL(raw.server);
  } catch {
    throw new Error(`invalid --server ${JSON.stringify(raw.server)}: not a URL`);
  }
  if (url.protocol !== 'https:') throw new Error(`invalid --server ${JSON.stringify(raw.server)}: must be https://`);
  let token = raw.token;
  if (token === undefined && raw.tokenFile) token = readFileSync(resolve(raw.tokenFile), 'utf8').trim();
  if (!token || token.trim() === '') throw new Error('skiff agent: --token (or --token-file) is required: the server\'s --token');
  const logLevel = (raw.logLevel ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new Error(`invalid --log-level ${JSON.stringify(raw.logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  const nodeName = raw.nodeName ?? defaultNodeName();
  const simulated = toSimulatedNodesConfig({ ...raw, nodeName }, `${nodeName}-`);
  return {
    server: url.origin,
    token,
    dataDir: resolve(raw.dataDir ?? defaultDataDir()),
    nodeName,
    clusterCidr: raw.clusterCidr ?? '198.18.0.0/16',
    logLevel: logLevel as LogLevel,
    ...(simulated ? { simulated } : { kubelet: toKubeletNodeConfig(raw) }),
  };
}

/** Declares `skiff agent` and its flags on the program. */
export function addAgentCommand(program: Command): void {
  const cmd = program
    .command('agent')
    .description('Run a node agent that joins a skiff server')
    .addOption(new Option('-s, --server <url>', 'server to connect to, e.g. https://10.0.0.1:6443').env('SKIFF_URL'))
    .addOption(new Option('-t, --token <token>', 'the server\'s --token').env('SKIFF_TOKEN'))
    .addOption(new Option('--token-file <file>', 'file holding the token').env('SKIFF_TOKEN_FILE'))
    .option('-d, --data-dir <dir>', 'folder to hold state', defaultDataDir())
    .option('--cluster-cidr <cidr>', 'pod IP range simulated nodes draw from until they have a spec.podCIDR', '198.18.0.0/16')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--node-ip <ip>', 'address to advertise for the node (default: the first non-loopback IPv4 address)')
    .option('--pod-cidr <cidr>', 'pod range of this node when the cluster assigns none')
    .option('--cluster-dns <ip>', 'cluster DNS address for pods')
    .option('--container-runtime-endpoint <socket>', 'use this running CRI runtime instead of starting containerd')
    .option('--pod-manifest-path <dir>', 'static pod manifests (default: <data-dir>/agent/pod-manifests)');
  addNodeOptions(cmd).action(async (opts: RawAgentOptions) => {
    const config = toAgentConfig(opts);
    const { runAgent } = await import('./run-agent.js');
    await runAgent(config, opts);
  });
}
