// Storage semantics over a synchronous revision log (memory or SQLite). Each write is one synchronous step, so
// the read-check-append of a compare-and-swap cannot interleave with another write in this process; the log's
// UNIQUE(key, prevRevision) guard catches anything else. Watchers are fed in-process right after each commit.
//
// Group commit (logs with `transactions`, i.e. SQLite): the first write of an event-loop turn opens a transaction,
// every write of the same turn appends into it, and a setImmediate callback commits it once. A write's outcome
// (its result, or a precondition error judged against rows of the open group) is delivered only after the COMMIT,
// so an acknowledged write is durable; watchers get the group's events after the COMMIT, in revision order. If the
// COMMIT fails, the transaction is rolled back and every write of the group fails with that error; its events are
// never published. Reads (get, list, count, watch replay) see committed state only.
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

/** The writes of one event-loop turn, appended inside one open transaction. */
interface WriteGroup {
  /** Revision before the group's first row: the newest committed revision while the group is open. */
  readonly base: number;
  /** Appended rows, in revision order. */
  readonly rows: LogRow[];
  /** Deliver each write's outcome once the group is committed (undefined) or failed (the error). */
  readonly outcomes: Array<(failure: StorageError | undefined) => void>;
}

export class LocalStorage implements Storage {
  private readonly hub: WatchHub;
  private group: WriteGroup | undefined;
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
      history: (prefix, after) => log.history(prefix, after, this.committedRevision()).map(rowToEvent),
      currentRevision: () => this.committedRevision(),
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
          const target = this.committedRevision() - retain;
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
    let row = this.log.latest(key);
    if (row && this.group && row.revision > this.group.base) row = this.log.latestAt(key, this.group.base);
    return row && !row.deleted ? rowToKeyValue(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen(prefix);
    const current = this.committedRevision();
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
    return this.log.count(prefix, this.committedRevision());
  }

  create(key: string, value: string, opts: CreateOptions = {}): Promise<KeyValue> {
    return this.write(key, () => {
      const latest = this.log.latest(key);
      if (latest && !latest.deleted) throw new StorageError('KeyExists', key, `key already exists: ${key}`);
      const row = this.appendRow(key, {
        revision: 0,
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
    });
  }

  update(key: string, value: string, expectedRevision: number, opts: CreateOptions = {}): Promise<KeyValue> {
    return this.write(key, () => {
      const latest = this.liveOrThrow(key, expectedRevision);
      const row = this.appendRow(key, {
        revision: 0,
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
    });
  }

  delete(key: string, expectedRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    return this.write(key, () => {
      const latest = this.liveOrThrow(key, expectedRevision);
      const row = this.appendRow(key, {
        revision: 0,
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
    });
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch {
    this.checkOpen(prefix);
    return this.hub.watch(prefix, opts, handler);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen('');
    return this.committedRevision();
  }

  async oldestRevision(): Promise<number> {
    this.checkOpen('');
    return this.log.compactRevision() + 1;
  }

  /** Compacts in batches, yielding between them so writes never wait long; concurrent calls queue up. */
  compact(revision: number): Promise<void> {
    this.checkOpen('');
    const current = this.committedRevision();
    if (revision > current) {
      return Promise.reject(
        new StorageError('Internal', '', `cannot compact to future revision ${revision} (current ${current})`),
      );
    }
    const run = async (): Promise<void> => {
      while (!this.closed && this.log.compactRevision() < revision) {
        // Never inside an open write group: the batch would commit or roll back with it.
        if (!this.group) this.log.compactBatch(revision, this.batchSize);
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
    this.commitGroup();
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

  /** Newest revision whose rows are committed (what reads, watch starts and compaction go by). */
  private committedRevision(): number {
    return this.group ? this.group.base : this.log.currentRevision();
  }

  /**
   * Run one write's synchronous check-and-append. Without an open group its failure is final at once; inside a group
   * its outcome, success or failure, waits for the group's COMMIT (a failed COMMIT fails it too).
   */
  private write<T>(key: string, op: () => T): Promise<T> {
    let result: T;
    try {
      this.checkOpen(key);
      result = op();
    } catch (err) {
      const group = this.group;
      return group ? this.afterCommit(group, false, err) : Promise.reject(err as Error);
    }
    const group = this.group;
    return group ? this.afterCommit(group, true, result) : Promise.resolve(result);
  }

  /** Settles with the write's own outcome (`ok`: resolve with `outcome`, else reject with it) once the group commits. */
  private afterCommit<T>(group: WriteGroup, ok: boolean, outcome: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      group.outcomes.push((failure) => (failure ? reject(failure) : ok ? resolve(outcome as T) : reject(outcome)));
    });
  }

  /** Appends `row` (the caller's own object: its revision, 0 until now, is filled in; no copy per write). */
  private appendRow(key: string, row: LogRow): LogRow {
    const tx = this.log.transactions;
    if (tx && !this.group) {
      try {
        tx.begin();
      } catch (err) {
        throw new StorageError('Internal', key, `write failed: ${(err as Error).message}`, undefined, { cause: err });
      }
      this.group = { base: this.log.currentRevision(), rows: [], outcomes: [] };
      setImmediate(() => this.commitGroup());
    }
    let revision: number;
    try {
      revision = this.log.append(row);
    } catch (err) {
      if (err instanceof KeyExistsRace) {
        const current = this.log.latest(key);
        if (row.created) throw new StorageError('KeyExists', key, `key already exists: ${key}`);
        throw new StorageError('Conflict', key, `concurrent write to ${key}`, current ? rowToKeyValue(current) : undefined);
      }
      const failure = new StorageError('Internal', key, `write failed: ${(err as Error).message}`, undefined, { cause: err });
      // The transaction may already be gone (SQLite rolls back on some errors): the whole group fails.
      this.failGroup(failure);
      throw failure;
    }
    row.revision = revision;
    if (row.created) row.createRevision = revision;
    if (this.group) this.group.rows.push(row);
    else this.published([row]);
    return row;
  }

  /** COMMIT the open group, then publish its events in revision order and deliver its writes' outcomes. */
  private commitGroup(): void {
    const group = this.group;
    const tx = this.log.transactions;
    if (!group || !tx) return;
    try {
      tx.commit();
    } catch (err) {
      this.failGroup(
        new StorageError('Internal', '', `commit failed: ${(err as Error).message}`, undefined, { cause: err }),
      );
      return;
    }
    this.group = undefined;
    this.published(group.rows);
    for (const deliver of group.outcomes) deliver(undefined);
  }

  /** Roll the open group back: none of its rows happened, every one of its writes fails with `failure`. */
  private failGroup(failure: StorageError): void {
    const group = this.group;
    if (!group) return;
    this.group = undefined;
    try {
      this.log.transactions?.rollback();
    } catch (err) {
      console.error(`${this.name}: rollback after a failed write failed:`, err);
    }
    for (const deliver of group.outcomes) deliver(failure);
  }

  /** Rows that are durable: arm their TTLs and hand their events to the watchers, in revision order. */
  private published(rows: LogRow[]): void {
    for (const row of rows) {
      if (row.lease > 0) this.ttl.set(row.key, row.revision, row.lease);
      else this.ttl.clear(row.key);
      this.hub.publish(rowToEvent(row));
    }
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
