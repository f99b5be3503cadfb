// PodTopologySpread: DoNotSchedule constraints filter nodes whose domain would exceed maxSkew; ScheduleAnyway
// constraints (or the cluster defaults) score nodes with fewer matching pods higher.
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { Selector } from '../../../machinery/labels.js';
import { labelSelectorAsSelector, newRequirement, selectorFromRequirements } from '../../../machinery/labels.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, samePod, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import { findMatchingUntoleratedTaint } from '../../framework/helpers.js';
import type { FilterPlugin, NodeScore, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { RequiredNodeAffinity } from '../../../machinery/nodeaffinity.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + ' (missing required label)';
const PRE_FILTER_KEY = 'PreFilter' + POD_TOPOLOGY_SPREAD;
const PRE_SCORE_KEY = 'PreScore' + POD_TOPOLOGY_SPREAD;
const LABEL_HOSTNAME = 'kubernetes.io/hostname';

/** Upstream's system default constraints, used when a pod states none and defaultingType is System. */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { maxSkew: 3, topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway' },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
];

export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  defaultingType?: 'System' | 'List';
}

export interface PodTopologySpreadOptions {
  /**
   * The selector default constraints use for a pod: upstream derives it from the Services, ReplicaSets and
   * StatefulSets selecting the pod. Without it (or when it returns undefined) default constraints do not apply.
   */
  defaultSelector?: (pod: Pod) => Selector | undefined;
}

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

/** Pods in the namespace, not being deleted, that the selector matches (upstream's countPodsMatchSelector). */
function countMatching(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  if (selector.matchesNothing) return 0;
  let n = 0;
  for (const { pod } of pods) {
    if (pod.metadata?.deletionTimestamp || (pod.metadata?.namespace ?? '') !== namespace) continue;
    if (selector.matches(pod.metadata?.labels)) n++;
  }
  return n;
}

const hasAllKeys = (node: Node, constraints: readonly Constraint[]): boolean => {
  const labels = node.metadata?.labels ?? {};
  return constraints.every((c) => c.topologyKey in labels);
};

function includesNode(c: Constraint, pod: Pod, node: Node, affinity: RequiredNodeAffinity): boolean {
  if (c.honorNodeAffinity && !affinity.matches(node)) return false;
  if (c.honorNodeTaints) {
    const untolerated = findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    if (untolerated) return false;
  }
  return true;
}

interface FilterState {
  constraints: Constraint[];
  /** Matching pods per "key\0value" domain; domains with no matching pods are present with 0. */
  pairCounts: Map<string, number>;
  /** Smallest count and number of domains per topology key. */
  minByKey: Map<string, number>;
  domainsByKey: Map<string, number>;
}

interface ScoreState {
  constraints: Constraint[];
  ignoredNodes: Set<string>;
  pairCounts: Map<string, number>;
  normalizingWeights: number[];
}

const pairKey = (key: string, value: string): string => `${key}\0${value}`;

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
};

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = POD_TOPOLOGY_SPREAD;
  private readonly defaultConstraints: readonly TopologySpreadConstraint[];
  private readonly systemDefaulted: boolean;

  constructor(
    args: PodTopologySpreadArgs = {},
    private readonly opts: PodTopologySpreadOptions = {},
  ) {
    const type = args.defaultingType ?? 'System';
    if (type !== 'System' && type !== 'List') throw new Error(`defaultingType: Unsupported value: ${JSON.stringify(type)}: supported values: "List", "System"`);
    if (type === 'System' && args.defaultConstraints?.length) {
      throw new Error('defaultConstraints: Invalid value: when .defaultingType is "System", .defaultConstraints must be empty');
    }
    this.systemDefaulted = type === 'System';
    this.defaultConstraints = type === 'System' ? SYSTEM_DEFAULT_CONSTRAINTS : (args.defaultConstraints ?? []);
  }

  /** The pod's constraints of one kind, with matchLabelKeys folded into the selector. */
  private constraintsOf(list: readonly TopologySpreadConstraint[], pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    const podLabels = pod.metadata?.labels ?? {};
    return list
      .filter((c) => c.whenUnsatisfiable === action)
      .map((c) => {
        let selector = labelSelectorAsSelector(c.labelSelector);
        const extra = (c.matchLabelKeys ?? []).filter((k) => k in podLabels).map((k) => newRequirement(k, 'in', [podLabels[k]!]));
        if (extra.length) selector = selectorFromRequirements([...selector.requirements, ...extra]);
        return {
          maxSkew: c.maxSkew,
          topologyKey: c.topologyKey,
          selector,
          minDomains: c.minDomains ?? 1,
          honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
          honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
        };
      });
  }

  private defaultConstraintsFor(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    const constraints = this.constraintsOf(this.defaultConstraints, pod, action);
    if (constraints.length === 0) return [];
    const selector = this.opts.defaultSelector?.(pod);
    if (!selector || selector.matchesNothing || selector.requirements.length === 0) return [];
    return constraints.map((c) => ({ ...c, selector }));
  }

  private podConstraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    return own.length ? this.constraintsOf(own, pod, action) : this.defaultConstraintsFor(pod, action);
  }

  /**
   * Matching pods that appear, go away or change labels shift the domain counts; nodes that appear, go away or change
   * topology labels or taints change the domains.
   */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Pod', ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete, (pod, o, n) => this.isSchedulableAfterPodChange(pod, o, n)),
      registerFor(
        'Node',
        ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
        (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n),
      ),
    ];
  }

  /** Queue when a scheduled pod of the namespace that a constraint selects is added or deleted, or starts or stops matching. */
  isSchedulableAfterPodChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: original, newObj: modified } = asObjects<Pod>(oldObj, newObj);
    const changed = modified ?? original;
    if (!changed) return QueueingHint.QueueSkip;
    const self = samePod(changed, pod);
    // Unscheduled pods are not counted; pods of other namespaces never are.
    if (!self && (!changed.spec?.nodeName || (changed.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? ''))) return QueueingHint.QueueSkip;
    const constraints = this.podConstraints(pod, 'DoNotSchedule');
    if (original && modified) {
      if (sameLabels(original.metadata?.labels, modified.metadata?.labels)) return QueueingHint.QueueSkip;
      return constraints.some((c) => c.selector.matches(original.metadata?.labels) !== c.selector.matches(modified.metadata?.labels))
        ? QueueingHint.Queue
        : QueueingHint.QueueSkip;
    }
    return constraints.some((c) => c.selector.matches(changed.metadata?.labels)) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /**
   * Queue when a node with every topology key appears or goes away, or a node with them changes a topology value, or
   * changes what the constraints' node inclusion policies look at (labels for nodeAffinityPolicy, taints for
   * nodeTaintsPolicy).
   */
  isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    const constraints = this.podConstraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return QueueingHint.QueueSkip;
    if (!oldNode || !node) {
      const n = node ?? oldNode;
      return n && hasAllKeys(n, constraints) ? QueueingHint.Queue : QueueingHint.QueueSkip;
    }
    if (!hasAllKeys(node, constraints) && !hasAllKeys(oldNode, constraints)) return QueueingHint.QueueSkip;
    const before = oldNode.metadata?.labels ?? {};
    const after = node.metadata?.labels ?? {};
    if (constraints.some((c) => before[c.topologyKey] !== after[c.topologyKey])) return QueueingHint.Queue;
    if (constraints.some((c) => c.honorNodeAffinity)) {
      const affinity = new RequiredNodeAffinity(pod);
      if (affinity.matches(oldNode) !== affinity.matches(node)) return QueueingHint.Queue;
    }
    if (constraints.some((c) => c.honorNodeTaints) && JSON.stringify(oldNode.spec?.taints ?? []) !== JSON.stringify(node.spec?.taints ?? [])) {
      return QueueingHint.Queue;
    }
    return QueueingHint.QueueSkip;
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } {
    let constraints: Constraint[];
    try {
      constraints = this.podConstraints(pod, 'DoNotSchedule');
    } catch (err) {
      return { status: Status.fromError(err) };
    }
    if (constraints.length === 0) return { status: Status.skip() };
    const namespace = pod.metadata?.namespace ?? '';
    const affinity = new RequiredNodeAffinity(pod);
    // Counted per constraint by topology value (no pair string per node), then keyed by pair for Filter.
    const byValue = constraints.map(() => new Map<string, number>());
    for (const info of nodes) {
      const node = info.node;
      if (!node || !hasAllKeys(node, constraints)) continue;
      const labels = node.metadata!.labels!;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        if (!includesNode(c, pod, node, affinity)) continue;
        const value = labels[c.topologyKey]!;
        const counts = byValue[i]!;
        counts.set(value, (counts.get(value) ?? 0) + countMatching(info.pods, c.selector, namespace));
      }
    }
    const pairCounts = new Map<string, number>();
    constraints.forEach((c, i) => {
      for (const [value, count] of byValue[i]!) {
        const key = pairKey(c.topologyKey, value);
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    });
    const minByKey = new Map<string, number>();
    const domainsByKey = new Map<string, number>();
    for (const [pair, count] of pairCounts) {
      const key = pair.slice(0, pair.indexOf('\0'));
      domainsByKey.set(key, (domainsByKey.get(key) ?? 0) + 1);
      minByKey.set(key, Math.min(minByKey.get(key) ?? Infinity, count));
    }
    state.write(PRE_FILTER_KEY, { constraints, pairCounts, minByKey, domainsByKey } satisfies FilterState);
    return {};
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const s = state.read<FilterState>(PRE_FILTER_KEY);
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    for (const c of s.constraints) {
      const value = labels[c.topologyKey];
      if (value === undefined) return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      // Fewer domains than minDomains means the missing ones count as empty.
      let min = s.minByKey.get(c.topologyKey) ?? 0;
      if ((s.domainsByKey.get(c.topologyKey) ?? 0) < c.minDomains) min = 0;
      const self = c.selector.matches(pod.metadata?.labels) ? 1 : 0;
      const count = s.pairCounts.get(pairKey(c.topologyKey, value)) ?? 0;
      if (count + self - min > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return undefined;
  }

  preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): MaybeStatus {
    // Pods are counted on every node of the snapshot, not only the feasible ones.
    const all = state.allNodes.length ? state.allNodes : filteredNodes;
    if (filteredNodes.length === 0 || all.length === 0) return undefined;
    let constraints: Constraint[];
    try {
      constraints = this.podConstraints(pod, 'ScheduleAnyway');
    } catch (err) {
      return Status.fromError(err);
    }
    if (constraints.length === 0) return Status.skip();
    const requireAllTopologies = (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || !this.systemDefaulted;

    const ignoredNodes = new Set<string>();
    const pairCounts = new Map<string, number>();
    const domains = constraints.map(() => 0);
    for (const info of filteredNodes) {
      const node = info.node;
      if (!node) continue;
      if (requireAllTopologies && !hasAllKeys(node, constraints)) {
        ignoredNodes.add(info.name);
        continue;
      }
      constraints.forEach((c, i) => {
        // Per-node counts are taken in Score.
        if (c.topologyKey === LABEL_HOSTNAME) return;
        const key = pairKey(c.topologyKey, node.metadata?.labels?.[c.topologyKey] ?? '');
        if (!pairCounts.has(key)) {
          pairCounts.set(key, 0);
          domains[i]!++;
        }
      });
    }
    const normalizingWeights = constraints.map((c, i) =>
      Math.log((c.topologyKey === LABEL_HOSTNAME ? filteredNodes.length - ignoredNodes.size : domains[i]!) + 2),
    );

    const namespace = pod.metadata?.namespace ?? '';
    const affinity = new RequiredNodeAffinity(pod);
    for (const info of all) {
      const node = info.node;
      if (!node || (requireAllTopologies && !hasAllKeys(node, constraints))) continue;
      for (const c of constraints) {
        if (!includesNode(c, pod, node, affinity)) continue;
        const key = pairKey(c.topologyKey, node.metadata?.labels?.[c.topologyKey] ?? '');
        // Only domains holding a candidate node matter.
        const cur = pairCounts.get(key);
        if (cur === undefined) continue;
        pairCounts.set(key, cur + countMatching(info.pods, c.selector, namespace));
      }
    }
    state.write(PRE_SCORE_KEY, { constraints, ignoredNodes, pairCounts, normalizingWeights } satisfies ScoreState);
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const s = state.read<ScoreState>(PRE_SCORE_KEY);
    if (s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    const namespace = pod.metadata?.namespace ?? '';
    let score = 0;
    s.constraints.forEach((c, i) => {
      const value = labels[c.topologyKey];
      if (value === undefined) return;
      const count =
        c.topologyKey === LABEL_HOSTNAME ? countMatching(nodeInfo.pods, c.selector, namespace) : (s.pairCounts.get(pairKey(c.topologyKey, value)) ?? 0);
      score += count * s.normalizingWeights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  /** Fewest matching pods gets 100: MaxNodeScore * (max + min - score) / max; ignored nodes get 0. */
  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    if (!state.has(PRE_SCORE_KEY)) return undefined;
    const s = state.read<ScoreState>(PRE_SCORE_KEY);
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) continue;
      min = Math.min(min, sc.score);
      max = Math.max(max, sc.score);
    }
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) sc.score = 0;
      else if (max === 0) sc.score = MAX_NODE_SCORE;
      else sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
    }
    return undefined;
  }
}
