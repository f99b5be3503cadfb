// A controller's own writes make its cached copy stale until their watch events arrive. A sync on such a copy would
// only conflict (and back off) or, worse, act twice (start a second Job, count a pod twice); the watch event of the
// write requeues the key anyway, so the sync is skipped.

/** Per key, the resourceVersions this controller's own writes replaced since its last sync on a fresh copy. */
export class SupersededVersions {
  private readonly byKey = new Map<string, Set<string>>();

  /** Our write replaced version `resourceVersion` of `key`'s object. */
  replaced(key: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(resourceVersion);
  }

  /**
   * Whether the cached copy is a version our writes replaced (skip this sync). A copy that is not means the cache has
   * caught up, so the records of `key` are dropped.
   */
  isStale(key: string, cachedResourceVersion: string | undefined): boolean {
    if (this.byKey.get(key)?.has(cachedResourceVersion ?? '')) return true;
    this.byKey.delete(key);
    return false;
  }

  /** The object is gone. */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}
