// Restart back-off per container, as client-go's flowcontrol.Backoff does it for the kubelet: the first restart is
// immediate, then the delay doubles from 10 s up to 5 min, measured from when the container last finished; an entry
// untouched for twice the maximum starts over.
import type { Clock } from '../../client/index.js';

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly initialMs = INITIAL_BACKOFF_MS,
    private readonly maxMs = MAX_BACKOFF_MS,
  ) {}

  private expired(entry: Entry, eventTime: number): boolean {
    return eventTime - entry.lastUpdate > 2 * this.maxMs;
  }

  /** The current delay for `key` (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Still waiting: less than the current delay has passed since `eventTime` (the container's finish). */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(e, this.clock.now())) return false;
    return this.clock.now() - eventTime < e.backoffMs;
  }

  /** Still waiting: less than the current delay has passed since the last `next` (client-go's IsInBackOffSinceUpdate). */
  isInBackOffSinceUpdate(key: string): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(e, this.clock.now())) return false;
    return this.clock.now() - e.lastUpdate < e.backoffMs;
  }

  /** How long until the back-off that started at the last `next` ends (0 when it has). */
  remainingSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.lastUpdate + e.backoffMs - this.clock.now()) : 0;
  }

  /** How long until `key` may restart, counted from `eventTime` (0 when it may now). */
  remaining(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, eventTime + e.backoffMs - this.clock.now());
  }

  /** A restart happens now: the next one waits twice as long (the first: the initial delay). */
  next(key: string, eventTime: number): void {
    const e = this.entries.get(key);
    if (!e || this.expired(e, eventTime)) this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: this.clock.now() });
    else {
      e.backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
      e.lastUpdate = this.clock.now();
    }
  }

  /** Forget every entry whose key starts with `prefix` (a pod that is gone). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drop entries idle for more than twice the maximum delay. */
  gc(): void {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (this.expired(e, now)) this.entries.delete(k);
  }
}
