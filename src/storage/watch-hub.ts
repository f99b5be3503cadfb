// In-process watch fan-out for backends that are the only writer of their data (memory, SQLite). A watcher first
// gets the history it asked for, then live events; both go through one per-watcher outbox so the order is the
// revision order with no gaps and no duplicates. Delivery is batched: one onEvents call per watcher per tick.
// Watchers with an index hint (WatchOptions.index) are kept by value, so an event reaches only the ones whose value
// it carries (thousands of kubelets each watching spec.nodeName=<its node> cost one lookup per pod event, not one
// test per watcher); each tick visits only watchers with something to deliver.
import { hasPrefix } from './keys.js';
import { StorageError, type Watch, type WatchEvent, type WatchHandler, type WatchIndex, type WatchOptions } from './types.js';

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
    readonly index: WatchIndex | undefined,
  ) {}

  /** True when the event was queued for this watcher. */
  offer(e: WatchEvent & { type: 'put' | 'delete' }, key: string): boolean {
    const rev = eventRevision(e);
    if (this.stopped || rev <= this.lastRevision || !hasPrefix(key, this.prefix)) return false;
    this.outbox.push(e);
    this.lastRevision = rev;
    return true;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.outbox = [];
    this.hub.remove(this);
  }
}

interface IndexGroup {
  prefix: string;
  valuesOf: WatchIndex['valuesOf'];
  byValue: Map<string, Set<HubWatcher>>;
}

export class WatchHub {
  private readonly watchers = new Set<HubWatcher>();
  /** Watchers without an index hint: offered every event. */
  private readonly plain = new Set<HubWatcher>();
  private readonly indexes = new Map<string, IndexGroup>();
  /** Watchers with events, a failure or progress to deliver at the next flush. */
  private readonly dirty = new Set<HubWatcher>();
  private flushScheduled = false;

  constructor(private readonly source: WatchSource) {}

  /** Call right after each commit, in commit order, before yielding to the event loop. */
  publish(event: WatchEvent & { type: 'put' | 'delete' }): void {
    if (this.watchers.size === 0) return;
    const key = eventKey(event);
    for (const w of this.plain) if (w.offer(event, key)) this.dirty.add(w);
    for (const group of this.indexes.values()) {
      if (!hasPrefix(key, group.prefix)) continue;
      let values: readonly string[];
      try {
        values = group.valuesOf(event);
      } catch {
        // Cannot tell which watchers care: offer it to all of them (they filter anyway).
        for (const set of group.byValue.values()) for (const w of set) if (w.offer(event, key)) this.dirty.add(w);
        continue;
      }
      for (let i = 0; i < values.length; i++) {
        if (values.indexOf(values[i]!) !== i) continue;
        const set = group.byValue.get(values[i]!);
        if (set) for (const w of set) if (w.offer(event, key)) this.dirty.add(w);
      }
    }
    if (this.dirty.size) this.scheduleFlush();
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch {
    const current = this.source.currentRevision();
    const after = opts.afterRevision > 0 ? opts.afterRevision : current;
    const w = new HubWatcher(this, prefix, Math.max(after, current), handler, opts.index);
    this.watchers.add(w);
    this.dirty.add(w);
    if (opts.index) {
      let group = this.indexes.get(opts.index.name);
      if (!group) this.indexes.set(opts.index.name, (group = { prefix: opts.index.prefix, valuesOf: opts.index.valuesOf, byValue: new Map() }));
      let set = group.byValue.get(opts.index.value);
      if (!set) group.byValue.set(opts.index.value, (set = new Set()));
      set.add(w);
    } else {
      this.plain.add(w);
    }
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
      if (err) {
        w.failed = err;
        this.dirty.add(w);
      } else w.stop();
    }
    if (err) this.flush();
  }

  remove(w: HubWatcher): void {
    this.watchers.delete(w);
    this.dirty.delete(w);
    if (!w.index) {
      this.plain.delete(w);
      return;
    }
    const group = this.indexes.get(w.index.name);
    const set = group?.byValue.get(w.index.value);
    if (!group || !set) return;
    set.delete(w);
    if (set.size === 0) group.byValue.delete(w.index.value);
    if (group.byValue.size === 0) this.indexes.delete(w.index.name);
  }

  private progress(w: HubWatcher): void {
    if (w.stopped) return;
    // Every committed event has already been offered to the outbox, so the current revision is safe to report.
    const rev = Math.max(w.lastRevision, this.source.currentRevision());
    w.lastRevision = rev;
    w.outbox.push({ type: 'progress', revision: rev });
    this.dirty.add(w);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const due = [...this.dirty];
    this.dirty.clear();
    for (const w of due) {
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
