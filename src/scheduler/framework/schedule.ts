// One scheduling cycle's decision (upstream's schedulePod): PreFilter, Filter on every node, PreScore, Score with
// NormalizeScore and weights, then the highest total wins; when no node fits, a FitError with upstream's message.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState, type NominatedPodsLister } from './cycle-state.js';
import { podPriority } from './helpers.js';
import type { FilterPlugin, NodeScore, PreFilterResult } from './interfaces.js';
import { MAX_NODE_SCORE, MIN_NODE_SCORE } from './interfaces.js';
import type { NodeInfo } from './node-info.js';
import type { Profile } from './profile.js';
import { scoreWeight } from './profile.js';
import { Code, Status } from './status.js';

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
/** Status of nodes a PreFilter result left out; they are not counted in the message's reasons. */
export const FILTERED_BY_PREFILTER = 'node is filtered out by the prefilter result';

export interface Diagnosis {
  /** Why each node was rejected (nodes left out by a PreFilter result are absent). */
  nodeToStatus: Map<string, Status>;
  /** Plugins that rejected the pod on some node or in PreFilter. */
  unschedulablePlugins: Set<string>;
  /** Plugins among them whose status was Pending (upstream's Diagnosis.PendingPlugins). */
  pendingPlugins?: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

/** No node fits the pod (upstream's FitError); message() is the FailedScheduling event text. */
/** Upstream's Diagnosis.AddPluginStatus: a rejecting plugin is recorded, and also as pending when its status is Pending. */
export function addPluginStatus(d: Pick<Diagnosis, 'unschedulablePlugins' | 'pendingPlugins'>, s: Status): void {
  if (!s.plugin) return;
  if (s.isRejected()) d.unschedulablePlugins.add(s.plugin);
  if (s.code === Code.Pending) (d.pendingPlugins ??= new Set()).add(s.plugin);
}

export class FitError extends Error {
  override readonly name = 'FitError';
  /** Where the next cycle should start filtering, as on success. */
  nextStartIndex = 0;
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super('');
    this.message = fitErrorMessage(numAllNodes, diagnosis);
  }

  /** Records what PostFilter (preemption) said, appended to the message as upstream does. */
  setPostFilterMessage(msg: string): void {
    this.diagnosis.postFilterMsg = msg;
    this.message = fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

/** "0/N nodes are available: <count reason, ...sorted>. <postFilter>." as upstream words it. */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMsg) {
    // Every node carries the PreFilter status; counting them would repeat it.
    msg += ` ${diagnosis.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of diagnosis.nodeToStatus.values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    // Go's sort.Strings orders bytes; these strings are compared by code unit, which agrees for the ASCII texts.
    const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (diagnosis.postFilterMsg) msg += ` ${diagnosis.postFilterMsg}.`;
  return msg;
}

/** Upstream's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * How many feasible nodes to find before scoring (upstream's numFeasibleNodesToFind): all of a small cluster,
 * otherwise the percentage (0 means adaptive: 50% falling by 1% per 125 nodes, at least 5%), never below 100.
 */
export function numFeasibleNodesToFind(percentage: number | undefined, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage ?? 0;
  if (pct === 0) pct = Math.max(50 - Math.trunc(numAllNodes / 125), MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
  /** Where the next cycle should start looking, so every node gets its turn (upstream's nextStartNodeIndex). */
  nextStartIndex: number;
  /** Total weighted scores of the feasible nodes (empty when only one node was feasible and scoring was skipped). */
  scores: NodeScore[];
}

export interface ScheduleOptions {
  /** The cycle's state, for callers that run later extension points (Reserve, Permit) with it. */
  state?: CycleState;
  /** Picks among equally scored nodes; returns a float in [0, 1). */
  random?: () => number;
  /** The scheduler-wide percentageOfNodesToScore; the profile's own setting wins. */
  percentageOfNodesToScore?: number;
  /** Index into the candidate nodes where filtering starts (the previous result's nextStartIndex). */
  startIndex?: number;
  /** Pods nominated to a node (upstream's PodNominator), counted there by the filters. */
  nominatedPods?: NominatedPodsLister;
}

export type { NominatedPodsLister };

/**
 * Upstream's addNominatedPods: a copy of the node and of the cycle state with the nominated pods of priority at least
 * the pod's added. PreFilter state is recomputed over the snapshot with the copy in place of the node (skiff's
 * stand-in for the PreFilterExtensions AddPod calls). undefined when no such pod is nominated to the node.
 */
function addNominatedPods(
  profile: Profile,
  state: CycleState,
  pod: Pod,
  nodeInfo: NodeInfo,
  nominated: NominatedPodsLister | undefined,
): { state: CycleState; nodeInfo: NodeInfo } | undefined {
  if (!nominated || !nodeInfo.node) return undefined;
  const all = nominated(nodeInfo.name);
  if (all.length === 0) return undefined;
  const pods = all.filter((p) => podPriority(p) >= podPriority(pod) && p.metadata?.uid !== pod.metadata?.uid);
  if (pods.length === 0) return undefined;
  const copy = nodeInfo.clone();
  for (const p of pods) copy.addPod({ ...p, spec: { ...p.spec!, nodeName: nodeInfo.name } });
  const stateOut = state.clone();
  const snapshot = state.allNodes.length ? state.allNodes.map((n) => (n === nodeInfo ? copy : n)) : [copy];
  stateOut.allNodes = snapshot;
  const pre = runPreFilterPlugins(profile, stateOut, pod, snapshot);
  if (pre.status.isRejected()) {
    // The pod cannot pass PreFilter with the nominated pods counted: every filter would reject it on this node.
    stateOut.write(NOMINATED_PREFILTER_REJECTION, pre.status);
  } else if (!pre.status.isSuccess()) {
    throw pre.status.asError()!;
  }
  return { state: stateOut, nodeInfo: copy };
}

const NOMINATED_PREFILTER_REJECTION = 'skiff.dev/nominated-prefilter-rejection';

/**
 * Upstream's RunFilterPluginsWithNominatedPods. Filters run twice when pods are nominated to the node: once with the
 * nominated pods of equal or higher priority added (the pod must fit alongside them, as they will come back), and
 * once without them (anti-affinity or spread among them must not make the pod pass only because they are there).
 * Only when both passes succeed does the node fit.
 */
export function runFilterPluginsWithNominatedPods(
  profile: Profile,
  state: CycleState,
  pod: Pod,
  nodeInfo: NodeInfo,
  nominated?: NominatedPodsLister,
): Status {
  // Nothing nominated anywhere: one pass, as addNominatedPods would find no pod to add (the common case).
  if (!nominated) return runFilters(profile.plugins.filter, state, pod, nodeInfo);
  // Always set by the first pass.
  let status: Status | undefined;
  let podsAdded = false;
  for (let i = 0; i < 2; i++) {
    let stateToUse = state;
    let nodeInfoToUse = nodeInfo;
    if (i === 0) {
      const added = addNominatedPods(profile, state, pod, nodeInfo, nominated);
      if (added) {
        podsAdded = true;
        stateToUse = added.state;
        nodeInfoToUse = added.nodeInfo;
      }
    } else if (!podsAdded || !status!.isSuccess()) {
      break;
    }
    if (stateToUse.has(NOMINATED_PREFILTER_REJECTION)) {
      status = stateToUse.read<Status>(NOMINATED_PREFILTER_REJECTION);
    } else {
      status = runFilterPlugins(profile, stateToUse, pod, nodeInfoToUse);
    }
    if (!status.isSuccess() && !status.isRejected()) return status;
  }
  return status!;
}

function mergePreFilterResults(a: PreFilterResult | undefined, b: PreFilterResult | undefined): PreFilterResult | undefined {
  if (!a?.nodeNames) return b;
  if (!b?.nodeNames) return a;
  const out = new Set<string>();
  for (const n of a.nodeNames) if (b.nodeNames.has(n)) out.add(n);
  return { nodeNames: out };
}

/** Upstream's RunPreFilterPlugins: a rejection stops at UnschedulableAndUnresolvable, Unschedulable runs the rest. */
export function runPreFilterPlugins(
  profile: Profile,
  state: CycleState,
  pod: Pod,
  nodes: readonly NodeInfo[],
): { result?: PreFilterResult; status: Status; unschedulablePlugins: Set<string> } {
  let result: PreFilterResult | undefined;
  let rejected: Status | undefined;
  const unschedulablePlugins = new Set<string>();
  const narrowing: string[] = [];
  for (const pl of profile.plugins.preFilter) {
    let out;
    try {
      out = pl.preFilter(state, pod, nodes);
    } catch (err) {
      out = { status: Status.fromError(err) };
    }
    const s = out?.status;
    if (s?.isSkip()) {
      state.skipFilterPlugins.add(pl.name);
      continue;
    }
    if (s && !s.isSuccess()) {
      s.withPlugin(pl.name);
      if (s.isRejected()) unschedulablePlugins.add(pl.name);
      if (s.code === Code.UnschedulableAndUnresolvable) return { status: s, unschedulablePlugins };
      if (s.code === Code.Unschedulable) {
        rejected = s;
        continue;
      }
      return {
        status: Status.fromError(new Error(`running PreFilter plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name),
        unschedulablePlugins,
      };
    }
    if (out?.result?.nodeNames) narrowing.push(pl.name);
    result = mergePreFilterResults(result, out?.result);
    if (result?.nodeNames && result.nodeNames.size === 0) {
      const msg =
        narrowing.length === 1
          ? `node(s) didn't satisfy plugin ${narrowing[0]}`
          : `node(s) didn't satisfy plugin(s) [${narrowing.join(' ')}] simultaneously`;
      // The plugins whose node lists left nothing are what an event must change (upstream's pluginsWithNodes).
      for (const name of narrowing) unschedulablePlugins.add(name);
      return { status: Status.unresolvable(msg), unschedulablePlugins };
    }
  }
  return { ...(result ? { result } : {}), status: rejected ?? Status.success(), unschedulablePlugins };
}

/** Upstream's RunFilterPlugins for one node: the first plugin that rejects decides. */
export function runFilterPlugins(profile: Profile, state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
  return runFilters(profile.plugins.filter, state, pod, nodeInfo);
}

/**
 * What runFilters answers for a node that passed: one shared Status rather than one per node, since a cycle filters
 * thousands of nodes. Callers only read it (a rejection is always a Status of its own). Not frozen: a frozen
 * instance has another hidden class, which makes every isSuccess() call site polymorphic (measured slower).
 */
const FILTERS_PASSED: Status = Status.success();

function runFilters(all: readonly FilterPlugin[], state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
  const filters = state.activeFilterPlugins(all);
  for (let i = 0; i < filters.length; i++) {
    const pl = filters[i]!;
    let s;
    try {
      s = pl.filter(state, pod, nodeInfo);
    } catch (err) {
      s = Status.fromError(err);
    }
    if (!s || s.isSuccess()) continue;
    if (!s.isRejected()) {
      return Status.fromError(new Error(`running ${JSON.stringify(pl.name)} filter plugin: ${s.message()}`)).withPlugin(pl.name);
    }
    return s.withPlugin(pl.name);
  }
  return FILTERS_PASSED;
}

/**
 * The per-node scores a plugin writes before normalizing, kept per profile and reused by the next cycle of the same
 * size (every entry is rewritten before each plugin's turn; normalizeScore only reads or rescales them in place).
 */
const scratchScores = new WeakMap<Profile, NodeScore[]>();

function scratchFor(profile: Profile, n: number): NodeScore[] {
  let scores = scratchScores.get(profile);
  if (scores?.length !== n) {
    scores = new Array<NodeScore>(n);
    for (let i = 0; i < n; i++) scores[i] = { name: '', score: 0 };
    scratchScores.set(profile, scores);
  }
  return scores;
}

/** PreScore, Score, NormalizeScore and weights: each node's total (upstream's prioritizeNodes). */
export function prioritizeNodes(profile: Profile, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): NodeScore[] {
  for (const pl of profile.plugins.preScore) {
    let s;
    try {
      s = pl.preScore(state, pod, nodes);
    } catch (err) {
      s = Status.fromError(err);
    }
    if (s?.isSkip()) {
      state.skipScorePlugins.add(pl.name);
      continue;
    }
    if (s && !s.isSuccess()) throw new Error(`running PreScore plugin ${JSON.stringify(pl.name)}: ${s.message()}`);
  }
  const n = nodes.length;
  const totals: NodeScore[] = new Array<NodeScore>(n);
  for (let i = 0; i < n; i++) totals[i] = { name: nodes[i]!.name, score: 0 };
  // One array of per-node scores reused for every plugin and cycle (its entries are rewritten before each turn).
  const scores = scratchFor(profile, n);
  for (const pl of profile.plugins.score) {
    if (state.skipScorePlugins.has(pl.name)) continue;
    try {
      for (let i = 0; i < n; i++) {
        const entry = scores[i]!;
        entry.name = totals[i]!.name;
        entry.score = pl.score(state, pod, nodes[i]!);
      }
    } catch (err) {
      throw new Error(`plugin ${JSON.stringify(pl.name)} failed with: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const ns = pl.normalizeScore?.(state, pod, scores);
    if (ns && !ns.isSuccess()) throw new Error(`running Normalize on Score plugins: plugin ${JSON.stringify(pl.name)} failed with: ${ns.message()}`);
    const weight = scoreWeight(profile, pl);
    for (let i = 0; i < n; i++) {
      const s = scores[i]!.score;
      if (s > MAX_NODE_SCORE || s < MIN_NODE_SCORE) {
        throw new Error(`plugin ${JSON.stringify(pl.name)} returns an invalid score ${s}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`);
      }
      totals[i]!.score += s * weight;
    }
  }
  return totals;
}

/** The highest-scoring node; ties are broken uniformly at random (reservoir sampling, as upstream). */
export function selectHost(scores: readonly NodeScore[], random: () => number = Math.random): string {
  if (scores.length === 0) throw new Error('empty priorityList');
  let selected = scores[0]!;
  let ties = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i]!;
    if (s.score > selected.score) {
      selected = s;
      ties = 1;
    } else if (s.score === selected.score) {
      ties++;
      if (Math.floor(random() * ties) === 0) selected = s;
    }
  }
  return selected.name;
}

/**
 * Chooses a node for the pod among `nodes`. Throws FitError when none fits (its message is the FailedScheduling
 * text) and a plain Error when a plugin fails.
 */
export function schedulePod(pod: Pod, nodes: readonly NodeInfo[], profile: Profile, opts: ScheduleOptions = {}): ScheduleResult {
  if (nodes.length === 0) throw new Error(NO_NODES_AVAILABLE);
  const state = opts.state ?? new CycleState();
  state.allNodes = nodes;
  if (opts.nominatedPods) state.nominatedPods = opts.nominatedPods;
  const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' };

  const pre = runPreFilterPlugins(profile, state, pod, nodes);
  diagnosis.unschedulablePlugins = pre.unschedulablePlugins;
  if (!pre.status.isSuccess()) {
    if (!pre.status.isRejected()) throw pre.status.asError()!;
    for (const n of nodes) diagnosis.nodeToStatus.set(n.name, pre.status);
    diagnosis.preFilterMsg = pre.status.message();
    throw new FitError(pod, nodes.length, diagnosis);
  }

  const names = pre.result?.nodeNames;
  const candidates = names ? nodes.filter((n) => names.has(n.name)) : nodes;
  const toFind = numFeasibleNodesToFind(profile.percentageOfNodesToScore ?? opts.percentageOfNodesToScore, candidates.length);
  const start = (opts.startIndex ?? 0) % Math.max(candidates.length, 1);
  const feasible: NodeInfo[] = [];
  let processed = 0;
  for (; processed < candidates.length && feasible.length < toFind; processed++) {
    const n = candidates[(start + processed) % candidates.length]!;
    const s = runFilterPluginsWithNominatedPods(profile, state, pod, n, state.nominatedPods);
    if (s.isSuccess()) {
      feasible.push(n);
    } else if (s.isRejected()) {
      diagnosis.nodeToStatus.set(n.name, s);
      addPluginStatus(diagnosis, s);
    } else {
      throw s.asError()!;
    }
  }
  const nextStartIndex = (start + processed) % nodes.length;
  if (feasible.length === 0) {
    const err = new FitError(pod, nodes.length, diagnosis);
    err.nextStartIndex = nextStartIndex;
    throw err;
  }

  const evaluatedNodes = processed;
  if (feasible.length === 1) {
    return { suggestedHost: feasible[0]!.name, evaluatedNodes, feasibleNodes: 1, nextStartIndex, scores: [] };
  }
  const scores = prioritizeNodes(profile, state, pod, feasible);
  return { suggestedHost: selectHost(scores, opts.random), evaluatedNodes, feasibleNodes: feasible.length, nextStartIndex, scores };
}
