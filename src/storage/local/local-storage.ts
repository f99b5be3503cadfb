// Storage semantics over a synchronous revision log (memory or SQLite). Each write is one synchronous step, so
// the read-check-append of a compare-and-swap cannot interleave with another write in this process; the log's
// UNIQUE(key, prevRevision) guard catches anything else. Watchers are fed in-process right after each commit.
import { compareKeys } from '../keys.js';
import { WatchHub } from '../watch-hub.js';
import {
  StorageError,
  type CreateOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type Watch,
  type WatchEvent,
  type WatchHandler,
  type WatchOptions,
} from '../types.js';
import { KeyExistsRace, type LogRow, type LogStore } from './log-store.js';
import { TtlTracker } from './ttl.js';

export interface LocalStorageOptions {
  /** Run compaction this often (0: never). Default 5 minutes, like kine. */
  compactIntervalMs?: number;
  /** Keep this many recent revisions when compacting periodically. Default 1000, like kine. */
  compactRetainRevisions?: number;
  /** Revisions per compaction transaction; batches yield to the event loop in between. Default 500. */
  compactBatchSize?: number;
  /** How often to look for expired TTLs. Default 1 s. */
  ttlCheckIntervalMs?: number;
}

export function rowToKeyValue(row: LogRow): KeyValue {
  return { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.revision };
}

function prevOf(row: LogRow): KeyValue | undefined {
  if (row.created || row.prevRevision === 0 || row.oldValue === undefined) return undefined;
  return { key: row.key, value: row.oldValue, createRevision: row.createRevision, modRevision: row.prevRevision };
}

export function rowToEvent(row: LogRow): WatchEvent & { type: 'put' | 'delete' } {
  const prev = prevOf(row);
  if (row.deleted) {
    return {
      type: 'delete',
      key: row.key,
      revision: row.revision,
      prev: prev ?? { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.revision },
    };
  }
  return prev ? { type: 'put', kv: rowToKeyValue(row), prev } : { type: 'put', kv: rowToKeyValue(row) };
}

export class LocalStorage implements Storage {
  private readonly hub: WatchHub;
  private readonly ttl = new TtlTracker();
  private readonly timers: NodeJS.Timeout[] = [];
  private compaction: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly batchSize: number;

  constructor(
    readonly name: string,
    private readonly log: LogStore,
    opts: LocalStorageOptions = {},
  ) {
    this.batchSize = opts.compactBatchSize ?? 500;
    this.hub = new WatchHub({
      history: (prefix, after) => log.history(prefix, after).map(rowToEvent),
      currentRevision: () => log.currentRevision(),
      compactRevision: () => log.compactRevision(),
    });
    // The log stores TTLs in seconds, not deadlines: after a restart they count from now again (as kine does).
    for (const row of log.leasedKeys()) this.ttl.set(row.key, row.revision, row.lease);
    const ttlTimer = setInterval(() => this.expireTtls(), opts.ttlCheckIntervalMs ?? 1000);
    this.timers.push(ttlTimer);
    const interval = opts.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) {
      const retain = opts.compactRetainRevisions ?? 1000;
      this.timers.push(
        setInterval(() => {
          const target = this.log.currentRevision() - retain;
          if (target > this.log.compactRevision()) {
            this.compact(target).catch((err: unknown) => console.error(`${name}: periodic compaction failed:`, err));
          }
        }, interval),
      );
    }
    for (const t of this.timers) t.unref();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen(key);
    const row = this.log.latest(key);
    return row && !row.deleted ? rowToKeyValue(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen(prefix);
    const current = this.log.currentRevision();
    const revision = opts.revision && opts.revision > 0 ? opts.revision : current;
    if (revision > current) {
      throw new StorageError('Internal', prefix, `required revision ${revision} is a future revision (current ${current})`);
    }
    if (opts.revision && opts.revision > 0 && revision <= this.log.compactRevision()) {
      throw new StorageError('Compacted', prefix, `required revision ${revision} has been compacted`);
    }
    const { rows, more, remaining } = this.log.listLatest(prefix, {
      revision,
      startAfter: opts.startAfter,
      limit: opts.limit && opts.limit > 0 ? opts.limit : undefined,
    });
    const result: ListResult = { items: rows.map(rowToKeyValue), revision, more };
    if (more) result.remaining = remaining;
    return result;
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen(prefix);
    return this.log.count(prefix);
  }

  async create(key: string, value: string, opts: CreateOptions = {}): Promise<KeyValue> {
    this.checkOpen(key);
    const latest = this.log.latest(key);
    if (latest && !latest.deleted) throw new StorageError('KeyExists', key, `key already exists: ${key}`);
    const row = this.appendRow(key, {
      key,
      value,
      createRevision: this.log.currentRevision() + 1,
      prevRevision: latest?.revision ?? 0,
      oldValue: undefined,
      created: true,
      deleted: false,
      lease: opts.ttlSeconds ?? 0,
    });
    return rowToKeyValue(row);
  }

  async update(key: string, value: string, expectedRevision: number, opts: CreateOptions = {}): Promise<KeyValue> {
    this.checkOpen(key);
    const latest = this.liveOrThrow(key, expectedRevision);
    const row = this.appendRow(key, {
      key,
      value,
      createRevision: latest.createRevision,
      prevRevision: latest.revision,
      oldValue: latest.value,
      created: false,
      deleted: false,
      lease: opts.ttlSeconds ?? 0,
    });
    return rowToKeyValue(row);
  }

  async delete(key: string, expectedRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    this.checkOpen(key);
    const latest = this.liveOrThrow(key, expectedRevision);
    const row = this.appendRow(key, {
      key,
      value: latest.value,
      createRevision: latest.createRevision,
      prevRevision: latest.revision,
      oldValue: latest.value,
      created: false,
      deleted: true,
      lease: 0,
    });
    return { prev: rowToKeyValue(latest), revision: row.revision };
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch {
    this.checkOpen(prefix);
    return this.hub.watch(prefix, opts, handler);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen('');
    return this.log.currentRevision();
  }

  async oldestRevision(): Promise<number> {
    this.checkOpen('');
    return this.log.compactRevision() + 1;
  }

  /** Compacts in batches, yielding between them so writes never wait long; concurrent calls queue up. */
  compact(revision: number): Promise<void> {
    this.checkOpen('');
    const current = this.log.currentRevision();
    if (revision > current) {
      return Promise.reject(
        new StorageError('Internal', '', `cannot compact to future revision ${revision} (current ${current})`),
      );
    }
    const run = async (): Promise<void> => {
      while (!this.closed && this.log.compactRevision() < revision) {
        this.log.compactBatch(revision, this.batchSize);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    this.compaction = this.compaction.then(run, run);
    return this.compaction;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.hub.closeAll(new StorageError('Unavailable', '', 'storage closed'));
    await this.compaction.catch(() => undefined);
    this.log.close();
  }

  private checkOpen(key: string): void {
    if (this.closed) throw new StorageError('Unavailable', key, `${this.name} storage is closed`);
  }

  private liveOrThrow(key: string, expectedRevision: number | undefined): LogRow {
    const latest = this.log.latest(key);
    if (!latest || latest.deleted) throw new StorageError('NotFound', key, `key not found: ${key}`);
    if (expectedRevision !== undefined && latest.revision !== expectedRevision) {
      throw new StorageError(
        'Conflict',
        key,
        `revision mismatch for ${key}: expected ${expectedRevision}, current ${latest.revision}`,
        rowToKeyValue(latest),
      );
    }
    return latest;
  }

  private appendRow(key: string, data: Omit<LogRow, 'revision'>): LogRow {
    let revision: number;
    try {
      revision = this.log.append(data);
    } catch (err) {
      if (err instanceof KeyExistsRace) {
        const current = this.log.latest(key);
        if (data.created) throw new StorageError('KeyExists', key, `key already exists: ${key}`);
        throw new StorageError('Conflict', key, `concurrent write to ${key}`, current ? rowToKeyValue(current) : undefined);
      }
      throw new StorageError('Internal', key, `write failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    const row: LogRow = { ...data, revision, createRevision: data.created ? revision : data.createRevision };
    if (row.lease > 0) this.ttl.set(key, revision, row.lease);
    else this.ttl.clear(key);
    this.hub.publish(rowToEvent(row));
    return row;
  }

  private expireTtls(): void {
    if (this.closed) return;
    for (const { key, modRevision } of this.ttl.takeDue()) {
      // Only delete if unchanged since the TTL was set; a later write carries its own TTL.
      this.delete(key, modRevision).catch(() => undefined);
    }
  }
}

/** Sort helper for stores that keep rows in memory. */
export function byKey(a: LogRow, b: LogRow): number {
  return compareKeys(a.key, b.key);
}
