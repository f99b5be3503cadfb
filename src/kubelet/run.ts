// Starting the node agent: for `skiff server`'s local node (admin kubeconfig over loopback) and for `skiff agent`
// joining a server from elsewhere.
import { join } from 'node:path';
import { RestClient } from '../client/index.js';
import { formatCidr, nthAddress, parseCidr } from '../apiserver/pki/cidr.js';
import { Kubelet, type KubeletOptions } from './kubelet.js';
import { defaultNodeIP, defaultNodeName } from './node/machine.js';

export interface AgentOptions {
  client: RestClient;
  dataDir: string;
  nodeName?: string;
  nodeIP?: string;
  controlPlane: boolean;
  /** The node's pod range when no IPAM controller assigns one. */
  podCIDR?: string;
  /** The service range: the cluster DNS address is its 10th address (as k3s: 10.43.0.10). */
  serviceCIDR?: string;
  clusterDNS?: string[];
  containerRuntimeEndpoint?: string;
  /** Static pod manifests (default <data-dir>/agent/pod-manifests). */
  podManifestPath?: string;
  /** registries.yaml (default <data-dir>/agent/etc/registries.yaml). */
  privateRegistry?: string;
  /** Image GC thresholds (--kubelet-arg image-gc-high-threshold=…). */
  imageGC?: KubeletOptions['imageGC'];
  /** Node-pressure eviction (--kubelet-arg eviction-hard=…). */
  eviction?: KubeletOptions['eviction'];
  /** --kubelet-arg sync-frequency: the per-pod resync period. */
  syncFrequencyMs?: KubeletOptions['syncFrequencyMs'];
  /** --kubelet-arg allowed-unsafe-sysctls. */
  allowedUnsafeSysctls?: KubeletOptions['allowedUnsafeSysctls'];
  /** The kubelet's HTTPS port (default 10250). */
  port?: number;
  /** CA whose client certificates may call the kubelet (the API server's cluster CA). */
  clientCA?: string;
  /** Extra node labels (--node-label). */
  labels?: Record<string, string>;
  /** Taints to register the Node with (--node-taint). */
  taints?: KubeletOptions['taints'];
  /** The kubelet's serving certificate and key from the cluster CA. */
  serving?: KubeletOptions['serving'];
  log: KubeletOptions['log'];
}

export interface RunningAgent {
  kubelet: Kubelet;
  nodeName: string;
  stop(): Promise<void>;
}

/** The first /24 of the cluster range (the whole range when it is smaller): the local node's pods. */
export function firstNodeCIDR(clusterCIDR: string): string {
  const c = parseCidr(clusterCIDR);
  const size = c.family === 4 ? 24 : 64;
  if (c.prefix >= size) return formatCidr(c);
  return formatCidr({ ...c, prefix: size });
}

export function clusterDNSFor(serviceCIDR: string): string {
  return nthAddress(parseCidr(serviceCIDR), 10);
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const nodeName = opts.nodeName ?? defaultNodeName();
  const kubelet = new Kubelet({
    client: opts.client,
    nodeName,
    nodeIP: opts.nodeIP ?? defaultNodeIP(),
    controlPlane: opts.controlPlane,
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.clientCA ? { clientCA: opts.clientCA } : {}),
    ...(opts.serving ? { serving: opts.serving } : {}),
    ...(opts.taints?.length ? { taints: opts.taints } : {}),
    agentDir: join(opts.dataDir, 'agent'),
    ...(opts.podCIDR ? { podCIDR: opts.podCIDR } : {}),
    clusterDNS: opts.clusterDNS ?? (opts.serviceCIDR ? [clusterDNSFor(opts.serviceCIDR)] : []),
    ...(opts.containerRuntimeEndpoint ? { containerRuntimeEndpoint: opts.containerRuntimeEndpoint } : {}),
    ...(opts.podManifestPath ? { podManifestPath: opts.podManifestPath } : {}),
    ...(opts.privateRegistry ? { privateRegistry: opts.privateRegistry } : {}),
    ...(opts.imageGC ? { imageGC: opts.imageGC } : {}),
    ...(opts.eviction ? { eviction: opts.eviction } : {}),
    ...(opts.syncFrequencyMs !== undefined ? { syncFrequencyMs: opts.syncFrequencyMs } : {}),
    ...(opts.allowedUnsafeSysctls ? { allowedUnsafeSysctls: opts.allowedUnsafeSysctls } : {}),
    log: opts.log,
  });
  try {
    await kubelet.start();
  } catch (err) {
    await kubelet.stop().catch(() => undefined);
    throw err;
  }
  return { kubelet, nodeName, stop: () => kubelet.stop() };
}
