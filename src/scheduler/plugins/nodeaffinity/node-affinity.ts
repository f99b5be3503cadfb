// NodeAffinity: spec.nodeSelector and required node affinity filter nodes; preferred terms add their weights.
import type { Node, NodeSelector, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import { defaultNormalizeScore } from '../../framework/helpers.js';
import type { FilterPlugin, NodeScore, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { NodeSelectorMatcher, PreferredSchedulingTerms, RequiredNodeAffinity } from '../../../machinery/nodeaffinity.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const NODE_AFFINITY = 'NodeAffinity';
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';
const PRE_FILTER_KEY = 'PreFilter' + NODE_AFFINITY;
const PRE_SCORE_KEY = 'PreScore' + NODE_AFFINITY;

/** NodeAffinityArgs: affinity the scheduler adds to every pod of the profile. */
export interface NodeAffinityArgs {
  addedAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
    preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[];
  };
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NODE_AFFINITY;
  private readonly addedNodeSelector: NodeSelectorMatcher | undefined;
  private readonly addedPreferred: PreferredSchedulingTerms | undefined;

  constructor(args: NodeAffinityArgs = {}) {
    const added = args.addedAffinity;
    const req = added?.requiredDuringSchedulingIgnoredDuringExecution;
    this.addedNodeSelector = req ? new NodeSelectorMatcher(req) : undefined;
    if (this.addedNodeSelector?.errors.length) throw new Error(`addedAffinity: ${this.addedNodeSelector.errors.join('; ')}`);
    const pref = added?.preferredDuringSchedulingIgnoredDuringExecution;
    this.addedPreferred = pref?.length ? new PreferredSchedulingTerms(pref) : undefined;
  }

  /** A node that appears, or whose labels change, so that it now matches the pod's selector and required affinity. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [registerFor('Node', ActionType.Add | ActionType.UpdateNodeLabel, (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n))];
  }

  /** Queue when the node matches now (and the scheduler-enforced affinity) and did not before. */
  isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    if (this.addedNodeSelector && !this.addedNodeSelector.matches(node)) return QueueingHint.QueueSkip;
    const required = new RequiredNodeAffinity(pod);
    if (!required.matches(node)) return QueueingHint.QueueSkip;
    if (!oldNode) return QueueingHint.Queue;
    const wasMatched = required.matches(oldNode) && (!this.addedNodeSelector || this.addedNodeSelector.matches(oldNode));
    return wasMatched ? QueueingHint.QueueSkip : QueueingHint.Queue;
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!required && !this.addedNodeSelector && !pod.spec?.nodeSelector) return { status: Status.skip() };
    state.write(PRE_FILTER_KEY, new RequiredNodeAffinity(pod));
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return {};

    // Terms that pin metadata.name narrow the nodes to visit (terms are ORed, requirements within one ANDed).
    let nodeNames: Set<string> | undefined;
    for (const term of terms) {
      let termNames: Set<string> | undefined;
      for (const r of term.matchFields ?? []) {
        if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
        const s = new Set(r.values ?? []);
        termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
      }
      // A term without a name pin allows every node.
      if (!termNames) return {};
      nodeNames = new Set([...(nodeNames ?? []), ...termNames]);
    }
    if (nodeNames && nodeNames.size === 0) return { status: Status.unresolvable(ERR_REASON_CONFLICT) };
    return nodeNames ? { result: { nodeNames } } : {};
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('node not found'));
    if (this.addedNodeSelector && !this.addedNodeSelector.matches(node)) return Status.unresolvable(ERR_REASON_ENFORCED);
    const required = state.has(PRE_FILTER_KEY) ? state.read<RequiredNodeAffinity>(PRE_FILTER_KEY) : new RequiredNodeAffinity(pod);
    return required.matches(node) ? undefined : Status.unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    const terms = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (terms.length === 0 && !this.addedPreferred) return Status.skip();
    try {
      state.write(PRE_SCORE_KEY, new PreferredSchedulingTerms(terms));
    } catch (err) {
      return Status.fromError(new Error(`Parsing pod's preferred node affinity: ${(err as Error).message}`));
    }
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const node = nodeInfo.node;
    if (!node) throw new Error('node not found');
    let score = this.addedPreferred?.score(node) ?? 0;
    let preferred: PreferredSchedulingTerms;
    if (state.has(PRE_SCORE_KEY)) {
      preferred = state.read<PreferredSchedulingTerms>(PRE_SCORE_KEY);
    } else {
      preferred = new PreferredSchedulingTerms(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []);
    }
    score += preferred.score(node);
    return score;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    return undefined;
  }
}
