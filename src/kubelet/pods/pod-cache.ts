// The runtime pod cache and the relist that fills it (upstream's kubecontainer.Cache and GenericPLEG). Pod workers read
// a pod's runtime state from the cache instead of listing the runtime at every sync; the relist lists the runtime once
// per period (ids and states only) and reads the full state (sandbox and container statuses) only of the pods whose
// state changed. A sync that changed the runtime itself waits for a cache entry newer than the time it ended.
import type { Clock } from '../../client/index.js';
import type { CriClient } from '../cri/client.js';
import { listRuntimePods, relistFingerprints, type RuntimePod } from './runtime-state.js';

interface Entry {
  /** undefined: the runtime holds nothing of the pod. */
  pod: RuntimePod | undefined;
  /** When the data was read (upstream's data.modified): a relist's start, or when the sync that wrote it ended. */
  modified: number;
}

interface Waiter {
  uid: string;
  minTime: number;
  resolve: (pod: RuntimePod | undefined) => void;
}

/**
 * Upstream's kubecontainer.Cache: each pod's runtime state with the time it was read, and a global timestamp (the
 * start of the last completed relist: every pod's entry is current as of then). getNewerThan waits until a pod's
 * entry or the global timestamp is newer than the time given.
 */
export class RuntimePodCache {
  private readonly pods = new Map<string, Entry>();
  private timestamp: number | undefined;
  private waiters: Waiter[] = [];
  private stopped = false;

  /** The pod's entry as it is (undefined: none, i.e. nothing in the runtime as far as the cache knows). */
  get(uid: string): RuntimePod | undefined {
    return this.pods.get(uid)?.pod;
  }

  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** When the pod's entry was read (undefined: no entry). */
  modified(uid: string): number | undefined {
    return this.pods.get(uid)?.modified;
  }

  /** The start of the last completed relist (undefined before the first). */
  get time(): number | undefined {
    return this.timestamp;
  }

  /** Upstream's GetNewerThan: the pod's state once the cache holds it as read after `minTime`. */
  getNewerThan(uid: string, minTime: number): Promise<RuntimePod | undefined> {
    const e = this.newerThan(uid, minTime);
    if (e || this.stopped) return Promise.resolve(e ? e.pod : this.get(uid));
    return new Promise((resolve) => this.waiters.push({ uid, minTime, resolve }));
  }

  private newerThan(uid: string, minTime: number): { pod: RuntimePod | undefined } | undefined {
    const e = this.pods.get(uid);
    if (this.timestamp !== undefined && this.timestamp > minTime) return { pod: e?.pod };
    if (e && e.modified > minTime) return e;
    return undefined;
  }

  /** Stores what was read at `modified`; an entry read later is kept (returns false then), as upstream's Set. */
  set(uid: string, pod: RuntimePod | undefined, modified: number): boolean {
    const e = this.pods.get(uid);
    if (e && e.modified > modified) return false;
    this.pods.set(uid, { pod: pod && (pod.sandboxes.length > 0 || pod.containers.length > 0) ? pod : undefined, modified });
    this.notify();
    return true;
  }

  /** Drops the pod's entry unless it was read after `before` (a relist that started then no longer saw the pod). */
  delete(uid: string, before = Infinity): void {
    const e = this.pods.get(uid);
    if (e && e.modified <= before) this.pods.delete(uid);
  }

  /** Upstream's UpdateTime: a relist that started at `time` has brought every entry up to date. */
  updateTime(time: number): void {
    if (this.timestamp === undefined || time > this.timestamp) this.timestamp = time;
    this.notify();
  }

  /** Releases every waiter with what the cache holds (the kubelet stops). */
  stop(): void {
    this.stopped = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(this.get(w.uid));
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const e = this.newerThan(w.uid, w.minTime);
      if (e) w.resolve(e.pod);
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Pods with an entry (tests, housekeeping). */
  uids(): string[] {
    return [...this.pods.keys()];
  }
}

export interface PlegOptions {
  cri: CriClient;
  clock: Clock;
  cache: RuntimePodCache;
  /** A pod's runtime state changed (its entry was refreshed first): it wants a sync. */
  onChange: (uid: string) => void;
}

/**
 * Upstream's GenericPLEG over the cache. Each relist lists sandboxes and containers once (ids, states and the pod UID
 * label only) and compares each pod's fingerprint with the last one seen; a changed pod's full state is read (its
 * sandbox and container statuses) into the cache before the pod is asked to sync. A pod gone from the runtime leaves
 * the cache. A sync's own view of the pod after it changed the runtime (recordSync) is what the relist compares with
 * next, so the kubelet's own writes ask for no further sync or read when the relist finds them as the sync left them.
 */
export class Pleg {
  /** The last fingerprint seen of each pod (by the relist, or by a sync that ended). */
  private readonly fingerprints = new Map<string, string>();

  constructor(private readonly o: PlegOptions) {}

  fingerprint(uid: string): string | undefined {
    return this.fingerprints.get(uid);
  }

  /** Whether the runtime holds anything of the pod as last seen. */
  knows(uid: string): boolean {
    return this.fingerprints.has(uid) || this.o.cache.has(uid);
  }

  async relist(): Promise<void> {
    const start = this.o.clock.now();
    const pods = await relistFingerprints(this.o.cri);
    const changed: string[] = [];
    // forEach rather than for-of: no [key, value] entry arrays every second.
    pods.forEach((fp, uid) => {
      if (this.fingerprints.get(uid) !== fp) {
        this.fingerprints.set(uid, fp);
        changed.push(uid);
      }
    });
    // Every relisted pod now has a fingerprint: the same count means no other pod has one.
    if (this.fingerprints.size !== pods.size) {
      for (const uid of [...this.fingerprints.keys()]) if (!pods.has(uid)) this.fingerprints.delete(uid);
    }
    for (const uid of this.o.cache.uids()) if (!pods.has(uid)) this.o.cache.delete(uid, start);
    // Upstream's updateCache: the full state of each changed pod, stamped with the relist's start. A pod whose read
    // failed loses its fingerprint, so the next relist reads it again (upstream's podsToReinspect), and asks for no
    // sync; the cache's time stays where it was until every read succeeds, so no sync takes its stale entry as new.
    const failed = new Map<string, unknown>();
    await Promise.all(
      changed.map(async (uid) => {
        try {
          const pod = (await listRuntimePods(this.o.cri, uid)).get(uid);
          this.o.cache.set(uid, pod, start);
        } catch (err) {
          failed.set(uid, err);
          this.fingerprints.delete(uid);
        }
      }),
    );
    if (failed.size === 0) this.o.cache.updateTime(start);
    for (const uid of changed) if (!failed.has(uid)) this.o.onChange(uid);
    if (failed.size > 0) {
      throw new Error(`relist: reading the runtime state of ${failed.size} pod(s) failed; they are read again next time`, { cause: failed.values().next().value });
    }
  }

  /**
   * What a sync ended with (`pod`, its fingerprint, at `time`): the cache holds it, but only a relist started after
   * `time` makes it count as newer than that (the sync's next read waits for that relist).
   */
  recordSync(uid: string, pod: RuntimePod | undefined, fingerprint: string, time: number): void {
    this.fingerprints.set(uid, fingerprint);
    this.o.cache.set(uid, pod, time);
  }

  /** The pod is gone for good (its worker ended). */
  forget(uid: string): void {
    this.fingerprints.delete(uid);
    this.o.cache.delete(uid);
  }
}
