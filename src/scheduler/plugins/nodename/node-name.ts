// NodeName: a pod that names a node in spec.nodeName fits only that node.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { FilterPlugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const NODE_NAME = 'NodeName';
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

export const nodeNameFits = (pod: Pod, nodeInfo: NodeInfo): boolean => !pod.spec?.nodeName || pod.spec.nodeName === nodeInfo.name;

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_NAME;

  /** Only the node the pod names appearing can help it. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [registerFor('Node', ActionType.Add, (pod, o, n) => this.isSchedulableAfterNodeAdd(pod, o, n))];
  }

  isSchedulableAfterNodeAdd(pod: Pod, _oldObj: unknown, newObj: unknown): QueueingHint {
    const { newObj: node } = asObjects<Node>(undefined, newObj);
    if (!node) return QueueingHint.QueueSkip;
    return !pod.spec?.nodeName || pod.spec.nodeName === node.metadata?.name ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    return nodeNameFits(pod, nodeInfo) ? undefined : Status.unresolvable(ERR_REASON_NODE_NAME);
  }
}
