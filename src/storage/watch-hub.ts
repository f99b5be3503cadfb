// In-process watch fan-out for backends that are the only writer of their data (memory, SQLite). A watcher first
// gets the history it asked for, then live events; both go through one per-watcher outbox so the order is the
// revision order with no gaps and no duplicates. Delivery is batched: one onEvents call per watcher per tick.
import { hasPrefix } from './keys.js';
import { StorageError, type Watch, type WatchEvent, type WatchHandler, type WatchOptions } from './types.js';

/** What the hub needs from its backend; all synchronous so a watch can start without racing writers. */
export interface WatchSource {
  /** Events under `prefix` with revision > afterRevision, in revision order. */
  history(prefix: string, afterRevision: number): WatchEvent[];
  currentRevision(): number;
  /** Highest compacted revision (0 if never compacted). */
  compactRevision(): number;
}

export function eventRevision(e: WatchEvent): number {
  return e.type === 'put' ? e.kv.modRevision : e.revision;
}

function eventKey(e: WatchEvent & { type: 'put' | 'delete' }): string {
  return e.type === 'put' ? e.kv.key : e.key;
}

class HubWatcher implements Watch {
  outbox: WatchEvent[] = [];
  stopped = false;
  failed: StorageError | undefined;
  progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: WatchHub,
    readonly prefix: string,
    public lastRevision: number,
    readonly handler: WatchHandler,
  ) {}

  offer(e: WatchEvent & { type: 'put' | 'delete' }): void {
    const rev = eventRevision(e);
    if (this.stopped || rev <= this.lastRevision || !hasPrefix(eventKey(e), this.prefix)) return;
    this.outbox.push(e);
    this.lastRevision = rev;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.outbox = [];
    this.hub.remove(this);
  }
}

export class WatchHub {
  private readonly watchers = new Set<HubWatcher>();
  private flushScheduled = false;

  constructor(private readonly source: WatchSource) {}

  /** Call right after each commit, in commit order, before yielding to the event loop. */
  publish(event: WatchEvent & { type: 'put' | 'delete' }): void {
    if (this.watchers.size === 0) return;
    for (const w of this.watchers) w.offer(event);
    this.scheduleFlush();
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch {
    const current = this.source.currentRevision();
    const after = opts.afterRevision > 0 ? opts.afterRevision : current;
    const w = new HubWatcher(this, prefix, Math.max(after, current), handler);
    this.watchers.add(w);
    if (opts.afterRevision > 0 && opts.afterRevision < this.source.compactRevision()) {
      w.failed = new StorageError(
        'Compacted',
        prefix,
        `required revision ${opts.afterRevision} has been compacted (compacted revision ${this.source.compactRevision()})`,
      );
    } else if (after < current) {
      w.outbox.push(...this.source.history(prefix, after));
    }
    if (!w.failed && opts.progressIntervalMs && opts.progressIntervalMs > 0) {
      w.progressTimer = setInterval(() => this.progress(w), opts.progressIntervalMs);
      w.progressTimer.unref();
    }
    this.scheduleFlush();
    return w;
  }

  /** Fail every watcher (e.g. on close). */
  closeAll(err?: StorageError): void {
    for (const w of [...this.watchers]) {
      if (err) w.failed = err;
      else w.stop();
    }
    if (err) this.flush();
  }

  remove(w: HubWatcher): void {
    this.watchers.delete(w);
  }

  private progress(w: HubWatcher): void {
    if (w.stopped) return;
    // Every committed event has already been offered to the outbox, so the current revision is safe to report.
    const rev = Math.max(w.lastRevision, this.source.currentRevision());
    w.lastRevision = rev;
    w.outbox.push({ type: 'progress', revision: rev });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const w of [...this.watchers]) {
      if (w.stopped) continue;
      if (w.outbox.length > 0) {
        const batch = w.outbox;
        w.outbox = [];
        deliver(() => w.handler.onEvents(batch));
      }
      if (w.failed && !w.stopped) {
        const err = w.failed;
        w.stop();
        deliver(() => w.handler.onError(err));
      }
    }
  }
}

function deliver(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // A throwing handler must not break delivery to other watchers.
    console.error('storage watch handler threw:', err);
  }
}
