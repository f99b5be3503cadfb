// Namespaces kept in memory from a watch, so admission does not read storage on every write (upstream's
// NamespaceLifecycle reads an informer the same way). A miss falls back to a live read: a namespace created a
// moment ago may not have reached the watch yet.
import type { KubeObject } from '../../api/object.js';
import { isNotFound } from '../../machinery/errors.js';
import type { Store } from '../registry/store.js';

export class NamespaceCache {
  private readonly byName = new Map<string, KubeObject>();
  private watch?: { stop(): void };
  private stopped = false;

  constructor(private readonly store: Store) {}

  /** Lists, then follows changes; after a watch failure (e.g. compaction) it lists again. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const list = await this.store.list({});
    this.byName.clear();
    for (const ns of list.items) this.byName.set(ns.metadata.name!, ns);
    this.watch = this.store.watch(undefined, Number(list.metadata.resourceVersion), undefined, {
      onEvents: (events) => {
        for (const e of events) {
          if (e.type === 'put') this.byName.set(e.object.metadata.name!, e.object);
          else if (e.type === 'delete') this.byName.delete(e.object.metadata.name!);
        }
      },
      onError: () => {
        this.watch = undefined;
        setTimeout(() => void this.start().catch(() => undefined), 100).unref();
      },
    });
  }

  async get(name: string): Promise<KubeObject | undefined> {
    const cached = this.byName.get(name);
    if (cached) return cached;
    try {
      return await this.store.get(undefined, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }
}
