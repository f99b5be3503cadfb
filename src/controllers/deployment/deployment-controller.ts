// Upstream's Deployment controller ("deployment"): Deployments own ReplicaSets (claimed by selector and controller
// reference, with a pod-template-hash label making each template's set unique), and every sync re-reads the caches,
// claims, and hands the deployment to DeploymentSyncer (rolling update, recreate, proportional scaling, rollback,
// history cleanup, status and conditions). Handlers only enqueue namespace/name keys.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isNotFound } from '../../machinery/errors.js';
import { labelSelectorAsSelector, type Selector } from '../../machinery/labels.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type GroupVersionResource,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController, UPSTREAM_MAX_RETRIES } from '../run.js';
import {
  ControllerRefManager,
  NAMESPACE_TERMINATING_CAUSE,
  claimCandidates,
  controlledBy,
  ensureClaimIndexes,
  ensureControllerUIDIndex,
  getControllerOf,
  hasStatusCause,
  recheckDeletionTimestamp,
  selectorSelects,
  type EventSink as CommonEventSink,
  type OwnerKind,
  SupersededVersions,
} from '../common/index.js';
import { DeploymentSyncer, type DeploymentOps, type PodMap } from './sync.js';
import type { MutableReplicaSet } from './util.js';

export const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };
export const REPLICA_SETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'replicasets' };
const PODS: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
export const DEPLOYMENT_KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'Deployment' };

/** --concurrent-deployment-syncs default. */
export const DEFAULT_WORKERS = 5;

export interface DeploymentControllerOptions {
  workers?: number;
  /** Where events go (default: a CoreEventRecorder on the API, component "deployment-controller"). */
  recorder?: CommonEventSink;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {});
  if (ea.length !== Object.keys(b ?? {}).length) return false;
  return ea.every(([k, v]) => b?.[k] === v);
}

export class DeploymentController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly deployments: SharedIndexInformer<Deployment>;
  private readonly replicaSets: SharedIndexInformer<ReplicaSet>;
  private readonly pods: SharedIndexInformer<Pod>;
  private readonly dClient: ResourceClient<Deployment>;
  private readonly rsClient: ResourceClient<ReplicaSet>;
  private readonly recorder: CommonEventSink;
  private readonly syncer: DeploymentSyncer;
  private readonly workers: number;
  /** Keys whose deployment this sync wrote (spec or status), with the resourceVersion written last. */
  private readonly wrote = new Map<string, string>();
  private readonly superseded = new SupersededVersions();
  /**
   * ReplicaSet versions our writes replaced: a sync that still sees one would act on the stale copy (scale it again)
   * and only get a Conflict; the watch event of the write requeues the deployment (updateReplicaSet).
   */
  private readonly rsSuperseded = new SupersededVersions();

  constructor(
    private readonly ctx: ControllerContext,
    opts: DeploymentControllerOptions = {},
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.workers = opts.workers ?? DEFAULT_WORKERS;
    this.dClient = ctx.client.resource<Deployment>(DEPLOYMENTS);
    this.rsClient = ctx.client.resource<ReplicaSet>(REPLICA_SETS);
    this.recorder =
      opts.recorder ?? new CoreEventRecorder(ctx.client, { component: 'deployment-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.deployments = ctx.informers.informerFor<Deployment>(DEPLOYMENTS);
    this.replicaSets = ctx.informers.informerFor<ReplicaSet>(REPLICA_SETS);
    this.pods = ctx.informers.informerFor<Pod>(PODS);
    ensureClaimIndexes(this.replicaSets);
    ensureControllerUIDIndex(this.pods);
    this.syncer = new DeploymentSyncer({
      ops: this.ops(),
      recorder: this.recorder,
      clock: ctx.clock,
      enqueueAfter: (d, ms) => this.queue.addAfter(metaNamespaceKey(d), ms),
      enqueueRateLimited: (d) => this.queue.addRateLimited(metaNamespaceKey(d)),
    });

    this.deployments.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(deletedObject(d)),
    });
    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.addReplicaSet(rs),
      onUpdate: (old, cur) => this.updateReplicaSet(old, cur),
      onDelete: (rs) => this.deleteReplicaSet(rs),
    });
    this.pods.addEventHandler({ onDelete: (pod) => this.deletePod(pod) });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () =>
      (await this.deployments.waitForCacheSync()) && (await this.replicaSets.waitForCacheSync()) && (await this.pods.waitForCacheSync());
    return runQueueController({ name: 'deployment', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log, maxRetries: UPSTREAM_MAX_RETRIES }, signal);
  }

  /** The API writes of a sync. A status write also carries the revision annotation, as upstream's status strategy allows. */
  private ops(): DeploymentOps {
    return {
      createReplicaSet: (rs) => this.rsClient.create(rs),
      updateReplicaSet: async (rs) => {
        const before = rs.metadata?.resourceVersion ?? '';
        const written = await this.rsClient.update(rs);
        if (written.metadata?.resourceVersion !== before) this.rsSuperseded.replaced(metaNamespaceKey(rs), before);
        return written;
      },
      deleteReplicaSet: async (namespace, name) => {
        await this.rsClient.delete(name, { namespace });
      },
      cachedReplicaSet: (namespace, name) => this.replicaSets.lister().namespace(namespace).get(name),
      updateDeployment: async (d) => {
        const written = await this.dClient.update(d);
        this.wrote.set(metaNamespaceKey(d), written.metadata?.resourceVersion ?? '');
        return written;
      },
      updateDeploymentStatus: async (d) => {
        const written = await this.dClient.updateStatus(d);
        this.wrote.set(metaNamespaceKey(d), written.metadata?.resourceVersion ?? '');
        return written;
      },
    };
  }

  private enqueue(d: Deployment): void {
    this.queue.add(metaNamespaceKey(d));
  }

  private resolveControllerRef(namespace: string, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== DEPLOYMENT_KIND.kind) return undefined;
    const d = this.deployments.lister().namespace(namespace).get(ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose (non-empty) selector matches the ReplicaSet's labels. */
  private deploymentsForReplicaSet(rs: ReplicaSet): Deployment[] {
    if (Object.keys(rs.metadata?.labels ?? {}).length === 0) return [];
    return this.deployments
      .lister()
      .namespace(rs.metadata?.namespace ?? '')
      .list()
      .filter((d) => selectorSelects(d.spec?.selector, rs.metadata?.labels));
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp) {
      this.deleteReplicaSet(rs);
      return;
    }
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata?.namespace ?? '', ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsForReplicaSet(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (cur.metadata?.resourceVersion === old.metadata?.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid || curRef?.name !== oldRef?.name;
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata?.namespace ?? '', oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur.metadata?.namespace ?? '', curRef);
      if (d) this.enqueue(d);
      return;
    }
    if (!sameLabels(old.metadata?.labels, cur.metadata?.labels) || refChanged) for (const d of this.deploymentsForReplicaSet(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(obj: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = deletedObject(obj);
    this.rsSuperseded.forget(metaNamespaceKey(rs));
    const ref = getControllerOf(rs);
    if (!ref) return;
    const d = this.resolveControllerRef(rs.metadata?.namespace ?? '', ref);
    if (d) this.enqueue(d);
  }

  /** A Recreate deployment waits for its old pods to go: sync it once the last one is deleted. */
  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const ns = pod.metadata?.namespace ?? '';
    const rs = this.replicaSets.lister().namespace(ns).get(ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const dRef = getControllerOf(rs);
    const d = dRef ? this.resolveControllerRef(ns, dRef) : undefined;
    if (!d || d.spec?.strategy?.type !== 'Recreate') return;
    const remaining = [...this.podMap(d, this.ownedReplicaSets(d)).values()].reduce((n, pods) => n + pods.length, 0);
    if (remaining === 0) this.enqueue(d);
  }

  private ownedReplicaSets(d: Deployment): ReplicaSet[] {
    return d.metadata?.uid ? controlledBy(this.replicaSets, d.metadata.uid) : [];
  }

  /** The deployment's pods (by selector) grouped by the UID of the claimed ReplicaSet controlling them. */
  private podMap(d: Deployment, rsList: readonly ReplicaSet[], selector?: Selector): PodMap {
    const map: PodMap = new Map();
    let sel: Selector;
    try {
      sel = selector ?? labelSelectorAsSelector(d.spec?.selector);
    } catch {
      return map;
    }
    for (const rs of rsList) {
      const uid = rs.metadata?.uid;
      if (!uid) continue;
      map.set(
        uid,
        controlledBy(this.pods, uid).filter((p) => p.metadata?.namespace === d.metadata?.namespace && sel.matches(p.metadata?.labels)),
      );
    }
    return map;
  }

  /** syncDeployment: level-triggered from the caches, on a private copy of the deployment. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.deployments.lister().namespace(namespace).get(name);
    if (!cached) {
      this.superseded.forget(key);
      return;
    }
    const cachedRV = cached.metadata?.resourceVersion ?? '';
    if (this.superseded.isStale(key, cachedRV)) return;
    if (this.ownedReplicaSets(cached).some((rs) => this.rsSuperseded.isStale(metaNamespaceKey(rs), rs.metadata?.resourceVersion))) return;
    this.wrote.delete(key);
    try {
      await this.syncCached(key, cached);
    } finally {
      // Only a write that made a new version brings a watch event; an unchanged object keeps cachedRV.
      const written = this.wrote.get(key);
      this.wrote.delete(key);
      if (written !== undefined && written !== cachedRV) this.superseded.replaced(key, cachedRV);
    }
  }

  private async syncCached(key: string, cached: Deployment): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const d: Deployment = { ...structuredClone(cached), apiVersion: 'apps/v1', kind: 'Deployment' };

    const sel = d.spec?.selector;
    if (sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata?.generation };
        await this.dClient.updateStatus(d).catch(() => undefined);
      }
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(sel);
    } catch (err) {
      this.ctx.log.warn('deployment has an invalid label selector', { controller: 'deployment', key, err });
      return;
    }

    const manager = new ControllerRefManager<ReplicaSet>({
      controller: cached,
      controllerKind: DEPLOYMENT_KIND,
      selector,
      client: this.rsClient,
      canAdopt: recheckDeletionTimestamp(() => this.dClient.get(name, { namespace }), cached, 'Deployment'),
    });
    const rsList = (await manager.claim(claimCandidates(this.replicaSets, cached))).map((rs) => structuredClone(rs) as MutableReplicaSet);
    const podMap = this.podMap(d, rsList, selector);
    try {
      await this.syncer.syncDeployment(d, rsList, podMap);
    } catch (err) {
      // A terminating namespace takes everything anyway; a deployment deleted meanwhile needs nothing more.
      if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
      if (isNotFound(err) && !this.deployments.lister().namespace(namespace).get(name)) return;
      throw err;
    }
  }
}

export const deploymentControllerDescriptor: ControllerDescriptor = {
  name: 'deployment',
  create: (ctx) => new DeploymentController(ctx),
};
