// Upstream's StatefulSet controller ("statefulset"): pods with stable names and storage, created in ordinal order
// (OrderedReady) or all at once (Parallel), removed highest ordinal first, updated by RollingUpdate (partition,
// maxUnavailable) or OnDelete, with ControllerRevision history, PVC retention by ownerReferences, and status.
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/errors.js';
import { scaledValueFromIntOrPercent } from '../deployment/util.js';
import { labelSelectorAsSelector, type Selector } from '../../machinery/labels.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import {
  ControllerRefManager,
  getControllerOf,
  onPodUpdate,
  recheckDeletionTimestamp,
  semanticEqual,
  type EventSink,
  type PodOwnerEvents,
} from '../common/index.js';
import { ControllerHistory, equalRevision, findEqualRevisions, newControllerRevision, nextRevision, revisionTemplate, revisionsToTruncate, sortControllerRevisions, templatePatch } from '../history/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { slowStartBatch } from '../replicaset/replicaset-controller.js';
import { runQueueController } from '../run.js';
import {
  STATEFUL_SET_KIND,
  allowsBurst,
  claimOwnerMatchesSetAndPod,
  getEndOrdinal,
  getOrdinal,
  getPersistentVolumeClaims,
  getPodRevision,
  getStartOrdinal,
  hasStaleOwnerRef,
  identityMatches,
  isCreated,
  isFailed,
  isHealthy,
  isMemberOf,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newVersionedStatefulSetPod,
  podInOrdinalRange,
  replicasOf,
  retentionPolicy,
  storageMatches,
  updateClaimOwnerRefForSetAndPod,
  updateIdentity,
  updateStorage,
} from './utils.js';

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The pods and claims a StatefulSet works on, and the events it records (upstream's StatefulPodControl). */
class StatefulPodControl {
  constructor(
    private readonly pods: ResourceClient<Pod>,
    private readonly claims: ResourceClient<PersistentVolumeClaim>,
    private readonly podLister: SharedIndexInformer<Pod>,
    private readonly claimLister: SharedIndexInformer<PersistentVolumeClaim>,
    private readonly recorder: EventSink,
  ) {}

  private getClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.claimLister.lister().namespace(namespace).get(name);
  }

  private recordPodEvent(verb: string, set: StatefulSet, pod: Pod, err?: unknown): void {
    const title = verb[0].toUpperCase() + verb.slice(1);
    if (err === undefined) this.recorder.event(set, 'Normal', `Successful${title}`, `${verb} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`);
    else this.recorder.event(set, 'Warning', `Failed${title}`, `${verb} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${errMessage(err)}`);
  }

  private recordClaimEvent(verb: string, set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim, err?: unknown): void {
    const title = verb[0].toUpperCase() + verb.slice(1);
    if (err === undefined) {
      this.recorder.event(set, 'Normal', `Successful${title}`, `${verb} Claim ${claim.metadata?.name} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} success`);
    } else {
      this.recorder.event(set, 'Warning', `Failed${title}`, `${verb} Claim ${claim.metadata?.name} for Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${errMessage(err)}`);
    }
  }

  /** createPersistentVolumeClaims: create the missing claims of the pod's ordinal. */
  async createMissingClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errs: string[] = [];
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const name = claim.metadata?.name ?? '';
      const existing = this.getClaim(claim.metadata?.namespace ?? '', name);
      if (!existing) {
        try {
          await this.claims.create(claim, { namespace: claim.metadata?.namespace });
          this.recordClaimEvent('create', set, pod, claim);
        } catch (err) {
          errs.push(`failed to create PVC ${name}: ${errMessage(err)}`);
          if (!isAlreadyExists(err)) this.recordClaimEvent('create', set, pod, claim, err);
        }
      } else if (existing.metadata?.deletionTimestamp) {
        errs.push(`pvc ${name} is being deleted`);
      }
    }
    if (errs.length) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  }

  async createStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.createMissingClaims(set, pod);
    } catch (err) {
      this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    let created: Pod;
    try {
      created = await this.pods.create(pod, { namespace: set.metadata?.namespace });
    } catch (err) {
      if (isAlreadyExists(err)) throw err;
      this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    try {
      await this.updatePodClaimForRetentionPolicy(set, created);
    } catch (err) {
      this.recordPodEvent('update', set, pod, err);
      throw err;
    }
    this.recordPodEvent('create', set, pod);
  }

  async deleteStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.pods.delete(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace });
    } catch (err) {
      this.recordPodEvent('delete', set, pod, err);
      throw err;
    }
    this.recordPodEvent('delete', set, pod);
  }

  /** UpdateStatefulPod: restore identity, storage and claim references; retried on conflicts against the cache. */
  async updateStatefulPod(set: StatefulSet, original: Pod): Promise<void> {
    let pod = deepClone(original);
    for (let attempt = 0; ; attempt++) {
      let consistent = true;
      if (!identityMatches(set, pod)) {
        updateIdentity(set, pod);
        consistent = false;
      }
      if (!storageMatches(set, pod)) {
        updateStorage(set, pod);
        consistent = false;
        await this.createMissingClaims(set, pod);
      }
      if (!this.claimsMatchRetentionPolicy(set, pod)) {
        await this.updatePodClaimForRetentionPolicy(set, pod);
      }
      if (consistent) return;
      try {
        await this.pods.update(pod, { namespace: set.metadata?.namespace });
        this.recordPodEvent('update', set, pod);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) {
          this.recordPodEvent('update', set, pod, err);
          throw err;
        }
        const cached = this.podLister.lister().namespace(pod.metadata?.namespace ?? '').get(pod.metadata?.name ?? '');
        pod = deepClone(cached ?? (await this.pods.get(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace })));
      }
    }
  }

  /** ClaimsMatchRetentionPolicy: missing claims count as matching (they are picked up later). */
  claimsMatchRetentionPolicy(set: StatefulSet, pod: Pod): boolean {
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const existing = this.getClaim(set.metadata?.namespace ?? '', claim.metadata?.name ?? '');
      if (existing && !claimOwnerMatchesSetAndPod(existing, set, pod)) return false;
    }
    return true;
  }

  async updatePodClaimForRetentionPolicy(set: StatefulSet, pod: Pod): Promise<void> {
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const namespace = set.metadata?.namespace ?? '';
      const name = claim.metadata?.name ?? '';
      // A claim this sync just created may not be in the cache yet, and no claim event syncs the set again: read it.
      const existing = this.getClaim(namespace, name) ?? (await this.claims.get(name, { namespace }).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw new Error(`could not retrieve claim ${namespace}/${name}: ${errMessage(err)}`, { cause: err });
      }));
      if (!existing) continue;
      const copy = deepClone(existing);
      if (!updateClaimOwnerRefForSetAndPod(copy, set, pod)) continue;
      try {
        await this.claims.update(copy, { namespace: copy.metadata?.namespace });
      } catch (err) {
        throw new Error(`could not update claim ${copy.metadata?.name} for delete policy ownerRefs: ${errMessage(err)}`);
      }
    }
  }

  /** PodClaimIsStale: under WhenScaled=Delete, a claim still owned by an earlier pod of that name must go first. */
  podClaimIsStale(set: StatefulSet, pod: Pod): boolean {
    if (retentionPolicy(set).whenScaled === 'Retain') return false;
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const existing = this.getClaim(set.metadata?.namespace ?? '', claim.metadata?.name ?? '');
      if (existing && hasStaleOwnerRef(existing, pod)) return true;
    }
    return false;
  }
}

/** runForAll: in order, stopping at the first that says stop (monotonic), or in slow-start batches (burst). */
async function runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
  if (monotonic) {
    for (let i = 0; i < count; i++) if (await fn(i)) return true;
    return false;
  }
  let next = 0;
  const { error } = await slowStartBatch(count, 1, async () => void (await fn(next++)));
  if (error !== undefined) throw error;
  return false;
}

export class StatefulSetController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly sets: SharedIndexInformer<StatefulSet>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly claims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly revisions: SharedIndexInformer<ControllerRevision>;
  readonly recorder: EventSink & { flush?: () => Promise<void> };
  private readonly setClient: ResourceClient<StatefulSet>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly history: ControllerHistory;
  private readonly podControl: StatefulPodControl;

  constructor(
    private readonly ctx: ControllerContext,
    opts: { workers?: number; recorder?: EventSink } = {},
    private readonly workers = opts.workers ?? 5,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.setClient = ctx.client.resource<StatefulSet>({ group: 'apps', version: 'v1', resource: 'statefulsets' });
    this.podClient = ctx.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const claimClient = ctx.client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
    const revisionClient = ctx.client.resource<ControllerRevision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions' });
    this.sets = ctx.informers.informerFor<StatefulSet>({ group: 'apps', version: 'v1', resource: 'statefulsets' });
    this.pods = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.claims = ctx.informers.informerFor<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
    this.revisions = ctx.informers.informerFor<ControllerRevision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions' });
    this.recorder = opts.recorder ?? new CoreEventRecorder(ctx.client, { component: 'statefulset-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event not recorded', { err }) });
    this.history = new ControllerHistory(revisionClient, this.revisions);
    this.podControl = new StatefulPodControl(this.podClient, claimClient, this.pods, this.claims, this.recorder);

    this.sets.addEventHandler({
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_o, s) => this.enqueue(s),
      onDelete: (s) => this.enqueue(deletedObject(s)),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.addPod(p),
      onUpdate: (o, p) => this.updatePod(o, p),
      onDelete: (p) => this.deletePod(p),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const informers = [this.sets, this.pods, this.claims, this.revisions];
    const waitForSync = async () => (await Promise.all(informers.map((i) => i.waitForCacheSync()))).every(Boolean);
    return runQueueController({ name: 'statefulset', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  private enqueue(set: StatefulSet): void {
    if (set.metadata?.name) this.queue.add(`${set.metadata.namespace ?? ''}/${set.metadata.name}`);
  }

  private enqueueAfter(set: StatefulSet, ms: number): void {
    if (set.metadata?.name) this.queue.addAfter(`${set.metadata.namespace ?? ''}/${set.metadata.name}`, ms);
  }

  /** resolveControllerRef: the set a controller reference names, if it is still that set. */
  private resolveControllerRef(namespace: string, pod: Pod): StatefulSet | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const set = this.sets.lister().namespace(namespace).get(ref.name);
    return set && set.metadata?.uid === ref.uid ? set : undefined;
  }

  /** getStatefulSetsForPod: orphan pods wake every set whose selector matches them. */
  private setsForPod(pod: Pod): StatefulSet[] {
    const labels = pod.metadata?.labels;
    if (!labels || Object.keys(labels).length === 0) return [];
    return this.sets
      .lister()
      .namespace(pod.metadata?.namespace ?? '')
      .list()
      .filter((s) => {
        const sel = s.spec?.selector;
        if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) return false;
        try {
          return labelSelectorAsSelector(sel).matches(labels);
        } catch {
          return false;
        }
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.deletePod(pod);
    if (getControllerOf(pod)) {
      const set = this.resolveControllerRef(pod.metadata?.namespace ?? '', pod);
      if (set) this.enqueue(set);
      return;
    }
    for (const s of this.setsForPod(pod)) this.enqueue(s);
  }

  private updatePod(old: Pod, cur: Pod): void {
    onPodUpdate(old, cur, this.podEvents);
  }

  private readonly podEvents: PodOwnerEvents<StatefulSet> = {
    ownerOf: (pod) => this.resolveControllerRef(pod.metadata?.namespace ?? '', pod),
    ownersMatching: (pod) => this.setsForPod(pod),
    enqueue: (set, afterMs) => (afterMs === undefined ? this.enqueue(set) : this.enqueueAfter(set, afterMs)),
    minReadySeconds: (set) => set.spec?.minReadySeconds ?? 0,
    isReady: isRunningAndReady,
    availabilitySlackMs: 0,
  };

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const set = this.resolveControllerRef(pod.metadata?.namespace ?? '', pod);
    if (set) this.enqueue(set);
  }

  /** One pass over a StatefulSet; gone means nothing to do (its pods are the garbage collector's). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.sets.lister().namespace(namespace).get(name);
    if (!cached) return;
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(cached.spec?.selector);
    } catch (err) {
      this.ctx.log.warn('statefulset has an invalid selector', { key, err });
      return;
    }
    const set = deepClone(cached);
    const canAdopt = recheckDeletionTimestamp(() => this.setClient.get(name, { namespace }), set, 'StatefulSet');
    await this.history.claim(set, STATEFUL_SET_KIND, selector, canAdopt);
    const pods = await new ControllerRefManager<Pod>({
      controller: set,
      controllerKind: STATEFUL_SET_KIND,
      selector,
      client: this.podClient,
      canAdopt,
      filter: (p) => isMemberOf(set, p),
    }).claim(this.pods.lister().namespace(namespace).list());
    const status = await this.updateStatefulSet(set, pods, selector);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status && status.availableReplicas !== replicasOf(set)) this.enqueueAfter(set, minReady * 1000);
  }

  /** UpdateStatefulSet: revisions, the pod work, status, then history truncation. */
  private async updateStatefulSet(set: StatefulSet, pods: Pod[], selector: Selector): Promise<StatefulSetStatus | undefined> {
    const revisions = sortControllerRevisions(this.history.list(set, selector));
    let current: ControllerRevision | undefined;
    let update: ControllerRevision | undefined;
    let status: StatefulSetStatus | undefined;
    let failure: unknown;
    try {
      ({ current, update } = await this.getStatefulSetRevisions(set, revisions));
      const result = await this.updatePods(set, current, update, pods);
      status = result.status;
      failure = result.error;
      await this.updateStatus(set, status);
    } catch (err) {
      failure ??= err;
    }
    try {
      await this.truncateHistory(set, pods, revisions, current, update);
    } catch (err) {
      failure ??= err;
    }
    if (failure !== undefined) throw failure;
    return status;
  }

  /** getStatefulSetRevisions: the current revision (from status) and the update revision (the set's template now). */
  private async getStatefulSetRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    const collision = { count: set.status?.collisionCount ?? 0 };
    const candidate = newControllerRevision(set, STATEFUL_SET_KIND, set.spec?.template?.metadata?.labels, templatePatch(set), nextRevision(revisions), collision.count);
    candidate.metadata = { ...candidate.metadata, annotations: { ...set.metadata?.annotations } };
    const equal = findEqualRevisions(revisions, candidate);
    let update: ControllerRevision;
    if (equal.length > 0 && equalRevision(revisions[revisions.length - 1], equal[equal.length - 1])) {
      // Unchanged since the last revision.
      update = revisions[revisions.length - 1];
    } else if (equal.length > 0) {
      // Back to an older template: that revision becomes the newest.
      update = await this.history.updateRevision(equal[equal.length - 1], candidate.revision);
    } else {
      update = await this.history.create(set, candidate, collision);
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    set.status = { ...set.status, replicas: set.status?.replicas ?? 0, collisionCount: collision.count };
    return { current, update, collisionCount: collision.count };
  }

  /** The set as of a revision: its template replaced by the revision's (ApplyRevision). */
  private applyRevision(set: StatefulSet, rev: ControllerRevision): StatefulSet {
    const clone = deepClone(set);
    clone.spec = { ...clone.spec!, template: revisionTemplate(rev) };
    return clone;
  }

  /** updateStatefulSet: create, fix, delete and update pods; returns the status to write (and any error). */
  private async updatePods(set: StatefulSet, currentRevision: ControllerRevision, updateRevision: ControllerRevision, pods: Pod[]): Promise<{ status: StatefulSetStatus; error?: unknown }> {
    const currentSet = this.applyRevision(set, currentRevision);
    const updateSet = this.applyRevision(set, updateRevision);
    const currentName = currentRevision.metadata?.name ?? '';
    const updateName = updateRevision.metadata?.name ?? '';
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = () => this.ctx.clock.now();
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata?.generation,
      replicas: 0,
      currentRevision: currentName,
      updateRevision: updateName,
      collisionCount: set.status?.collisionCount ?? 0,
      ...(set.status?.conditions ? { conditions: set.status.conditions } : {}),
    };

    const start = getStartOrdinal(set);
    const replicaCount = replicasOf(set);
    const replicas: Pod[] = new Array<Pod>(replicaCount);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
      else if (getOrdinal(pod) >= 0) condemned.push(pod);
    }
    for (let ord = start; ord <= getEndOrdinal(set); ord++) {
      if (!replicas[ord - start]) replicas[ord - start] = newVersionedStatefulSetPod(currentSet, updateSet, currentName, updateName, ord);
    }
    condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));

    let firstUnhealthy: Pod | undefined;
    for (const p of replicas) if (!isHealthy(p)) firstUnhealthy ??= p;
    for (let i = condemned.length - 1; i >= 0; i--) if (!isHealthy(condemned[i])) firstUnhealthy ??= condemned[i];

    const finish = (error?: unknown) => {
      this.computeStatus(status, minReady, currentName, updateName, replicas, condemned);
      return error === undefined ? { status } : { status, error };
    };
    if (set.metadata?.deletionTimestamp) return finish();

    const monotonic = !allowsBurst(set);
    try {
      // Living replicas first: in OrderedReady, stop at the first one created or not yet Running and Ready.
      const processReplica = async (i: number): Promise<boolean> => {
        let pod = replicas[i];
        if (isFailed(pod) || isSucceeded(pod)) {
          if (isFailed(pod)) this.recorder.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${set.metadata?.namespace}/${set.metadata?.name} is recreating failed Pod ${pod.metadata?.name}`);
          else this.recorder.event(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${set.metadata?.namespace}/${set.metadata?.name} is recreating terminated Pod ${pod.metadata?.name}`);
          await this.podControl.deleteStatefulPod(set, pod);
          pod = replicas[i] = newVersionedStatefulSetPod(currentSet, updateSet, currentName, updateName, i + start);
        }
        if (!isCreated(pod)) {
          // A claim still owned by an earlier pod of this name waits for the garbage collector.
          if (this.podControl.podClaimIsStale(set, pod)) return true;
          await this.podControl.createStatefulPod(set, pod);
          if (monotonic) return true;
        }
        if (isPending(pod)) await this.podControl.createMissingClaims(set, pod);
        if (!isRunningAndReady(pod) && monotonic) return true;
        if (!isRunningAndAvailable(pod, minReady, now()) && monotonic) return true;
        const retentionMatch = !isCreated(pod) || this.podControl.claimsMatchRetentionPolicy(updateSet, pod);
        if (identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch) return false;
        if (isCreated(pod)) await this.podControl.updateStatefulPod(updateSet, pod);
        return false;
      };
      if (await runForAll(replicas.length, processReplica, monotonic)) return finish();

      // Claims of condemned pods take the scaled-down references.
      const fixPodClaim = async (i: number): Promise<boolean> => {
        if (!this.podControl.claimsMatchRetentionPolicy(updateSet, condemned[i])) await this.podControl.updatePodClaimForRetentionPolicy(updateSet, condemned[i]);
        return false;
      };
      if (await runForAll(condemned.length, fixPodClaim, monotonic)) return finish();

      // Scale down, highest ordinal first; in OrderedReady only when every predecessor is Running and Ready.
      const processCondemned = async (i: number): Promise<boolean> => {
        const pod = condemned[i];
        if (isTerminating(pod)) return monotonic;
        if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthy) return true;
        if (!isRunningAndAvailable(pod, minReady, now()) && monotonic && pod !== firstUnhealthy) return true;
        await this.podControl.deleteStatefulPod(set, pod);
        return true;
      };
      if (await runForAll(condemned.length, processCondemned, monotonic)) return finish();
    } catch (err) {
      return finish(err);
    }

    this.computeStatus(status, minReady, currentName, updateName, replicas, condemned);
    const strategy = set.spec?.updateStrategy;
    if (strategy?.type === 'OnDelete') return { status };
    try {
      await this.rollingUpdate(set, replicas, updateName, status);
    } catch (err) {
      if (!isNotFound(err)) return { status, error: err };
    }
    return { status };
  }

  /**
   * RollingUpdate: from the highest ordinal down to the partition, delete pods not at the update revision. Without
   * maxUnavailable one at a time, waiting for each to be healthy; with it (MaxUnavailableStatefulSet) up to that many
   * unavailable pods at once.
   */
  private async rollingUpdate(set: StatefulSet, replicas: Pod[], updateName: string, status: StatefulSetStatus): Promise<void> {
    const ru = set.spec?.updateStrategy?.rollingUpdate;
    const updateMin = ru?.partition ?? 0;
    if (ru?.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
      let maxUnavailable = scaledValueFromIntOrPercent(ru.maxUnavailable, replicasOf(set), true);
      if (maxUnavailable < 1) maxUnavailable = 1;
      const minReady = set.spec?.minReadySeconds ?? 0;
      const unavailable = replicas.filter((p) => !isHealthy(p) || !isRunningAndAvailable(p, minReady, this.ctx.clock.now())).length;
      if (unavailable >= maxUnavailable) return;
      let budget = maxUnavailable - unavailable;
      for (let target = replicas.length - 1; target >= updateMin && budget > 0; target--) {
        const pod = replicas[target];
        if (getPodRevision(pod) !== updateName && !isTerminating(pod)) {
          await this.deleteForUpdate(set, pod);
          budget--;
          status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        }
      }
      return;
    }
    for (let target = replicas.length - 1; target >= updateMin; target--) {
      const pod = replicas[target];
      if (getPodRevision(pod) !== updateName && !isTerminating(pod)) {
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        await this.deleteForUpdate(set, pod);
        return;
      }
      if (!isHealthy(pod)) return;
    }
  }

  private async deleteForUpdate(set: StatefulSet, pod: Pod): Promise<void> {
    this.ctx.log.debug('pod of statefulset is terminating for update', { statefulset: `${set.metadata?.namespace}/${set.metadata?.name}`, pod: pod.metadata?.name });
    try {
      await this.podControl.deleteStatefulPod(set, pod);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** updateStatus/computeReplicaStatus: counts over the replicas and the condemned. */
  private computeStatus(status: StatefulSetStatus, minReady: number, currentName: string, updateName: string, ...lists: Pod[][]): void {
    let replicas = 0;
    let ready = 0;
    let available = 0;
    let current = 0;
    let updated = 0;
    const now = this.ctx.clock.now();
    for (const list of lists) {
      for (const pod of list) {
        if (isCreated(pod)) replicas++;
        if (isRunningAndReady(pod)) {
          ready++;
          if (isRunningAndAvailable(pod, minReady, now)) available++;
        }
        if (isCreated(pod) && !isTerminating(pod)) {
          const rev = getPodRevision(pod);
          if (rev === currentName) current++;
          if (rev === updateName) updated++;
        }
      }
    }
    Object.assign(status, { replicas, readyReplicas: ready, availableReplicas: available, currentReplicas: current, updatedReplicas: updated });
  }

  /** updateStatefulSetStatus: complete a finished rolling update, then write the status if it changed. */
  private async updateStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (set.spec?.updateStrategy?.type === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const cached = this.sets.lister().namespace(set.metadata?.namespace ?? '').get(set.metadata?.name ?? '');
    let base = cached ?? set;
    for (let attempt = 0; ; attempt++) {
      if (semanticEqual(base.status, status)) return;
      try {
        await this.setClient.updateStatus({ ...deepClone(base), status });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        base = await this.setClient.get(set.metadata?.name ?? '', { namespace: set.metadata?.namespace });
      }
    }
  }

  /** truncateHistory: keep the live revisions and at most revisionHistoryLimit others. */
  private async truncateHistory(set: StatefulSet, pods: Pod[], sorted: ControllerRevision[], current?: ControllerRevision, update?: ControllerRevision): Promise<void> {
    const live = new Set<string>();
    if (current?.metadata?.name) live.add(current.metadata.name);
    if (update?.metadata?.name) live.add(update.metadata.name);
    for (const p of pods) live.add(getPodRevision(p));
    for (const rev of revisionsToTruncate(sorted, live, set.spec?.revisionHistoryLimit ?? 10)) await this.history.delete(rev);
  }
}

export const statefulSetControllerDescriptor: ControllerDescriptor = {
  name: 'statefulset',
  create: (ctx) => new StatefulSetController(ctx),
};
