// The pod update handler that workload controllers share (upstream's updatePod of the ReplicaSet, StatefulSet and
// DaemonSet controllers): enqueue the old owner when the controller reference changed, the current owner, a second
// look once a newly ready pod turns available, and, for orphans, every owner whose selector now matches.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { getControllerOf } from './owner.js';

export interface PodOwnerEvents<T> {
  /** The owner the pod's controller reference names: our kind, same uid, in the informer cache. */
  ownerOf(pod: Pod): T | undefined;
  /** Owners whose selector matches the pod's labels (candidates to adopt an orphan). */
  ownersMatching(pod: Pod): T[];
  enqueue(owner: T, afterMs?: number): void;
  minReadySeconds(owner: T): number;
  /** The readiness that starts the minReadySeconds clock (e.g. isPodReady, or running and ready). */
  isReady(pod: Pod): boolean;
  /** Added to minReadySeconds before the second look, so the pod is surely available by then. */
  availabilitySlackMs: number;
}

const sameLabels = (a: Pod, b: Pod): boolean => JSON.stringify(a.metadata?.labels ?? {}) === JSON.stringify(b.metadata?.labels ?? {});

export function onPodUpdate<T>(old: Pod, cur: Pod, h: PodOwnerEvents<T>): void {
  if (cur.metadata?.resourceVersion === old.metadata?.resourceVersion) return; // a resync
  const oldRef = getControllerOf(old);
  const curRef = getControllerOf(cur);
  const refChanged = oldRef?.uid !== curRef?.uid;
  if (refChanged && oldRef) {
    const owner = h.ownerOf(old);
    if (owner) h.enqueue(owner);
  }
  if (curRef) {
    const owner = h.ownerOf(cur);
    if (!owner) return;
    h.enqueue(owner);
    const minReady = h.minReadySeconds(owner);
    if (minReady > 0 && !h.isReady(old) && h.isReady(cur)) h.enqueue(owner, minReady * 1000 + h.availabilitySlackMs);
    return;
  }
  if (refChanged || !sameLabels(old, cur)) for (const owner of h.ownersMatching(cur)) h.enqueue(owner);
}
