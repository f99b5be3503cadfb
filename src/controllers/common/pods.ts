// Pod state as workload controllers judge it (upstream's podutil and controller_utils): ready, available after
// minReadySeconds, active, and the order in which surplus pods are deleted (controller.ActivePods and
// ActivePodsWithRanks, with logarithmic scale-down and pod-deletion-cost as in v1.31).
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';

/** The annotation that biases which pod a ReplicaSet deletes first (lower cost goes first). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds at `nowMs`. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = getPodCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < nowMs;
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** controller.IsPodTerminating: has a deletionTimestamp but has not finished. */
export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.deletionTimestamp !== undefined;
}

/** The active pods of a list (controller.FilterActivePods). */
export function filterActivePods(pods: readonly Pod[]): Pod[] {
  return pods.filter(isPodActive);
}

/** The pod-deletion-cost annotation as an int32 (0 when absent or invalid). */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const phaseOrdinal = (pod: Pod): number => PHASE_ORDINAL[pod.status?.phase ?? ''] ?? 0;

/** Time the pod became ready (ms), 0 when unknown or not ready. */
function podReadyTime(pod: Pod): number {
  const c = getPodCondition(pod, 'Ready');
  if (c?.status !== 'True' || !c.lastTransitionTime) return 0;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? 0 : t;
}

function creationTime(pod: Pod): number {
  const t = pod.metadata?.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** The highest restart count of any container (restartable init containers included). */
function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  for (const s of pod.status?.initContainerStatuses ?? []) if (sidecars.has(s.name)) max = Math.max(max, s.restartCount ?? 0);
  return max;
}

/** afterOrZero: a zero time sorts first, otherwise the later time does. */
function afterOrZero(t1: number, t2: number): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  return t1 > t2;
}

/**
 * logarithmicRankDiff: both times bucketed by log2 of their age in nanoseconds, so pods of similar age count as equal
 * (then broken by uid) and scale-down does not always hit the newest pod.
 */
function logarithmicRankDiff(t1: number, t2: number, nowMs: number): number {
  const rank = (t: number) => {
    const d = (nowMs - t) * 1e6;
    return d > 0 ? Math.floor(Math.log2(d)) : -1;
  };
  return rank(t1) - rank(t2);
}

/** Compare by time as step 6/8 of ActivePodsWithRanks does: true when `a` should be deleted before `b`. */
function timeLess(ta: number, tb: number, a: Pod, b: Pod, nowMs: number | undefined): boolean {
  if (nowMs === undefined || ta === 0 || tb === 0) return afterOrZero(ta, tb);
  const diff = logarithmicRankDiff(ta, tb, nowMs);
  if (diff === 0) return (a.metadata?.uid ?? '') < (b.metadata?.uid ?? '');
  return diff < 0;
}

/**
 * controller.ActivePodsWithRanks.Less: true when pod `a` should be deleted before pod `b`. Ranks count the related
 * active pods on the same node ("doubled up" pods go first); `nowMs` enables logarithmic scale-down.
 */
export function activePodLess(a: Pod, b: Pod, rankA = 0, rankB = 0, nowMs?: number): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  // 1. Unassigned < assigned
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  // 2. Pending < Unknown < Running
  if (phaseOrdinal(a) !== phaseOrdinal(b)) return phaseOrdinal(a) < phaseOrdinal(b);
  // 3. Not ready < ready
  if (isPodReady(a) !== isPodReady(b)) return !isPodReady(a);
  // 4. Lower pod-deletion-cost < higher
  if (podDeletionCost(a) !== podDeletionCost(b)) return podDeletionCost(a) < podDeletionCost(b);
  // 5. Doubled up < not doubled up
  if (rankA !== rankB) return rankA > rankB;
  // 6. Ready for a shorter time < longer
  if (isPodReady(a) && isPodReady(b)) {
    const ra = podReadyTime(a);
    const rb = podReadyTime(b);
    if (ra !== rb) return timeLess(ra, rb, a, b, nowMs);
  }
  // 7. More container restarts < fewer
  const restartsA = maxContainerRestarts(a);
  const restartsB = maxContainerRestarts(b);
  if (restartsA !== restartsB) return restartsA > restartsB;
  // 8. No creation time < newer < older
  const ca = creationTime(a);
  const cb = creationTime(b);
  if (ca !== cb) return timeLess(ca, cb, a, b, nowMs);
  return false;
}

/** controller.ActivePods ordering (no ranks, no logarithmic buckets): the pods to delete first come first. */
export function sortActivePods(pods: Pod[]): Pod[] {
  return pods.sort((a, b) => (activePodLess(a, b) ? -1 : activePodLess(b, a) ? 1 : 0));
}

/**
 * ActivePodsWithRanks: each pod ranked by how many of `relatedPods` (active ones) share its node, sorted so that the
 * first pods are the ones to delete. Returns a new array.
 */
export function sortPodsForDeletion(pods: readonly Pod[], relatedPods: readonly Pod[], nowMs: number): Pod[] {
  const onNode = new Map<string, number>();
  for (const p of relatedPods) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => (activePodLess(x.pod, y.pod, x.rank, y.rank, nowMs) ? -1 : activePodLess(y.pod, x.pod, y.rank, x.rank, nowMs) ? 1 : 0));
  return ranked.map((r) => r.pod);
}
