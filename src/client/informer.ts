// SharedIndexInformer: one reflector fills one Indexer, and every registered handler hears about adds, updates and
// deletes (deletes missed while disconnected arrive as DeletedFinalStateUnknown tombstones after the relist).
// Handlers run synchronously, in event order; they should only enqueue work (e.g. a key into a WorkQueue).
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { Reflector, listWatcherFor, type ListerWatcher, type ReflectorOptions, type ReflectorStore } from './reflector.js';
import type { GroupVersionResource, ObjectLike, RestClient } from './rest.js';
import { Indexer, Lister, metaNamespaceKey, type IndexFunc } from './store.js';

/** An object deleted while the watch was down: only its last known state is available. */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

export interface EventHandler<T> {
  /** `isInInitialList`: the object came with the first list (or existed when the handler was added). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called on resync and relist with the object unchanged. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  /** True once the handler has seen the informer's initial list. */
  hasSynced(): boolean;
  remove(): void;
}

export interface InformerOptions<T> {
  /** How often handlers get onUpdate(obj, obj) for every cached object (0: never). */
  resyncPeriodMs?: number;
  indexers?: Record<string, IndexFunc<T>>;
  clock?: Clock;
  reflector?: ReflectorOptions;
  /** A handler threw: the informer carries on (default: print to stderr). */
  onHandlerError?: (err: unknown) => void;
}

interface Listener<T> {
  handler: EventHandler<T>;
  synced: boolean;
  resyncTimer?: TimerHandle;
}

/** The object behind a delete notification, tombstone or not. */
export function deletedObject<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

export class SharedIndexInformer<T extends ObjectLike> implements ReflectorStore<T> {
  readonly indexer: Indexer<T>;
  readonly reflector: Reflector<T>;
  private readonly listeners = new Set<Listener<T>>();
  private readonly clock: Clock;
  private synced = false;
  private started = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    lw: ListerWatcher<T>,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.indexer = new Indexer<T>(metaNamespaceKey, opts.indexers ?? {});
    this.reflector = new Reflector<T>(lw, this, { clock: this.clock, ...opts.reflector });
  }

  lister(): Lister<T> {
    return new Lister(this.indexer);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.indexer.addIndexers(indexers);
  }

  /**
   * Register a handler; if the cache is already filled, it first gets onAdd for every cached object. `resyncPeriodMs`
   * overrides the informer's resync period for this handler.
   */
  addEventHandler(handler: EventHandler<T>, resyncPeriodMs = this.opts.resyncPeriodMs ?? 0): HandlerRegistration {
    const listener: Listener<T> = { handler, synced: false };
    this.listeners.add(listener);
    if (this.synced) {
      for (const obj of this.indexer.list()) this.safely(() => handler.onAdd?.(obj, true));
      listener.synced = true;
    }
    if (resyncPeriodMs > 0) this.scheduleResync(listener, resyncPeriodMs);
    return {
      hasSynced: () => listener.synced,
      remove: () => {
        listener.resyncTimer?.cancel();
        this.listeners.delete(listener);
      },
    };
  }

  run(): void {
    if (this.started) return;
    this.started = true;
    this.reflector.run();
  }

  async stop(): Promise<void> {
    for (const l of this.listeners) l.resyncTimer?.cancel();
    await this.reflector.stop();
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** True once the first complete list has been delivered to the store and handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false if `timeoutMs` (Infinity: none) passes or the informer stops first. */
  waitForCacheSync(timeoutMs = 30_000): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      // Infinity: no deadline (a timer cannot be that long).
      const timer = Number.isFinite(timeoutMs) ? this.clock.setTimer(() => resolve(this.synced), timeoutMs) : undefined;
      this.syncWaiters.push(() => {
        timer?.cancel();
        resolve(this.synced);
      });
    });
  }

  // ReflectorStore: apply to the cache, then tell the handlers.

  replace(items: T[], _resourceVersion: string): void {
    const fresh = new Map<string, T>();
    for (const obj of items) fresh.set(this.indexer.keyFunc(obj), obj);
    const missing: [string, T][] = [];
    for (const key of this.indexer.listKeys()) if (!fresh.has(key)) missing.push([key, this.indexer.getByKey(key) as T]);
    const initial = !this.synced;
    // Listed objects first, then tombstones for the ones that vanished, in DeltaFIFO.Replace's order.
    for (const obj of fresh.values()) {
      const old = this.indexer.add(obj);
      if (old) this.notify((h) => h.onUpdate?.(old, obj));
      else this.notify((h) => h.onAdd?.(obj, initial));
    }
    for (const [key, obj] of missing) {
      this.indexer.deleteKey(key);
      this.notify((h) => h.onDelete?.(new DeletedFinalStateUnknown(key, obj)));
    }
    if (initial) {
      this.synced = true;
      for (const l of this.listeners) l.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  add(obj: T): void {
    const old = this.indexer.add(obj);
    if (old) this.notify((h) => h.onUpdate?.(old, obj));
    else this.notify((h) => h.onAdd?.(obj, false));
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.indexer.delete(obj);
    this.notify((h) => h.onDelete?.(obj));
  }

  private notify(fn: (h: EventHandler<T>) => void): void {
    for (const l of this.listeners) this.safely(() => fn(l.handler));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      (this.opts.onHandlerError ?? ((err: unknown) => console.error('informer event handler failed:', err)))(e);
    }
  }

  private scheduleResync(listener: Listener<T>, periodMs: number): void {
    listener.resyncTimer = this.clock.setTimer(() => {
      if (!this.listeners.has(listener)) return;
      if (this.synced) for (const obj of this.indexer.list()) this.safely(() => listener.handler.onUpdate?.(obj, obj));
      this.scheduleResync(listener, periodMs);
    }, periodMs);
  }
}

/**
 * `base` as seen by one user whose handlers come and go together: the same cache, watch and indexes, but every
 * handler added through the view is recorded in `registrations` (for the owner of the view to remove), and an index
 * the informer already has is not added again (the same user's next term, or another user, may ask for it).
 */
function handlerScopedView<T extends ObjectLike>(base: SharedIndexInformer<T>, registrations: HandlerRegistration[]): SharedIndexInformer<T> {
  // Fields (indexer, reflector) are read through the prototype; every method is the base's, called on the base.
  const view = Object.create(base) as SharedIndexInformer<T>;
  view.addEventHandler = (handler, resyncPeriodMs) => {
    const registration = base.addEventHandler(handler, resyncPeriodMs);
    registrations.push(registration);
    return registration;
  };
  view.addIndexers = (indexers) => {
    const missing = Object.entries(indexers).filter(([name]) => !base.indexer.hasIndex(name));
    if (missing.length) base.addIndexers(Object.fromEntries(missing));
  };
  view.lister = () => base.lister();
  view.hasSynced = () => base.hasSynced();
  view.waitForCacheSync = (timeoutMs) => base.waitForCacheSync(timeoutMs);
  view.run = () => base.run();
  // The informer belongs to the base's factory: stopping the view only removes its handlers.
  view.stop = async () => {
    for (const r of registrations.splice(0)) r.remove();
  };
  return view;
}

type FactoryOptions = { namespace?: string; resyncPeriodMs?: number; clock?: Clock; reflector?: ReflectorOptions };

/** One shared informer per resource (and namespace), so every controller reads the same cache and watch. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedIndexInformer<ObjectLike>>();

  constructor(
    private readonly client: RestClient,
    private readonly opts: FactoryOptions = {},
    /** Set for a scope(): informers come from this factory, wrapped by handlerScopedView. */
    private readonly parent?: { factory: SharedInformerFactory; registrations: HandlerRegistration[] },
  ) {}

  /**
   * A factory over this factory's informers for a user that starts and stops as a unit (a controller manager's
   * leadership term): the same informers (one watch and one cache per resource for everyone), but its shutdown()
   * only removes the handlers registered through it; the informers keep running for this factory's owner.
   */
  scope(): SharedInformerFactory {
    return new SharedInformerFactory(this.client, this.opts, { factory: this, registrations: [] });
  }

  informerFor<T extends ObjectLike>(gvr: GroupVersionResource): SharedIndexInformer<T> {
    const key = `${gvr.group}/${gvr.version}/${gvr.resource}`;
    let informer = this.informers.get(key);
    if (!informer && this.parent) {
      informer = handlerScopedView(this.parent.factory.informerFor<ObjectLike>(gvr), this.parent.registrations);
      this.informers.set(key, informer);
    }
    if (!informer) {
      const lw = listWatcherFor(this.client.resource<ObjectLike>(gvr), { namespace: this.opts.namespace });
      informer = new SharedIndexInformer<ObjectLike>(lw, {
        resyncPeriodMs: this.opts.resyncPeriodMs,
        clock: this.opts.clock,
        reflector: { name: key, ...this.opts.reflector },
      });
      this.informers.set(key, informer);
    }
    // The cache holds whatever the server sent for this resource; T names that shape for the caller.
    return informer as unknown as SharedIndexInformer<T>;
  }

  /** Run every informer requested so far (and not yet running). */
  start(): void {
    for (const i of this.informers.values()) i.run();
  }

  async waitForCacheSync(timeoutMs?: number): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForCacheSync(timeoutMs)));
    return results.every(Boolean);
  }

  async shutdown(): Promise<void> {
    if (this.parent) {
      for (const r of this.parent.registrations.splice(0)) r.remove();
      return;
    }
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
