// Node flags shared by `skiff server` and `skiff agent` (k3s's names: --node-name, --node-label, --node-taint) and the
// simulated-node flags (--simulated-nodes N and friends), turned into the simulator's options.
import type { Command } from 'commander';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { resolve } from 'node:path';
import { parseQuantity } from '../machinery/quantity.js';
import { parseDuration } from '../kubelet/simulated/expr.js';
import { DEFAULT_CAPACITY, simulatedNodeNames, type NodeCapacity } from '../kubelet/simulated/defaults.js';

export interface RawNodeOptions {
  nodeName?: string;
  nodeLabel?: string[];
  nodeTaint?: string[];
  simulatedNodes?: string;
  simulatedZones?: string;
  simulatedNodeCpu?: string;
  simulatedNodeMemory?: string;
  simulatedNodePods?: string;
  simulatedNodeEphemeralStorage?: string;
  simulatedStages?: string;
  simulatedStopHeartbeat?: string[];
  simulatedRenewInterval?: string;
  privateRegistry?: string;
  kubeletArg?: string[];
}

export interface SimulatedNodesConfig {
  names: string[];
  zones: number;
  capacity: NodeCapacity;
  labels: Record<string, string>;
  taints: Taint[];
  /** A stage file replacing the default stages. */
  stagesFile?: string;
  stopHeartbeat: string[];
  /** Lease renewal period in ms. */
  renewIntervalMs: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const splitList = (values: readonly string[] | undefined): string[] =>
  (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');

/** Declares --node-name/--node-label/--node-taint and the --simulated-* flags on a command. */
export function addNodeOptions(cmd: Command): Command {
  return cmd
    .option('--node-name <name>', 'node name (with --simulated-nodes N > 1: the prefix of <name>-0 ... <name>-(N-1))')
    .option('--node-label <key=value>', 'label to register the node(s) with (repeatable)', collect)
    .option('--node-taint <key=value:effect>', 'taint to register the node(s) with (repeatable)', collect)
    .option('--private-registry <file>', 'private registry configuration (k3s registries.yaml; default: <data-dir>/agent/etc/registries.yaml)')
    .option('--kubelet-arg <flag=value>', 'customized flag for the kubelet: sync-frequency, image-gc-high-threshold, image-gc-low-threshold, minimum-image-ttl-duration, eviction-hard, eviction-soft, eviction-soft-grace-period, eviction-minimum-reclaim, eviction-pressure-transition-period, eviction-max-pod-grace-period, allowed-unsafe-sysctls (repeatable)', collect)
    .option('--simulated-nodes <n>', 'run N simulated nodes in this process (what kwok does): no containers, pods are moved through their lifecycle', '0')
    .option('--simulated-zones <n>', 'spread simulated nodes over N zones (topology.kubernetes.io/zone=zone-0 ...); 0: no zone label', '3')
    .option('--simulated-node-cpu <quantity>', 'CPU capacity of each simulated node', DEFAULT_CAPACITY.cpu)
    .option('--simulated-node-memory <quantity>', 'memory capacity of each simulated node', DEFAULT_CAPACITY.memory)
    .option('--simulated-node-pods <n>', 'pod capacity of each simulated node', DEFAULT_CAPACITY.pods)
    .option('--simulated-node-ephemeral-storage <quantity>', 'ephemeral-storage capacity of each simulated node', DEFAULT_CAPACITY['ephemeral-storage'])
    .option('--simulated-stages <file>', 'YAML/JSON stage list replacing the default pod lifecycle (src/kubelet/simulated/stages/default.yaml)')
    .option('--simulated-stop-heartbeat <names>', 'simulated nodes that register but never renew their Lease or status (repeat or comma-separate)', collect)
    .option('--simulated-renew-interval <duration>', 'how often simulated nodes renew their Lease (kubelet: 10s)', '10s');
}

function quantity(flag: string, value: string): string {
  try {
    parseQuantity(value);
  } catch {
    throw new Error(`invalid ${flag} ${JSON.stringify(value)}: not a quantity`);
  }
  return value;
}

function count(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`invalid ${flag} ${JSON.stringify(value)}: must be a whole number`);
  return Number(value);
}

function renewInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 100) throw new Error(`invalid --simulated-renew-interval ${JSON.stringify(value)}: expected a duration of at least 100ms, e.g. 10s`);
  return ms;
}

export function parseNodeLabels(values: readonly string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new Error(`invalid --node-label ${JSON.stringify(v)}: expected key=value`);
    labels[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return labels;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** "key=value:Effect" or "key:Effect", as the kubelet's --register-with-taints. */
export function parseNodeTaints(values: readonly string[] | undefined): Taint[] {
  return (values ?? []).map((v) => {
    const colon = v.lastIndexOf(':');
    const effect = colon < 0 ? '' : v.slice(colon + 1);
    if (!EFFECTS.includes(effect)) throw new Error(`invalid --node-taint ${JSON.stringify(v)}: expected key[=value]:${EFFECTS.join('|')}`);
    const kv = v.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (!key) throw new Error(`invalid --node-taint ${JSON.stringify(v)}: empty key`);
    return { key, ...(eq < 0 ? {} : { value: kv.slice(eq + 1) }), effect };
  });
}

/** The simulated nodes to run (undefined: none); `defaultPrefix` names them when --node-name is not given. */
export function toSimulatedNodesConfig(raw: RawNodeOptions, defaultPrefix: string): SimulatedNodesConfig | undefined {
  const n = count('--simulated-nodes', raw.simulatedNodes ?? '0');
  const labels = parseNodeLabels(raw.nodeLabel);
  const taints = parseNodeTaints(raw.nodeTaint);
  if (n === 0) return undefined;
  const zones = count('--simulated-zones', raw.simulatedZones ?? '3');
  const names = raw.nodeName ? (n === 1 ? [raw.nodeName] : simulatedNodeNames(n, `${raw.nodeName}-`)) : simulatedNodeNames(n, defaultPrefix);
  return {
    names,
    zones,
    capacity: {
      cpu: quantity('--simulated-node-cpu', raw.simulatedNodeCpu ?? DEFAULT_CAPACITY.cpu),
      memory: quantity('--simulated-node-memory', raw.simulatedNodeMemory ?? DEFAULT_CAPACITY.memory),
      pods: String(count('--simulated-node-pods', raw.simulatedNodePods ?? DEFAULT_CAPACITY.pods)),
      'ephemeral-storage': quantity('--simulated-node-ephemeral-storage', raw.simulatedNodeEphemeralStorage ?? DEFAULT_CAPACITY['ephemeral-storage']),
    },
    labels,
    taints,
    ...(raw.simulatedStages ? { stagesFile: resolve(raw.simulatedStages) } : {}),
    stopHeartbeat: splitList(raw.simulatedStopHeartbeat),
    renewIntervalMs: renewInterval(raw.simulatedRenewInterval ?? '10s'),
  };
}

/** The agent's own node name when --node-name is not given (k3s: the hostname). */
export { defaultNodeName } from '../kubelet/node/machine.js';
