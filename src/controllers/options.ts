// kube-controller-manager's flags that skiff's controllers honour, passed as k3s does: `skiff server
// --kube-controller-manager-arg node-monitor-grace-period=20s`. Every value is optional; unset ones take upstream's
// defaults (the DEFAULT_* constants below).
import { parseGoDuration as parseDuration } from '../machinery/duration.js';

/** Flag values the controllers read (durations in milliseconds). */
export interface ControllerOptions {
  /** --node-monitor-period: how often the node lifecycle controller checks node health (5s). */
  nodeMonitorPeriodMs?: number;
  /** --node-monitor-grace-period: a node whose Lease and status are not renewed this long turns Unknown (40s). */
  nodeMonitorGracePeriodMs?: number;
  /** --node-startup-grace-period: grace for a node that never posted status (1m). */
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate: nodes per second tainted for eviction in a healthy zone (0.1). */
  nodeEvictionRate?: number;
  /** --secondary-node-eviction-rate: the same in a partially disrupted large zone (0.01). */
  secondaryNodeEvictionRate?: number;
  /** --large-cluster-size-threshold: zones with more nodes than this use the secondary rate when disrupted (50). */
  largeClusterSizeThreshold?: number;
  /** --unhealthy-zone-threshold: fraction of not-ready nodes (at least 3) that makes a zone PartiallyDisrupted (0.55). */
  unhealthyZoneThreshold?: number;
  /** --horizontal-pod-autoscaler-sync-period (15s). */
  hpaSyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  hpaTolerance?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5m). */
  hpaDownscaleStabilizationMs?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5m). */
  hpaCpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30s). */
  hpaInitialReadinessDelayMs?: number;
  /** --cluster-cidr: the range node IPAM cuts pod CIDRs from (skiff server's --cluster-cidr). */
  clusterCidr?: string;
  /** --node-cidr-mask-size: prefix length of each node's pod CIDR (24). */
  nodeCidrMaskSize?: number;
  /** --max-endpoints-per-slice (100). */
  maxEndpointsPerSlice?: number;
  /** --mirroring-max-endpoints-per-subset (1000): addresses of one Endpoints subset mirrored into a slice. */
  mirroringMaxEndpointsPerSubset?: number;
  /** --terminated-pod-gc-threshold: terminated pods kept before the pod GC deletes the oldest (12500; 0: off). */
  terminatedPodGcThreshold?: number;
  /** --cluster-signing-duration: how long node certificates signed by the cluster CA last (365 days; k3s's default). */
  clusterSigningDurationMs?: number;
  /** --root-ca-file's content: the CA the root-ca-cert-publisher puts in every namespace (default: the kubeconfig's). */
  rootCaPem?: string;
  /** --service-account-private-key-file: signs the tokens controller's Secret tokens (read into the PEM below). */
  serviceAccountPrivateKeyFile?: string;
  serviceAccountPrivateKeyPem?: string;
  /** --legacy-service-account-token-clean-up-period: unused legacy token Secrets are invalidated, then deleted (365 days). */
  legacyServiceAccountTokenCleanUpPeriodMs?: number;
}

export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
export const DEFAULT_NODE_EVICTION_RATE = 0.1;
export const DEFAULT_SECONDARY_NODE_EVICTION_RATE = 0.01;
export const DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD = 50;
export const DEFAULT_UNHEALTHY_ZONE_THRESHOLD = 0.55;
export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
export const DEFAULT_HPA_TOLERANCE = 0.1;
export const DEFAULT_HPA_DOWNSCALE_STABILIZATION_MS = 300_000;
export const DEFAULT_HPA_CPU_INITIALIZATION_PERIOD_MS = 300_000;
export const DEFAULT_HPA_INITIAL_READINESS_DELAY_MS = 30_000;

/** A Go duration ("40s", "1m30s", "500ms", "0") in milliseconds; throws on anything else. */
export function parseGoDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return ms;
}

type Parser = (value: string) => number;
const duration: Parser = parseGoDuration;
const float: Parser = (v) => {
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(v.trim())) throw new Error(`invalid number ${JSON.stringify(v)}`);
  return Number(v);
};
const int: Parser = (v) => {
  if (!/^\d+$/.test(v.trim())) throw new Error(`invalid integer ${JSON.stringify(v)}`);
  return Number(v);
};

const positiveDuration: Parser = (v) => {
  const ms = parseGoDuration(v);
  if (!(ms > 0)) throw new Error(`must be greater than 0, got ${JSON.stringify(v)}`);
  return ms;
};

/** The options that hold numbers (every flag parsed here; --cluster-cidr comes from skiff server's own flag). */
type NumericOption = { [K in keyof ControllerOptions]-?: ControllerOptions[K] extends number | undefined ? K : never }[keyof ControllerOptions];

const FLAGS: Record<string, [NumericOption, Parser]> = {
  'node-monitor-period': ['nodeMonitorPeriodMs', duration],
  'node-monitor-grace-period': ['nodeMonitorGracePeriodMs', duration],
  'node-startup-grace-period': ['nodeStartupGracePeriodMs', duration],
  'node-eviction-rate': ['nodeEvictionRate', float],
  'secondary-node-eviction-rate': ['secondaryNodeEvictionRate', float],
  'large-cluster-size-threshold': ['largeClusterSizeThreshold', int],
  'unhealthy-zone-threshold': ['unhealthyZoneThreshold', float],
  'horizontal-pod-autoscaler-sync-period': ['hpaSyncPeriodMs', duration],
  'horizontal-pod-autoscaler-tolerance': ['hpaTolerance', float],
  'horizontal-pod-autoscaler-downscale-stabilization': ['hpaDownscaleStabilizationMs', duration],
  'horizontal-pod-autoscaler-cpu-initialization-period': ['hpaCpuInitializationPeriodMs', duration],
  'horizontal-pod-autoscaler-initial-readiness-delay': ['hpaInitialReadinessDelayMs', duration],
  'node-cidr-mask-size': ['nodeCidrMaskSize', int],
  'max-endpoints-per-slice': ['maxEndpointsPerSlice', int],
  'mirroring-max-endpoints-per-subset': ['mirroringMaxEndpointsPerSubset', int],
  'terminated-pod-gc-threshold': ['terminatedPodGcThreshold', int],
  'cluster-signing-duration': ['clusterSigningDurationMs', duration],
  'legacy-service-account-token-clean-up-period': ['legacyServiceAccountTokenCleanUpPeriodMs', positiveDuration],
};

/** The flag names accepted in --kube-controller-manager-arg. */
export const CONTROLLER_MANAGER_FLAGS: readonly string[] = Object.keys(FLAGS);

/** `name=value` items (a leading "--" is allowed) → options; throws naming the item at fault. */
export function parseControllerManagerArgs(args: readonly string[]): ControllerOptions {
  const out: ControllerOptions = {};
  for (const arg of args) {
    const m = /^(?:--)?([a-z0-9-]+)=(.*)$/.exec(arg.trim());
    if (!m) throw new Error(`invalid --kube-controller-manager-arg ${JSON.stringify(arg)}: expected name=value`);
    const flag = FLAGS[m[1]];
    if (!flag) throw new Error(`invalid --kube-controller-manager-arg ${JSON.stringify(arg)}: unknown flag --${m[1]} (known: ${CONTROLLER_MANAGER_FLAGS.join(', ')})`);
    try {
      out[flag[0]] = flag[1](m[2]);
    } catch (e) {
      throw new Error(`invalid --kube-controller-manager-arg ${JSON.stringify(arg)}: ${(e as Error).message}`);
    }
  }
  return out;
}
