// Upstream's ReplicaSet controller, also serving ReplicationControllers (core/v1) as upstream does through one
// implementation: keep `spec.replicas` active pods matching the selector. Pods are claimed (adopted/released) by
// selector and controller reference; creations and deletions are tracked with expectations so a stale cache never
// causes a second round; creations go out in slow-start batches (1, 2, 4, ...) of at most 500 per sync; surplus pods
// are deleted in upstream's ranking order. Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
// observedGeneration and the ReplicaFailure condition (FailedCreate / FailedDelete).
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodTemplateSpec, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { formatTime } from '../../machinery/time.js';
import { isNotFound } from '../../machinery/errors.js';
import { labelSelectorAsSelector, selectorFromSet, type Selector } from '../../machinery/labels.js';
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
import { runQueueController } from '../run.js';
import {
  ControllerRefManager,
  PodControl,
  UIDTrackingExpectations,
  NAMESPACE_TERMINATING_CAUSE,
  claimCandidates,
  controlledBy,
  ensureClaimIndexes,
  ensureControllerUIDIndex,
  filterActivePods,
  getControllerOf,
  hasStatusCause,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  recheckDeletionTimestamp,
  selectorSelects,
  sortPodsForDeletion,
  updateStatusIfChanged,
  type EventSink,
  type OwnerKind,
  onPodUpdate,
  type PodOwnerEvents,
} from '../common/index.js';

/** Upstream's BurstReplicas: at most this many creations or deletions per sync. */
export const BURST_REPLICAS = 500;
/** controller.SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;
/** --concurrent-replicaset-syncs / --concurrent-rc-syncs default. */
export const DEFAULT_WORKERS = 5;

export const REPLICA_FAILURE = 'ReplicaFailure';

interface ReplicaCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The status ReplicaSets and ReplicationControllers share. */
export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

export type ReplicaObject = ReplicaSet | ReplicationController;

/** What differs between the two kinds. */
export interface ReplicaKind<T extends ReplicaObject> {
  controllerName: 'replicaset' | 'replicationcontroller';
  /** Event source component. */
  component: string;
  gvr: GroupVersionResource;
  ownerKind: OwnerKind;
  /** The selector as a metav1.LabelSelector (a ReplicationController's map becomes matchLabels). */
  selector(obj: T): LabelSelector | undefined;
  template(obj: T): PodTemplateSpec | undefined;
}

export const REPLICA_SET_KIND: ReplicaKind<ReplicaSet> = {
  controllerName: 'replicaset',
  component: 'replicaset-controller',
  gvr: { group: 'apps', version: 'v1', resource: 'replicasets' },
  ownerKind: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  selector: (rs) => rs.spec?.selector,
  template: (rs) => rs.spec?.template,
};

export const REPLICATION_CONTROLLER_KIND: ReplicaKind<ReplicationController> = {
  controllerName: 'replicationcontroller',
  component: 'replication-controller',
  gvr: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  ownerKind: { apiVersion: 'v1', kind: 'ReplicationController' },
  selector: (rc) => (rc.spec?.selector ? { matchLabels: rc.spec.selector } : undefined),
  template: (rc) => rc.spec?.template,
};

const PODS: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };

const replicasOf = (obj: ReplicaObject): number => obj.spec?.replicas ?? 1;
const minReadySecondsOf = (obj: ReplicaObject): number => obj.spec?.minReadySeconds ?? 0;

/**
 * controller.slowStartBatch: run `fn` `count` times in batches of 1, 2, 4, ... running each batch concurrently and
 * stopping after the first batch with a failure. Returns the number of successes and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}

/** calculateStatus: counts from the claimed active pods, ReplicaFailure set on a manage error and cleared without one. */
export function calculateStatus(obj: ReplicaObject, pods: readonly Pod[], manageError: unknown, nowMs: number, templateLabels: Selector): ReplicaStatus {
  const prev = (obj.status ?? { replicas: 0 }) as ReplicaStatus;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (templateLabels.matches(pod.metadata?.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySecondsOf(obj), nowMs)) available++;
    }
  }
  let conditions = prev.conditions ? [...prev.conditions] : undefined;
  const failure = conditions?.find((c) => c.type === REPLICA_FAILURE);
  if (manageError !== undefined && !failure) {
    const diff = pods.length - replicasOf(obj);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const message = manageError instanceof Error ? manageError.message : String(manageError);
    conditions = [...(conditions ?? []), { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: formatTime(new Date(nowMs)), reason, message }];
  } else if (manageError === undefined && failure) {
    conditions = conditions?.filter((c) => c.type !== REPLICA_FAILURE);
  }
  return {
    ...prev,
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(conditions?.length ? { conditions } : { conditions: undefined }),
  };
}

export interface ReplicaSetControllerOptions {
  workers?: number;
  burstReplicas?: number;
  /** Where events go (default: a CoreEventRecorder on the API). */
  recorder?: EventSink;
}

export class ReplicaSetController<T extends ReplicaObject> implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: UIDTrackingExpectations;
  private readonly informer: SharedIndexInformer<T>;
  private readonly pods: SharedIndexInformer<Pod>;
  private readonly client: ResourceClient<T>;
  private readonly podControl: PodControl;
  private readonly podClient: ResourceClient<Pod>;
  private readonly burst: number;
  private readonly workers: number;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly kind: ReplicaKind<T>,
    opts: ReplicaSetControllerOptions = {},
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.expectations = new UIDTrackingExpectations(ctx.clock);
    this.burst = opts.burstReplicas ?? BURST_REPLICAS;
    this.workers = opts.workers ?? DEFAULT_WORKERS;
    this.client = ctx.client.resource<T>(kind.gvr);
    const recorder = opts.recorder ?? new CoreEventRecorder(ctx.client, { component: kind.component, clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.podClient = ctx.client.resource<Pod>(PODS);
    this.podControl = new PodControl(this.podClient, recorder);
    this.informer = ctx.informers.informerFor<T>(kind.gvr);
    this.pods = ctx.informers.informerFor<Pod>(PODS);
    ensureControllerUIDIndex(this.informer);
    ensureClaimIndexes(this.pods);

    this.informer.addEventHandler({
      onAdd: (obj) => this.enqueue(obj),
      onUpdate: (_old, obj) => this.enqueue(obj),
      onDelete: (obj) => {
        const o = deletedObject(obj);
        const key = metaNamespaceKey(o);
        this.expectations.deleteExpectations(key);
        this.queue.add(key);
      },
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => (await this.informer.waitForCacheSync()) && (await this.pods.waitForCacheSync());
    return runQueueController({ name: this.kind.controllerName, waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  private enqueue(obj: T): void {
    this.queue.add(metaNamespaceKey(obj));
  }

  /** The controller a controller reference names, if it is of our kind and the uid matches. */
  private resolveControllerRef(namespace: string, ref: { kind: string; apiVersion: string; name: string; uid: string }): T | undefined {
    if (ref.kind !== this.kind.ownerKind.kind || groupOf(ref.apiVersion) !== this.kind.gvr.group) return undefined;
    const obj = this.informer.lister().namespace(namespace).get(ref.name);
    return obj?.metadata?.uid === ref.uid ? obj : undefined;
  }

  /** Controllers of our kind in the pod's namespace whose selector matches it (for orphans). */
  private controllersMatching(pod: Pod): T[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.informer
      .lister()
      .namespace(ns)
      .list()
      .filter((c) => selectorSelects(this.kind.selector(c), pod.metadata?.labels));
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // Restarted controller manager: a pod already being deleted counts as a deletion.
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const owner = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
      if (!owner) return;
      const key = metaNamespaceKey(owner);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const c of this.controllersMatching(pod)) this.enqueue(c);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (cur.metadata?.deletionTimestamp && cur.metadata.resourceVersion !== old.metadata?.resourceVersion) {
      // Graceful deletion: count it now, so the replacement is not held up for the grace period.
      this.deletePod(cur);
      if (!sameLabels(old.metadata?.labels, cur.metadata?.labels)) this.deletePod(old);
      return;
    }
    onPodUpdate(old, cur, this.podEvents);
  }

  private readonly podEvents: PodOwnerEvents<T> = {
    ownerOf: (pod) => {
      const ref = getControllerOf(pod);
      return ref ? this.resolveControllerRef(pod.metadata?.namespace ?? '', ref) : undefined;
    },
    ownersMatching: (pod) => this.controllersMatching(pod),
    enqueue: (owner, afterMs) => (afterMs === undefined ? this.enqueue(owner) : this.queue.addAfter(metaNamespaceKey(owner), afterMs)),
    minReadySeconds: (owner) => minReadySecondsOf(owner),
    isReady: isPodReady,
    availabilitySlackMs: 1000,
  };

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ref = getControllerOf(pod);
    if (!ref) return;
    const owner = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!owner) return;
    const key = metaNamespaceKey(owner);
    this.expectations.deletionObservedOf(key, metaNamespaceKey(pod));
    this.queue.add(key);
  }

  /** syncReplicaSet: level-triggered from the cache; writes status every time it changed. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.informer.lister().namespace(namespace).get(name);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const needsSync = this.expectations.satisfiedExpectations(key);
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(this.kind.selector(cached));
    } catch (err) {
      // An invalid selector cannot be fixed by retrying.
      this.ctx.log.warn('invalid selector', { controller: this.kind.controllerName, key, err });
      return;
    }
    // Our pods and the namespace's orphans: pods of other controllers are never claimed.
    const candidates = filterActivePods(claimCandidates(this.pods, cached));
    const manager = new ControllerRefManager<Pod>({
      controller: cached,
      controllerKind: this.kind.ownerKind,
      selector,
      client: this.podClient,
      canAdopt: recheckDeletionTimestamp(() => this.client.get(name, { namespace }), cached, this.kind.ownerKind.kind),
    });
    const pods = await manager.claim(candidates);

    let manageError: unknown;
    if (needsSync && !cached.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(pods, cached, key);
      } catch (err) {
        manageError = err;
      }
    }
    const templateLabels = selectorFromSet(this.kind.template(cached)?.metadata?.labels ?? {});
    const now = this.ctx.clock.now();
    const status = { ...calculateStatus(cached, pods, manageError, now, templateLabels), observedGeneration: cached.metadata?.generation };
    let updated: T;
    try {
      updated = await updateStatusIfChanged<ReplicaStatus, T & { status?: ReplicaStatus }>(this.client as ResourceClient<T & { status?: ReplicaStatus }>, cached as T & { status?: ReplicaStatus }, status);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    // Last line of defence against clock skew: look again once the ready pods should have become available.
    const mrs = minReadySecondsOf(updated);
    const want = replicasOf(updated);
    const st = updated.status as ReplicaStatus | undefined;
    if (manageError === undefined && mrs > 0 && st?.readyReplicas === want && st.availableReplicas !== want) this.queue.addAfter(key, mrs * 1000);
    if (manageError !== undefined) throw manageError;
  }

  /** Create or delete pods to reach spec.replicas, at most `burst` per sync. */
  private async manageReplicas(pods: Pod[], owner: T, key: string): Promise<void> {
    const namespace = owner.metadata?.namespace ?? '';
    let diff = pods.length - replicasOf(owner);
    if (diff < 0) {
      diff = Math.min(-diff, this.burst);
      const template = this.kind.template(owner) ?? {};
      const ref = newControllerRef(owner, this.kind.ownerKind);
      this.expectations.expectCreations(key, diff);
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPod(namespace, template, owner, ref);
        } catch (err) {
          // A terminating namespace takes the pods anyway: nothing more to do.
          if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
          throw err;
        }
      });
      // Creations never attempted (or failed) will never be observed.
      for (let i = 0; i < diff - successes; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burst);
      const victims = diff < pods.length ? sortPodsForDeletion(pods, this.relatedPods(owner), this.ctx.clock.now()).slice(0, diff) : pods.slice(0, diff);
      this.expectations.expectDeletionsOf(
        key,
        victims.map((p) => metaNamespaceKey(p)),
      );
      const results = await Promise.allSettled(
        victims.map(async (p) => {
          try {
            await this.podControl.deletePod(namespace, p.metadata?.name ?? '', owner);
          } catch (err) {
            // The informer will never see this deletion.
            this.expectations.deletionObservedOf(key, metaNamespaceKey(p));
            if (!isNotFound(err)) throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /**
   * getIndirectlyRelatedPods: the pods of every controller of our kind sharing this one's controlling owner (the
   * ReplicaSets of one Deployment), used to rank pods doubled up on a node. Just our own pods without an owner.
   */
  private relatedPods(owner: T): Pod[] {
    const ownerRef = getControllerOf(owner);
    const siblings = ownerRef?.uid ? controlledBy(this.informer, ownerRef.uid) : [owner];
    const seen = new Set<string>();
    const out: Pod[] = [];
    for (const s of siblings) {
      const uid = s.metadata?.uid;
      if (!uid) continue;
      for (const p of controlledBy(this.pods, uid)) {
        const puid = p.metadata?.uid ?? '';
        if (seen.has(puid)) continue;
        seen.add(puid);
        out.push(p);
      }
    }
    return out;
  }
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

export const replicaSetControllerDescriptor: ControllerDescriptor = {
  name: 'replicaset',
  create: (ctx) => new ReplicaSetController<ReplicaSet>(ctx, REPLICA_SET_KIND),
};

export const replicationControllerDescriptor: ControllerDescriptor = {
  name: 'replicationcontroller',
  create: (ctx) => new ReplicaSetController<ReplicationController>(ctx, REPLICATION_CONTROLLER_KIND),
};
