// The one storage interface every backend (sqlite, etcd, memory) implements. Keys are strings such as
// "/registry/pods/default/web-0"; values are serialized objects. Revisions are a single cluster-wide counter: an
// object's resourceVersion is the revision of its last write (etcd's mod_revision, kine's row id).

export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which the key was created (etcd create_revision). */
  createRevision: number;
  /** Revision of the last write to this key (etcd mod_revision) = the object's resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /** Return at most this many items (0 or undefined: no limit). */
  limit?: number;
  /** Exclusive lower bound: list keys strictly greater than this key (for continue tokens). */
  startAfter?: string;
  /** Read the state as of this revision (0 or undefined: latest). Throws StorageError 'Compacted' if too old. */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at (use it to start a watch, or to page consistently). */
  revision: number;
  /** True when more keys under the prefix follow the last returned one. */
  more: boolean;
  /** When `more`, how many keys remain after this page (best effort; may be undefined). */
  remaining?: number;
}

export type WatchEvent =
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  | { type: 'delete'; key: string; revision: number; prev: KeyValue }
  /** No more events up to `revision` for this watch (used for bookmarks). */
  | { type: 'progress'; revision: number };

export interface WatchOptions {
  /** Deliver every change with revision strictly greater than this. 0: from now. */
  afterRevision: number;
  /** Ask the backend for periodic progress events (every `progressIntervalMs`). */
  progressIntervalMs?: number;
  /** A hint that only some events can matter to this watcher (backends may ignore it; the caller still filters). */
  index?: WatchIndex;
}

/**
 * A watcher that wants only events whose object (or previous object) has `value` in one indexed field, as upstream's
 * watch cache indexes watchers by a field selector's value (pods by spec.nodeName): a backend that honours it hands
 * an event to such a watcher only if `valuesOf(event)` includes `value`, instead of offering it to every watcher.
 */
export interface WatchIndex {
  /** Names the index: watchers with the same name share one `valuesOf` (the first one registered is used). */
  name: string;
  /** The index covers events under this prefix; `valuesOf` is called only for those. */
  prefix: string;
  value: string;
  /** The field's values in the event: the object's and, for an update, the previous object's. */
  valuesOf(event: WatchEvent & { type: 'put' | 'delete' }): readonly string[];
}

export interface Watch {
  /** Stop delivering events and release resources. Idempotent. */
  stop(): void;
}

export interface WatchHandler {
  onEvents(events: WatchEvent[]): void;
  /** The watch ended abnormally (e.g. StorageError 'Compacted'); no more events follow. */
  onError(err: StorageError): void;
}

export interface CreateOptions {
  /** Delete the key automatically after this many seconds (events' TTL). */
  ttlSeconds?: number;
}

export interface Storage {
  /** Human-readable backend name for /metrics and logs, e.g. "sqlite". */
  readonly name: string;
  get(key: string): Promise<KeyValue | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** Create a key that must not exist. Returns the new revision. Throws 'KeyExists'. */
  create(key: string, value: string, opts?: CreateOptions): Promise<KeyValue>;
  /**
   * Compare-and-swap: replace the value only if the key's modRevision equals `expectedRevision`.
   * Throws 'NotFound' if the key is absent and 'Conflict' (carrying the current value) if it changed.
   */
  update(key: string, value: string, expectedRevision: number, opts?: CreateOptions): Promise<KeyValue>;
  /**
   * Delete a key. With `expectedRevision`, only if its modRevision matches (else 'Conflict').
   * Returns the deleted key's last value and the revision of the deletion. Throws 'NotFound'.
   */
  delete(key: string, expectedRevision?: number): Promise<{ prev: KeyValue; revision: number }>;
  /** Watch every key under `prefix`. */
  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch;
  /** The newest revision in the store. */
  currentRevision(): Promise<number>;
  /** Forget history at or below `revision`: later reads/watches from older revisions get 'Compacted'. */
  compact(revision: number): Promise<void>;
  /** Oldest revision still readable (compacted revision + 1). */
  oldestRevision(): Promise<number>;
  /** Flush and release everything. */
  close(): Promise<void>;
}

export type StorageErrorCode = 'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'Unavailable' | 'Internal';

/** Backend-neutral storage failure; the API server translates it to a metav1.Status at its boundary. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message?: string,
    readonly current?: KeyValue,
    options?: { cause?: unknown },
  ) {
    super(message ?? `${code}: ${key}`, options);
    this.name = 'StorageError';
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** A backend constructor registered under a URL scheme (sqlite:, http:/https: for etcd, memory:). */
export type StorageFactory = (endpoint: string, opts: { dataDir: string }) => Promise<Storage>;
