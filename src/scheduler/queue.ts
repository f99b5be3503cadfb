// Upstream's PriorityQueue: activeQ ordered by the QueueSort plugin, backoffQ for pods waiting out their backoff, and
// unschedulable pods that move back only when a cluster event may help them.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock, type TimerHandle } from '../client/index.js';
import type { QueuedPodInfo } from './framework/interfaces.js';
import { Nominator } from './framework/nominator.js';

export const INITIAL_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 10_000;
/** How often backoffQ is checked for pods whose backoff ended (upstream flushes every second). */
const BACKOFF_FLUSH_MS = 1_000;

/** Cluster events that can make an unschedulable pod schedulable. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodDelete' | 'AssignedPodUpdate' | 'PvcAdd' | 'PvcUpdate' | 'PvAdd' | 'PvUpdate' | 'StorageClassAdd' | 'StorageClassUpdate' | 'CSINodeAdd' | 'CSINodeUpdate';

export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** PreEnqueue gate: false keeps the pod out of activeQ (e.g. scheduling gates) until an update lets it in. */
  preEnqueue?: (pod: Pod) => boolean;
}

export const podKey = (pod: Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

export class SchedulingQueue {
  /** Pods nominated to nodes by preemption (upstream's PriorityQueue embeds its nominator the same way). */
  readonly nominator = new Nominator();
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** activeQ: a binary heap by `less` (ties in arrival order), with its members by key; removal is lazy. */
  private readonly active: ActiveHeap;
  private readonly backoff = new Map<string, QueuedPodInfo>();
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods held back by PreEnqueue. */
  private readonly gated = new Map<string, QueuedPodInfo>();
  /** Popped and being scheduled; an update meanwhile is kept here for the failure path. */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private schedulingCycle = 0;
  /** The cycle in which the last helpful cluster event arrived; pods failing in it retry via backoff. */
  private moveRequestCycle = -1;
  private waiters: ((info: QueuedPodInfo | undefined) => void)[] = [];
  private flushTimer?: TimerHandle;
  private closed = false;

  constructor(
    private readonly less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean,
    private readonly opts: SchedulingQueueOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.active = new ActiveHeap(less);
    this.initialBackoffMs = opts.initialBackoffMs ?? INITIAL_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.scheduleFlush();
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const key = podKey(pod);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.gated.delete(key);
    this.removeActive(key);
    this.nominator.add(pod);
    this.pushActive({ pod, timestamp: this.clock.now(), attempts: 0 });
  }

  /** A pending pod changed: the newest spec replaces the old one; an unschedulable pod gets another try. */
  update(pod: Pod): void {
    const key = podKey(pod);
    if (this.active.get(key)) {
      // Re-placed, as its priority may have changed (upstream's activeQ.Update re-heapifies).
      this.active.replacePod(key, pod);
      return;
    }
    const inBackoff = this.backoff.get(key);
    if (inBackoff) {
      inBackoff.pod = pod;
      return;
    }
    const flying = this.inFlight.get(key);
    if (flying) {
      flying.pod = pod;
      return;
    }
    const stuck = this.unschedulable.get(key) ?? this.gated.get(key);
    if (stuck) {
      this.unschedulable.delete(key);
      this.gated.delete(key);
      stuck.pod = pod;
      this.requeue(stuck);
      return;
    }
    this.add(pod);
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    this.nominator.delete(pod);
    this.removeActive(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.gated.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to schedule, waiting for one; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const info = this.active.pop();
    if (info) return Promise.resolve(this.started(info));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The pod of `info` could not be scheduled: park it until an event helps. `retryAfterBackoff` (an error rather than
   * a plugin's rejection, as upstream treats them) retries it once the backoff ends.
   */
  addUnschedulable(info: QueuedPodInfo, retryAfterBackoff = false): void {
    const key = podKey(info.pod);
    if (!this.inFlight.delete(key) || this.closed) return;
    info.timestamp = this.clock.now();
    // An event arrived while it was being scheduled: it may already help, so retry after the backoff.
    if (retryAfterBackoff || this.moveRequestCycle >= this.schedulingCycle) this.backoff.set(key, info);
    else this.unschedulable.set(key, info);
  }

  /** The pod was bound (or handed off): it leaves the queue. */
  done(pod: Pod): void {
    this.inFlight.delete(podKey(pod));
  }

  /** A cluster event that may help: every unschedulable pod goes to activeQ, or backoffQ while backing off. */
  moveAllToActiveOrBackoff(_event: ClusterEvent): void {
    this.moveRequestCycle = this.schedulingCycle;
    const stuck = [...this.unschedulable.values()];
    this.unschedulable.clear();
    for (const info of stuck) this.requeue(info);
  }

  /** Per-pod backoff: initial × 2^(attempts−1), capped (upstream's calculateBackoffDuration). */
  backoffDuration(info: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < (info.attempts ?? 0); i++) {
      d *= 2;
      if (d > this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  /** Moves pods whose backoff ended into activeQ (also run by the queue's own timer). */
  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (const [key, info] of this.backoff) {
      if (!this.isBackingOff(info, now)) {
        this.backoff.delete(key);
        this.pushActive(info);
      }
    }
  }

  /** Sizes of the sub-queues, for tests and metrics. */
  counts(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  close(): void {
    this.closed = true;
    this.flushTimer?.cancel();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private isBackingOff(info: QueuedPodInfo, now: number): boolean {
    return (info.attempts ?? 0) > 0 && now < info.timestamp + this.backoffDuration(info);
  }

  private requeue(info: QueuedPodInfo): void {
    if (this.isBackingOff(info, this.clock.now())) this.backoff.set(podKey(info.pod), info);
    else this.pushActive(info);
  }

  private started(info: QueuedPodInfo): QueuedPodInfo {
    this.schedulingCycle++;
    info.attempts = (info.attempts ?? 0) + 1;
    this.inFlight.set(podKey(info.pod), info);
    return info;
  }

  private pushActive(info: QueuedPodInfo): void {
    if (this.opts.preEnqueue && !this.opts.preEnqueue(info.pod)) {
      this.gated.set(podKey(info.pod), info);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.started(info));
      return;
    }
    this.active.push(podKey(info.pod), info);
  }

  private removeActive(key: string): void {
    this.active.remove(key);
  }

  private scheduleFlush(): void {
    if (this.closed) return;
    this.flushTimer = this.clock.setTimer(() => {
      this.flushBackoffCompleted();
      this.scheduleFlush();
    }, BACKOFF_FLUSH_MS);
  }
}

interface HeapEntry {
  key: string;
  info: QueuedPodInfo;
  /** Arrival order: equal pods pop first in, first out. */
  seq: number;
  removed: boolean;
}

type Less = (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;

/**
 * activeQ as upstream keeps it: a heap ordered by the QueueSort plugin plus a map by pod key, so add, update and
 * delete cost O(log n) instead of a scan of every pending pod. Deleted entries stay in the heap, marked, until popped.
 */
class ActiveHeap {
  private heap: HeapEntry[] = [];
  private readonly byKey = new Map<string, HeapEntry>();
  private seq = 0;

  constructor(private readonly less: Less) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.byKey.get(key)?.info;
  }

  push(key: string, info: QueuedPodInfo, seq = this.seq++): void {
    this.remove(key);
    const e: HeapEntry = { key, info, seq, removed: false };
    this.byKey.set(key, e);
    this.heap.push(e);
    this.up(this.heap.length - 1);
  }

  /**
   * The pod changed: a new entry takes its place by the new pod, keeping its arrival order among equals. The old
   * entry's info is left as it was, so the heap it still sits in stays ordered.
   */
  replacePod(key: string, pod: Pod): void {
    const e = this.byKey.get(key);
    if (e) this.push(key, { ...e.info, pod }, e.seq);
  }

  remove(key: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.removed = true;
    this.byKey.delete(key);
    // Mostly-removed heaps are compacted so lazy deletion cannot grow them without bound.
    if (this.heap.length > 64 && this.heap.length > 2 * this.byKey.size) this.rebuild();
  }

  pop(): QueuedPodInfo | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
      if (top.removed) continue;
      this.byKey.delete(top.key);
      return top.info;
    }
    return undefined;
  }

  private before(a: HeapEntry, b: HeapEntry): boolean {
    if (this.less(a.info, b.info)) return true;
    if (this.less(b.info, a.info)) return false;
    return a.seq < b.seq;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) return;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  private rebuild(): void {
    this.heap = this.heap.filter((e) => !e.removed);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
}
