// The Node object the kubelet registers and keeps current (upstream's kubelet_node_status.go and nodestatus
// setters): labels, capacity and allocatable, addresses, nodeInfo, images, and the four conditions.
import type { Node, NodeCondition, NodeStatus, Taint } from 'kubernetes-types/core/v1.js';
import { formatTime } from '../../machinery/time.js';
import { goArch } from '../images/build.js';
import type { MachineInfo, PressureSignals } from './machine.js';
import { MAX_PODS } from './machine.js';

export const KUBELET_PORT = 10250;
/** Upstream's default hard eviction thresholds: memory.available<100Mi, nodefs.available<10%. */
export const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;
export const EVICTION_NODEFS_FRACTION = 0.1;

export interface NodeIdentity {
  name: string;
  addresses: string[];
  hostname: string;
  /** Servers carry node-role.kubernetes.io/control-plane. */
  controlPlane: boolean;
  podCIDR?: string;
  extraLabels?: Record<string, string>;
  /** Registered with the Node (--node-taint). */
  taints?: Taint[];
}

export function nodeLabels(id: NodeIdentity): Record<string, string> {
  const arch = goArch();
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': id.hostname,
    'kubernetes.io/os': 'linux',
    ...(id.controlPlane ? { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true' } : {}),
    ...(id.extraLabels ?? {}),
  };
}

/** The Node as first registered. */
export function initialNode(id: NodeIdentity): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: nodeLabels(id),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {
      ...(id.podCIDR ? { podCIDR: id.podCIDR, podCIDRs: [id.podCIDR] } : {}),
      ...(id.taints?.length ? { taints: id.taints.map((t) => ({ ...t })) } : {}),
    },
  };
}

const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;

export interface RuntimeHealth {
  runtimeReady: boolean;
  networkReady: boolean;
  /** Why not, as the CRI reported it. */
  message?: string;
  version: string;
}

export interface NodeStatusInput {
  id: NodeIdentity;
  machine: MachineInfo;
  signals: PressureSignals;
  runtime: RuntimeHealth;
  images: { names: string[]; sizeBytes: number }[];
  kubeletVersion: string;
  /** The port the kubelet's HTTPS API listens on. */
  kubeletPort?: number;
  previous: NodeStatus | undefined;
  now: number;
  /** The pods the node may still take (below MAX_PODS). */
  pidPressureThreshold?: number;
  /** The eviction manager's pressure conditions (instead of comparing the signals with the default thresholds). */
  pressure?: { memory: boolean; disk: boolean; pid: boolean };
  /** The hard memory.available threshold allocatable memory is reduced by (default 100Mi). */
  evictionMemoryBytes?: number;
}

function nodeCondition(type: string, ok: boolean, trueReason: string, trueMsg: string, falseReason: string, falseMsg: string, prev: NodeCondition[] | undefined, now: string): NodeCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    reason: ok ? trueReason : falseReason,
    message: ok ? trueMsg : falseMsg,
  };
}

export function computeNodeStatus(input: NodeStatusInput): NodeStatus {
  const { machine, signals, runtime, previous } = input;
  const now = formatTime(new Date(input.now));
  const capacity = {
    cpu: String(machine.cpus),
    'ephemeral-storage': ki(machine.ephemeralStorageBytes),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: ki(machine.memoryBytes),
    pods: String(MAX_PODS),
  };
  const allocatable = {
    ...capacity,
    'ephemeral-storage': String(Math.floor(machine.ephemeralStorageBytes * (1 - EVICTION_NODEFS_FRACTION))),
    memory: ki(Math.max(0, machine.memoryBytes - (input.evictionMemoryBytes ?? EVICTION_MEMORY_BYTES))),
  };
  const memPressure = input.pressure ? input.pressure.memory : signals.memoryAvailableBytes < EVICTION_MEMORY_BYTES;
  const diskPressure = input.pressure ? input.pressure.disk : signals.nodefsAvailableBytes < signals.nodefsCapacityBytes * EVICTION_NODEFS_FRACTION;
  const pidPressure = input.pressure ? input.pressure.pid : input.pidPressureThreshold !== undefined && signals.pidsAvailable < input.pidPressureThreshold;
  const ready = runtime.runtimeReady && runtime.networkReady;
  let notReadyMessage = '';
  if (!runtime.runtimeReady) notReadyMessage = `container runtime is down${runtime.message ? `: ${runtime.message}` : ''}`;
  else if (!runtime.networkReady) notReadyMessage = `container runtime network not ready: NetworkReady=false ${runtime.message ?? ''}`.trim();
  const prev = previous?.conditions;
  const conditions = [
    nodeCondition('MemoryPressure', memPressure, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', prev, now),
    nodeCondition('DiskPressure', diskPressure, 'KubeletHasDiskPressure', 'kubelet has disk pressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', prev, now),
    nodeCondition('PIDPressure', pidPressure, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', prev, now),
    nodeCondition('Ready', ready, 'KubeletReady', 'kubelet is posting ready status', 'KubeletNotReady', notReadyMessage, prev, now),
  ];
  return {
    capacity,
    allocatable,
    conditions,
    addresses: [...input.id.addresses.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: input.id.hostname }],
    daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort ?? KUBELET_PORT } },
    nodeInfo: {
      machineID: machine.machineID,
      systemUUID: machine.systemUUID,
      bootID: machine.bootID,
      kernelVersion: machine.kernelVersion,
      osImage: machine.osImage,
      containerRuntimeVersion: `containerd://${runtime.version}`,
      kubeletVersion: input.kubeletVersion,
      kubeProxyVersion: input.kubeletVersion,
      operatingSystem: 'linux',
      architecture: goArch(),
    },
    images: input.images,
  };
}

/** Two statuses differ in more than heartbeat times (upstream only writes such changes between reports). */
export function nodeStatusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  if (!a) return true;
  const strip = (s: NodeStatus) => JSON.stringify({ ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return strip(a) !== strip(b);
}
