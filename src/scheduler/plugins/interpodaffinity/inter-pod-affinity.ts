// InterPodAffinity: required pod affinity / anti-affinity (the pod's and existing pods') filter nodes by topology
// domain; preferred terms (and existing pods' required affinity) score domains.
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { Labels, Selector } from '../../../machinery/labels.js';
import { labelSelectorAsSelector } from '../../../machinery/labels.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { FilterPlugin, NodeScore, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import { hasPodAffinity, nodesWithAffinityPods, nodesWithRequiredAntiAffinityPods, type NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const INTER_POD_AFFINITY = 'InterPodAffinity';
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const PRE_FILTER_KEY = 'PreFilter' + INTER_POD_AFFINITY;
const PRE_SCORE_KEY = 'PreScore' + INTER_POD_AFFINITY;

export interface InterPodAffinityArgs {
  /** Score added per existing pod whose required affinity the incoming pod matches (0..100, default 1). */
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

export interface InterPodAffinityOptions {
  /** A namespace's labels, for terms with a namespaceSelector (upstream reads them from the namespace lister). */
  namespaceLabels?: (namespace: string) => Labels | undefined;
}

/** A parsed PodAffinityTerm (upstream's framework.AffinityTerm). */
export class AffinityTerm {
  private readonly namespaces: ReadonlySet<string>;
  private readonly selector: Selector;
  private readonly namespaceSelector: Selector;
  readonly topologyKey: string;

  constructor(term: PodAffinityTerm, ownerNamespace: string) {
    this.selector = labelSelectorAsSelector(term.labelSelector);
    this.namespaceSelector = labelSelectorAsSelector(term.namespaceSelector);
    // No namespaces and no namespaceSelector means the owner's namespace.
    this.namespaces = new Set(term.namespaces?.length || term.namespaceSelector ? term.namespaces ?? [] : [ownerNamespace]);
    this.topologyKey = term.topologyKey;
  }

  matches(pod: Pod, namespaceLabels: Labels | undefined): boolean {
    const ns = pod.metadata?.namespace ?? '';
    if (!this.namespaces.has(ns) && !(!this.namespaceSelector.matchesNothing && this.namespaceSelector.matches(namespaceLabels ?? {}))) return false;
    return this.selector.matches(pod.metadata?.labels);
  }
}

interface WeightedTerm {
  term: AffinityTerm;
  weight: number;
}

/** A pod's parsed affinity terms; a term that does not parse throws with its path. */
export class PodAffinityTerms {
  readonly requiredAffinity: AffinityTerm[];
  readonly requiredAntiAffinity: AffinityTerm[];
  readonly preferredAffinity: WeightedTerm[];
  readonly preferredAntiAffinity: WeightedTerm[];

  constructor(readonly pod: Pod) {
    const ns = pod.metadata?.namespace ?? '';
    const a = pod.spec?.affinity;
    const required = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => new AffinityTerm(t, ns));
    const preferred = (terms: WeightedPodAffinityTerm[] | undefined) =>
      (terms ?? []).map((t) => ({ term: new AffinityTerm(t.podAffinityTerm, ns), weight: t.weight }));
    this.requiredAffinity = required(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinity = required(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinity = preferred(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinity = preferred(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
  }

  get hasAny(): boolean {
    return this.requiredAffinity.length + this.requiredAntiAffinity.length + this.preferredAffinity.length + this.preferredAntiAffinity.length > 0;
  }
}

/** Existing pods' terms, parsed once per pod object; pods with unparsable terms are treated as having none. */
const parsedCache = new WeakMap<Pod, PodAffinityTerms | null>();
function termsOf(pod: Pod): PodAffinityTerms | undefined {
  let t = parsedCache.get(pod);
  if (t === undefined) {
    try {
      t = new PodAffinityTerms(pod);
    } catch {
      t = null;
    }
    parsedCache.set(pod, t);
  }
  return t ?? undefined;
}

const pairKey = (key: string, value: string): string => `${key}\0${value}`;
const add = (m: Map<string, number>, k: string, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};

interface FilterState {
  terms: PodAffinityTerms;
  namespaceLabels: Labels | undefined;
  existingAntiAffinityCounts: Map<string, number>;
  affinityCounts: Map<string, number>;
  antiAffinityCounts: Map<string, number>;
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = INTER_POD_AFFINITY;

  /** Scheduled pods that appear, go away or change labels, and nodes that appear or change topology labels. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Pod', ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete, (pod, o, n) => this.isSchedulableAfterPodChange(pod, o, n)),
      registerFor('Node', ActionType.Add | ActionType.UpdateNodeLabel, (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n)),
    ];
  }

  /**
   * Queue when a scheduled pod now matches all of the pod's required affinity terms (added, or its labels changed),
   * stops matching an anti-affinity term (labels changed), or goes away while matching an anti-affinity term or
   * while its own required anti-affinity excluded the pod.
   */
  isSchedulableAfterPodChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: original, newObj: modified } = asObjects<Pod>(oldObj, newObj);
    if ((modified && !modified.spec?.nodeName) || (original && !original.spec?.nodeName)) return QueueingHint.QueueSkip;
    const terms = new PodAffinityTerms(pod);
    const matchesAll = (p: Pod) => terms.requiredAffinity.length > 0 && terms.requiredAffinity.every((t) => t.matches(p, this.nsLabels(p.metadata?.namespace ?? '')));
    const matchesAnyAnti = (p: Pod) => terms.requiredAntiAffinity.some((t) => t.matches(p, this.nsLabels(p.metadata?.namespace ?? '')));
    if (original && modified) {
      if (!matchesAll(original) && matchesAll(modified)) return QueueingHint.Queue;
      if (matchesAnyAnti(original) && !matchesAnyAnti(modified)) return QueueingHint.Queue;
      return QueueingHint.QueueSkip;
    }
    if (modified) return matchesAll(modified) ? QueueingHint.Queue : QueueingHint.QueueSkip;
    if (!original) return QueueingHint.QueueSkip;
    if (matchesAnyAnti(original)) return QueueingHint.Queue;
    const existing = termsOf(original);
    const ns = this.nsLabels(pod.metadata?.namespace ?? '');
    return existing?.requiredAntiAffinity.some((t) => t.matches(pod, ns)) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /**
   * Queue when a new node carries a topology key of the pod's required affinity (or the pod has none, so any new
   * domain may do), or a node's value for one of the pod's topology keys changed (for a pod kept out only by other
   * pods' anti-affinity, whose keys are unknown here, any label change).
   */
  isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    const terms = new PodAffinityTerms(pod);
    const labels = node.metadata?.labels ?? {};
    if (!oldNode) {
      if (terms.requiredAffinity.length === 0) return QueueingHint.Queue;
      return terms.requiredAffinity.some((t) => t.topologyKey in labels) ? QueueingHint.Queue : QueueingHint.QueueSkip;
    }
    const keys = [...terms.requiredAffinity, ...terms.requiredAntiAffinity].map((t) => t.topologyKey);
    if (keys.length === 0) return QueueingHint.Queue;
    const before = oldNode.metadata?.labels ?? {};
    return keys.some((k) => before[k] !== labels[k]) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }
  private readonly hardPodAffinityWeight: number;
  private readonly ignorePreferredTermsOfExistingPods: boolean;

  constructor(
    args: InterPodAffinityArgs = {},
    private readonly opts: InterPodAffinityOptions = {},
  ) {
    const w = args.hardPodAffinityWeight ?? 1;
    if (!Number.isInteger(w) || w < 0 || w > 100) throw new Error(`hardPodAffinityWeight: Invalid value: ${w}: not in valid range [0-100]`);
    this.hardPodAffinityWeight = w;
    this.ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false;
  }

  private nsLabels(namespace: string): Labels | undefined {
    return this.opts.namespaceLabels?.(namespace);
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } {
    let terms: PodAffinityTerms;
    try {
      terms = new PodAffinityTerms(pod);
    } catch (err) {
      return { status: Status.fromError(new Error(`parsing pod: ${(err as Error).message}`)) };
    }
    const namespaceLabels = this.nsLabels(pod.metadata?.namespace ?? '');
    const existingAntiAffinityCounts = new Map<string, number>();
    const affinityCounts = new Map<string, number>();
    const antiAffinityCounts = new Map<string, number>();
    const wantsIncoming = terms.requiredAffinity.length + terms.requiredAntiAffinity.length > 0;
    // Without required terms of its own, only nodes holding pods with required anti-affinity can matter.
    for (const info of wantsIncoming ? nodes : nodesWithRequiredAntiAffinityPods(nodes)) {
      // Most nodes of a large cluster hold none of the pods counted here: skip them before reading their labels.
      if (info.pods.length === 0) continue;
      const labels = info.node?.metadata?.labels;
      if (!labels) continue;
      // Existing pods whose required anti-affinity rejects the incoming pod block their whole domain.
      for (const { pod: existing } of info.podsWithRequiredAntiAffinity) {
        for (const t of termsOf(existing)?.requiredAntiAffinity ?? []) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(pod, namespaceLabels)) add(existingAntiAffinityCounts, pairKey(t.topologyKey, v), 1);
        }
      }
      if (!wantsIncoming) continue;
      for (const { pod: existing } of info.pods) {
        const existingNsLabels = this.nsLabels(existing.metadata?.namespace ?? '');
        // An existing pod counts for the pod's affinity only if it matches every required affinity term.
        if (terms.requiredAffinity.length && terms.requiredAffinity.every((t) => t.matches(existing, existingNsLabels))) {
          for (const t of terms.requiredAffinity) {
            const v = labels[t.topologyKey];
            if (v !== undefined) add(affinityCounts, pairKey(t.topologyKey, v), 1);
          }
        }
        for (const t of terms.requiredAntiAffinity) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(existing, existingNsLabels)) add(antiAffinityCounts, pairKey(t.topologyKey, v), 1);
        }
      }
    }
    if (existingAntiAffinityCounts.size === 0 && !wantsIncoming) return { status: Status.skip() };
    state.write(PRE_FILTER_KEY, { terms, namespaceLabels, existingAntiAffinityCounts, affinityCounts, antiAffinityCounts } satisfies FilterState);
    return {};
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const s = state.read<FilterState>(PRE_FILTER_KEY);
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    if (!this.satisfiesAffinity(s, labels)) return Status.unresolvable(ERR_REASON_AFFINITY);
    for (const t of s.terms.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
    }
    if (s.existingAntiAffinityCounts.size > 0) {
      for (const [k, v] of Object.entries(labels)) {
        if ((s.existingAntiAffinityCounts.get(pairKey(k, v)) ?? 0) > 0) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
      }
    }
    return undefined;
  }

  private satisfiesAffinity(s: FilterState, labels: Readonly<Record<string, string>>): boolean {
    let podsExist = true;
    for (const t of s.terms.requiredAffinity) {
      const v = labels[t.topologyKey];
      // Every topology key must be on the node.
      if (v === undefined) return false;
      if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group with affinity to itself may go anywhere with the topology labels.
    return s.affinityCounts.size === 0 && s.terms.requiredAffinity.every((t) => t.matches(s.terms.pod, s.namespaceLabels));
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    if (nodes.length === 0) return undefined;
    let terms: PodAffinityTerms;
    try {
      terms = new PodAffinityTerms(pod);
    } catch (err) {
      return Status.fromError(new Error(`parsing pod: ${(err as Error).message}`));
    }
    const hasConstraints = terms.preferredAffinity.length + terms.preferredAntiAffinity.length > 0;
    if (this.ignorePreferredTermsOfExistingPods && !hasConstraints) return Status.skip();
    const namespaceLabels = this.nsLabels(pod.metadata?.namespace ?? '');
    const all = state.allNodes.length ? state.allNodes : nodes;
    // topology key → value → score
    const scores = new Map<string, Map<string, number>>();
    const credit = (t: AffinityTerm, weight: number, target: Pod, targetNsLabels: Labels | undefined, labels: Readonly<Record<string, string>>) => {
      const v = labels[t.topologyKey];
      if (v === undefined || !t.matches(target, targetNsLabels)) return;
      let byValue = scores.get(t.topologyKey);
      if (!byValue) scores.set(t.topologyKey, (byValue = new Map()));
      byValue.set(v, (byValue.get(v) ?? 0) + weight);
    };
    // Without preferences of its own, the pod is only scored by existing pods' affinity.
    for (const info of hasConstraints ? all : nodesWithAffinityPods(all)) {
      const candidates = hasConstraints ? info.pods : info.podsWithAffinity;
      if (candidates.length === 0) continue;
      const labels = info.node?.metadata?.labels;
      if (!labels) continue;
      for (const existingInfo of candidates) {
        const existing = existingInfo.pod;
        const existingNsLabels = this.nsLabels(existing.metadata?.namespace ?? '');
        for (const w of terms.preferredAffinity) credit(w.term, w.weight, existing, existingNsLabels, labels);
        for (const w of terms.preferredAntiAffinity) credit(w.term, -w.weight, existing, existingNsLabels, labels);
        if (!hasPodAffinity(existing)) continue;
        const theirs = termsOf(existing);
        if (!theirs) continue;
        if (this.hardPodAffinityWeight > 0) for (const t of theirs.requiredAffinity) credit(t, this.hardPodAffinityWeight, pod, namespaceLabels, labels);
        for (const w of theirs.preferredAffinity) credit(w.term, w.weight, pod, namespaceLabels, labels);
        for (const w of theirs.preferredAntiAffinity) credit(w.term, -w.weight, pod, namespaceLabels, labels);
      }
    }
    if (scores.size === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, scores);
    return undefined;
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const scores = state.read<Map<string, Map<string, number>>>(PRE_SCORE_KEY);
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    for (const [key, byValue] of scores) {
      const v = labels[key];
      if (v !== undefined) score += byValue.get(v) ?? 0;
    }
    return score;
  }

  /** Scores (which may be negative) are spread linearly over [0, 100] between the lowest and the highest. */
  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    if (!state.has(PRE_SCORE_KEY) || state.read<Map<string, unknown>>(PRE_SCORE_KEY).size === 0) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((s.score - min) / diff)) : 0;
    return undefined;
  }
}
