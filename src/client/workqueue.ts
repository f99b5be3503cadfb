// Work queues with client-go's guarantees: an item is queued at most once (dirty set), is handed to at most one worker
// at a time (processing set), and an item added while being processed is re-queued when the worker calls done().
// Layered as upstream: WorkQueue → DelayingQueue (addAfter) → RateLimitingQueue (addRateLimited/forget).
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** FIFO with O(1) push and shift (a plain array's shift is O(n) on long queues). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class WorkQueue<T> {
  private readonly queue = new Fifo<T>();
  /** Items that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<T>();
  /** Items a worker holds between get() and done(). */
  private readonly processing = new Set<T>();
  private readonly waiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private shuttingDown = false;

  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    // A worker holds it: done() re-queues it, so that two workers never hold the same item.
    if (this.processing.has(item)) return;
    this.queue.push(item);
    this.waiters.shift()?.();
  }

  len(): number {
    return this.queue.length;
  }

  /**
   * The next item, waiting until one is queued; `shutdown` is true (and no item) once the queue is shut down and
   * empty. The caller must call done(item) when finished with it.
   */
  async get(): Promise<{ item: T; shutdown: false } | { item: undefined; shutdown: true }> {
    while (this.queue.length === 0 && !this.shuttingDown) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.queue.length === 0) return { item: undefined, shutdown: true };
    const item = this.queue.shift() as T;
    this.processing.add(item);
    this.dirty.delete(item);
    return { item, shutdown: false };
  }

  /** The worker finished `item`; if it was added again meanwhile, it goes back on the queue now. */
  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item)) {
      this.queue.push(item);
      this.waiters.shift()?.();
    }
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Stop accepting items; workers blocked in get() return shutdown once the queue is empty. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** shutDown(), then wait until every item handed out has been marked done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    while (this.processing.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}

/** Min-heap of (readyAt, seq, item) entries. */
class TimeHeap<T> {
  private readonly heap: { at: number; seq: number; item: T }[] = [];

  get size(): number {
    return this.heap.length;
  }
  peek(): { at: number; item: T } | undefined {
    return this.heap[0];
  }
  push(entry: { at: number; seq: number; item: T }): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): { at: number; item: T } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

/** A WorkQueue that can also add an item after a delay; re-adding a waiting item keeps the earlier time. */
export class DelayingQueue<T> extends WorkQueue<T> {
  private readonly waiting = new Map<T, number>();
  private readonly heap = new TimeHeap<T>();
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  constructor(protected readonly clock: Clock = realClock) {
    super();
  }

  addAfter(item: T, delayMs: number): void {
    if (this.isShuttingDown()) return;
    if (delayMs <= 0) return this.add(item);
    const at = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing !== undefined && existing <= at) return;
    this.waiting.set(item, at);
    // Stale heap entries (superseded by an earlier time) are skipped when popped.
    this.heap.push({ at, seq: this.seq++, item });
    this.arm();
  }

  /** Items waiting for their delay to pass. */
  waitingCount(): number {
    return this.waiting.size;
  }

  override shutDown(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
    super.shutDown();
  }

  private arm(): void {
    const next = this.heap.peek();
    if (!next || next.at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next.at;
    this.timer = this.clock.setTimer(() => this.fire(), next.at - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (let next = this.heap.peek(); next && next.at <= now; next = this.heap.peek()) {
      this.heap.pop();
      if (this.waiting.get(next.item) !== next.at) continue;
      this.waiting.delete(next.item);
      this.add(next.item);
    }
    this.arm();
  }
}

/** A DelayingQueue whose retries are spaced by a rate limiter (client-go's RateLimitingQueue). */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(opts: { rateLimiter?: RateLimiter<T>; clock?: Clock } = {}) {
    super(opts.clock ?? realClock);
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Add the item once the rate limiter allows it (after a failure). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item was processed successfully: reset its backoff. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
