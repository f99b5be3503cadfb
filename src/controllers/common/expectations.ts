// Upstream's ControllerExpectations: a controller that just asked for N creations or deletions waits for its informer
// to observe them before syncing that key again, so it never acts twice on a stale cache. Records expire after five
// minutes (a lost watch event must not wedge the controller). UIDTrackingExpectations also remembers which pods it
// deleted, so a deletion is counted once however it is observed.
import { realClock, type Clock } from '../../client/index.js';

/** upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

export interface Expectation {
  add: number;
  del: number;
  /** Clock time the expectation was set. */
  timestamp: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Expectation>();

  constructor(
    protected readonly clock: Clock = realClock,
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
  ) {}

  get(key: string): Readonly<Expectation> | undefined {
    return this.records.get(key);
  }

  /** True when the controller may sync: no record, all observed, or the record expired. */
  satisfiedExpectations(key: string): boolean {
    const e = this.records.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.timestamp > this.timeoutMs;
  }

  /** True once the record is older than the timeout. */
  isExpired(key: string): boolean {
    const e = this.records.get(key);
    return e !== undefined && this.clock.now() - e.timestamp > this.timeoutMs;
  }

  setExpectations(key: string, add: number, del: number): void {
    this.records.set(key, { add, del, timestamp: this.clock.now() });
  }

  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** Increase the counts of an existing record (a no-op without one). */
  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.records.get(key);
    if (!e) return;
    e.add += add;
    e.del += del;
  }

  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.records.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  /** Forget the controller (it was deleted): keeps the map bounded by live controllers. */
  deleteExpectations(key: string): void {
    this.records.delete(key);
  }

  size(): number {
    return this.records.size;
  }
}

export class UIDTrackingExpectations extends ControllerExpectations {
  /** controller key → keys ("namespace/name") of the pods it deleted and has not seen go yet. */
  private readonly uids = new Map<string, Set<string>>();

  getUIDs(controllerKey: string): ReadonlySet<string> | undefined {
    return this.uids.get(controllerKey);
  }

  /** Expect the deletion of exactly these pods. */
  expectDeletionsOf(controllerKey: string, deletedKeys: readonly string[]): void {
    this.uids.set(controllerKey, new Set(deletedKeys));
    this.expectDeletions(controllerKey, deletedKeys.length);
  }

  /** A pod went (or got a deletionTimestamp): counts once, and only if this controller deleted it. */
  deletionObservedOf(controllerKey: string, deletedKey: string): void {
    const set = this.uids.get(controllerKey);
    if (!set?.has(deletedKey)) return;
    this.lowerExpectations(controllerKey, 0, 1);
    set.delete(deletedKey);
  }

  override deleteExpectations(key: string): void {
    this.uids.delete(key);
    super.deleteExpectations(key);
  }
}
