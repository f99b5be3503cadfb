// The garbage collector's dependency graph (upstream's GraphBuilder and uidToNode): one node per object seen by the
// monitors, keyed by uid, holding the object's identity, its ownerReferences and the set of its dependents. Owners not
// seen yet get a "virtual" node that the collector verifies against the API. Every change is applied synchronously,
// in event order, and turns into work: attemptToDelete (a dependent may have lost its owners; an owner in foreground
// deletion may be done) or attemptToOrphan (an owner deleted with the orphan finalizer).
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS } from '../../machinery/validation.js';
import type { ObjectLike } from '../../client/index.js';

export { FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS };

/** Where an object lives and what it is: enough to GET or DELETE it. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  /** '' for cluster-scoped objects (and for virtual owners whose scope is not known yet). */
  namespace: string;
  name: string;
  uid: string;
}

export class GraphNode {
  readonly dependents = new Set<GraphNode>();
  owners: readonly OwnerReference[] = [];
  /** Not observed through a monitor yet: created because a dependent names it as an owner. */
  virtual: boolean;
  beingDeleted = false;
  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  deletingDependents = false;
  /** Being deleted with the orphan finalizer (for transition detection). */
  orphaning = false;

  constructor(
    public identity: ObjectIdentity,
    virtual: boolean,
  ) {
    this.virtual = virtual;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion=true. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((r) => r.uid === this.identity.uid && r.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/** What the graph asks its collector to do. */
export interface GraphSink {
  attemptToDelete(node: GraphNode): void;
  attemptToOrphan(node: GraphNode): void;
  /** A dependent references an owner it cannot have (wrong namespace): upstream records OwnerRefInvalidNamespace. */
  invalidNamespaceOwnerRef?(dependent: GraphNode, ownerUid: string): void;
}

/** A small LRU set (upstream's absentOwnerCache holds 500 references). */
export class LruSet {
  private readonly items = new Map<string, true>();
  constructor(private readonly capacity = 500) {}
  add(key: string): void {
    this.items.delete(key);
    this.items.set(key, true);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as string);
  }
  has(key: string): boolean {
    if (!this.items.has(key)) return false;
    this.add(key);
    return true;
  }
  get size(): number {
    return this.items.size;
  }
}

/** The absent-owner cache key: owner coordinates plus the namespace it was looked for in ('' for cluster scope). */
export function absentOwnerKey(ref: Pick<OwnerReference, 'apiVersion' | 'kind' | 'name' | 'uid'>, namespace: string): string {
  return [ref.apiVersion, ref.kind, namespace, ref.name, ref.uid].join('\u0000');
}

function hasFinalizer(obj: ObjectLike, f: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(f);
}

/** Is this owner one the node's scope allows? Cluster-scoped owners fit everyone; namespaced ones only their namespace. */
function sameScope(owner: ObjectIdentity, dependent: ObjectIdentity): boolean {
  return owner.namespace === '' || owner.namespace === dependent.namespace;
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  readonly absentOwners = new LruSet();

  constructor(private readonly sink: GraphSink) {}

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** An object was added or changed (from a monitor; `identity` from the monitor's resource). */
  observe(identity: ObjectIdentity, obj: ObjectLike): void {
    const m = obj.metadata ?? {};
    const owners = m.ownerReferences ?? [];
    const beingDeleted = m.deletionTimestamp !== undefined;
    let node = this.nodes.get(identity.uid);
    if (node && node.virtual) {
      // Observed at last: adopt the real coordinates; dependents that named it in another namespace are suspect.
      if (!sameIdentity(node.identity, identity)) {
        for (const dep of node.dependents) {
          if (identity.namespace !== '' && dep.identity.namespace !== identity.namespace) this.sink.invalidNamespaceOwnerRef?.(dep, identity.uid);
          this.sink.attemptToDelete(dep);
        }
        node.identity = identity;
      }
      node.virtual = false;
    }
    if (!node) {
      node = new GraphNode(identity, false);
      node.owners = owners;
      this.nodes.set(identity.uid, node);
      this.addToOwners(node, owners);
    } else {
      node.identity = identity;
      const { added, removed, changed } = referenceDiffs(node.owners, owners);
      if (added.length || removed.length || changed.length) {
        // A dependent no longer blocking an owner in foreground deletion may let it finish.
        for (const ref of [...removed.filter((r) => r.blockOwnerDeletion === true), ...changed.filter(([o, n]) => o.blockOwnerDeletion === true && n.blockOwnerDeletion !== true).map(([o]) => o)]) {
          const owner = this.nodes.get(ref.uid);
          if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
        }
        node.owners = owners;
        this.addToOwners(node, added);
        for (const ref of removed) this.nodes.get(ref.uid)?.dependents.delete(node);
      }
    }
    if (beingDeleted) node.beingDeleted = true;
    this.processTransitions(node, obj);
  }

  /** An object is gone (from a monitor, or verified absent by the collector). */
  remove(uid: string): void {
    const node = this.nodes.get(uid);
    if (!node) return;
    this.nodes.delete(uid);
    for (const ref of node.owners) this.nodes.get(ref.uid)?.dependents.delete(node);
    if (node.dependents.size > 0) {
      const id = node.identity;
      this.absentOwners.add(absentOwnerKey(id, id.namespace));
    }
    for (const dep of node.dependents) this.sink.attemptToDelete(dep);
    // Owners waiting in foreground deletion may have lost their last blocking dependent.
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
    }
  }

  /**
   * A virtual node's object turned out not to exist under `identity`: drop it, unless some dependents name it by other
   * coordinates (then only the dependents that used these coordinates are told, and the node stays for the others).
   */
  removeVirtual(identity: ObjectIdentity): void {
    const node = this.nodes.get(identity.uid);
    if (!node) return;
    if (!node.virtual) {
      if (sameIdentity(node.identity, identity)) this.remove(identity.uid);
      return;
    }
    const matching: GraphNode[] = [];
    const others: GraphNode[] = [];
    for (const dep of node.dependents) {
      const ref = dep.owners.find((r) => r.uid === identity.uid);
      const same = ref && ref.apiVersion === identity.apiVersion && ref.kind === identity.kind && ref.name === identity.name;
      (same ? matching : others).push(dep);
    }
    if (others.length === 0) {
      this.remove(identity.uid);
      return;
    }
    this.absentOwners.add(absentOwnerKey(identity, identity.namespace));
    for (const dep of matching) this.sink.attemptToDelete(dep);
    // Try the coordinates another dependent uses.
    const alt = others[0].owners.find((r) => r.uid === identity.uid);
    if (alt) {
      node.identity = { apiVersion: alt.apiVersion, kind: alt.kind, name: alt.name, uid: alt.uid, namespace: others[0].identity.namespace };
      this.sink.attemptToDelete(node);
    }
  }

  private addToOwners(node: GraphNode, refs: readonly OwnerReference[]): void {
    for (const ref of refs) {
      let owner = this.nodes.get(ref.uid);
      if (!owner) {
        // Named but not seen: a virtual node, verified by the collector.
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace }, true);
        this.nodes.set(ref.uid, owner);
        owner.dependents.add(node);
        this.sink.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(node);
      // Seen only after its owner started foreground deletion: it has to go too.
      if (owner.deletingDependents) this.sink.attemptToDelete(node);
      if (!owner.virtual && !sameScope(owner.identity, node.identity)) {
        // A real owner in another namespace (or a namespaced owner of a cluster-scoped object) cannot own this.
        this.sink.invalidNamespaceOwnerRef?.(node, ref.uid);
        this.sink.attemptToDelete(node);
      }
    }
  }

  /** Start orphaning or foreground deletion when the object just entered that state. */
  private processTransitions(node: GraphNode, obj: ObjectLike): void {
    const deleting = obj.metadata?.deletionTimestamp !== undefined;
    const orphaning = deleting && hasFinalizer(obj, FINALIZER_ORPHAN_DEPENDENTS);
    const foreground = deleting && hasFinalizer(obj, FINALIZER_DELETE_DEPENDENTS);
    const startsOrphaning = orphaning && !node.orphaning;
    const startsForeground = foreground && !node.deletingDependents;
    node.orphaning = orphaning;
    node.deletingDependents = foreground;
    if (startsOrphaning) {
      this.sink.attemptToOrphan(node);
      return;
    }
    if (startsForeground) {
      for (const dep of node.dependents) this.sink.attemptToDelete(dep);
      this.sink.attemptToDelete(node);
    }
  }
}

function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return a.uid === b.uid && a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.namespace === b.namespace;
}

/** referencesDiffs: owner references added, removed, and changed (same uid, different content). */
export function referenceDiffs(
  old: readonly OwnerReference[],
  cur: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: [OwnerReference, OwnerReference][] } {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: [OwnerReference, OwnerReference][] = [];
  for (const r of cur) {
    const o = oldByUid.get(r.uid);
    if (!o) added.push(r);
    else {
      if (o.blockOwnerDeletion !== r.blockOwnerDeletion || o.controller !== r.controller || o.name !== r.name || o.kind !== r.kind || o.apiVersion !== r.apiVersion) changed.push([o, r]);
      oldByUid.delete(r.uid);
    }
  }
  return { added, removed: [...oldByUid.values()], changed };
}
