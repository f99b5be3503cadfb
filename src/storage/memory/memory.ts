// In-memory revision log with the same semantics as the SQLite one; for unit tests of higher layers.
import { hasPrefix } from '../keys.js';
import { KeyExistsRace, type LatestListOptions, type LogRow, type LogStore } from '../local/log-store.js';
import { byKey, LocalStorage, type LocalStorageOptions } from '../local/local-storage.js';
import type { Storage } from '../types.js';

class MemoryLog implements LogStore {
  /** All retained rows in revision order. */
  private rows: LogRow[] = [];
  private readonly latestByKey = new Map<string, LogRow>();
  private revision = 0;
  private compacted = 0;

  latest(key: string): LogRow | undefined {
    return this.latestByKey.get(key);
  }

  latestAt(key: string, revision: number): LogRow | undefined {
    let found: LogRow | undefined;
    for (const r of this.rows) {
      if (r.revision > revision) break;
      if (r.key === key) found = r;
    }
    return found;
  }

  append(data: Omit<LogRow, 'revision'>): number {
    if ((this.latestByKey.get(data.key)?.revision ?? 0) !== data.prevRevision) throw new KeyExistsRace(data.key);
    const revision = ++this.revision;
    const row: LogRow = { ...data, revision, createRevision: data.created ? revision : data.createRevision };
    this.rows.push(row);
    this.latestByKey.set(row.key, row);
    return revision;
  }

  listLatest(prefix: string, opts: LatestListOptions): { rows: LogRow[]; more: boolean; remaining: number } {
    let live: LogRow[];
    if (opts.revision >= this.revision) {
      live = [...this.latestByKey.values()].filter((r) => !r.deleted && hasPrefix(r.key, prefix));
    } else {
      const at = new Map<string, LogRow>();
      for (const r of this.rows) {
        if (r.revision > opts.revision) break;
        if (hasPrefix(r.key, prefix)) at.set(r.key, r);
      }
      live = [...at.values()].filter((r) => !r.deleted);
    }
    const after = opts.startAfter;
    if (after !== undefined) live = live.filter((r) => r.key > after);
    live.sort(byKey);
    const limit = opts.limit ?? live.length;
    return { rows: live.slice(0, limit), more: live.length > limit, remaining: Math.max(0, live.length - limit) };
  }

  count(prefix: string, revision: number): number {
    if (revision < this.revision) return this.listLatest(prefix, { revision }).rows.length;
    let n = 0;
    for (const r of this.latestByKey.values()) if (!r.deleted && hasPrefix(r.key, prefix)) n++;
    return n;
  }

  history(prefix: string, afterRevision: number, upToRevision: number): LogRow[] {
    return this.rows.filter((r) => r.revision > afterRevision && r.revision <= upToRevision && hasPrefix(r.key, prefix));
  }

  currentRevision(): number {
    return this.revision;
  }

  compactRevision(): number {
    return this.compacted;
  }

  compactBatch(target: number, batchSize: number): number {
    const hi = Math.min(target, this.compacted + batchSize);
    const doomed = new Set<number>();
    for (const r of this.rows) {
      if (r.revision > hi) break;
      if (r.revision <= this.compacted) continue;
      if (r.prevRevision !== 0) doomed.add(r.prevRevision);
      if (r.deleted) doomed.add(r.revision);
    }
    this.rows = this.rows.filter((r) => !doomed.has(r.revision));
    for (const [key, r] of this.latestByKey) if (doomed.has(r.revision)) this.latestByKey.delete(key);
    this.compacted = Math.max(this.compacted, hi);
    return this.compacted;
  }

  leasedKeys(): LogRow[] {
    return [...this.latestByKey.values()].filter((r) => !r.deleted && r.lease > 0);
  }

  close(): void {
    this.rows = [];
    this.latestByKey.clear();
  }
}

export function openMemoryStorage(opts: LocalStorageOptions = {}): Storage {
  return new LocalStorage('memory', new MemoryLog(), { compactIntervalMs: 0, ...opts });
}
