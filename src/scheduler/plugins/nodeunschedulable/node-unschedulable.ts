// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the unschedulable taint.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, samePod, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import { tolerationsTolerateTaint } from '../../framework/helpers.js';
import type { FilterPlugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const NODE_UNSCHEDULABLE = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

const toleratesUnschedulable = (pod: Pod): boolean =>
  tolerationsTolerateTaint(pod.spec?.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_UNSCHEDULABLE;

  /** A node that appears schedulable or is uncordoned, or the pod gaining a toleration of the unschedulable taint. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Node', ActionType.Add | ActionType.UpdateNodeTaint, (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n)),
      registerFor('Pod', ActionType.UpdatePodTolerations, (pod, o, n) => this.isSchedulableAfterPodTolerationChange(pod, o, n)),
    ];
  }

  /** Queue when the node was absent or unschedulable and now is schedulable. */
  isSchedulableAfterNodeChange(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    const wasSchedulable = !!oldNode && !oldNode.spec?.unschedulable;
    return !wasSchedulable && !node.spec?.unschedulable ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /** Queue when the pod itself now tolerates the unschedulable taint. */
  isSchedulableAfterPodTolerationChange(pod: Pod, _oldObj: unknown, newObj: unknown): QueueingHint {
    const { newObj: modified } = asObjects<Pod>(undefined, newObj);
    return modified && samePod(modified, pod) && toleratesUnschedulable(modified) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const node = nodeInfo.node;
    if (!node) return Status.unresolvable(ERR_REASON_UNKNOWN_CONDITION);
    if (!node.spec?.unschedulable) return undefined;
    // Tolerating the taint the node lifecycle controller puts on cordoned nodes also tolerates the flag.
    return toleratesUnschedulable(pod) ? undefined : Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  }
}
