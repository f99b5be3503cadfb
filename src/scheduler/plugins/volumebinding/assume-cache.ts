// Upstream's AssumeCache for PersistentVolumes and claims: the informer's objects, overlaid with versions the
// scheduler assumed (a volume it chose for a pod, a claim it annotated) until the informer shows one as new or newer.
import { compareResourceVersion } from '../../../machinery/storage-volume.js';

type Versioned = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

export class AssumeCache<T extends Versioned> {
  private readonly assumed = new Map<string, T>();

  constructor(
    private readonly kind: string,
    /** The informer's current object for a key. */
    private readonly getAPI: (key: string) => T | undefined,
    /** Every informer object (for listing). */
    private readonly listAPI: () => Iterable<T> = () => [],
    private readonly keyOf: (obj: T) => string = (o) => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata?.name ?? '')),
  ) {}

  /** The newest object: the assumed one unless the informer caught up with or passed it. */
  get(key: string): T | undefined {
    const api = this.getAPI(key);
    const mine = this.assumed.get(key);
    if (!mine) return api;
    if (!api) {
      this.assumed.delete(key);
      return undefined;
    }
    if (compareResourceVersion(api.metadata?.resourceVersion, mine.metadata?.resourceVersion) > 0) {
      this.assumed.delete(key);
      return api;
    }
    return mine;
  }

  list(filter?: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const api of this.listAPI()) {
      const obj = this.get(this.keyOf(api));
      if (obj && (!filter || filter(obj))) out.push(obj);
    }
    return out;
  }

  /** Upstream's Assume: the object must exist and be at least as new as the informer's version. */
  assume(obj: T): void {
    const key = this.keyOf(obj);
    const current = this.get(key);
    if (!current) throw new Error(`${this.kind} ${JSON.stringify(key)} not found`);
    if (compareResourceVersion(obj.metadata?.resourceVersion, current.metadata?.resourceVersion) < 0) {
      throw new Error(`${this.kind} ${JSON.stringify(key)} is out of sync (stored: ${current.metadata?.resourceVersion ?? ''}, assume: ${obj.metadata?.resourceVersion ?? ''})`);
    }
    this.assumed.set(key, obj);
  }

  /** Drops the assumed version, back to the informer's. */
  restore(key: string): void {
    this.assumed.delete(key);
  }
}
