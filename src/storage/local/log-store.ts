// The synchronous primitives of a kine-style revision log. Memory and SQLite implement them; LocalStorage builds
// the Storage semantics (CAS, watch, TTL, compaction) on top once for both.

/** One row of the log: a create, an update or a deletion tombstone. `revision` is the row id. */
export interface LogRow {
  revision: number;
  key: string;
  /** For a tombstone: the value the key had when deleted. */
  value: string;
  createRevision: number;
  /** Revision of the row this one supersedes (0 when the key had no earlier row). */
  prevRevision: number;
  /** Value of the superseded row (for watch prev values). */
  oldValue: string | undefined;
  created: boolean;
  deleted: boolean;
  /** TTL in seconds (0: none). */
  lease: number;
}

export interface LatestListOptions {
  startAfter?: string;
  limit?: number;
  /** Read as of this revision. */
  revision: number;
}

export interface LogStore {
  /** Newest row for `key`, tombstones included (rows of an uncommitted group too). */
  latest(key: string): LogRow | undefined;
  /** Newest row for `key` with revision <= `revision`, tombstones included. */
  latestAt(key: string, revision: number): LogRow | undefined;
  /**
   * Append a row at revision currentRevision()+1. Must fail with KeyExistsRace when another row already
   * superseded `prevRevision` for the same key (the UNIQUE(name, prev_revision) guard).
   */
  append(row: Omit<LogRow, 'revision'>): number;
  /** Live (non-deleted) newest rows per key under `prefix` as of `opts.revision`, in key order, and whether more follow. */
  listLatest(prefix: string, opts: LatestListOptions): { rows: LogRow[]; more: boolean; remaining: number };
  /** Live keys under `prefix` as of `revision`. */
  count(prefix: string, revision: number): number;
  /** Rows under `prefix` with afterRevision < revision <= upToRevision, in revision order. */
  history(prefix: string, afterRevision: number, upToRevision: number): LogRow[];
  /** Revision of the last appended row (committed or not). */
  currentRevision(): number;
  compactRevision(): number;
  /**
   * Compact one batch of at most about `batchSize` revisions towards `target`: delete superseded rows and tombstones
   * at or below it. Returns the revision compacted so far; call again until it reaches `target`.
   */
  compactBatch(target: number, batchSize: number): number;
  /** Live keys that carry a TTL (to restart their timers after a restart). */
  leasedKeys(): LogRow[];
  /**
   * Group commit (optional; a log without it makes every append durable on its own). After begin(), appends go into
   * one transaction that commit() makes durable or rollback() discards, rewinding currentRevision() and latest().
   */
  transactions?: {
    begin(): void;
    /** Throws if the transaction could not be committed; the caller then calls rollback(). */
    commit(): void;
    rollback(): void;
  };
  close(): void;
}

/** Thrown by LogStore.append when the (key, prevRevision) pair is already taken. */
export class KeyExistsRace extends Error {
  constructor(key: string) {
    super(`row superseding the same revision of ${key} already exists`);
    this.name = 'KeyExistsRace';
  }
}
