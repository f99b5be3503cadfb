// Node taints and pod tolerations as upstream's node lifecycle controller and taint manager use them: the well-known
// taints, toleration matching (k8s.io/api/core/v1 Toleration.ToleratesTaint), and taint writes that re-read the node
// and retry on conflicts (controller.AddOrUpdateTaintOnNode / RemoveTaintOffNode / SwapNodeControllerTaint).
import type { Node, NodeCondition, NodeStatus, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import type { ResourceClient } from '../../client/index.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

export const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' };
export const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };

/** Same key and effect (what TaintExists and the controllers' taint swaps compare). */
export const taintMatches = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;

export function taintExists(taints: readonly Taint[] | undefined, t: Taint): boolean {
  return (taints ?? []).some((x) => taintMatches(x, t));
}

/** Toleration.ToleratesTaint: effect (empty tolerates all), key (empty with Exists tolerates all), operator and value. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key !== undefined && tol.key !== '' && tol.key !== taint.key) return false;
  switch (tol.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** GetMatchingTolerations: whether every taint is tolerated, and the first toleration used for each. */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { all: boolean; used: Toleration[] } {
  if (taints.length === 0) return { all: true, used: [] };
  const used: Toleration[] = [];
  for (const taint of taints) {
    const tol = tolerations.find((t) => toleratesTaint(t, taint));
    if (!tol) return { all: false, used: [] };
    used.push(tol);
  }
  return { all: true, used };
}

/** Seconds until the earliest used toleration runs out: -1 when none is bounded, 0 for a non-positive bound. */
export function minTolerationSeconds(used: readonly Toleration[]): number {
  let min = -1;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    const s = Math.max(0, t.tolerationSeconds);
    if (min < 0 || s < min) min = s;
  }
  return min;
}

export function getNodeCondition(status: NodeStatus | undefined, type: string): NodeCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

const NODE_UPDATE_RETRIES = 5;

/**
 * Re-read the node and apply `change` to its taints until the write sticks (conflicts retried). `change` returns the
 * new taint list, or undefined when nothing needs writing. Returns false when the node is gone.
 */
export async function updateNodeTaints(nodes: ResourceClient<Node>, name: string, cached: Node | undefined, change: (taints: Taint[]) => Taint[] | undefined): Promise<boolean> {
  let node = cached;
  for (let attempt = 0; ; attempt++) {
    if (!node || attempt > 0) {
      try {
        node = await nodes.get(name);
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    }
    const next = change([...(node.spec?.taints ?? [])]);
    if (!next) return true;
    const updated: Node = { ...node, spec: { ...node.spec, taints: next } };
    if (next.length === 0) delete updated.spec!.taints;
    try {
      await nodes.update(updated);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      if (!isConflict(e) || attempt >= NODE_UPDATE_RETRIES) throw e;
    }
  }
}

/** SwapNodeControllerTaint: add `add` (stamped with timeAdded for NoExecute) and drop `remove`, in one write. */
export function swapTaints(taints: Taint[], add: readonly Taint[], remove: readonly Taint[], now: Date): Taint[] | undefined {
  let changed = false;
  let out = taints.filter((t) => {
    const drop = remove.some((r) => taintMatches(r, t));
    if (drop) changed = true;
    return !drop;
  });
  for (const a of add) {
    if (out.some((t) => taintMatches(t, a))) continue;
    out = [...out, { ...a, ...(a.effect === 'NoExecute' ? { timeAdded: formatTime(now) } : {}) }];
    changed = true;
  }
  return changed ? out : undefined;
}
