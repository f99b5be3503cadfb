// kine-style revision log in one SQLite file. Every write appends a row; the row id is the revision. This process
// is the only writer of its file, so revisions are assigned here (current + 1) and watchers are fed in-process.
//
// Durability: WAL mode with synchronous=NORMAL. A commit returns once its pages are written into the WAL file
// (write(2) into the OS page cache); a killed process (even kill -9) cannot lose them, since the kernel still writes
// them out. Only a power loss or OS crash could drop the last commits before a checkpoint's fsync.
//
// Group commit: LocalStorage opens one transaction for all writes of an event-loop turn (see `transactions`); a
// COMMIT costs about as much as a single autocommit INSERT, so a group of n writes pays it once instead of n times.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { prefixEnd } from '../keys.js';
import { KeyExistsRace, type LatestListOptions, type LogRow, type LogStore } from '../local/log-store.js';
import { LocalStorage, type LocalStorageOptions } from '../local/local-storage.js';
import { NameFilter } from './name-filter.js';
import type { Storage } from '../types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  value TEXT NOT NULL,
  old_value TEXT
);
-- (name, id, deleted) covers "the newest row of each name at a revision, and is it live", so counting the live keys
-- of a range (a paged LIST's remainingItemCount) never reads the table: 10x cheaper at 150,000 keys. It replaces the
-- (name) index of earlier versions.
CREATE INDEX IF NOT EXISTS kine_name_id_deleted_index ON kine (name, id, deleted);
DROP INDEX IF EXISTS kine_name_index;
CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision);
CREATE TABLE IF NOT EXISTS skiff_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** Sorts after every key the API server writes; bounds the range of the empty prefix. */
const KEY_SPACE_END = '\uffff';

interface RawRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  lease: number;
  value: string;
  old_value: string | null;
}

function fromRaw(r: RawRow): LogRow {
  return {
    revision: r.id,
    key: r.name,
    value: r.value,
    createRevision: r.create_revision,
    prevRevision: r.prev_revision,
    oldValue: r.old_value ?? undefined,
    created: r.created === 1,
    deleted: r.deleted === 1,
    lease: r.lease,
  };
}

function range(prefix: string): { lo: string; hi: string } {
  return { lo: prefix, hi: prefix === '' ? KEY_SPACE_END : prefixEnd(prefix) };
}

/**
 * Rows in [lo, hi) after `after` that are the newest row of their name as of `rev` and not tombstones: the live keys
 * at `rev`. Walking the name index in order with a correlated MAX(id) lookup keeps it sorted and lets LIMIT stop early.
 */
const LIVE_AT = `FROM kine k WHERE name >= @lo AND name < @hi AND name > @after
  AND id = (SELECT MAX(id) FROM kine k2 WHERE k2.name = k.name AND k2.id <= @rev) AND deleted = 0`;

/**
 * A row's previous value, for watch replay. Rows are written without old_value (kine stores it, doubling the bytes of
 * every update); it is the value of the row at prev_revision, and that row outlives compaction as long as the row
 * superseding it is newer than the compacted revision, which every replayed row is. A tombstone keeps the deleted
 * value as its own. Files written by earlier versions carry old_value, which is used as it is.
 */
const OLD_VALUE = `CASE WHEN k.old_value IS NOT NULL THEN k.old_value WHEN k.deleted = 1 THEN k.value
  WHEN k.created = 0 AND k.prev_revision != 0 THEN (SELECT p.value FROM kine p WHERE p.id = k.prev_revision) END`;

/** Every column but old_value, which only watch replay needs (it is the last column: reads stop before it). */
const ROW = 'id, name, created, deleted, create_revision, prev_revision, lease, value, NULL AS old_value';

/** Paged LISTs whose next page can skip counting (one entry per LIST in progress). */
const REMAINING_CACHE_SIZE = 256;

function remainingKey(prefix: string, revision: number, afterKey: string): string {
  return `${revision}\u0000${prefix}\u0000${afterKey}`;
}

class SqliteLog implements LogStore {
  private readonly db: Database.Database;
  private revision: number;
  private compacted: number;
  private readonly stmts;
  /**
   * The newest row of each live key read or written so far (without oldValue): every update reads the key's latest
   * row first, and this process is the only writer. Tombstones are not kept, so compaction never has to touch it.
   */
  private readonly latestRows = new Map<string, LogRow>();
  /** How many live keys of a range follow a key at a revision, remembered from recent list pages (oldest first). */
  private readonly remainingAfter = new Map<string, number>();
  /** Every name with a row (and maybe some without): a name it has never seen has no row, so no SQL is needed. */
  private readonly names: NameFilter;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = {
      latest: this.db.prepare<[string], RawRow>(`SELECT ${ROW} FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1`),
      latestAt: this.db.prepare<[string, number], RawRow>(
        `SELECT ${ROW} FROM kine WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`,
      ),
      begin: this.db.prepare('BEGIN'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      // Positional parameters: binding by name looks each one up on an argument object (~1.5 µs more per row).
      // old_value is derived from the row at prev_revision when replayed (OLD_VALUE): not written twice.
      insert: this.db.prepare<[number, string, number, number, number, number, number, string]>(
        `INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, lease, value, old_value)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      ),
      list: this.db.prepare<{ lo: string; hi: string; after: string; rev: number; limit: number }, RawRow>(
        `SELECT ${ROW} ${LIVE_AT} ORDER BY name LIMIT @limit`,
      ),
      countAt: this.db.prepare<{ lo: string; hi: string; after: string; rev: number }, { n: number }>(
        `SELECT COUNT(*) AS n ${LIVE_AT}`,
      ),
      history: this.db.prepare<{ lo: string; hi: string; after: number; upTo: number }, RawRow>(
        `SELECT id, name, created, deleted, create_revision, prev_revision, lease, value, ${OLD_VALUE} AS old_value
         FROM kine k WHERE id > @after AND id <= @upTo AND name >= @lo AND name < @hi ORDER BY id`,
      ),
      leased: this.db.prepare<[], RawRow>(
        `SELECT k.* FROM kine k JOIN (SELECT MAX(id) AS id FROM kine GROUP BY name) m ON k.id = m.id
         WHERE k.deleted = 0 AND k.lease > 0`,
      ),
      deleteSuperseded: this.db.prepare(
        `DELETE FROM kine WHERE id IN (SELECT prev_revision FROM kine WHERE id > ? AND id <= ? AND prev_revision != 0)`,
      ),
      deleteTombstones: this.db.prepare('DELETE FROM kine WHERE id > ? AND id <= ? AND deleted = 1'),
      setMeta: this.db.prepare('INSERT OR REPLACE INTO skiff_meta (key, value) VALUES (?, ?)'),
    };
    const maxId = this.db.prepare<[], { v: number | null }>('SELECT MAX(id) AS v FROM kine').get()?.v ?? 0;
    const seq =
      this.db.prepare<[], { v: number }>("SELECT seq AS v FROM sqlite_sequence WHERE name = 'kine'").get()?.v ?? 0;
    this.revision = Math.max(maxId, seq);
    this.compacted =
      this.db.prepare<[], { v: number }>("SELECT value AS v FROM skiff_meta WHERE key = 'compact_rev'").get()?.v ?? 0;
    const names = this.db.prepare<[], string>('SELECT DISTINCT name FROM kine').pluck().all();
    this.names = new NameFilter(Math.max(4096, names.length * 2));
    for (const name of names) this.names.add(name);
  }

  latest(key: string): LogRow | undefined {
    const cached = this.latestRows.get(key);
    if (cached) return cached;
    if (!this.names.mightContain(key)) return undefined;
    const r = this.stmts.latest.get(key);
    if (!r) return undefined;
    const row = fromRaw(r);
    if (!row.deleted) this.latestRows.set(key, { ...row, oldValue: undefined });
    return row;
  }

  latestAt(key: string, revision: number): LogRow | undefined {
    const r = this.stmts.latestAt.get(key, revision);
    return r ? fromRaw(r) : undefined;
  }

  /** Revision before the open transaction's first append (to rewind to on rollback). */
  private groupStart: number | undefined;

  readonly transactions = {
    begin: (): void => {
      this.stmts.begin.run();
      this.groupStart = this.revision;
    },
    commit: (): void => {
      this.stmts.commit.run();
      this.groupStart = undefined;
    },
    rollback: (): void => {
      // Some failures (e.g. SQLITE_FULL, SQLITE_IOERR) already rolled the transaction back.
      if (this.db.inTransaction) this.stmts.rollback.run();
      if (this.groupStart !== undefined) this.revision = this.groupStart;
      this.groupStart = undefined;
      // The cache may hold rows of the discarded transaction; it refills from the file.
      this.latestRows.clear();
    },
  };

  append(row: Omit<LogRow, 'revision'>): number {
    const id = this.revision + 1;
    // Before the row exists, so the filter never lacks a name that has one. Later rows of a key need not be added:
    // they supersede a row, so the name is in already (names are never taken out).
    if (row.created) this.names.add(row.key);
    try {
      const createRevision = row.created ? id : row.createRevision;
      this.stmts.insert.run(id, row.key, row.created ? 1 : 0, row.deleted ? 1 : 0, createRevision, row.prevRevision, row.lease, row.value);
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new KeyExistsRace(row.key);
      throw err;
    }
    this.revision = id;
    if (row.deleted) this.latestRows.delete(row.key);
    else this.latestRows.set(row.key, { ...row, revision: id, createRevision: row.created ? id : row.createRevision, oldValue: undefined });
    return id;
  }

  listLatest(prefix: string, opts: LatestListOptions): { rows: LogRow[]; more: boolean; remaining: number } {
    const params = { ...range(prefix), after: opts.startAfter ?? '', rev: opts.revision };
    const limit = opts.limit ?? -1;
    const raw = this.stmts.list.all({ ...params, limit: limit < 0 ? -1 : limit + 1 });
    const more = limit >= 0 && raw.length > limit;
    const rows = (more ? raw.slice(0, limit) : raw).map(fromRaw);
    let remaining = 0;
    if (more) {
      const last = rows[rows.length - 1]!.key;
      // The state at a committed revision never changes, so the count after the previous page's last key, less this
      // page, is the count after this page's: a paged LIST counts its range once, not once per page (each count
      // walks every key after the page: 300 pages of 150,000 pods read 22 million index entries).
      const known = opts.startAfter !== undefined ? this.remainingAfter.get(remainingKey(prefix, opts.revision, opts.startAfter)) : undefined;
      remaining = known !== undefined ? known - rows.length : (this.stmts.countAt.get({ ...params, after: last })?.n ?? 0);
      this.remainingAfter.set(remainingKey(prefix, opts.revision, last), remaining);
      if (this.remainingAfter.size > REMAINING_CACHE_SIZE) this.remainingAfter.delete(this.remainingAfter.keys().next().value!);
    }
    return { rows, more, remaining };
  }

  count(prefix: string, revision: number): number {
    return this.stmts.countAt.get({ ...range(prefix), after: '', rev: revision })?.n ?? 0;
  }

  history(prefix: string, afterRevision: number, upToRevision: number): LogRow[] {
    return this.stmts.history.all({ ...range(prefix), after: afterRevision, upTo: upToRevision }).map(fromRaw);
  }

  currentRevision(): number {
    return this.revision;
  }

  compactRevision(): number {
    return this.compacted;
  }

  /** One short transaction per batch, so writers are never held up for long. */
  compactBatch(target: number, batchSize: number): number {
    const lo = this.compacted;
    const hi = Math.min(target, lo + batchSize);
    if (hi <= lo) return lo;
    this.db.transaction(() => {
      this.stmts.deleteSuperseded.run(lo, hi);
      this.stmts.deleteTombstones.run(lo, hi);
      this.stmts.setMeta.run('compact_rev', hi);
    })();
    this.compacted = hi;
    return hi;
  }

  leasedKeys(): LogRow[] {
    return this.stmts.leased.all().map(fromRaw);
  }

  close(): void {
    this.latestRows.clear();
    if (this.db.open && this.db.inTransaction) this.stmts.rollback.run();
    if (this.db.open) this.db.close();
  }
}

export interface SqliteStorageOptions extends LocalStorageOptions {
  path: string;
}

/** The revision log in the SQLite file at `path` (created if missing), for LocalStorage. */
export function openSqliteLog(path: string): LogStore {
  try {
    return new SqliteLog(path);
  } catch (err) {
    throw new Error(`cannot open SQLite database ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function openSqliteStorage(opts: SqliteStorageOptions): Storage {
  return new LocalStorage('sqlite', openSqliteLog(opts.path), { compactBatchSize: 300, ...opts });
}
