// TaintToleration: NoSchedule/NoExecute taints must be tolerated; untolerated PreferNoSchedule taints lower the score.
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, samePod, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import { defaultNormalizeScore, findMatchingUntoleratedTaint, tolerationsTolerateTaint } from '../../framework/helpers.js';
import type { FilterPlugin, NodeScore, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const TAINT_TOLERATION = 'TaintToleration';
const PRE_SCORE_KEY = 'PreScore' + TAINT_TOLERATION;

/** Upstream's ErrReasonNotMatch (the kubelet's NoExecute admission check reports it). */
export const ERR_REASON_NOT_MATCH = "node(s) had taints that the pod didn't tolerate";
export const untoleratedTaintReason = (taint: Taint): string => `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;

const doNotSchedule = (t: Taint): boolean => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = TAINT_TOLERATION;

  /** A node whose taints the pod now tolerates (new, or a taint removed), or the pod's own tolerations changing. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Node', ActionType.Add | ActionType.UpdateNodeTaint, (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n)),
      registerFor('Pod', ActionType.UpdatePodTolerations, (pod, o, n) => this.isSchedulableAfterPodTolerationChange(pod, o, n)),
    ];
  }

  /** Queue when the node had an untolerated taint (or did not exist) and now has none. */
  isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    const wasUntolerated = !oldNode || !!findMatchingUntoleratedTaint(oldNode.spec?.taints, pod.spec?.tolerations, doNotSchedule);
    const isUntolerated = !!findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, doNotSchedule);
    return wasUntolerated && !isUntolerated ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /** Queue when the rejected pod's own tolerations changed (a toleration added may now match a node's taints). */
  isSchedulableAfterPodTolerationChange(pod: Pod, _oldObj: unknown, newObj: unknown): QueueingHint {
    const { newObj: modified } = asObjects<Pod>(undefined, newObj);
    return modified && samePod(modified, pod) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const taint = findMatchingUntoleratedTaint(nodeInfo.node?.spec?.taints, pod.spec?.tolerations, doNotSchedule);
    return taint ? Status.unresolvable(untoleratedTaintReason(taint)) : undefined;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    if (nodes.length === 0) return undefined;
    // Only tolerations that can apply to PreferNoSchedule taints matter for the score.
    const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(PRE_SCORE_KEY, tolerations);
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const tolerations =
      state.get<Toleration[]>(PRE_SCORE_KEY) ?? (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let intolerable = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) intolerable++;
    }
    return intolerable;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    return undefined;
  }
}
