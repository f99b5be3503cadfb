// NodePorts: a pod's host ports must be free on the node (same protocol, same or wildcard host IP).
import type { ContainerPort, Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, deletedAssignedPod, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { FilterPlugin, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const NODE_PORTS = 'NodePorts';
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
const STATE_KEY = 'PreFilter' + NODE_PORTS;

/** Ports of the pod's containers that claim a host port. */
export function hostPorts(pod: Pod): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push(p);
  return out;
}

export function fitsPorts(ports: readonly ContainerPort[], nodeInfo: NodeInfo): boolean {
  return !ports.some((p) => nodeInfo.usedPorts.checkConflict(p.hostIP, p.protocol, p.hostPort ?? 0));
}

/** Two host ports clash: same port and protocol, and the same host IP or a wildcard on either side. */
function portsClash(a: ContainerPort, b: ContainerPort): boolean {
  if (a.hostPort !== b.hostPort || (a.protocol ?? 'TCP') !== (b.protocol ?? 'TCP')) return false;
  const wild = (ip: string | undefined) => !ip || ip === '0.0.0.0' || ip === '::';
  return wild(a.hostIP) || wild(b.hostIP) || a.hostIP === b.hostIP;
}

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_PORTS;

  /** A new node has every port free; a deleted pod frees its ports. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Pod', ActionType.Delete, (pod, o, n) => this.isSchedulableAfterPodDeleted(pod, o, n)),
      registerFor('Node', ActionType.Add),
    ];
  }

  /** Queue when the deleted pod was on a node and held a host port the pod wants. */
  isSchedulableAfterPodDeleted(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const deleted = deletedAssignedPod(oldObj, newObj);
    if (!deleted) return QueueingHint.QueueSkip;
    const freed = hostPorts(deleted);
    return hostPorts(pod).some((p) => freed.some((f) => portsClash(p, f))) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } {
    const ports = hostPorts(pod);
    if (ports.length === 0) return { status: Status.skip() };
    state.write(STATE_KEY, ports);
    return {};
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    // Without PreFilter (disabled in the profile) the ports are read from the pod here.
    const ports = state.has(STATE_KEY) ? state.read<ContainerPort[]>(STATE_KEY) : hostPorts(pod);
    return fitsPorts(ports, nodeInfo) ? undefined : Status.unschedulable(ERR_REASON_NODE_PORTS);
  }
}
