// Upstream's PriorityQueue: activeQ ordered by the QueueSort plugin, backoffQ for pods waiting out their backoff, and
// unschedulable pods that move back only when a cluster event matches what a rejecting plugin registered and the
// plugin's queueing hint says the event may help (or after podMaxInUnschedulablePodsDuration, as a last resort).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock, type TimerHandle } from '../client/index.js';
import {
  EVENTS,
  QueueingHint,
  eventMatches,
  isWildCard,
  podUpdateEvents,
  type ClusterEvent,
  type ClusterEventWithHint,
  type ClusterEventWithObjects,
} from './framework/events.js';
import type { QueuedPodInfo } from './framework/interfaces.js';
import { Nominator } from './framework/nominator.js';
import { observeIncomingPod } from './metrics.js';

export type { ClusterEvent } from './framework/events.js';

export const INITIAL_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 10_000;
/** Upstream's DefaultPodMaxInUnschedulablePodsDuration: a pod no event helped is retried after this anyway. */
export const POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60_000;
/** How often backoffQ is checked for pods whose backoff ended (upstream flushes every second). */
const BACKOFF_FLUSH_MS = 1_000;
/** How often the unschedulable pool is checked for pods past their maximum stay (upstream: every 30 s). */
const UNSCHEDULABLE_FLUSH_MS = 30_000;

/** The registrations of a pod's profile: plugin name → the events it registered, each with its hint. */
export type QueueingHintMap = ReadonlyMap<string, readonly ClusterEventWithHint[]>;

export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  /**
   * PreEnqueue gate: false (or the name of the plugin that refused) keeps the pod out of activeQ (e.g. scheduling
   * gates) until an update lets it in.
   */
  preEnqueue?: (pod: Pod) => boolean | string;
  /**
   * The hint map of the pod's profile (upstream's queueingHintMap). Without this option, or when it returns
   * undefined, every cluster event moves every unschedulable pod (the behaviour before queueing hints).
   */
  hintsFor?: (pod: Pod) => QueueingHintMap | undefined;
  /** A hint that threw: the pod is queued anyway. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export const podKey = (pod: Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** What an event means for a pod (upstream's queueingStrategy). */
export enum QueueingStrategy {
  /** Stays in the unschedulable pool. */
  Skip = 0,
  /** To backoffQ, or activeQ once its backoff is over. */
  AfterBackoff = 1,
  /** To activeQ at once (a plugin that left the pod Pending says the event resolves it). */
  Immediately = 2,
}

interface InFlight {
  info: QueuedPodInfo;
  /** Absolute index of the first cluster event that arrived after the pod was popped. */
  since: number;
}

export class SchedulingQueue {
  /** Pods nominated to nodes by preemption (upstream's PriorityQueue embeds its nominator the same way). */
  readonly nominator = new Nominator();
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  /** activeQ: a binary heap by `less` (ties in arrival order), with its members by key; removal is lazy. */
  private readonly active: ActiveHeap;
  private readonly backoff = new Map<string, QueuedPodInfo>();
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods held back by PreEnqueue. */
  private readonly gated = new Map<string, QueuedPodInfo>();
  /** Popped and being scheduled, in pop order; an update meanwhile is kept here for the failure path. */
  private readonly inFlight = new Map<string, InFlight>();
  /**
   * Cluster events that arrived while some pod was in flight (upstream's inFlightEvents): a pod that fails is checked
   * against those that came after its pop, so an event during its cycle is not lost. `eventBase` is the absolute
   * index of inFlightEvents[0].
   */
  private inFlightEvents: ClusterEventWithObjects[] = [];
  private eventBase = 0;
  private waiters: ((info: QueuedPodInfo | undefined) => void)[] = [];
  private flushTimer?: TimerHandle;
  private lastUnschedulableFlush: number;
  private closed = false;

  constructor(
    private readonly less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean,
    private readonly opts: SchedulingQueueOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.active = new ActiveHeap(less);
    this.initialBackoffMs = opts.initialBackoffMs ?? INITIAL_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.maxInUnschedulableMs = opts.podMaxInUnschedulablePodsDurationMs ?? POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
    this.lastUnschedulableFlush = this.clock.now();
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
    this.pushActive({ pod, timestamp: this.clock.now(), attempts: 0 }, 'PodAdd');
  }

  /**
   * A pending pod changed: the newest spec replaces the old one. An unschedulable pod moves when the update is an
   * event one of its rejecting plugins registered with a hint that says Queue (e.g. tolerations added for a taint).
   */
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
      // Its failure path checks these, as any other event during its cycle.
      for (const event of podUpdateEvents(flying.info.pod, pod, 'UnschedulablePod')) this.inFlightEvents.push({ event, oldObj: flying.info.pod, newObj: pod });
      flying.info.pod = pod;
      return;
    }
    const gated = this.gated.get(key);
    if (gated) {
      // PreEnqueue is asked again (upstream's SchedulingGates hint: the gates are gone).
      this.gated.delete(key);
      gated.pod = pod;
      this.pushActive(gated, 'UnschedulablePodUpdate');
      return;
    }
    const stuck = this.unschedulable.get(key);
    if (stuck) {
      const oldPod = stuck.pod;
      stuck.pod = pod;
      for (const event of podUpdateEvents(oldPod, pod, 'UnschedulablePod')) {
        const strategy = this.worthRequeuing(stuck, { event, oldObj: oldPod, newObj: pod });
        if (strategy === QueueingStrategy.Skip) continue;
        this.unschedulable.delete(key);
        this.requeue(stuck, strategy, event.label);
        return;
      }
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
    this.landed(key);
  }

  /** The next pod to schedule, waiting for one; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const info = this.active.pop();
    if (info) return Promise.resolve(this.started(info));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The pod of `info` could not be scheduled. With rejecting plugins recorded on it (info.unschedulablePlugins,
   * info.pendingPlugins) it waits in the unschedulable pool unless an event during its cycle may already help;
   * without any (an error, not a rejection) or with `retryAfterBackoff` it retries once the backoff ends.
   */
  addUnschedulable(info: QueuedPodInfo, retryAfterBackoff = false): void {
    const key = podKey(info.pod);
    const flying = this.inFlight.get(key);
    if (!flying || this.closed) return;
    const events = this.inFlightEvents.slice(Math.max(0, flying.since - this.eventBase));
    this.landed(key);
    info.timestamp = this.clock.now();
    const strategy = retryAfterBackoff ? QueueingStrategy.AfterBackoff : this.strategyForInFlight(info, events);
    this.requeue(info, strategy, 'ScheduleAttemptFailure');
  }

  /** The pod was bound (or handed off): it leaves the queue. */
  done(pod: Pod): void {
    this.landed(podKey(pod));
  }

  /**
   * A cluster event: each unschedulable pod whose rejecting plugins registered a matching event, with a hint that
   * says Queue, goes to activeQ (or backoffQ while backing off); the others stay (upstream's
   * MoveAllToActiveOrBackoffQueue). `oldObj`/`newObj` are the object before and after, for the hints.
   */
  moveAllToActiveOrBackoff(event: ClusterEvent, oldObj?: unknown, newObj?: unknown): void {
    const ev: ClusterEventWithObjects = { event, oldObj, newObj };
    if (this.inFlight.size > 0) this.inFlightEvents.push(ev);
    if (this.unschedulable.size === 0) return;
    for (const [key, info] of this.unschedulable) {
      const strategy = this.worthRequeuing(info, ev);
      if (strategy === QueueingStrategy.Skip) continue;
      this.unschedulable.delete(key);
      this.requeue(info, strategy, event.label);
    }
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
        this.pushActive(info, 'BackoffComplete');
      }
    }
  }

  /**
   * Pods that have waited in the unschedulable pool longer than podMaxInUnschedulablePodsDuration get another try,
   * whatever rejected them (upstream's flushUnschedulablePodsLeftover; run by the queue's timer every 30 s).
   */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    this.lastUnschedulableFlush = now;
    for (const [key, info] of this.unschedulable) {
      if (now - info.timestamp <= this.maxInUnschedulableMs) continue;
      this.unschedulable.delete(key);
      this.requeue(info, this.worthRequeuing(info, { event: EVENTS.UnschedulableTimeout }), EVENTS.UnschedulableTimeout.label);
    }
  }

  /** Sizes of the sub-queues, for tests and metrics. */
  counts(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  /** Which sub-queue holds the pod, for tests and debugging. */
  where(pod: Pod): 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inFlight' | undefined {
    const key = podKey(pod);
    if (this.active.get(key)) return 'active';
    if (this.backoff.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.gated.has(key)) return 'gated';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.flushTimer?.cancel();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /**
   * Upstream's isPodWorthRequeuing: whether `ev` may make the pod schedulable, asking the hints that the pod's
   * rejecting plugins registered for matching events. A Queue from a plugin that left the pod Pending moves it at
   * once; from one that found it Unschedulable, after its backoff.
   */
  private worthRequeuing(info: QueuedPodInfo, ev: ClusterEventWithObjects): QueueingStrategy {
    const unschedulable = info.unschedulablePlugins;
    const pending = info.pendingPlugins;
    if (!unschedulable?.size && !pending?.size) return QueueingStrategy.AfterBackoff;
    if (isWildCard(ev.event)) return QueueingStrategy.AfterBackoff;
    const hints = this.opts.hintsFor?.(info.pod);
    if (!hints) return QueueingStrategy.AfterBackoff;
    let strategy = QueueingStrategy.Skip;
    for (const plugin of rejectors(info)) {
      for (const reg of hints.get(plugin) ?? []) {
        if (!eventMatches(reg.event, ev.event)) continue;
        let hint = QueueingHint.Queue;
        if (reg.queueingHintFn) {
          try {
            hint = reg.queueingHintFn(info.pod, ev.oldObj, ev.newObj);
          } catch (err) {
            this.opts.log?.('queueing hint failed; queueing the pod', { plugin, event: ev.event.label, pod: podKey(info.pod), err: String(err) });
            hint = QueueingHint.Queue;
          }
        }
        if (hint === QueueingHint.QueueSkip) continue;
        if (pending?.has(plugin)) return QueueingStrategy.Immediately;
        if (!pending?.size) return QueueingStrategy.AfterBackoff;
        strategy = QueueingStrategy.AfterBackoff;
      }
    }
    return strategy;
  }

  /** Upstream's determineSchedulingHintForInFlightPod: the events during the pod's cycle, checked as they came. */
  private strategyForInFlight(info: QueuedPodInfo, events: readonly ClusterEventWithObjects[]): QueueingStrategy {
    if (!info.unschedulablePlugins?.size && !info.pendingPlugins?.size) return QueueingStrategy.AfterBackoff;
    let strategy = QueueingStrategy.Skip;
    for (const ev of events) {
      const s = this.worthRequeuing(info, ev);
      if (s === QueueingStrategy.Immediately) return s;
      if (s === QueueingStrategy.AfterBackoff) {
        strategy = s;
        if (!info.pendingPlugins?.size) return s;
      }
    }
    return strategy;
  }

  private isBackingOff(info: QueuedPodInfo, now: number): boolean {
    return (info.attempts ?? 0) > 0 && now < info.timestamp + this.backoffDuration(info);
  }

  /** Upstream's requeuePodViaQueueingHint. */
  private requeue(info: QueuedPodInfo, strategy: QueueingStrategy, event: string): void {
    const key = podKey(info.pod);
    if (strategy === QueueingStrategy.Skip) {
      this.unschedulable.set(key, info);
      observeIncomingPod('unschedulable', event);
      return;
    }
    if (strategy === QueueingStrategy.AfterBackoff && this.isBackingOff(info, this.clock.now())) {
      this.backoff.set(key, info);
      observeIncomingPod('backoff', event);
      return;
    }
    this.pushActive(info, event);
  }

  private started(info: QueuedPodInfo): QueuedPodInfo {
    info.attempts = (info.attempts ?? 0) + 1;
    // A new attempt: what rejected the pod last time is forgotten (upstream's Pop).
    info.unschedulablePlugins = undefined;
    info.pendingPlugins = undefined;
    this.inFlight.set(podKey(info.pod), { info, since: this.eventBase + this.inFlightEvents.length });
    return info;
  }

  /** The pod leaves flight; events no pod in flight can still need are dropped. */
  private landed(key: string): void {
    if (!this.inFlight.delete(key)) return;
    const oldest = this.inFlight.values().next().value;
    if (!oldest) {
      this.eventBase += this.inFlightEvents.length;
      this.inFlightEvents = [];
      return;
    }
    const drop = oldest.since - this.eventBase;
    // Trimmed in batches: splicing the head on every landing would be quadratic.
    if (drop > 256 && drop * 2 > this.inFlightEvents.length) {
      this.inFlightEvents = this.inFlightEvents.slice(drop);
      this.eventBase += drop;
    }
  }

  private pushActive(info: QueuedPodInfo, event: string): void {
    const admitted = this.opts.preEnqueue ? this.opts.preEnqueue(info.pod) : true;
    if (admitted !== true) {
      if (typeof admitted === 'string') info.unschedulablePlugins = new Set([admitted]);
      this.gated.set(podKey(info.pod), info);
      observeIncomingPod('gated', event);
      return;
    }
    observeIncomingPod('active', event);
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
      if (this.clock.now() - this.lastUnschedulableFlush >= UNSCHEDULABLE_FLUSH_MS) this.flushUnschedulableLeftover();
      this.scheduleFlush();
    }, BACKOFF_FLUSH_MS);
  }
}

/** The plugins that rejected the pod in its last attempt (Unschedulable and Pending ones). */
function rejectors(info: QueuedPodInfo): Iterable<string> {
  const u = info.unschedulablePlugins;
  const p = info.pendingPlugins;
  if (!p?.size) return u ?? [];
  if (!u?.size) return p;
  return new Set([...u, ...p]);
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
