// One deployment's reconcile, as upstream's deployment controller does it (sync.go, rolling.go, recreate.go,
// rollback.go, progress.go): find or create the new ReplicaSet and keep revisions in step, scale proportionally on
// a size change, roll (surge and unavailability bounded) or recreate, roll back on the deprecated annotation, clean up
// history, and write status with the Available, Progressing and ReplicaFailure conditions. All API writes go
// through DeploymentOps so the math can be tested against a recording fake, as upstream tests against a fake clientset.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../machinery/errors.js';
import type { Clock } from '../../client/index.js';
import { NAMESPACE_TERMINATING_CAUSE, hasStatusCause, newControllerRef, type EventSink } from '../common/index.js';
import { computeHash } from './hash.js';
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DEPRECATED_ROLLBACK_TO,
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  NEW_REPLICA_SET_REASON,
  NEW_RS_AVAILABLE_REASON,
  PAUSED_DEPLOY_REASON,
  REPLICA_SET_UPDATED_REASON,
  RESUMED_DEPLOY_REASON,
  REVISION_ANNOTATION,
  ROLLBACK_DONE,
  ROLLBACK_REVISION_NOT_FOUND,
  ROLLBACK_TEMPLATE_UNCHANGED,
  TIMED_OUT_REASON,
  actualReplicaCount,
  availableReplicaCount,
  byCreationTimestamp,
  byRevision,
  calculateStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentReplicas,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  filterActiveReplicaSets,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  lastRevision,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  normalizeStatus,
  proportionalSizes,
  removeCondition,
  replicaCount,
  replicaSetToDeploymentCondition,
  replicasAnnotationsNeedUpdate,
  revisionOf,
  rsReplicas,
  setCondition,
  setDeploymentAnnotationsTo,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  templateFromReplicaSet,
  type MutableReplicaSet,
} from './util.js';

/** Upstream bounds revision-history to about 100 entries. */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;

/** The API writes a sync makes. */
export interface DeploymentOps {
  createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  deleteReplicaSet(namespace: string, name: string): Promise<void>;
  /** The informer's copy, for the already-exists path of a create. */
  cachedReplicaSet(namespace: string, name: string): ReplicaSet | undefined;
  updateDeployment(d: Deployment): Promise<Deployment>;
  updateDeploymentStatus(d: Deployment): Promise<Deployment>;
}

export interface SyncDeps {
  ops: DeploymentOps;
  recorder: EventSink;
  clock: Clock;
  /** Check the deployment again after ms (progress deadline), or soon with backoff. */
  enqueueAfter(d: Deployment, ms: number): void;
  enqueueRateLimited(d: Deployment): void;
}

/** Pods of the deployment grouped by the UID of the ReplicaSet that controls them. */
export type PodMap = Map<string, Pod[]>;

type RSOrNone = MutableReplicaSet | undefined;

function nsName(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function clone<T>(obj: T): T {
  return structuredClone(obj);
}

export class DeploymentSyncer {
  constructor(private readonly deps: SyncDeps) {}

  private now(): number {
    return this.deps.clock.now();
  }

  /** Write d's status; d takes the new resourceVersion so a second write in one sync does not conflict. */
  private async writeStatus(d: Deployment): Promise<void> {
    const updated = await this.deps.ops.updateDeploymentStatus(d);
    const rv = updated.metadata?.resourceVersion;
    if (rv && d.metadata) (d.metadata as { resourceVersion?: string }).resourceVersion = rv;
  }

  /** The strategy dispatch of syncDeployment, after ReplicaSets were claimed and pods grouped. d is a private copy. */
  async syncDeployment(d: Deployment, rsList: MutableReplicaSet[], podMap: PodMap): Promise<void> {
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);
    // A rollback is not re-entrant: finish it (the annotation is cleared) before touching ReplicaSets again.
    if (rollbackTo(d) !== undefined) return this.rollback(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.sync(d, rsList);
    switch (d.spec?.strategy?.type) {
      case 'Recreate':
        return this.rolloutRecreate(d, rsList, podMap);
      case 'RollingUpdate':
        return this.rolloutRolling(d, rsList);
    }
    throw new Error(`unexpected deployment strategy type: ${d.spec?.strategy?.type ?? ''}`);
  }

  // -------------------------------------------------------------------------------------------------------------
  // sync.go

  async syncStatusOnly(d: Deployment, rsList: MutableReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** Scaling events and paused deployments: scale proportionally, clean up when paused, write status. */
  async sync(d: Deployment, rsList: MutableReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused && rollbackTo(d) === undefined) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** Progressing=Unknown while paused (DeploymentPaused) and once resumed (DeploymentResumed), so a pause never times out. */
  async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === TIMED_OUT_REASON) return;
    const pausedExists = cond?.reason === PAUSED_DEPLOY_REASON;
    d.status ??= {};
    let needsUpdate = false;
    if (d.spec?.paused && !pausedExists) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', PAUSED_DEPLOY_REASON, 'Deployment is paused', this.now()));
      needsUpdate = true;
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', RESUMED_DEPLOY_REASON, 'Deployment is resumed', this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
  }

  async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: MutableReplicaSet[], createIfNotExisted: boolean): Promise<{ newRS: RSOrNone; oldRSs: MutableReplicaSet[] }> {
    const { all: oldRSs } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  /**
   * The ReplicaSet matching the template, its annotations, revision and minReadySeconds brought up to date; created
   * (at the size the strategy allows) when missing and createIfNotExisted. A name taken by a different template is a
   * hash collision: status.collisionCount goes up and the sync fails so the next one tries another name.
   */
  async getNewReplicaSet(d: Deployment, rsList: MutableReplicaSet[], oldRSs: MutableReplicaSet[], createIfNotExisted: boolean): Promise<RSOrNone> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const ns = d.metadata?.namespace ?? '';

    if (existing) {
      const rsCopy = clone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true, MAX_REV_HISTORY_LENGTH_IN_CHARS);
      const minReadyNeedsUpdate = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyNeedsUpdate) {
        rsCopy.spec = { ...rsCopy.spec, selector: rsCopy.spec?.selector ?? {}, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        return (await this.deps.ops.updateReplicaSet(rsCopy)) as MutableReplicaSet;
      }
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
      const cond = getCondition(d.status, 'Progressing');
      if (hasProgressDeadline(d) && !cond) {
        d.status ??= {};
        setCondition(d.status, newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${rsCopy.metadata?.name ?? ''}"`, this.now()));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return rsCopy;
    }

    if (!createIfNotExisted) return undefined;

    const template = clone(d.spec?.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(d.spec?.template?.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash };
    const selector = clone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash };
    const name = `${d.metadata?.name ?? ''}-${hash}`;
    const newRS: MutableReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: ns,
        ownerReferences: [newControllerRef(d, { apiVersion: 'apps/v1', kind: 'Deployment' })],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec = { ...newRS.spec, selector, replicas: newReplicas };
    setNewReplicaSetAnnotations(d, newRS, newRevision, false, MAX_REV_HISTORY_LENGTH_IN_CHARS);

    let created: MutableReplicaSet;
    let alreadyExists = false;
    try {
      created = (await this.deps.ops.createReplicaSet(newRS)) as MutableReplicaSet;
    } catch (err) {
      if (isAlreadyExists(err)) {
        alreadyExists = true;
        const rs = this.deps.ops.cachedReplicaSet(ns, name);
        if (!rs) throw err;
        const ref = rs.metadata?.ownerReferences?.find((o) => o.controller);
        if (ref && ref.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = clone(rs) as MutableReplicaSet;
        } else {
          // A different template owns this name: bump collisionCount and retry under the next name.
          d.status ??= {};
          d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
          await this.writeStatus(d).catch(() => undefined);
          throw err;
        }
      } else if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${name}": ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition('Progressing', 'False', FAILED_RS_CREATE_REASON, msg, this.now()));
          await this.writeStatus(d).catch(() => undefined);
        }
        this.deps.recorder.event(d, 'Warning', FAILED_RS_CREATE_REASON, msg);
        throw err;
      }
    }
    if (!alreadyExists && newReplicas > 0) {
      this.deps.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name ?? ''} to ${newReplicas}`);
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition('Progressing', 'True', NEW_REPLICA_SET_REASON, `Created new replica set "${created.metadata?.name ?? ''}"`, this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return created;
  }

  /**
   * Scaling outside a rollout (or while paused): a single active RS takes the full size; a saturated new RS scales
   * the old ones to zero; otherwise a rolling deployment spreads the change proportionally over its active sets.
   */
  async scale(d: Deployment, newRS: RSOrNone, oldRSs: MutableReplicaSet[]): Promise<void> {
    const replicas = deploymentReplicas(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (rsReplicas(activeOrLatest) === replicas) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, replicas, d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActiveReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (isRollingUpdate(d)) {
      const active = filterActiveReplicaSets([...oldRSs, newRS]);
      const { ordered, sizes, operation } = proportionalSizes(d, active);
      for (const rs of ordered) await this.scaleReplicaSet(rs, sizes.get(rs) ?? rsReplicas(rs), d, operation);
    }
  }

  async scaleReplicaSetAndRecordEvent(rs: MutableReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: MutableReplicaSet }> {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, rsReplicas(rs) < newScale ? 'up' : 'down');
  }

  /** Sets the size and the desired/max-replicas annotations; the event names the old and new size. */
  async scaleReplicaSet(rs: MutableReplicaSet, newScale: number, d: Deployment, operation: string): Promise<{ scaled: boolean; rs: MutableReplicaSet }> {
    const replicas = deploymentReplicas(d);
    const max = replicas + maxSurge(d);
    const sizeNeedsUpdate = rsReplicas(rs) !== newScale;
    const annotationsNeedUpdate = replicasAnnotationsNeedUpdate(rs, replicas, max);
    if (!sizeNeedsUpdate && !annotationsNeedUpdate) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const copy = clone(rs);
    copy.spec = { ...copy.spec, selector: copy.spec?.selector ?? {}, replicas: newScale };
    setReplicasAnnotations(copy, replicas, max);
    const updated = (await this.deps.ops.updateReplicaSet(copy)) as MutableReplicaSet;
    if (sizeNeedsUpdate) {
      this.deps.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${updated.metadata?.name ?? ''} to ${newScale} from ${oldScale}`);
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /** Keeps the newest revisionHistoryLimit old ReplicaSets; only fully scaled-down, settled ones are deleted. */
  async cleanupDeployment(oldRSs: MutableReplicaSet[], d: Deployment): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - (d.spec?.revisionHistoryLimit ?? 0);
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i];
      if (!rs) continue;
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) {
        continue;
      }
      try {
        await this.deps.ops.deleteReplicaSet(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  async syncDeploymentStatus(allRSs: RSOrNone[], newRS: RSOrNone, d: Deployment): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.now());
    if (normalizeStatus(d.status) === normalizeStatus(status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /** A size change shows as an active RS whose desired-replicas annotation differs from spec.replicas. */
  async isScalingEvent(d: Deployment, rsList: MutableReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired === undefined) continue;
      if (desired !== deploymentReplicas(d)) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------------------------
  // rolling.go

  async rolloutRolling(d: Deployment, rsList: MutableReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    if (!newRS) throw new Error(`deployment ${nsName(d)}: no new replica set`);
    const allRSs = [...oldRSs, newRS];
    if (await this.reconcileNewReplicaSet(allRSs, newRS, d)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (await this.reconcileOldReplicaSets(allRSs, filterActiveReplicaSets(oldRSs), newRS, d)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  /** Scale the new RS down to replicas, or up as far as maxSurge allows. */
  async reconcileNewReplicaSet(allRSs: RSOrNone[], newRS: MutableReplicaSet, d: Deployment): Promise<boolean> {
    const replicas = deploymentReplicas(d);
    if (rsReplicas(newRS) === replicas) return false;
    if (rsReplicas(newRS) > replicas) return (await this.scaleReplicaSetAndRecordEvent(newRS, replicas, d)).scaled;
    const count = newRSNewReplicas(d, allRSs, newRS);
    return (await this.scaleReplicaSetAndRecordEvent(newRS, count, d)).scaled;
  }

  /**
   * Scale old ReplicaSets down as far as availability allows: at most all pods - minAvailable - unavailable new
   * pods, unhealthy old replicas first (they add no availability), then available ones down to minAvailable.
   */
  async reconcileOldReplicaSets(allRSs: RSOrNone[], oldRSs: MutableReplicaSet[], newRS: MutableReplicaSet, d: Deployment): Promise<boolean> {
    const oldPods = replicaCount(oldRSs);
    if (oldPods === 0) return false;
    const allPods = replicaCount(allRSs);
    const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
    const newRSUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleanup: { oldRSs: MutableReplicaSet[]; scaledDown: number };
    try {
      cleanup = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    } catch {
      return false;
    }
    let scaledDown: number;
    try {
      scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate([...cleanup.oldRSs, newRS], cleanup.oldRSs, d);
    } catch {
      return false;
    }
    return cleanup.scaledDown + scaledDown > 0;
  }

  /** Scale old ReplicaSets down by their unavailable replicas, oldest first, at most maxCleanupCount in all. */
  async cleanupUnhealthyReplicas(oldRSs: MutableReplicaSet[], d: Deployment, maxCleanupCount: number): Promise<{ oldRSs: MutableReplicaSet[]; scaledDown: number }> {
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      const target = sorted[i];
      if (!target) continue;
      if (total >= maxCleanupCount) break;
      const replicas = rsReplicas(target);
      if (replicas === 0) continue;
      const available = target.status?.availableReplicas ?? 0;
      if (replicas === available) continue;
      const count = Math.min(maxCleanupCount - total, replicas - available);
      const next = replicas - count;
      if (next > replicas) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${nsName(target)} ${replicas} -> ${next}`);
      const { rs } = await this.scaleReplicaSetAndRecordEvent(target, next, d);
      total += count;
      sorted[i] = rs;
    }
    return { oldRSs: sorted, scaledDown: total };
  }

  /** Scale old ReplicaSets down, oldest first, while available pods stay at or above minAvailable. */
  async scaleDownOldReplicaSetsForRollingUpdate(allRSs: RSOrNone[], oldRSs: MutableReplicaSet[], d: Deployment): Promise<number> {
    const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
    const available = availableReplicaCount(allRSs);
    if (available <= minAvailable) return 0;
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    let total = 0;
    const want = available - minAvailable;
    for (const target of sorted) {
      if (total >= want) break;
      const replicas = rsReplicas(target);
      if (replicas === 0) continue;
      const count = Math.min(replicas, want - total);
      const next = replicas - count;
      if (next > replicas) throw new Error(`when scaling down old RS, got invalid request to scale down ${nsName(target)} ${replicas} -> ${next}`);
      await this.scaleReplicaSetAndRecordEvent(target, next, d);
      total += count;
    }
    return total;
  }

  // -------------------------------------------------------------------------------------------------------------
  // recreate.go

  /** Scale every old RS to zero, wait until no old pod runs, then create and scale up the new RS. */
  async rolloutRecreate(d: Deployment, rsList: MutableReplicaSet[], podMap: PodMap): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let allRSs: RSOrNone[] = [...oldRSs, newRS];
    const activeOld = filterActiveReplicaSets(oldRSs);
    let scaledDown = false;
    for (const rs of activeOld) {
      if (rsReplicas(rs) === 0) continue;
      const r = await this.scaleReplicaSetAndRecordEvent(rs, 0, d);
      if (r.scaled) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(allRSs, newRS, d);
    if (oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      allRSs = [...oldRSs, newRS];
    }
    if (newRS) await this.scaleReplicaSetAndRecordEvent(newRS, deploymentReplicas(d), d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  // -------------------------------------------------------------------------------------------------------------
  // rollback.go (the deprecated.deployment.rollback.to annotation; kubectl 1.31 rolls back client-side instead)

  async rollback(d: Deployment, rsList: MutableReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const allRSs = [...oldRSs, newRS];
    let revision = rollbackTo(d) ?? 0;
    if (revision === 0) {
      revision = lastRevision(allRSs);
      if (revision === 0) {
        this.deps.recorder.event(d, 'Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find last revision.');
        return this.updateDeploymentAndClearRollbackTo(d);
      }
    }
    for (const rs of allRSs) {
      if (!rs) continue;
      if (revisionOf(rs) === revision) {
        const performed = await this.rollbackToTemplate(d, rs);
        if (performed) this.deps.recorder.event(d, 'Normal', ROLLBACK_DONE, `Rolled back deployment "${d.metadata?.name ?? ''}" to revision ${revision}`);
        return;
      }
    }
    this.deps.recorder.event(d, 'Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find the revision to rollback to.');
    return this.updateDeploymentAndClearRollbackTo(d);
  }

  private async rollbackToTemplate(d: Deployment, rs: ReplicaSet): Promise<boolean> {
    let performed = false;
    if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
      if (d.spec) d.spec.template = templateFromReplicaSet(rs);
      setDeploymentAnnotationsTo(d, rs);
      performed = true;
    } else {
      this.deps.recorder.event(d, 'Warning', ROLLBACK_TEMPLATE_UNCHANGED, `The rollback revision contains the same template as current deployment "${d.metadata?.name ?? ''}"`);
    }
    await this.updateDeploymentAndClearRollbackTo(d);
    return performed;
  }

  private async updateDeploymentAndClearRollbackTo(d: Deployment): Promise<void> {
    if (d.metadata?.annotations) delete d.metadata.annotations[DEPRECATED_ROLLBACK_TO];
    await this.deps.ops.updateDeployment(d);
  }

  // -------------------------------------------------------------------------------------------------------------
  // progress.go

  /** Status during a rollout: progress, completion or timeout on the Progressing condition, ReplicaFailure promoted. */
  async syncRolloutStatus(allRSs: RSOrNone[], newRS: RSOrNone, d: Deployment): Promise<void> {
    const now = this.now();
    const status = calculateStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const isCompleteDeployment = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === NEW_RS_AVAILABLE_REASON;
    if (hasProgressDeadline(d) && !isCompleteDeployment) {
      const rsName = newRS?.metadata?.name;
      const dName = d.metadata?.name ?? '';
      if (deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${dName}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${dName}" is progressing.`;
        const cond = newCondition('Progressing', 'True', REPLICA_SET_UPDATED_REASON, msg, now);
        // Progress refreshes lastUpdateTime even with an unchanged reason; the transition time stays while True.
        if (current) {
          if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${dName}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, msg, now));
      }
    }
    const failures = replicaFailures(allRSs, newRS);
    if (failures[0]) setCondition(status, failures[0]);
    else removeCondition(status, 'ReplicaFailure');

    if (normalizeStatus(d.status) === normalizeStatus(status)) {
      this.requeueStuckDeployment(d, status);
      return;
    }
    d.status = status;
    await this.writeStatus(d);
  }

  /** When no progress shows, check again once the deadline passes; ms until then, 0 for now, -1 for never. */
  requeueStuckDeployment(d: Deployment, status: NonNullable<Deployment['status']>): number {
    const current = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !current) return -1;
    if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return -1;
    const last = current.lastUpdateTime ? Date.parse(current.lastUpdateTime) : 0;
    const after = last + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.now();
    if (after < 1000) {
      this.deps.enqueueRateLimited(d);
      return 0;
    }
    // One more second against millisecond skew between the timer and the condition's seconds.
    this.deps.enqueueAfter(d, after + 1000);
    return after;
  }
}

/** The revision the deprecated rollback annotation asks for (0: the previous one); undefined when absent or invalid. */
export function rollbackTo(d: Deployment): number | undefined {
  const v = d.metadata?.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (!v || !/^[+-]?\d+$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

/** The new RS's ReplicaFailure conditions, else those of any RS. */
export function replicaFailures(allRSs: RSOrNone[], newRS: RSOrNone): ReturnType<typeof replicaSetToDeploymentCondition>[] {
  const fromNew = (newRS?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map(replicaSetToDeploymentCondition);
  if (fromNew.length > 0) return fromNew;
  const out = [];
  for (const rs of allRSs) for (const c of rs?.status?.conditions ?? []) if (c.type === 'ReplicaFailure') out.push(replicaSetToDeploymentCondition(c));
  return out;
}

/** Whether an old RS still reports pods, or a pod of an old RS is not yet terminal (Recreate waits for these). */
export function oldPodsRunning(newRS: RSOrNone, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
