// The informer's local cache: objects in a Map keyed "namespace/name" (or "name" for cluster-scoped objects), with
// named indexes kept as Map<indexValue, Set<key>> so lookups by index never scan all objects. Listers read it.
import { everything, type Selector } from '../machinery/labels.js';
import type { ObjectLike } from './rest.js';

/** client-go's MetaNamespaceKeyFunc. */
export function metaNamespaceKey(obj: ObjectLike): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Inverse of metaNamespaceKey. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1) return { namespace: '', name: parts[0] };
  if (parts.length === 2) return { namespace: parts[0], name: parts[1] };
  throw new Error(`unexpected key format: "${key}"`);
}

/** Values an object is indexed under for one index. */
export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

export function namespaceIndexFunc(obj: ObjectLike): string[] {
  return [obj.metadata?.namespace ?? ''];
}

export class Indexer<T extends ObjectLike> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(
    readonly keyFunc: (obj: T) => string = metaNamespaceKey,
    indexers: Record<string, IndexFunc<T>> = {},
  ) {
    this.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...indexers });
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  /** Add indexes; allowed at any time (existing objects are indexed at once). */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
    }
  }

  /** Insert or replace; returns the previous object under the same key. */
  add(obj: T): T | undefined {
    const key = this.keyFunc(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.reindex(key, old, obj);
    return old;
  }

  update(obj: T): T | undefined {
    return this.add(obj);
  }

  /** Remove by the object's key; returns what was stored. */
  delete(obj: T): T | undefined {
    return this.deleteKey(this.keyFunc(obj));
  }

  deleteKey(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    return old;
  }

  /** Swap the whole contents (after a list). */
  replace(objs: T[]): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
    for (const o of objs) this.add(o);
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Objects sharing any index value with `obj` under index `name`. */
  index(name: string, obj: T): T[] {
    const fn = this.indexerFor(name);
    const keys = new Set<string>();
    for (const v of fn(obj)) for (const k of this.indices.get(name)?.get(v) ?? []) keys.add(k);
    return [...keys].map((k) => this.items.get(k) as T);
  }

  /** Objects whose index `name` includes `value`. */
  byIndex(name: string, value: string): T[] {
    return this.indexKeys(name, value).map((k) => this.items.get(k) as T);
  }

  indexKeys(name: string, value: string): string[] {
    this.indexerFor(name);
    return [...(this.indices.get(name)?.get(value) ?? [])];
  }

  /** Every value index `name` currently holds. */
  listIndexValues(name: string): string[] {
    this.indexerFor(name);
    return [...(this.indices.get(name)?.keys() ?? [])];
  }

  private indexerFor(name: string): IndexFunc<T> {
    const fn = this.indexers.get(name);
    if (!fn) throw new Error(`index with name ${name} does not exist`);
    return fn;
  }

  private reindex(key: string, old: T | undefined, next: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name) as Map<string, Set<string>>;
      const before = old ? fn(old) : [];
      const after = next ? fn(next) : [];
      for (const v of before) if (!after.includes(v)) removeFrom(index, v, key);
      for (const v of after) addTo(index, v, key);
    }
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}

/** Read access to an informer's cache, by namespace and label selector (client-go's generated listers). */
export class Lister<T extends ObjectLike> {
  constructor(private readonly indexer: Indexer<T>) {}

  /** All objects (every namespace) matching the selector. */
  list(selector: Selector = everything()): T[] {
    return this.indexer.list().filter((o) => selector.matches(o.metadata?.labels));
  }

  /** A cluster-scoped object by name. */
  get(name: string): T | undefined {
    return this.indexer.getByKey(name);
  }

  namespace(namespace: string): NamespaceLister<T> {
    return new NamespaceLister(this.indexer, namespace);
  }
}

export class NamespaceLister<T extends ObjectLike> {
  constructor(
    private readonly indexer: Indexer<T>,
    private readonly ns: string,
  ) {}

  list(selector: Selector = everything()): T[] {
    return this.indexer.byIndex(NAMESPACE_INDEX, this.ns).filter((o) => selector.matches(o.metadata?.labels));
  }

  get(name: string): T | undefined {
    return this.indexer.getByKey(`${this.ns}/${name}`);
  }
}
