// Upstream's scheduler extension points. A plugin implements any subset; the framework finds them by method.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from './cycle-state.js';
import type { NodeInfo } from './node-info.js';
import type { Profile } from './profile.js';
import type { MaybeStatus, Status } from './status.js';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;
export const MAX_TOTAL_SCORE = Number.MAX_SAFE_INTEGER;

export interface NodeScore {
  name: string;
  score: number;
}

/** A pod waiting in the scheduling queue. */
export interface QueuedPodInfo {
  pod: Pod;
  /** When the pod was added to the queue (ms since epoch). */
  timestamp: number;
  attempts?: number;
  /**
   * Plugins that rejected the pod in its last attempt (Filter/PreFilter Unschedulable or UnschedulableAndUnresolvable,
   * a PreEnqueue refusal, a Reserve/Permit/PreBind rejection): only events they registered can move it back.
   */
  unschedulablePlugins?: Set<string>;
  /** Plugins that left the pod Pending: an event they say Queue to moves it to activeQ without waiting out backoff. */
  pendingPlugins?: Set<string>;
}

/** Nodes a PreFilter plugin narrowed the pod to; undefined nodeNames means all nodes. */
export interface PreFilterResult {
  nodeNames?: ReadonlySet<string>;
}

export interface Plugin {
  readonly name: string;
}

export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): MaybeStatus;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus;
}

export interface PostFilterResult {
  /** The node the pod should wait for ("" clears an earlier nomination). */
  nominatedNodeName?: string;
  /** Pods to evict so the pod fits on the nominated node (preemption victims). */
  victims?: Pod[];
}

export interface PostFilterPlugin extends Plugin {
  /** Runs after no node fit; `profile` lets it re-run PreFilter and Filter on what-if nodes (upstream's handle). */
  postFilter(state: CycleState, pod: Pod, filteredNodeStatus: ReadonlyMap<string, Status>, profile: Profile): { result?: PostFilterResult; status?: Status };
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus;
}

export interface ScorePlugin extends Plugin {
  /**
   * A score for one node; after normalizeScore every score must be within [0, 100]. A failure (upstream's error
   * Status) is thrown: the framework reports it as the plugin's failure. A plain number, so scoring thousands of
   * nodes allocates nothing per node.
   */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number;
  /** Rescales all nodes' scores in place (upstream's ScoreExtensions.NormalizeScore). */
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): MaybeStatus;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): MaybeStatus;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** A Wait status holds the pod for up to timeoutMs. */
  permit(state: CycleState, pod: Pod, nodeName: string): { status?: Status; timeoutMs?: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): MaybeStatus | Promise<MaybeStatus>;
}

export interface BindPlugin extends Plugin {
  /** Skip means "not mine", and the next bind plugin is asked. */
  bind(state: CycleState, pod: Pod, nodeName: string): MaybeStatus | Promise<MaybeStatus>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Extension points by the names KubeSchedulerConfiguration uses, each with the method that marks it. */
export const EXTENSION_POINTS = {
  preEnqueue: 'preEnqueue',
  queueSort: 'less',
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  permit: 'permit',
  preBind: 'preBind',
  bind: 'bind',
  postBind: 'postBind',
} as const;

export type ExtensionPoint = keyof typeof EXTENSION_POINTS;

export interface ExtensionPointPlugins {
  preEnqueue: PreEnqueuePlugin[];
  queueSort: QueueSortPlugin[];
  preFilter: PreFilterPlugin[];
  filter: FilterPlugin[];
  postFilter: PostFilterPlugin[];
  preScore: PreScorePlugin[];
  score: ScorePlugin[];
  reserve: ReservePlugin[];
  permit: PermitPlugin[];
  preBind: PreBindPlugin[];
  bind: BindPlugin[];
  postBind: PostBindPlugin[];
}

export function implementsPoint(plugin: Plugin, point: ExtensionPoint): boolean {
  return typeof (plugin as unknown as Record<string, unknown>)[EXTENSION_POINTS[point]] === 'function';
}
