// DefaultPreemption: when no node fits, find nodes where evicting lower-priority pods would make room, keep as
// many of those pods as possible (PodDisruptionBudgets respected first), and nominate the node that costs least.
// Evicting the victims and setting nominatedNodeName are the caller's job (they need the API).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { labelSelectorAsSelector } from '../../../machinery/labels.js';
import { CycleState, type NominatedPodsLister } from '../../framework/cycle-state.js';
import { podPriority } from '../../framework/helpers.js';
import type { PostFilterPlugin, PostFilterResult } from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import type { Profile } from '../../framework/profile.js';
import { fitErrorMessage, runFilterPluginsWithNominatedPods, runPreFilterPlugins } from '../../framework/schedule.js';
import { Code, Status } from '../../framework/status.js';

export const DEFAULT_PREEMPTION = 'DefaultPreemption';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface DefaultPreemptionArgs {
  /** Share of nodes to dry-run, at least minCandidateNodesAbsolute (defaults 10% and 100). */
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export interface DefaultPreemptionOptions {
  /** The cluster's PodDisruptionBudgets (upstream reads them from the PDB lister). */
  podDisruptionBudgets?: () => readonly PodDisruptionBudget[];
  /** Where the dry run starts among the nodes; returns a float in [0, 1). */
  random?: () => number;
}

export interface Candidate {
  nodeName: string;
  /** Most important first. */
  victims: PodInfo[];
  numPDBViolations: number;
}

const startTime = (pod: Pod): number => {
  const t = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
};

/** Upstream's MoreImportantPod: higher priority, then the one that started earlier. */
export function moreImportant(a: Pod, b: Pod): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a) < startTime(b);
}
const byImportance = (a: PodInfo, b: PodInfo): number => (moreImportant(a.pod, b.pod) ? -1 : moreImportant(b.pod, a.pod) ? 1 : 0);

/** Victims whose eviction would exceed a matching PDB's disruptionsAllowed, and the rest (upstream's order kept). */
export function splitByPDBViolation(victims: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorAsSelector(p.spec?.selector);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const info of victims) {
    const labels = info.pod.metadata?.labels;
    let violated = false;
    if (labels && Object.keys(labels).length) {
      pdbs.forEach((pdb, i) => {
        const sel = selectors[i];
        if ((pdb.metadata?.namespace ?? '') !== (info.pod.metadata?.namespace ?? '')) return;
        // A PDB with a nil or empty selector matches nothing.
        if (!sel || sel.matchesNothing || sel.requirements.length === 0 || !sel.matches(labels)) return;
        // Already being disrupted: the API server counted it.
        if (pdb.status?.disruptedPods && (info.pod.metadata?.name ?? '') in pdb.status.disruptedPods) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(info);
  }
  return { violating, nonViolating };
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION;
  private readonly pct: number;
  private readonly abs: number;

  constructor(
    args: DefaultPreemptionArgs = {},
    private readonly opts: DefaultPreemptionOptions = {},
  ) {
    this.pct = args.minCandidateNodesPercentage ?? 10;
    this.abs = args.minCandidateNodesAbsolute ?? 100;
    if (!Number.isInteger(this.pct) || this.pct < 0 || this.pct > 100) {
      throw new Error(`minCandidateNodesPercentage: Invalid value: ${this.pct}: not in valid range [0, 100]`);
    }
    if (!Number.isInteger(this.abs) || this.abs < 0) throw new Error(`minCandidateNodesAbsolute: Invalid value: ${this.abs}: not in valid range [0, inf)`);
    if (this.pct === 0 && this.abs === 0) throw new Error('minCandidateNodesPercentage and minCandidateNodesAbsolute cannot both be zero');
  }

  postFilter(state: CycleState, pod: Pod, filteredNodeStatus: ReadonlyMap<string, Status>, profile: Profile): { result?: PostFilterResult; status?: Status } {
    const { result, status } = this.preempt(state, pod, filteredNodeStatus, profile);
    const msg = status.message();
    return { ...(result ? { result } : {}), status: msg ? new Status(status.code, [`preemption: ${msg}`]) : status };
  }

  private preempt(state: CycleState, pod: Pod, m: ReadonlyMap<string, Status>, profile: Profile): { result?: PostFilterResult; status: Status } {
    const allNodes = state.allNodes;
    const eligible = this.eligible(pod, m, allNodes);
    if (eligible) return { status: Status.unschedulable(eligible) };
    if (allNodes.length === 0) return { status: Status.fromError(new Error('no nodes available')) };

    const statuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const n of allNodes) {
      if (m.get(n.name)?.code === Code.UnschedulableAndUnresolvable) statuses.set(n.name, Status.unresolvable(NOT_HELPFUL));
      else potential.push(n);
    }
    const candidates = potential.length ? this.dryRun(pod, potential, allNodes, profile, statuses, state.nominatedPods) : [];
    if (candidates.length === 0) {
      const diagnosis = { nodeToStatus: statuses, unschedulablePlugins: new Set<string>(), preFilterMsg: '', postFilterMsg: '' };
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(fitErrorMessage(statuses.size, diagnosis)) };
    }
    const best = selectCandidate(candidates);
    return { result: { nominatedNodeName: best.nodeName, victims: best.victims.map((v) => v.pod) }, status: Status.success() };
  }

  /** Upstream's PodEligibleToPreemptOthers; the refusal message, or undefined when the pod may preempt. */
  private eligible(pod: Pod, m: ReadonlyMap<string, Status>, nodes: readonly NodeInfo[]): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.status?.nominatedNodeName;
    if (!nominated || m.get(nominated)?.code === Code.UnschedulableAndUnresolvable) return undefined;
    const info = nodes.find((n) => n.name === nominated);
    const prio = podPriority(pod);
    // A lower-priority pod still terminating there means an earlier preemption is in progress.
    if (info?.pods.some((p) => podPriority(p.pod) < prio && p.pod.metadata?.deletionTimestamp)) {
      return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  private dryRun(
    pod: Pod,
    potential: NodeInfo[],
    allNodes: readonly NodeInfo[],
    profile: Profile,
    statuses: Map<string, Status>,
    nominated: NominatedPodsLister | undefined,
  ): Candidate[] {
    const n = potential.length;
    const numCandidates = Math.min(Math.max(Math.trunc((n * this.pct) / 100), this.abs), n);
    const offset = Math.floor((this.opts.random ?? Math.random)() * n);
    const pdbs = this.opts.podDisruptionBudgets?.() ?? [];
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const node = potential[(offset + i) % n]!;
      const { victims, numPDBViolations, status } = this.selectVictimsOnNode(pod, node, allNodes, profile, pdbs, nominated);
      if (status.isSuccess() && victims.length) {
        (numPDBViolations === 0 ? nonViolating : violating).push({ nodeName: node.name, victims, numPDBViolations });
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      statuses.set(node.name, status.isSuccess() ? Status.fromError(new Error(`expected at least one victim pod on node "${node.name}"`)) : status);
    }
    return [...nonViolating, ...violating];
  }

  /** Removes every lower-priority pod, checks the pod fits, then puts back as many as still let it fit. */
  private selectVictimsOnNode(
    pod: Pod,
    original: NodeInfo,
    allNodes: readonly NodeInfo[],
    profile: Profile,
    pdbs: readonly PodDisruptionBudget[],
    nominated: NominatedPodsLister | undefined,
  ): { victims: PodInfo[]; numPDBViolations: number; status: Status } {
    const node = original.clone();
    const snapshot = allNodes.map((n) => (n === original ? node : n));
    const fits = (): Status => {
      // PreFilter state depends on the pods of every node, so it is computed afresh for the what-if node.
      const state = new CycleState();
      state.allNodes = snapshot;
      if (nominated) state.nominatedPods = nominated;
      const pre = runPreFilterPlugins(profile, state, pod, snapshot);
      if (!pre.status.isSuccess()) return pre.status;
      if (pre.result?.nodeNames && !pre.result.nodeNames.has(node.name)) return Status.unresolvable('node is filtered out by the prefilter result');
      return runFilterPluginsWithNominatedPods(profile, state, pod, node, state.nominatedPods);
    };
    const prio = podPriority(pod);
    const potential = node.pods.filter((p) => podPriority(p.pod) < prio);
    if (potential.length === 0) return { victims: [], numPDBViolations: 0, status: Status.unresolvable(NO_VICTIMS) };
    for (const p of potential) node.removePod(p.pod);
    const all = fits();
    if (!all.isSuccess()) return { victims: [], numPDBViolations: 0, status: all };

    potential.sort(byImportance);
    const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      node.addPodInfo(p);
      if (fits().isSuccess()) return true;
      node.removePod(p.pod);
      victims.push(p);
      return false;
    };
    for (const p of violating) if (!reprieve(p)) numPDBViolations++;
    for (const p of nonViolating) reprieve(p);
    victims.sort(byImportance);
    return { victims, numPDBViolations, status: Status.success() };
  }
}

/**
 * Upstream's pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-priority victim, the lowest
 * sum of priorities, the fewest victims, the latest start of the most important victims, then the first.
 */
export function selectCandidate(candidates: readonly Candidate[]): Candidate {
  const free = candidates.find((c) => c.victims.length === 0);
  if (free) return free;
  const INT32_OFFSET = 2 ** 31;
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -podPriority(c.victims[0]!.pod),
    (c) => -c.victims.reduce((sum, v) => sum + podPriority(v.pod) + INT32_OFFSET, 0),
    (c) => -c.victims.length,
    (c) => {
      // The earliest start among victims of the highest priority; later is better.
      const top = podPriority(c.victims[0]!.pod);
      return Math.min(...c.victims.filter((v) => podPriority(v.pod) === top).map((v) => startTime(v.pod)));
    },
  ];
  let remaining = [...candidates];
  for (const score of criteria) {
    if (remaining.length === 1) break;
    const scores = remaining.map(score);
    const best = Math.max(...scores);
    remaining = remaining.filter((_, i) => scores[i] === best);
  }
  return remaining[0]!;
}
