// Objects of one resource kept in memory from a watch, so admission does not read storage on every write (upstream's
// admission plugins read informers the same way). ObjectCache holds any resource (PriorityClasses, ResourceQuotas);
// NamespaceCache adds a live read on a miss: a namespace created a moment ago may not have reached the watch yet.
import type { KubeObject } from '../../api/object.js';
import { isNotFound } from '../../machinery/errors.js';
import type { Store } from '../registry/store.js';

export class ObjectCache {
  /** namespace ('' for cluster-scoped) -> name -> object. */
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  private watch?: { stop(): void };
  private stopped = false;

  /** `keep` may store a slimmer copy of each object (e.g. only what a check needs). */
  constructor(
    protected readonly store: Store,
    private readonly keep?: (obj: KubeObject) => KubeObject,
  ) {}

  /** Lists, then follows changes; after a watch failure (e.g. compaction) it lists again. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const list = await this.store.list({});
    this.byNamespace.clear();
    for (const obj of list.items) this.put(obj);
    this.watch = this.store.watch(undefined, Number(list.metadata.resourceVersion), undefined, {
      onEvents: (events) => {
        for (const e of events) {
          if (e.type === 'put') this.put(e.object);
          else if (e.type === 'delete') this.remove(e.object);
        }
      },
      onError: () => {
        this.watch = undefined;
        setTimeout(() => void this.start().catch(() => undefined), 100).unref();
      },
    });
  }

  protected put(obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    let names = this.byNamespace.get(ns);
    if (!names) this.byNamespace.set(ns, (names = new Map()));
    names.set(obj.metadata.name!, this.keep ? this.keep(obj) : obj);
  }

  protected remove(obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const names = this.byNamespace.get(ns);
    names?.delete(obj.metadata.name!);
    if (names?.size === 0) this.byNamespace.delete(ns);
  }

  /** The cached object (shared: callers must not mutate it). */
  cached(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byNamespace.get(namespace ?? '')?.get(name);
  }

  /** The cached objects of one namespace ('' or undefined: cluster-scoped objects). */
  list(namespace?: string): KubeObject[] {
    const names = this.byNamespace.get(namespace ?? '');
    return names ? [...names.values()] : [];
  }

  /**
   * Resolves once every write committed before the call has reached the cache: the in-process watch hub publishes at
   * commit and delivers on the next setImmediate, which runs before this one. (A remote etcd's watch lags as an
   * informer does.)
   */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }
}

export class NamespaceCache extends ObjectCache {
  async get(name: string): Promise<KubeObject | undefined> {
    const cached = this.cached(undefined, name);
    if (cached) return cached;
    try {
      return await this.store.get(undefined, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
