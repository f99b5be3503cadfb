// The four RBAC resources kept in memory from watches (upstream's RBAC authorizer reads shared informers), with a
// generation that moves on every change so the authorizer's per-user rule sets know when to be recomputed.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { ObjectCache } from '../../admission/namespace-cache.js';
import type { Store } from '../../registry/store.js';
import type { RbacObjects } from './resolver.js';

class WatchedCache extends ObjectCache {
  constructor(
    store: Store,
    private readonly changed: () => void,
  ) {
    super(store);
  }
  protected override put(obj: KubeObject): void {
    super.put(obj);
    this.changed();
  }
  protected override remove(obj: KubeObject): void {
    super.remove(obj);
    this.changed();
  }
}

export interface RbacStores {
  roles: Store;
  roleBindings: Store;
  clusterRoles: Store;
  clusterRoleBindings: Store;
}

export class RbacCaches implements RbacObjects {
  /** Moves on every add, update or delete of any of the four resources. */
  generation = 0;
  private readonly roles: WatchedCache;
  private readonly bindings: WatchedCache;
  private readonly clusterRoles: WatchedCache;
  private readonly clusterBindings: WatchedCache;
  private clusterBindingList?: readonly ClusterRoleBinding[];
  private readonly listeners = new Set<() => void>();

  constructor(stores: RbacStores) {
    const changed = () => {
      this.generation++;
      this.clusterBindingList = undefined;
      for (const l of this.listeners) l();
    };
    this.roles = new WatchedCache(stores.roles, changed);
    this.bindings = new WatchedCache(stores.roleBindings, changed);
    this.clusterRoles = new WatchedCache(stores.clusterRoles, changed);
    this.clusterBindings = new WatchedCache(stores.clusterRoleBindings, changed);
  }

  /** Called after every change (e.g. to drop derived state). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await Promise.all([this.roles.start(), this.bindings.start(), this.clusterRoles.start(), this.clusterBindings.start()]);
  }

  stop(): void {
    for (const c of [this.roles, this.bindings, this.clusterRoles, this.clusterBindings]) c.stop();
  }

  /** Resolves once every write committed before the call is in the caches. */
  caughtUp(): Promise<void> {
    return this.roles.caughtUp();
  }

  clusterRoleBindings(): readonly ClusterRoleBinding[] {
    return (this.clusterBindingList ??= this.clusterBindings.list() as unknown as ClusterRoleBinding[]);
  }
  roleBindings(namespace: string): readonly RoleBinding[] {
    return this.bindings.list(namespace) as unknown as RoleBinding[];
  }
  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.cached(undefined, name) as unknown as ClusterRole | undefined;
  }
  role(namespace: string, name: string): Role | undefined {
    return this.roles.cached(namespace, name) as unknown as Role | undefined;
  }
}

/**
 * The RBAC objects before the API server's caches exist (the authorizer is built before storage is open): empty until
 * `attach`, then those of the caches.
 */
export class DeferredRbacObjects implements RbacObjects {
  private inner?: RbacCaches;
  private own = 0;

  get generation(): number {
    return this.inner ? this.inner.generation + this.own : this.own;
  }

  /** Whether the caches are attached (listed and caught up with the bootstrap policy). */
  get ready(): boolean {
    return this.inner !== undefined;
  }

  attach(caches: RbacCaches | undefined): void {
    this.inner = caches;
    this.own += 1_000_000_000;
  }

  clusterRoleBindings(): readonly ClusterRoleBinding[] {
    return this.inner?.clusterRoleBindings() ?? [];
  }
  roleBindings(namespace: string): readonly RoleBinding[] {
    return this.inner?.roleBindings(namespace) ?? [];
  }
  clusterRole(name: string): ClusterRole | undefined {
    return this.inner?.clusterRole(name);
  }
  role(namespace: string, name: string): Role | undefined {
    return this.inner?.role(namespace, name);
  }
}
