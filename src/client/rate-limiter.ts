// Rate limiters for the work queue, with client-go's semantics: `when(item)` says how long to wait before the item may
// be processed again, `forget(item)` clears its failure history, `numRequeues(item)` counts its failures.
import { realClock, type Clock } from './clock.js';

export interface RateLimiter<T> {
  /** Delay in milliseconds before `item` should be retried; records one more failure. */
  when(item: T): number;
  /** The item succeeded: stop tracking it. */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** Per-item exponential backoff: base * 2^failures, capped at max (client-go's ItemExponentialFailureRateLimiter). */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseDelayMs * 2 ** exp;
    // 2^exp overflows to Infinity long before exp stops growing, so the cap also covers that.
    return backoff > this.maxDelayMs || !Number.isFinite(backoff) ? this.maxDelayMs : backoff;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * Overall token bucket shared by all items (client-go's BucketRateLimiter over golang.org/x/time/rate): `burst` tokens
 * refill at `qps` per second; each when() reserves a token and waits until it exists. It tracks no items.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`invalid token bucket: qps ${qps}, burst ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
  }

  /** Take a token if one is available now, without queueing for one (flowcontrol's TryAccept). */
  tryAccept(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  when(_item: T): number {
    this.refill();
    // A reservation may drive the bucket negative: later callers queue behind it, as rate.Limiter.Reserve does.
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The worst (longest) of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    // Every limiter must record the attempt, so no short-circuit.
    return this.limiters.reduce((worst, l) => Math.max(worst, l.when(item)), 0);
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    return this.limiters.reduce((most, l) => Math.max(most, l.numRequeues(item)), 0);
  }
}

/** client-go's DefaultControllerRateLimiter: per-item 5 ms → 1000 s exponential, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>(10, 100, clock));
}
