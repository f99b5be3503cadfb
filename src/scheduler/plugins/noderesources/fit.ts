// NodeResourcesFit: the node's allocatable must hold the pod's requests on top of its pods', and the pod count;
// scoring by LeastAllocated (default), MostAllocated or RequestedToCapacityRatio.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { ActionType, QueueingHint, asObjects, registerFor, samePod, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import { NodeInfo } from '../../framework/node-info.js';
import type { FilterPlugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { Resource, isExtendedResourceName, podRequests, podResource } from '../../framework/resources.js';
import { Status, type MaybeStatus } from '../../framework/status.js';
import { ResourceAllocationScorer, type ResourceSpec } from './resource-allocation.js';
import {
  MAX_CUSTOM_PRIORITY_SCORE,
  leastResourceScorer,
  mostResourceScorer,
  requestedToCapacityRatioScorer,
  type FunctionShapePoint,
} from './scorers.js';

export const NODE_RESOURCES_FIT = 'NodeResourcesFit';
const PRE_FILTER_KEY = 'PreFilter' + NODE_RESOURCES_FIT;
const PRE_SCORE_KEY = 'PreScore' + NODE_RESOURCES_FIT;

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: ScoringStrategyType;
    resources?: { name: string; weight?: number }[];
    requestedToCapacityRatio?: { shape?: FunctionShapePoint[] };
  };
}

export const DEFAULT_RESOURCE_SPEC: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** Configured resources with v1 defaults (cpu and memory, weight 1), weights checked as upstream's validation. */
export function resourceSpecs(list: { name: string; weight?: number }[] | undefined): ResourceSpec[] {
  if (!list?.length) return DEFAULT_RESOURCE_SPEC.map((r) => ({ ...r }));
  return list.map((r, i) => {
    const weight = r.weight || 1;
    if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new Error(`scoringStrategy.resources[${i}].weight: Invalid value: ${weight}: resource weight of ${r.name} should be in range [1, 100]`);
    }
    return { name: r.name, weight };
  });
}

function validateShape(shape: readonly FunctionShapePoint[]): void {
  const at = 'scoringStrategy.requestedToCapacityRatio.shape';
  if (shape.length === 0) throw new Error(`${at}: Required value: at least one point must be specified`);
  shape.forEach((p, i) => {
    if (p.utilization < 0 || p.utilization > 100) throw new Error(`${at}[${i}].utilization: Invalid value: ${p.utilization}: not in valid range [0, 100]`);
    if (i > 0 && p.utilization <= shape[i - 1]!.utilization) throw new Error(`${at}[${i}].utilization: Invalid value: ${p.utilization}: utilization values must be sorted in increasing order`);
    if (p.score < 0 || p.score > MAX_CUSTOM_PRIORITY_SCORE) throw new Error(`${at}[${i}].score: Invalid value: ${p.score}: not in valid range [0, ${MAX_CUSTOM_PRIORITY_SCORE}]`);
  });
}

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** Upstream's fitsRequest: every resource the node lacks for the pod, in a stable order. */
const NONE_IGNORED: ReadonlySet<string> = new Set();
const NOTHING_INSUFFICIENT: readonly InsufficientResource[] = Object.freeze([]);

/** Adds a shortfall of one resource to `out` (made on the first one: most nodes have none). */
function checkResource(out: InsufficientResource[] | undefined, name: string, req: number, allocated: number, inUse: number): InsufficientResource[] | undefined {
  if (req > 0 && req > allocated - inUse) {
    (out ??= []).push({ resourceName: name, reason: `Insufficient ${name}`, requested: req, used: inUse, capacity: allocated });
  }
  return out;
}

export function fitsRequest(
  podRequest: Resource,
  nodeInfo: NodeInfo,
  ignoredExtendedResources: ReadonlySet<string> = NONE_IGNORED,
  ignoredResourceGroups: ReadonlySet<string> = NONE_IGNORED,
): readonly InsufficientResource[] {
  let out: InsufficientResource[] | undefined;
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) {
    out = [{ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.pods.length, capacity: alloc.allowedPodNumber }];
  }
  if (podRequest.isEmpty()) return out ?? NOTHING_INSUFFICIENT;
  out = checkResource(out, 'cpu', podRequest.milliCPU, alloc.milliCPU, used.milliCPU);
  out = checkResource(out, 'memory', podRequest.memory, alloc.memory, used.memory);
  out = checkResource(out, 'ephemeral-storage', podRequest.ephemeralStorage, alloc.ephemeralStorage, used.ephemeralStorage);
  if (podRequest.scalarResources.size === 0) return out ?? NOTHING_INSUFFICIENT;
  out ??= [];
  for (const name of [...podRequest.scalarResources.keys()].sort()) {
    const req = podRequest.scalarResources.get(name)!;
    if (req === 0) continue;
    if (isExtendedResourceName(name)) {
      const group = name.split('/')[0]!;
      if (ignoredExtendedResources.has(name) || ignoredResourceGroups.has(group)) continue;
    }
    const allocated = alloc.scalarResources.get(name) ?? 0;
    const inUse = used.scalarResources.get(name) ?? 0;
    if (req > allocated - inUse) {
      out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: req, used: inUse, capacity: allocated });
    }
  }
  return out;
}

/**
 * Hints run once per waiting pod per event: a pod's requests and a node's allocatable are worked out once per object
 * (objects from the informer cache are never mutated, so an object's value cannot change).
 */
const requestCache = new WeakMap<Pod, Resource>();
const requestOf = (pod: Pod): Resource => {
  let r = requestCache.get(pod);
  if (!r) requestCache.set(pod, (r = Resource.fromList(podRequests(pod))));
  return r;
};
const nodeInfoCache = new WeakMap<Node, NodeInfo>();
const emptyNodeInfo = (node: Node): NodeInfo => {
  let n = nodeInfoCache.get(node);
  if (!n) nodeInfoCache.set(node, (n = new NodeInfo(node)));
  return n;
};

/** The pod's requests by resource name as integers (milli-CPU, bytes, counts), for comparing two objects. */
function requestAmounts(r: Resource): Map<string, number> {
  const m = new Map<string, number>([
    ['cpu', r.milliCPU],
    ['memory', r.memory],
    ['ephemeral-storage', r.ephemeralStorage],
  ]);
  for (const [k, v] of r.scalarResources) m.set(k, v);
  return m;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NODE_RESOURCES_FIT;
  private readonly ignoredResources: Set<string>;
  private readonly ignoredResourceGroups: Set<string>;
  readonly scorer: ResourceAllocationScorer;

  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignoredResources = new Set(args.ignoredResources ?? []);
    this.ignoredResourceGroups = new Set(args.ignoredResourceGroups ?? []);
    const strategy = args.scoringStrategy ?? {};
    const resources = resourceSpecs(strategy.resources);
    const type = strategy.type ?? 'LeastAllocated';
    switch (type) {
      case 'LeastAllocated':
        this.scorer = new ResourceAllocationScorer(resources, leastResourceScorer(resources), false);
        break;
      case 'MostAllocated':
        this.scorer = new ResourceAllocationScorer(resources, mostResourceScorer(resources), false);
        break;
      case 'RequestedToCapacityRatio': {
        const shape = strategy.requestedToCapacityRatio?.shape ?? [];
        validateShape(shape);
        this.scorer = new ResourceAllocationScorer(resources, requestedToCapacityRatioScorer(resources, shape), false);
        break;
      }
      default:
        throw new Error(
          `scoringStrategy.type: Unsupported value: ${JSON.stringify(type)}: supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"`,
        );
    }
  }

  /**
   * Room can appear through a scheduled pod going away or shrinking, or a node that appears or grows. Label and taint
   * updates are registered too (a node the pod could not use before may have been skipped), and the hint drops them
   * unless allocatable grew.
   */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Pod', ActionType.Delete | ActionType.UpdatePodScaleDown, (pod, o, n) => this.isSchedulableAfterPodEvent(pod, o, n)),
      registerFor(
        'Node',
        ActionType.Add | ActionType.UpdateNodeAllocatable | ActionType.UpdateNodeTaint | ActionType.UpdateNodeLabel,
        (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o, n),
      ),
    ];
  }

  /** Queue on a scheduled pod's deletion, or a pod shrinking a resource the rejected pod requests. */
  isSchedulableAfterPodEvent(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: original, newObj: modified } = asObjects<Pod>(oldObj, newObj);
    if (!modified) return original?.spec?.nodeName ? QueueingHint.Queue : QueueingHint.QueueSkip;
    if (!original) return QueueingHint.QueueSkip;
    // Another pod's shrinking frees room only where it runs; the rejected pod's own shrinking always may help.
    if (!samePod(modified, pod) && !modified.spec?.nodeName) return QueueingHint.QueueSkip;
    const wanted = requestAmounts(requestOf(pod));
    const before = requestAmounts(requestOf(original));
    const after = requestAmounts(requestOf(modified));
    for (const [name, amount] of wanted) {
      if (amount > 0 && (after.get(name) ?? 0) < (before.get(name) ?? 0)) return QueueingHint.Queue;
    }
    return QueueingHint.QueueSkip;
  }

  /**
   * Queue when the pod would fit the node's allocatable if the node were empty, and the node is new or one of the
   * resources the pod requests grew (upstream's isFit and haveAnyRequestedResourcesIncreased).
   */
  isSchedulableAfterNodeChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<Node>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    const request = requestOf(pod);
    if (fitsRequest(request, emptyNodeInfo(node), this.ignoredResources, this.ignoredResourceGroups).length > 0) return QueueingHint.QueueSkip;
    if (!oldNode) return QueueingHint.Queue;
    const was = emptyNodeInfo(oldNode).allocatable;
    const now = emptyNodeInfo(node).allocatable;
    if (now.allowedPodNumber > was.allowedPodNumber) return QueueingHint.Queue;
    const before = requestAmounts(was);
    const after = requestAmounts(now);
    for (const [name, amount] of requestAmounts(request)) {
      if (amount > 0 && (after.get(name) ?? 0) > (before.get(name) ?? 0)) return QueueingHint.Queue;
    }
    return QueueingHint.QueueSkip;
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } {
    // Shared with the pod's other uses this cycle (the Filter only reads it).
    state.write(PRE_FILTER_KEY, podResource(pod).requested);
    return {};
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const request = state.read<Resource>(PRE_FILTER_KEY);
    const insufficient = fitsRequest(request, nodeInfo, this.ignoredResources, this.ignoredResourceGroups);
    if (insufficient.length === 0) return undefined;
    return Status.unschedulable(...insufficient.map((r) => r.reason));
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    return this.scorer.preScore(state, PRE_SCORE_KEY, pod);
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    return this.scorer.scoreNode(state, PRE_SCORE_KEY, pod, nodeInfo);
  }
}
