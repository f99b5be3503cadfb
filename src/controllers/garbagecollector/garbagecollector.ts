// Upstream's garbage collector. Monitors (a reflector per resource that can be listed, watched and deleted) feed the
// dependency graph with object metadata only, so memory grows with the number of objects, not their size. Two queues
// do the work:
// - attemptToDelete: an object whose owners may all be gone (dangling: absent, or a different uid) is deleted with
//   the propagation its own finalizers ask for; an owner reference to an owner in foreground deletion is either removed
//   (when other owners are solid) or the object itself is deleted in the foreground; an owner in foreground deletion
//   loses its foregroundDeletion finalizer once no dependent blocks it (blockOwnerDeletion).
// - attemptToOrphan: an owner deleted with the orphan finalizer has its reference removed from every dependent, then
//   loses the orphan finalizer.
import type { Status } from 'kubernetes-types/meta/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { BUILTIN_RESOURCES, type ResourceInfo } from '../../api/catalog.js';
import { parseApiVersion } from '../../api/object.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  Reflector,
  ResourceClient,
  listWatcherFor,
  type ObjectLike,
  type ReflectorStore,
  type RestClient,
} from '../../client/index.js';
import type { Logger } from '../../apiserver/log.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { DependencyGraph, FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS, absentOwnerKey, type GraphNode, type ObjectIdentity } from './graph.js';

/** Resources the collector never watches (upstream's DefaultIgnoredResources): events come and go by TTL. */
export const IGNORED_RESOURCES: ReadonlySet<string> = new Set(['/events', 'events.k8s.io/events']);

/** --concurrent-gc-syncs default. */
export const DEFAULT_GC_WORKERS = 20;

/** Finds the resource behind an owner reference's apiVersion and kind, and lists what to monitor. */
export interface ResourceMapper {
  /** The resource serving this kind; another version of the same group and kind will do. */
  resolve(apiVersion: string, kind: string): ResourceInfo | undefined;
  /** One served version per resource that supports list, watch and delete. */
  monitored(): ResourceInfo[];
}

/** The built-in catalog as a ResourceMapper (custom resources can be added by a discovery-backed mapper). */
export function catalogMapper(catalog: readonly ResourceInfo[] = BUILTIN_RESOURCES): ResourceMapper {
  const byKind = new Map<string, ResourceInfo>();
  const byExact = new Map<string, ResourceInfo>();
  for (const r of catalog) {
    if (r.resource.includes('/')) continue;
    byExact.set(`${r.group}/${r.version}/${r.kind}`, r);
    if (!byKind.has(`${r.group}/${r.kind}`)) byKind.set(`${r.group}/${r.kind}`, r);
  }
  return {
    resolve(apiVersion, kind) {
      const { group, version } = parseApiVersion(apiVersion);
      return byExact.get(`${group}/${version}/${kind}`) ?? byKind.get(`${group}/${kind}`);
    },
    monitored() {
      const seen = new Set<string>();
      const out: ResourceInfo[] = [];
      for (const r of catalog) {
        const key = `${r.group}/${r.resource}`;
        if (seen.has(key) || IGNORED_RESOURCES.has(key)) continue;
        if (!(['list', 'watch', 'delete'] as const).every((v) => r.verbs.includes(v))) continue;
        seen.add(key);
        out.push(r);
      }
      return out;
    },
  };
}

const apiVersionOfInfo = (r: ResourceInfo): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The reflector store of one monitored resource: objects go into the graph, only their uids are kept here. */
class Monitor implements ReflectorStore<ObjectLike> {
  private readonly uids = new Set<string>();
  synced = false;
  readonly reflector: Reflector<ObjectLike>;
  private syncWaiters: (() => void)[] = [];

  constructor(
    readonly info: ResourceInfo,
    client: RestClient,
    private readonly graph: DependencyGraph,
    ctx: ControllerContext,
  ) {
    const rc = new ResourceClient<ObjectLike>(client, info);
    this.reflector = new Reflector<ObjectLike>(listWatcherFor(rc), this, {
      name: `gc/${info.group}/${info.resource}`,
      clock: ctx.clock,
      onError: (err) => ctx.log.debug('garbage collector monitor', { resource: `${info.resource}.${info.group}`, err }),
    });
  }

  private identity(obj: ObjectLike): ObjectIdentity | undefined {
    const m = obj.metadata;
    if (!m?.uid || !m.name) return undefined;
    return { apiVersion: apiVersionOfInfo(this.info), kind: this.info.kind, namespace: this.info.namespaced ? (m.namespace ?? '') : '', name: m.name, uid: m.uid };
  }

  replace(items: ObjectLike[]): void {
    const fresh = new Set<string>();
    for (const obj of items) {
      const id = this.identity(obj);
      if (!id) continue;
      fresh.add(id.uid);
      this.uids.add(id.uid);
      this.graph.observe(id, obj);
    }
    // Deleted while the watch was down.
    for (const uid of [...this.uids]) {
      if (fresh.has(uid)) continue;
      this.uids.delete(uid);
      this.graph.remove(uid);
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  add(obj: ObjectLike): void {
    const id = this.identity(obj);
    if (!id) return;
    this.uids.add(id.uid);
    this.graph.observe(id, obj);
  }

  update(obj: ObjectLike): void {
    this.add(obj);
  }

  delete(obj: ObjectLike): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    this.uids.delete(uid);
    this.graph.remove(uid);
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  release(): void {
    for (const w of this.syncWaiters.splice(0)) w();
  }
}

type Outcome = 'done' | 'requeue';

export interface GarbageCollectorOptions {
  workers?: number;
  mapper?: ResourceMapper;
}

export class GarbageCollector implements Controller {
  readonly graph: DependencyGraph;
  readonly attemptToDelete: RateLimitingQueue<string>;
  readonly attemptToOrphan: RateLimitingQueue<string>;
  private readonly monitors: Monitor[];
  private readonly mapper: ResourceMapper;
  private readonly clients = new Map<string, ResourceClient<ObjectLike>>();
  private readonly recorder: CoreEventRecorder;
  private readonly log: Logger;
  private readonly workers: number;

  constructor(
    private readonly ctx: ControllerContext,
    opts: GarbageCollectorOptions = {},
  ) {
    this.log = ctx.log;
    this.workers = opts.workers ?? DEFAULT_GC_WORKERS;
    this.mapper = opts.mapper ?? catalogMapper();
    this.attemptToDelete = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.attemptToOrphan = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'garbage-collector-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.graph = new DependencyGraph({
      attemptToDelete: (n) => this.attemptToDelete.add(n.identity.uid),
      attemptToOrphan: (n) => this.attemptToOrphan.add(n.identity.uid),
      invalidNamespaceOwnerRef: (dep, ownerUid) => {
        const ref = dep.owners.find((r) => r.uid === ownerUid);
        const id = dep.identity;
        this.recorder.event(
          { apiVersion: id.apiVersion, kind: id.kind, metadata: { name: id.name, namespace: id.namespace || undefined, uid: id.uid } },
          'Warning',
          'OwnerRefInvalidNamespace',
          `ownerRef ${JSON.stringify(ref ?? { uid: ownerUid })} does not resolve to a parent with matching namespace`,
        );
      },
    });
    this.monitors = this.mapper.monitored().map((info) => new Monitor(info, ctx.client, this.graph, ctx));
  }

  /** Monitors synced: the graph holds every object that existed at start. */
  hasSynced(): boolean {
    return this.monitors.every((m) => m.synced);
  }

  async run(signal: AbortSignal): Promise<void> {
    const stop = () => {
      this.attemptToDelete.shutDown();
      this.attemptToOrphan.shutDown();
      for (const m of this.monitors) m.release();
    };
    if (signal.aborted) return;
    signal.addEventListener('abort', stop, { once: true });
    for (const m of this.monitors) m.reflector.run();
    try {
      await Promise.all(this.monitors.map((m) => m.waitForSync()));
      if (signal.aborted) return;
      this.log.debug('garbage collector graph synced', { resources: this.monitors.length, nodes: this.graph.size });
      await Promise.all([
        ...Array.from({ length: this.workers }, () => this.worker(this.attemptToDelete, (uid) => this.attemptToDeleteWorker(uid))),
        ...Array.from({ length: Math.max(1, Math.floor(this.workers / 4)) }, () => this.worker(this.attemptToOrphan, (uid) => this.attemptToOrphanWorker(uid))),
      ]);
    } finally {
      await Promise.all(this.monitors.map((m) => m.reflector.stop()));
      await this.recorder.flush();
    }
  }

  private async worker(queue: RateLimitingQueue<string>, fn: (uid: string) => Promise<Outcome>): Promise<void> {
    for (;;) {
      const next = await queue.get();
      if (next.shutdown) return;
      const uid = next.item;
      try {
        const outcome = await fn(uid);
        if (outcome === 'done') queue.forget(uid);
        else queue.addRateLimited(uid);
      } catch (err) {
        this.log.debug('garbage collector: will retry', { uid, err });
        queue.addRateLimited(uid);
      } finally {
        queue.done(uid);
      }
    }
  }

  private client(info: ResourceInfo): ResourceClient<ObjectLike> {
    const key = `${info.group}/${info.version}/${info.resource}`;
    let c = this.clients.get(key);
    if (!c) this.clients.set(key, (c = new ResourceClient<ObjectLike>(this.ctx.client, info)));
    return c;
  }

  private resolve(apiVersion: string, kind: string): ResourceInfo {
    const info = this.mapper.resolve(apiVersion, kind);
    if (!info) throw new Error(`unable to get REST mapping for ${apiVersion}/${kind}`);
    return info;
  }

  /** GET the object an identity names (namespace only for namespaced kinds). */
  private async getObject(id: ObjectIdentity): Promise<ObjectLike> {
    const info = this.resolve(id.apiVersion, id.kind);
    return this.client(info).get(id.name, { namespace: info.namespaced ? id.namespace : undefined });
  }

  private async deleteObject(id: ObjectIdentity, policy: 'Orphan' | 'Background' | 'Foreground'): Promise<ObjectLike | Status> {
    const info = this.resolve(id.apiVersion, id.kind);
    return this.client(info).delete(id.name, { namespace: info.namespaced ? id.namespace : undefined, propagationPolicy: policy, preconditions: { uid: id.uid } });
  }

  /** Patch the object's ownerReferences: drop references to `dropUids`, and/or unblock all. Conflicts retry. */
  private async patchOwnerReferences(id: ObjectIdentity, change: (refs: readonly OwnerReference[]) => OwnerReference[] | undefined): Promise<void> {
    const info = this.resolve(id.apiVersion, id.kind);
    const namespace = info.namespaced ? id.namespace : undefined;
    for (let attempt = 0; ; attempt++) {
      const latest = await this.client(info).get(id.name, { namespace });
      if (latest.metadata?.uid !== id.uid) return;
      const next = change(latest.metadata?.ownerReferences ?? []);
      if (!next) return;
      try {
        // A merge patch carrying the resourceVersion: works for every kind and fails on a concurrent change.
        await this.client(info).patch(id.name, { metadata: { ownerReferences: next.length ? next : null, resourceVersion: latest.metadata?.resourceVersion } }, { namespace, type: 'merge' });
        return;
      } catch (err) {
        if (isConflict(err) && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** Remove one finalizer from the object (read, filter, write with its resourceVersion); conflicts retry. */
  private async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    const info = this.resolve(id.apiVersion, id.kind);
    const namespace = info.namespaced ? id.namespace : undefined;
    for (let attempt = 0; ; attempt++) {
      let latest: ObjectLike;
      try {
        latest = await this.client(info).get(id.name, { namespace });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (latest.metadata?.uid !== id.uid) return;
      const finalizers = latest.metadata?.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await this.client(info).patch(id.name, { metadata: { finalizers: rest.length ? rest : null, resourceVersion: latest.metadata?.resourceVersion } }, { namespace, type: 'merge' });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (isConflict(err) && attempt < 5) continue;
        throw err;
      }
    }
  }

  private async attemptToDeleteWorker(uid: string): Promise<Outcome> {
    const node = this.graph.get(uid);
    if (!node) return 'done';
    const wasVirtual = node.virtual;
    const result = await this.attemptToDeleteItem(node);
    if (result === 'virtual-deleted') return 'done';
    // A virtual node that exists: poll (with backoff) until a monitor observes it, so a missed object cannot linger.
    if (wasVirtual && this.graph.get(uid)?.virtual) return 'requeue';
    return 'done';
  }

  /** attemptToDeleteItem: decide from the object's live owners. */
  async attemptToDeleteItem(item: GraphNode): Promise<'virtual-deleted' | 'ok'> {
    // Being deleted for other reasons: wait for it to go, then its dependents are processed.
    if (item.beingDeleted && !item.deletingDependents) return 'ok';
    let latest: ObjectLike;
    try {
      latest = await this.getObject(item.identity);
    } catch (err) {
      if (isNotFound(err)) {
        this.graph.removeVirtual(item.identity);
        return 'virtual-deleted';
      }
      throw err;
    }
    if (latest.metadata?.uid !== item.identity.uid) {
      this.graph.removeVirtual(item.identity);
      return 'virtual-deleted';
    }
    if (item.deletingDependents) {
      await this.processDeletingDependents(item);
      return 'ok';
    }
    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return 'ok';
    const { solid, dangling, waiting } = await this.classifyReferences(item, refs);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return 'ok';
      // Keep the solid owners; drop the ones that are gone or wait for their dependents to go.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      this.log.debug('garbage collector: removing dangling owner references', { object: describe(item.identity), owners: [...drop].join(',') });
      await this.patchOwnerReferences(item.identity, (cur) => (cur.some((r) => drop.has(r.uid)) ? cur.filter((r) => !drop.has(r.uid)) : undefined));
      return 'ok';
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (dep.deletingDependents) {
          // A possible cycle of foreground deletions: stop blocking our owners, then go in the foreground ourselves.
          await this.patchOwnerReferences(item.identity, (cur) => (cur.some((r) => r.blockOwnerDeletion === true) ? cur.map((r) => (r.blockOwnerDeletion === true ? { ...r, blockOwnerDeletion: false } : r)) : undefined));
          break;
        }
      }
      this.log.debug('garbage collector: deleting in the foreground', { object: describe(item.identity) });
      await this.deleteIgnoringAbsent(item.identity, 'Foreground');
      return 'ok';
    }
    const finalizers = latest.metadata?.finalizers ?? [];
    const policy = finalizers.includes(FINALIZER_ORPHAN_DEPENDENTS) ? 'Orphan' : finalizers.includes(FINALIZER_DELETE_DEPENDENTS) ? 'Foreground' : 'Background';
    this.log.debug('garbage collector: deleting object without owners', { object: describe(item.identity), policy });
    await this.deleteIgnoringAbsent(item.identity, policy);
    return 'ok';
  }

  private async deleteIgnoringAbsent(id: ObjectIdentity, policy: 'Orphan' | 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.deleteObject(id, policy);
    } catch (err) {
      // Gone already, or replaced by another object of the same name (the uid precondition).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /** An owner in foreground deletion: done once nothing blocks it; otherwise push its blocking dependents along. */
  private async processDeletingDependents(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      this.log.debug('garbage collector: foreground deletion done, removing the finalizer', { object: describe(item.identity) });
      await this.removeFinalizer(item.identity, FINALIZER_DELETE_DEPENDENTS);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep.identity.uid);
  }

  /** Sort the owner references: solid (owner exists), dangling (absent or replaced), waiting (owner in foreground deletion). */
  private async classifyReferences(item: GraphNode, refs: readonly OwnerReference[]): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const { isDangling, owner } = await this.isDangling(ref, item);
      if (isDangling) {
        dangling.push(ref);
        continue;
      }
      const m = owner?.metadata;
      if (m?.deletionTimestamp && (m.finalizers ?? []).includes(FINALIZER_DELETE_DEPENDENTS)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** Does the reference point at nothing (absent, replaced, or impossible by scope)? Looks the owner up live. */
  private async isDangling(ref: OwnerReference, item: GraphNode): Promise<{ isDangling: boolean; owner?: ObjectLike }> {
    const abs = this.graph.absentOwners;
    if (abs.has(absentOwnerKey(ref, '')) || abs.has(absentOwnerKey(ref, item.identity.namespace))) return { isDangling: true };
    const info = this.resolve(ref.apiVersion, ref.kind);
    if (info.namespaced && item.identity.namespace === '') {
      // A cluster-scoped object cannot be owned by a namespaced one: the reference can never resolve.
      this.graph.absentOwners.add(absentOwnerKey(ref, ''));
      return { isDangling: true };
    }
    const namespace = info.namespaced ? item.identity.namespace : '';
    let owner: ObjectLike;
    try {
      owner = await this.client(info).get(ref.name, { namespace: info.namespaced ? namespace : undefined });
    } catch (err) {
      if (isNotFound(err)) {
        abs.add(absentOwnerKey(ref, namespace));
        return { isDangling: true };
      }
      throw err;
    }
    if (owner.metadata?.uid !== ref.uid) {
      abs.add(absentOwnerKey(ref, namespace));
      return { isDangling: true };
    }
    return { isDangling: false, owner };
  }

  /** An owner deleted with the orphan finalizer: strip its reference from every dependent, then drop the finalizer. */
  private async attemptToOrphanWorker(uid: string): Promise<Outcome> {
    const owner = this.graph.get(uid);
    if (!owner) return 'done';
    const errors: unknown[] = [];
    await Promise.all(
      [...owner.dependents].map(async (dep) => {
        try {
          await this.patchOwnerReferences(dep.identity, (cur) => (cur.some((r) => r.uid === uid) ? cur.filter((r) => r.uid !== uid) : undefined));
        } catch (err) {
          if (!isNotFound(err)) errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw new Error(`orphaning dependents of ${describe(owner.identity)}: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
    await this.removeFinalizer(owner.identity, FINALIZER_ORPHAN_DEPENDENTS);
    return 'done';
  }
}

function describe(id: ObjectIdentity): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} (${id.uid})`;
}

export const garbageCollectorDescriptor: ControllerDescriptor = {
  name: 'garbagecollector',
  create: (ctx) => new GarbageCollector(ctx),
};
