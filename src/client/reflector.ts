// The reflector keeps a store in step with the server, as client-go's does: list (in pages, resourceVersion "0" first
// so a server may answer from its cache), then watch from the list's resourceVersion with bookmarks; a watch that
// closes cleanly is re-opened from the last resourceVersion seen; a watch that reports 410 Expired/Gone forces a
// relist; a list whose resourceVersion is too old is retried with a consistent ("") list; errors back off.
import { ApiError } from '../machinery/errors.js';
import { realClock, type Clock } from './clock.js';
import type { ObjectLike, ObjectList, ResourceClient, Watcher, WatchOptions, ListOptions } from './rest.js';

/** What the reflector needs from the server: client-go's ListerWatcher. */
export interface ListerWatcher<T> {
  list(opts: ListOptions): Promise<ObjectList<T>>;
  watch(opts: WatchOptions): Promise<Watcher<T>>;
}

/** The ListerWatcher of one resource, optionally narrowed to a namespace and selectors. */
export function listWatcherFor<T extends ObjectLike>(
  resource: ResourceClient<T>,
  scope: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
): ListerWatcher<T> {
  return {
    list: (opts) => resource.list({ ...scope, ...opts }),
    watch: (opts) => resource.watch({ ...scope, ...opts }),
  };
}

/** Where the reflector puts what it learns (the informer implements it). */
export interface ReflectorStore<T> {
  /** The complete set of objects as of `resourceVersion` (after a list). */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

export interface BackoffOptions {
  /** First delay (client-go: 800 ms). */
  initialMs: number;
  /** Largest delay (client-go: 30 s). */
  maxMs: number;
  /** After this long without trouble the delay starts over (client-go: 2 min). */
  resetAfterMs: number;
}

export interface ReflectorOptions {
  name?: string;
  /** List page size (client-go: 500). */
  pageSize?: number;
  /** Server-side watch timeout; default a random 5–10 minutes, as client-go spreads re-watches. */
  watchTimeoutSeconds?: number;
  backoff?: Partial<BackoffOptions>;
  clock?: Clock;
  /** Told about every list/watch failure (client-go's WatchErrorHandler); the reflector carries on regardless. */
  onError?: (err: unknown) => void;
  /**
   * Fill the store from a watch-list stream (sendInitialEvents=true, resourceVersionMatch=NotOlderThan, bookmarks)
   * instead of a list, as client-go's WatchListClient; a server that refuses it gets a plain list and watch.
   */
  useWatchList?: boolean;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Watches or lists answered 410 Expired/Gone. */
  expired: number;
  /** Watch-list streams opened, and how many of them fell back to list and watch. */
  watchLists: number;
  watchListFallbacks: number;
}

/** The annotation on the bookmark that ends a watch-list's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

export function isExpiredError(e: unknown): boolean {
  return e instanceof ApiError && (e.reason === 'Expired' || e.reason === 'Gone' || e.code === 410);
}

function isConnectionRefused(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ECONNREFUSED';
}

function isTooManyRequests(e: unknown): boolean {
  return e instanceof ApiError && e.code === 429;
}

/** Exponential backoff with jitter-free doubling, reset after a quiet period. */
class Backoff {
  private delay = 0;
  private lastAt = -Infinity;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly clock: Clock,
  ) {}

  next(): number {
    const now = this.clock.now();
    if (now - this.lastAt > this.opts.resetAfterMs) this.delay = 0;
    this.lastAt = now;
    this.delay = this.delay === 0 ? this.opts.initialMs : Math.min(this.opts.maxMs, this.delay * 2);
    return this.delay;
  }
}

class StopRequested extends Error {}

export class Reflector<T extends ObjectLike> {
  readonly name: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, expired: 0, watchLists: 0, watchListFallbacks: 0 };
  private lastSyncResourceVersion = '';
  /** Set when a list at lastSyncResourceVersion was refused as too old: the next list must be consistent (""). */
  private lastSyncResourceVersionUnavailable = false;
  /** The "0" list came back in pages: the server has no cache in front of its store, so relists page too. */
  private paginatedResult = false;
  private readonly abort = new AbortController();
  private currentWatch: Watcher<T> | undefined;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private running: Promise<void> | undefined;

  constructor(
    private readonly lw: ListerWatcher<T>,
    private readonly store: ReflectorStore<T>,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.name = opts.name ?? 'reflector';
    this.clock = opts.clock ?? realClock;
    this.backoff = new Backoff({ initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000, ...opts.backoff }, this.clock);
  }

  /** The resourceVersion of the last list or event seen ("" before the first list). */
  lastResourceVersion(): string {
    return this.lastSyncResourceVersion;
  }

  /** Start listing and watching until stop(); returns at once. */
  run(): void {
    this.running ??= this.loop();
  }

  /** Stop and wait for the loop to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.currentWatch?.stop();
    await this.running;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.listAndWatch();
      } catch (e) {
        if (e instanceof StopRequested || this.stopped) break;
        this.reportError(e);
      }
      if (this.stopped) break;
      await this.clock.sleep(this.backoff.next(), this.abort.signal);
    }
  }

  private reportError(e: unknown): void {
    this.opts.onError?.(e);
  }

  private relistResourceVersion(): string {
    if (this.lastSyncResourceVersionUnavailable) return '';
    return this.lastSyncResourceVersion === '' ? '0' : this.lastSyncResourceVersion;
  }

  private async listAndWatch(): Promise<void> {
    if (this.opts.useWatchList) {
      let opened: Watcher<T> | undefined;
      try {
        opened = await this.watchList();
      } catch (e) {
        if (e instanceof StopRequested || this.stopped) throw e;
        // As client-go: progress with LIST/WATCH is better than retrying a stream the server will not give.
        this.stats.watchListFallbacks++;
        this.reportError(e);
      }
      if (opened) return this.watch(opened);
    }
    await this.list();
    await this.watch();
  }

  private watchTimeoutSeconds(): number {
    return this.opts.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
  }

  /**
   * Open a watch that first streams the current state (ADDED events) up to a bookmark annotated initial-events-end,
   * replace the store with that state, and hand back the watch positioned after the bookmark.
   */
  private async watchList(): Promise<Watcher<T>> {
    this.stats.watchLists++;
    const watcher = await this.lw.watch({
      resourceVersion: this.lastSyncResourceVersion,
      resourceVersionMatch: 'NotOlderThan',
      sendInitialEvents: true,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
    });
    this.currentWatch = watcher;
    const events = watcher[Symbol.asyncIterator]();
    const initial = new Map<string, T>();
    const keyOf = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    try {
      for (;;) {
        if (this.stopped) throw new StopRequested();
        const next = await events.next();
        if (next.done) throw new Error(`${this.name}: watch-list ended before its initial-events-end bookmark`);
        const ev = next.value;
        if (ev.type === 'ERROR') throw new ApiError(ev.object);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') initial.set(keyOf(ev.object), ev.object);
        else if (ev.type === 'DELETED') initial.delete(keyOf(ev.object));
        else if (ev.object.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true') {
          const rv = ev.object.metadata?.resourceVersion ?? '';
          this.store.replace([...initial.values()], rv);
          this.lastSyncResourceVersion = rv;
          return { [Symbol.asyncIterator]: () => events, stop: () => watcher.stop() };
        }
      }
    } catch (e) {
      watcher.stop();
      this.currentWatch = undefined;
      throw e;
    }
  }

  private async list(): Promise<void> {
    const resourceVersion = this.relistResourceVersion();
    let list: { items: T[]; resourceVersion: string };
    try {
      list = await this.listPaged(resourceVersion);
    } catch (e) {
      if (isExpiredError(e)) {
        // The resourceVersion we asked for is compacted away: ask for the latest state instead.
        this.stats.expired++;
        this.lastSyncResourceVersionUnavailable = true;
        list = await this.listPaged('');
      } else {
        // The resource does not exist on the server: an empty cache unblocks whoever waits for the sync.
        if (e instanceof ApiError && e.code === 404) this.store.replace([], '');
        throw e;
      }
    }
    if (this.stopped) throw new StopRequested();
    this.lastSyncResourceVersionUnavailable = false;
    this.store.replace(list.items, list.resourceVersion);
    this.lastSyncResourceVersion = list.resourceVersion;
  }

  /** All pages of one list; an expired continue token falls back to one unpaged list (client-go's pager). */
  private async listPaged(resourceVersion: string): Promise<{ items: T[]; resourceVersion: string }> {
    this.stats.lists++;
    // As client-go: a relist at a known resourceVersion goes unpaged so a server cache can answer it, unless the
    // caller fixed a page size or the first ("0") list came back paged (no cache in front of the store).
    const unpaged = this.opts.pageSize === undefined && !this.paginatedResult && resourceVersion !== '' && resourceVersion !== '0';
    const limit = unpaged ? undefined : (this.opts.pageSize ?? 500);
    const first = await this.lw.list({ resourceVersion, ...(limit ? { limit } : {}) });
    if (resourceVersion === '0' && first.metadata.continue) this.paginatedResult = true;
    const items = [...first.items];
    let cont = first.metadata.continue;
    let rv = first.metadata.resourceVersion ?? '';
    while (cont) {
      if (this.stopped) throw new StopRequested();
      let page: ObjectList<T>;
      try {
        page = await this.lw.list({ limit, continue: cont });
      } catch (e) {
        if (!isExpiredError(e)) throw e;
        const full = await this.lw.list({ resourceVersion });
        return { items: full.items, resourceVersion: full.metadata.resourceVersion ?? '' };
      }
      items.push(...page.items);
      cont = page.metadata.continue;
      rv = page.metadata.resourceVersion ?? rv;
    }
    return { items, resourceVersion: rv };
  }

  private async watch(opened?: Watcher<T>): Promise<void> {
    while (!this.stopped) {
      const timeoutSeconds = this.watchTimeoutSeconds();
      let watcher: Watcher<T>;
      try {
        this.stats.watches++;
        watcher = opened ?? (await this.lw.watch({ resourceVersion: this.lastSyncResourceVersion, allowWatchBookmarks: true, timeoutSeconds }));
        opened = undefined;
      } catch (e) {
        // The server is down or shedding load: keep our state and try the watch again rather than relisting.
        if (isConnectionRefused(e) || isTooManyRequests(e)) {
          this.reportError(e);
          await this.clock.sleep(this.backoff.next(), this.abort.signal);
          continue;
        }
        throw e;
      }
      this.currentWatch = watcher;
      if (this.stopped) watcher.stop();
      try {
        await this.handleWatch(watcher);
      } catch (e) {
        if (this.stopped) return;
        if (isExpiredError(e)) {
          // Relist from the last resourceVersion seen: a list at it returns data at least that fresh.
          this.stats.expired++;
          return;
        }
        if (isTooManyRequests(e)) {
          await this.clock.sleep(this.backoff.next(), this.abort.signal);
          continue;
        }
        this.reportError(e);
        return;
      } finally {
        watcher.stop();
        this.currentWatch = undefined;
      }
      // A clean close (server timeout, connection dropped mid-stream): watch again from where we were.
    }
  }

  private async handleWatch(watcher: Watcher<T>): Promise<void> {
    try {
      for await (const ev of watcher) {
        if (ev.type === 'ERROR') throw new ApiError(ev.object);
        const rv = ev.object.metadata?.resourceVersion;
        switch (ev.type) {
          case 'ADDED':
            this.store.add(ev.object);
            break;
          case 'MODIFIED':
            this.store.update(ev.object);
            break;
          case 'DELETED':
            this.store.delete(ev.object);
            break;
          case 'BOOKMARK':
            break;
        }
        if (rv) this.lastSyncResourceVersion = rv;
      }
    } catch (e) {
      // A transport failure mid-stream ends the watch like a clean close; API errors go up.
      if (e instanceof ApiError || e instanceof StopRequested) throw e;
      if (!this.stopped) this.reportError(e);
    }
  }
}
