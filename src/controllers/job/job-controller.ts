// Upstream's Job controller (pkg/controller/job, v1.31): runs pods until `completions` succeed (or, without
// completions, until one succeeds and the rest finish), at most `parallelism` at once. Every pod carries the
// batch.kubernetes.io/job-tracking finalizer; a finished pod is first recorded in .status.uncountedTerminatedPods, then
// its finalizer is removed, then it is counted in succeeded/failed, so no pod is counted twice or lost. Failures back
// off exponentially before replacement, and end the Job at backoffLimit (or per index with backoffLimitPerIndex), on
// activeDeadlineSeconds, or by a podFailurePolicy rule. Terminal conditions are preceded by the interim FailureTarget
// and SuccessCriteriaMet conditions and set only once no pod is terminating.
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Container, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { isNotFound } from '../../machinery/errors.js';
import { labelSelectorAsSelector } from '../../machinery/labels.js';
import { formatTime } from '../../machinery/time.js';
import {
  CoreEventRecorder,
  ItemExponentialFailureRateLimiter,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  runWorkers,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type EventType,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import {
  ControllerExpectations,
  ControllerRefManager,
  PodControl,
  NAMESPACE_TERMINATING_CAUSE,
  filterActivePods,
  getControllerOf,
  hasStatusCause,
  isPodReady,
  isPodTerminating,
  newControllerRef,
  recheckDeletionTimestamp,
  sortActivePods,
  SupersededVersions,
} from '../common/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import { BackoffStore, getFinishedTime, remainingTime, remainingTimePerIndex, type BackoffRecord } from './backoff.js';
import {
  COMPLETION_INDEX_ENV,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_INDEX_FAILURE_COUNT_ANNOTATION,
  JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  OrderedIntervals,
  UNKNOWN_INDEX,
  byCompletionIndex,
  getCompletionIndex,
  indexAbsoluteFailureCount,
  indexFailureCount,
  indexIgnoredFailureCount,
  indexesOf,
  podGenerateNameWithIndex,
  sortedIndexes,
} from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';
import { matchSuccessPolicy } from './success-policy.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_KIND = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Upstream's syncJobBatchPeriod: pod events and status updates are batched for a second. */
export const SYNC_JOB_BATCH_PERIOD_MS = 1000;
/** Upstream's DefaultJobApiBackOff / MaxJobApiBackOff for sync retries. */
const API_BACKOFF_MS = 1000;
const MAX_API_BACKOFF_MS = 60_000;
/** Upper bound of .status.uncountedTerminatedPods (keeps the status under ~20 KB). */
export const MAX_UNCOUNTED_PODS = 500;
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
const SLOW_START_INITIAL_BATCH_SIZE = 1;

export const JOB_REASON = {
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  DeadlineExceeded: 'DeadlineExceeded',
  PodFailurePolicy: 'PodFailurePolicy',
  FailedIndexes: 'FailedIndexes',
  MaxFailedIndexesExceeded: 'MaxFailedIndexesExceeded',
  SuccessPolicy: 'SuccessPolicy',
  CompletionsReached: 'CompletionsReached',
} as const;

type ConditionType = 'Complete' | 'Failed' | 'Suspended' | 'FailureTarget' | 'SuccessCriteriaMet';

/** Which pods' finalizer removals this controller still waits to observe, per Job (upstream's uidTrackingExpectations). */
export class FinalizerExpectations {
  private readonly byJob = new Map<string, Set<string>>();

  expectRemoved(key: string, uids: readonly string[]): void {
    let set = this.byJob.get(key);
    if (!set) this.byJob.set(key, (set = new Set()));
    for (const u of uids) set.add(u);
  }

  observed(key: string, uid: string): void {
    const set = this.byJob.get(key);
    if (!set) return;
    set.delete(uid);
    if (set.size === 0) this.byJob.delete(key);
  }

  expected(key: string): Set<string> {
    return new Set(this.byJob.get(key) ?? []);
  }

  delete(key: string): void {
    this.byJob.delete(key);
  }
}

// ---- pure helpers ----

export const hasJobTrackingFinalizer = (pod: Pod): boolean => (pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
export const isIndexedJob = (job: Job): boolean => job.spec?.completionMode === 'Indexed';
export const hasBackoffLimitPerIndex = (job: Job): boolean => job.spec?.backoffLimitPerIndex !== undefined && job.spec.backoffLimitPerIndex !== null;
export const jobSuspended = (job: Job): boolean => job.spec?.suspend === true;
const completionsOf = (job: Job): number => job.spec?.completions ?? 0;

export function findCondition(list: readonly JobCondition[] | undefined, type: ConditionType): JobCondition | undefined {
  return (list ?? []).find((c) => c.type === type);
}

/** A Job is finished once Complete or Failed is True. */
export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The finished condition type (Complete / Failed) and its time, if any. */
export function jobFinishedCondition(job: Job): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export function newCondition(type: ConditionType, status: 'True' | 'False', reason: string, message: string, nowMs: number): JobCondition {
  const now = formatTime(new Date(nowMs));
  return { type, status, lastProbeTime: now, lastTransitionTime: now, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/**
 * Append or update the condition of `type`; never appends a False one (nothing → False says nothing). Returns whether
 * the list changed.
 */
export function ensureJobConditionStatus(
  list: JobCondition[],
  type: ConditionType,
  status: 'True' | 'False',
  reason: string,
  message: string,
  nowMs: number,
): { list: JobCondition[]; changed: boolean } {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i]!;
    if (c.status !== status || (c.reason ?? '') !== reason || (c.message ?? '') !== message) {
      const out = [...list];
      out[i] = newCondition(type, status, reason, message, nowMs);
      return { list: out, changed: true };
    }
    return { list, changed: false };
  }
  if (status !== 'False') return { list: [...list, newCondition(type, status, reason, message, nowMs)], changed: true };
  return { list, changed: false };
}

/** onlyReplaceFailedPods: podReplacementPolicy Failed (always so with a podFailurePolicy). */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
}

/** A pod counts as failed once Failed, or (unless only failed pods are replaced) once deleted before succeeding. */
export function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

/** restartPolicy OnFailure: the container restarts of running/pending pods count against backoffLimit. */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const s of p.status?.initContainerStatuses ?? []) restarts += s.restartCount ?? 0;
    for (const s of p.status?.containerStatuses ?? []) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** The failure message of the first failed pod that matches a FailJob rule. */
export function getFailJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
  if (!job.spec?.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p).failJobMessage;
    if (m !== undefined) return m;
  }
  return undefined;
}

/** An index fails when a FailIndex rule matches, or once its counted failures reach backoffLimitPerIndex. */
export function isIndexFailed(job: Job, pod: Pod): boolean {
  let counted = false;
  if (isPodFailed(pod, job)) {
    if (job.spec?.podFailurePolicy) {
      const m = matchPodFailurePolicy(job.spec.podFailurePolicy, pod);
      if (m.action === 'FailIndex') return true;
      counted = m.countFailed;
    } else {
      counted = true;
    }
  }
  return counted && indexFailureCount(pod) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/** completedIndexes before and after the succeeded pods still holding a finalizer. */
export function calculateSucceededIndexes(job: Job, pods: readonly Pod[]): { prev: OrderedIntervals; next: OrderedIntervals } {
  const completions = completionsOf(job);
  const prev = OrderedIntervals.parse(job.status?.completedIndexes, completions);
  const fresh = new Set<number>();
  for (const p of pods) {
    const ix = getCompletionIndex(p.metadata?.annotations);
    if (p.status?.phase === 'Succeeded' && ix !== UNKNOWN_INDEX && ix < completions && hasJobTrackingFinalizer(p)) fresh.add(ix);
  }
  return { prev, next: prev.withOrderedIndexes(sortedIndexes(fresh)) };
}

export function calculateFailedIndexes(job: Job, pods: readonly Pod[]): OrderedIntervals {
  const completions = completionsOf(job);
  const prev = OrderedIntervals.parse(job.status?.failedIndexes ?? undefined, completions);
  const fresh = new Set<number>();
  for (const p of pods) {
    const ix = getCompletionIndex(p.metadata?.annotations);
    if (ix !== UNKNOWN_INDEX && ix < completions && hasJobTrackingFinalizer(p) && isIndexFailed(job, p)) fresh.add(ix);
  }
  return prev.withOrderedIndexes(sortedIndexes(fresh));
}

/** Pod ordering by completion index, then the usual deletion order for duplicates; pods with bad indexes go. */
export function activePodsForRemoval(job: Job, pods: readonly Pod[], rmAtLeast: number): Pod[] {
  let rm: Pod[] = [];
  let left: Pod[];
  if (isIndexedJob(job)) {
    left = [];
    const completions = completionsOf(job);
    const sorted = [...pods].sort(byCompletionIndex);
    const groups = new Map<number, Pod[]>();
    for (const p of sorted) {
      const ix = getCompletionIndex(p.metadata?.annotations);
      if (ix === UNKNOWN_INDEX || ix >= completions) {
        rm.push(p);
        continue;
      }
      let g = groups.get(ix);
      if (!g) groups.set(ix, (g = []));
      g.push(p);
    }
    for (const g of groups.values()) {
      if (g.length === 1) {
        left.push(g[0]!);
        continue;
      }
      sortActivePods(g);
      rm = rm.concat(g.slice(0, -1));
      left.push(g[g.length - 1]!);
    }
  } else {
    left = [...pods];
  }
  if (rm.length < rmAtLeast) {
    sortActivePods(left);
    rm = rm.concat(left.slice(0, rmAtLeast - rm.length));
  }
  return rm;
}

/** The downward-API env var JOB_COMPLETION_INDEX, added to every container that lacks it. */
export function addCompletionIndexEnvVariables(template: PodTemplateSpec): void {
  const add = (c: Container) => {
    if ((c.env ?? []).some((e) => e.name === COMPLETION_INDEX_ENV)) return;
    c.env = [...(c.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } }];
  };
  for (const c of template.spec?.initContainers ?? []) add(c);
  for (const c of template.spec?.containers ?? []) add(c);
}

/** The failure counts a replacement pod of an index inherits from the failed pod it replaces. */
export function newIndexFailureCounts(job: Job, replaced: Pod | undefined): { failures: number; ignored: number } {
  if (!replaced) return { failures: 0, ignored: 0 };
  let failures = indexFailureCount(replaced);
  let ignored = indexIgnoredFailureCount(replaced);
  if (job.spec?.podFailurePolicy && !matchPodFailurePolicy(job.spec.podFailurePolicy, replaced).countFailed) ignored++;
  else failures++;
  return { failures, ignored };
}

/** Indexes (ascending, `count` at most, below completions) not active, succeeded, failed or (Failed policy) terminating. */
export function firstPendingIndexes(ctx: Pick<SyncCtx, 'job' | 'pods' | 'activePods' | 'succeededIndexes' | 'failedIndexes'>, count: number, completions: number): number[] {
  if (count === 0) return [];
  let nonPending = ctx.succeededIndexes.withOrderedIndexes(sortedIndexes(indexesOf(ctx.activePods)));
  if (onlyReplaceFailedPods(ctx.job)) nonPending = nonPending.withOrderedIndexes(sortedIndexes(indexesOf(ctx.pods.filter(isPodTerminating))));
  if (ctx.failedIndexes) nonPending = nonPending.merge(ctx.failedIndexes);
  const out: number[] = [];
  let candidate = 0;
  for (const iv of nonPending.intervals) {
    for (; candidate < completions && out.length < count && candidate < iv.first; candidate++) out.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && out.length < count; candidate++) out.push(candidate);
  return out;
}

export interface SyncCtx {
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  finishedCondition: JobCondition | undefined;
  succeeded: number;
  failed: number;
  prevSucceededIndexes: OrderedIntervals;
  succeededIndexes: OrderedIntervals;
  failedIndexes: OrderedIntervals | undefined;
  newBackoffRecord: BackoffRecord;
  expectedRmFinalizers: Set<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  podsWithDelayedDeletionPerIndex: Map<number, Pod>;
  terminating: number;
  ready: number;
}

/** Pods with the finalizer, not yet in the uncounted set, with a valid index for Indexed Jobs, passing `filter`. */
function validPodsWithFilter(ctx: SyncCtx, uncounted: Set<string> | undefined, filter: (p: Pod) => boolean): Pod[] {
  const out: Pod[] = [];
  for (const p of ctx.pods) {
    const uid = p.metadata?.uid ?? '';
    if (!hasJobTrackingFinalizer(p) || uncounted?.has(uid) || ctx.expectedRmFinalizers.has(uid)) continue;
    if (isIndexedJob(ctx.job)) {
      const ix = getCompletionIndex(p.metadata?.annotations);
      if (ix === UNKNOWN_INDEX || ix >= completionsOf(ctx.job)) continue;
    }
    if (filter(p)) out.push(p);
  }
  return out;
}

/**
 * For backoffLimitPerIndex: per pending index, the last failed pod whose finalizer stays until its replacement exists,
 * so the replacement can inherit its failure count.
 */
function podsWithDelayedDeletionPerIndex(ctx: SyncCtx): Map<number, Pod> {
  const active = indexesOf(ctx.activePods);
  const out = new Map<number, Pod>();
  validPodsWithFilter(ctx, undefined, (p) => {
    if (!isPodFailed(p, ctx.job)) return false;
    const ix = getCompletionIndex(p.metadata?.annotations);
    if (ix === UNKNOWN_INDEX || ix >= completionsOf(ctx.job)) return false;
    if (ctx.succeededIndexes.has(ix) || ctx.failedIndexes?.has(ix) || active.has(ix)) return false;
    const last = out.get(ix);
    if (!last || (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) && getFinishedTime(p) >= getFinishedTime(last))) out.set(ix, p);
    return false;
  });
  return out;
}

function canRemoveFinalizer(ctx: SyncCtx, pod: Pod, considerFailed: boolean): boolean {
  if (ctx.job.metadata?.deletionTimestamp || ctx.finishedCondition || pod.status?.phase === 'Succeeded') return true;
  if (!considerFailed) return false;
  if (hasBackoffLimitPerIndex(ctx.job)) {
    const ix = getCompletionIndex(pod.metadata?.annotations);
    if (ix !== UNKNOWN_INDEX && ctx.podsWithDelayedDeletionPerIndex.get(ix)?.metadata?.uid === pod.metadata?.uid) return false;
  }
  return true;
}

/** Move uncounted UIDs whose pods no longer hold the finalizer into the counters; returns whether anything moved. */
function cleanUncountedPodsWithoutFinalizers(status: JobStatus, uidsWithFinalizer: Set<string>): boolean {
  let updated = false;
  const u = (status.uncountedTerminatedPods ??= {});
  const succeeded = (u.succeeded ?? []).filter((x) => uidsWithFinalizer.has(x));
  if (succeeded.length !== (u.succeeded ?? []).length) {
    updated = true;
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded ?? []).length - succeeded.length;
    u.succeeded = succeeded;
  }
  const failed = (u.failed ?? []).filter((x) => uidsWithFinalizer.has(x));
  if (failed.length !== (u.failed ?? []).length) {
    updated = true;
    status.failed = (status.failed ?? 0) + (u.failed ?? []).length - failed.length;
    u.failed = failed;
  }
  return updated;
}

/** The status as upstream serialises it: empty uncounted lists and zero counters left out. */
function normalizeStatus(status: JobStatus): JobStatus {
  const out: JobStatus = { ...status };
  const u = status.uncountedTerminatedPods ?? {};
  out.uncountedTerminatedPods = { ...(u.succeeded?.length ? { succeeded: u.succeeded } : {}), ...(u.failed?.length ? { failed: u.failed } : {}) };
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!out[k]) delete out[k];
  if (!out.completedIndexes) delete out.completedIndexes;
  if (!out.conditions?.length) delete out.conditions;
  return out;
}

const removeFinalizerPatch = { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } };

export interface JobControllerOptions {
  workers?: number;
  /** Delay for syncs triggered by pod events and status updates (upstream: 1 s); tests may use 0. */
  syncBatchPeriodMs?: number;
}

export class JobController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly orphanQueue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  readonly finalizerExpectations = new FinalizerExpectations();
  readonly backoff = new BackoffStore();
  readonly recorder: CoreEventRecorder;
  private readonly jobInformer: SharedIndexInformer<Job>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly jobs: ResourceClient<Job>;
  private readonly pods: ResourceClient<Pod>;
  private readonly podControl: PodControl;
  private readonly batchMs: number;
  private readonly superseded = new SupersededVersions();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: JobControllerOptions = {},
  ) {
    const limiter = () => new ItemExponentialFailureRateLimiter<string>(API_BACKOFF_MS, MAX_API_BACKOFF_MS);
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, rateLimiter: limiter() });
    this.orphanQueue = new RateLimitingQueue<string>({ clock: ctx.clock, rateLimiter: limiter() });
    this.expectations = new ControllerExpectations(ctx.clock);
    this.batchMs = opts.syncBatchPeriodMs ?? SYNC_JOB_BATCH_PERIOD_MS;
    this.jobs = ctx.client.resource<Job>(JOBS);
    this.pods = ctx.client.resource<Pod>(PODS);
    this.recorder = new CoreEventRecorder(ctx.client, {
      component: 'job-controller',
      clock: ctx.clock,
      onError: (err) => ctx.log.debug('job event not recorded', { err }),
    });
    this.podControl = new PodControl(this.pods, this.recorder);
    this.jobInformer = ctx.informers.informerFor<Job>(JOBS);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.enqueue(job, 0),
      onUpdate: (old, cur) => this.updateJob(old, cur),
      onDelete: (obj) => this.deleteJob(obj),
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (obj) => this.deletePod(deletedObject(obj), true),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => (await this.jobInformer.waitForCacheSync()) && (await this.podInformer.waitForCacheSync());
    const workers = this.opts.workers ?? 5;
    return Promise.all([
      runQueueController({ name: 'job', waitForSync, queue: this.queue, workers, sync: (k) => this.syncJob(k), log: this.ctx.log }, signal),
      (async () => {
        const stop = () => this.orphanQueue.shutDown();
        if (signal.aborted) return stop();
        signal.addEventListener('abort', stop, { once: true });
        await runWorkers(this.orphanQueue, 1, (k) => this.syncOrphanPod(k), {
          onError: (key, err) => this.ctx.log.warn('orphan pod sync failed, will retry', { controller: 'job', key, err }),
        });
      })(),
    ]).then(async () => {
      await this.recorder.flush();
    });
  }

  // ---- event handlers: they only enqueue keys and track expectations ----

  private enqueue(job: Job, delayMs: number): void {
    this.queue.addAfter(metaNamespaceKey(job), delayMs);
  }

  private resolveControllerRef(namespace: string | undefined, ref: { kind?: string; name?: string; uid?: string }): Job | undefined {
    if (ref.kind !== JOB_KIND.kind || !namespace || !ref.name) return undefined;
    const job = this.jobInformer.lister().namespace(namespace).get(ref.name);
    return job && job.metadata?.uid === ref.uid ? job : undefined;
  }

  /** Jobs in the pod's namespace whose selector matches it (candidates to adopt an orphan). */
  private podJobs(pod: Pod): Job[] {
    const ns = pod.metadata?.namespace;
    if (!ns) return [];
    return this.jobInformer
      .lister()
      .namespace(ns)
      .list()
      .filter((j) => j.spec?.selector && labelSelectorAsSelector(j.spec.selector).matches(pod.metadata?.labels));
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // A pod already being deleted when first seen (a restart): not a creation observation.
      this.deletePod(pod, false);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const job = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!job) {
        if (ref.kind === JOB_KIND.kind && hasJobTrackingFinalizer(pod)) this.orphanQueue.add(metaNamespaceKey(pod));
        return;
      }
      this.expectations.creationObserved(metaNamespaceKey(job));
      this.enqueue(job, this.batchMs);
      return;
    }
    if (hasJobTrackingFinalizer(pod)) this.orphanQueue.add(metaNamespaceKey(pod));
    for (const job of this.podJobs(pod)) this.enqueue(job, this.batchMs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (cur.metadata?.resourceVersion === old.metadata?.resourceVersion) return; // a resync
    if (cur.metadata?.deletionTimestamp) {
      this.deletePod(cur, false);
      return;
    }
    const finalizerRemoved = !hasJobTrackingFinalizer(cur);
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = JSON.stringify(curRef) !== JSON.stringify(oldRef);
    if (refChanged && oldRef) {
      const job = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (job) {
        if (finalizerRemoved) this.finalizerExpectations.observed(metaNamespaceKey(job), cur.metadata?.uid ?? '');
        this.enqueue(job, this.batchMs);
      }
    }
    if (curRef) {
      const job = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (!job) {
        // Its Job is gone (maybe deleted before this update reached the cache): the finalizer must not outlive it.
        if (curRef.kind === JOB_KIND.kind && hasJobTrackingFinalizer(cur)) this.orphanQueue.add(metaNamespaceKey(cur));
        return;
      }
      if (finalizerRemoved) this.finalizerExpectations.observed(metaNamespaceKey(job), cur.metadata?.uid ?? '');
      this.enqueue(job, this.batchMs);
      return;
    }
    if (hasJobTrackingFinalizer(cur)) this.orphanQueue.add(metaNamespaceKey(cur));
    const labelsChanged = JSON.stringify(cur.metadata?.labels ?? {}) !== JSON.stringify(old.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.podJobs(cur)) this.enqueue(job, this.batchMs);
  }

  private deletePod(pod: Pod, final: boolean): void {
    const ref = getControllerOf(pod);
    const hasFinalizer = hasJobTrackingFinalizer(pod);
    if (!ref) {
      if (hasFinalizer) this.orphanQueue.add(metaNamespaceKey(pod));
      return;
    }
    const job = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer) this.orphanQueue.add(metaNamespaceKey(pod));
      return;
    }
    const key = metaNamespaceKey(job);
    this.expectations.deletionObserved(key);
    if (final || !hasFinalizer) this.finalizerExpectations.observed(key, pod.metadata?.uid ?? '');
    this.enqueue(job, this.batchMs);
  }

  private updateJob(old: Job, cur: Job): void {
    // Spec changes sync at once; status-only updates are batched like pod events.
    this.enqueue(cur, cur.metadata?.generation === old.metadata?.generation ? this.batchMs : 0);
    if (isJobFinished(cur)) this.cleanupPodFinalizers(cur);
    const start = cur.status?.startTime;
    const ads = cur.spec?.activeDeadlineSeconds;
    if (start && ads !== undefined && ads !== null && old.spec?.activeDeadlineSeconds !== ads) {
      this.queue.addAfter(metaNamespaceKey(cur), ads * 1000 - (this.ctx.clock.now() - Date.parse(start)));
    }
  }

  private deleteJob(obj: Job | DeletedFinalStateUnknown<Job>): void {
    const job = deletedObject(obj);
    this.enqueue(job, 0);
    this.cleanupPodFinalizers(job);
  }

  /** Pods of a finished or deleted Job that still hold the finalizer go to the orphan queue. */
  private cleanupPodFinalizers(job: Job): void {
    const ns = job.metadata?.namespace;
    if (!ns || !job.spec?.selector) return;
    const selector = labelSelectorAsSelector(job.spec.selector);
    for (const pod of this.podInformer.lister().namespace(ns).list(selector)) {
      if (getControllerOf(pod)?.uid === job.metadata?.uid && hasJobTrackingFinalizer(pod)) this.orphanQueue.add(metaNamespaceKey(pod));
    }
  }

  private event(job: Job, type: EventType, reason: string, message: string): void {
    this.recorder.event(withKind(job), type, reason, message);
  }

  // ---- orphan pods ----

  async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.podInformer.lister().namespace(namespace).get(name);
    if (!pod) return;
    const ref = getControllerOf(pod);
    if (ref) {
      // Owned by something other than a batch/v1 Job: not ours to touch.
      if (ref.kind !== JOB_KIND.kind || ref.apiVersion !== JOB_KIND.apiVersion) return;
      let job = this.resolveControllerRef(namespace, ref);
      if (!job && ref.name) {
        // The cache may not know the Job yet: ask the server before taking the finalizer away.
        try {
          const live = await this.jobs.get(ref.name, { namespace });
          if (live.metadata?.uid === ref.uid) job = live;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      if (job && !isJobFinished(job)) return; // adopted, the Job's sync handles it
    }
    if (!hasJobTrackingFinalizer(pod)) return;
    try {
      await this.pods.patch(name, removeFinalizerPatch, { namespace, type: 'strategic' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // ---- the sync ----

  /** The Job's pods after adopting matching orphans (their finalizer added) and releasing pods that stopped matching. */
  private async getPodsForJob(job: Job): Promise<Pod[]> {
    const ns = job.metadata?.namespace ?? '';
    const selector = labelSelectorAsSelector(job.spec?.selector);
    const all = this.podInformer.lister().namespace(ns).list();
    const manager = new ControllerRefManager<Pod>({
      controller: job,
      controllerKind: JOB_KIND,
      selector,
      client: this.pods,
      canAdopt: recheckDeletionTimestamp(() => this.jobs.get(job.metadata?.name ?? '', { namespace: ns }), job, 'Job'),
    });
    const claimed = await manager.claim(all);
    const uid = job.metadata?.uid;
    const out: Pod[] = [];
    for (const p of claimed) {
      const adopted = !(p.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
      if (adopted && !hasJobTrackingFinalizer(p)) {
        // An adopted pod is tracked like one we created.
        await this.pods.patch(p.metadata?.name ?? '', { metadata: { finalizers: [JOB_TRACKING_FINALIZER] } }, { namespace: ns, type: 'strategic' }).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        const copy = deepClone(p);
        copy.metadata = { ...copy.metadata, finalizers: [...(p.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER] };
        out.push(copy);
      } else {
        out.push(p);
      }
    }
    return out;
  }

  async syncJob(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    if (!namespace || !name) throw new Error(`invalid job key "${key}": either namespace or name is missing`);
    const shared = this.jobInformer.lister().namespace(namespace).get(name);
    if (!shared) {
      this.expectations.deleteExpectations(key);
      this.finalizerExpectations.delete(key);
      this.backoff.remove(key);
      this.superseded.forget(key);
      return;
    }
    if (this.superseded.isStale(key, shared.metadata?.resourceVersion)) return;
    const job = deepClone(shared);
    if (isJobFinished(job)) {
      this.backoff.remove(key);
      return;
    }
    const mode = job.spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const clock = this.ctx.clock;
    const spec = job.spec!;
    job.status = { ...(job.status ?? {}) };
    const status = job.status;
    status.uncountedTerminatedPods = {
      succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
    };
    // Expectations first: a pod created after this point is seen by a later sync.
    const satisfied = this.expectations.satisfiedExpectations(key);
    // Read before the pod snapshot, in the same step: getPodsForJob awaits (claims may call the API), and a finalizer
    // removal observed meanwhile would clear the expectation while the snapshot still shows the finalizer, so the
    // pod, already moved into the counters, would be counted a second time.
    const expectedRmFinalizers = this.finalizerExpectations.expected(key);
    const pods = await this.getPodsForJob(job);
    const activePods = filterActivePods(pods);
    const sc: SyncCtx = {
      job,
      pods,
      activePods,
      finishedCondition: undefined,
      succeeded: 0,
      failed: 0,
      prevSucceededIndexes: new OrderedIntervals(),
      succeededIndexes: new OrderedIntervals(),
      failedIndexes: undefined,
      newBackoffRecord: { key, failuresAfterLastSuccess: 0 },
      expectedRmFinalizers,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed),
      podsWithDelayedDeletionPerIndex: new Map(),
      terminating: pods.filter(isPodTerminating).length,
      ready: activePods.filter(isPodReady).length,
    };
    let active = activePods.length;
    const newSucceeded = validPodsWithFilter(sc, sc.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = validPodsWithFilter(sc, sc.uncountedFailed, (p) => isPodFailed(p, job));
    const nonIgnoredFailed = spec.podFailurePolicy ? newFailed.filter((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed).length : newFailed.length;
    sc.succeeded = (status.succeeded ?? 0) + newSucceeded.length + sc.uncountedSucceeded.size;
    sc.failed = (status.failed ?? 0) + nonIgnoredFailed + sc.uncountedFailed.size;

    // First start; a suspended Job has not started.
    if (!status.startTime && !jobSuspended(job)) status.startTime = formatTime(new Date(clock.now()));
    sc.newBackoffRecord = this.backoff.newRecord(key, newSucceeded, newFailed);

    let manageJobErr: unknown;
    const backoffLimit = spec.backoffLimit ?? 6;
    const exceedsBackoffLimit = sc.failed > backoffLimit;
    // A Job that already met its success criteria is not failed by later pod failures.
    const met = findCondition(status.conditions, 'SuccessCriteriaMet');
    if (met?.status === 'True') sc.finishedCondition = met;
    if (!sc.finishedCondition) {
      const target = findCondition(status.conditions, 'FailureTarget');
      if (target?.status === 'True') {
        sc.finishedCondition = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', clock.now());
      } else {
        const msg = getFailJobMessage(job, pods);
        if (msg !== undefined) sc.finishedCondition = newCondition('FailureTarget', 'True', JOB_REASON.PodFailurePolicy, msg, clock.now());
      }
    }
    if (!sc.finishedCondition) {
      if (exceedsBackoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        sc.finishedCondition = newCondition('FailureTarget', 'True', JOB_REASON.BackoffLimitExceeded, 'Job has reached the specified backoff limit', clock.now());
      } else if (this.pastActiveDeadline(job)) {
        sc.finishedCondition = newCondition('FailureTarget', 'True', JOB_REASON.DeadlineExceeded, 'Job was active longer than specified deadline', clock.now());
      } else if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null && !jobSuspended(job) && status.startTime) {
        this.queue.addAfter(key, spec.activeDeadlineSeconds * 1000 - (clock.now() - Date.parse(status.startTime)));
      }
    }

    if (isIndexedJob(job)) {
      const { prev, next } = calculateSucceededIndexes(job, pods);
      sc.prevSucceededIndexes = prev;
      sc.succeededIndexes = next;
      sc.succeeded = next.total();
      if (hasBackoffLimitPerIndex(job)) {
        sc.failedIndexes = calculateFailedIndexes(job, pods);
        if (!sc.finishedCondition) {
          const failedTotal = sc.failedIndexes.total();
          if (spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes !== null && failedTotal > spec.maxFailedIndexes) {
            sc.finishedCondition = newCondition(
              'FailureTarget',
              'True',
              JOB_REASON.MaxFailedIndexesExceeded,
              'Job has exceeded the specified maximal number of failed indexes',
              clock.now(),
            );
          } else if (failedTotal > 0 && failedTotal + sc.succeededIndexes.total() >= completionsOf(job)) {
            sc.finishedCondition = newCondition('FailureTarget', 'True', JOB_REASON.FailedIndexes, 'Job has failed indexes', clock.now());
          }
        }
        sc.podsWithDelayedDeletionPerIndex = podsWithDelayedDeletionPerIndex(sc);
      }
      if (!sc.finishedCondition) {
        const msg = matchSuccessPolicy(spec.successPolicy, completionsOf(job), sc.succeededIndexes);
        if (msg !== undefined) sc.finishedCondition = newCondition('SuccessCriteriaMet', 'True', JOB_REASON.SuccessPolicy, msg, clock.now());
      }
    }

    let suspendCondChanged = false;
    if (sc.finishedCondition) {
      // Finishing: delete what still runs; declare the end only once every pod is accounted for.
      const { deleted, deletedReady, err } = await this.deleteActivePods(job, sc.activePods);
      if (deleted !== active || !satisfied) sc.finishedCondition = undefined;
      active -= deleted;
      sc.terminating += deleted;
      sc.ready -= deletedReady;
      manageJobErr = err;
    } else {
      let manageJobCalled = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        try {
          active = await this.manageJob(job, sc, key);
        } catch (err) {
          manageJobErr = err instanceof ManageJobError ? err.err : err;
          if (err instanceof ManageJobError) active = err.active;
        }
        manageJobCalled = true;
      }
      const complete =
        spec.completions === undefined || spec.completions === null ? sc.succeeded > 0 && active === 0 : sc.succeeded >= spec.completions && active === 0;
      if (complete) {
        sc.finishedCondition = newCondition('SuccessCriteriaMet', 'True', JOB_REASON.CompletionsReached, 'Reached expected number of succeeded pods', clock.now());
      } else if (manageJobCalled) {
        if (jobSuspended(job)) {
          const r = ensureJobConditionStatus(status.conditions ?? [], 'Suspended', 'True', 'JobSuspended', 'Job suspended', clock.now());
          status.conditions = r.list;
          if (r.changed) {
            suspendCondChanged = true;
            this.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else {
          const r = ensureJobConditionStatus(status.conditions ?? [], 'Suspended', 'False', 'JobResumed', 'Job resumed', clock.now());
          status.conditions = r.list;
          if (r.changed) {
            suspendCondChanged = true;
            this.event(job, 'Normal', 'Resumed', 'Job resumed');
            // activeDeadlineSeconds counts continuous activity: a resumed Job starts again now.
            status.startTime = formatTime(new Date(clock.now()));
          }
        }
      }
    }

    const needsStatusUpdate =
      suspendCondChanged || active !== (shared.status?.active ?? 0) || sc.ready !== shared.status?.ready || sc.terminating !== shared.status?.terminating;
    status.active = active;
    status.ready = sc.ready;
    status.terminating = sc.terminating;
    await this.trackJobStatusAndRemoveFinalizers(sc, needsStatusUpdate);
    if (manageJobErr !== undefined) throw manageJobErr;
  }

  /** PUT the status; remembers the version it replaced, so a cache still showing that version is known to be stale. */
  private async writeStatus(job: Job): Promise<Job> {
    const key = metaNamespaceKey(job);
    const before = job.metadata?.resourceVersion;
    const written = await this.jobs.updateStatus(withStatus(job));
    this.superseded.replaced(key, before);
    return written;
  }

  private pastActiveDeadline(job: Job): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (ads === undefined || ads === null || !start || jobSuspended(job)) return false;
    return this.ctx.clock.now() - Date.parse(start) >= ads * 1000;
  }

  /** Delete the active pods of a finishing Job, keeping their finalizers (the tracking removes them). */
  private async deleteActivePods(job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; err?: unknown }> {
    let deleted = pods.length;
    let deletedReady = 0;
    let firstErr: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.podControl.deletePod(job.metadata?.namespace ?? '', pod.metadata?.name ?? '', withKind(job));
        } catch (err) {
          if (!isNotFound(err)) {
            deleted--;
            firstErr ??= err;
          }
        }
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, err: firstErr };
  }

  /** Delete surplus pods of a running Job: finalizer first (they are not counted), then the pod. */
  private async deleteJobPods(job: Job, key: string, pods: readonly Pod[]): Promise<{ removed: number; removedReady: number; err?: unknown }> {
    let removed = pods.length;
    let removedReady = 0;
    let firstErr: unknown;
    const fail = (err: unknown) => {
      this.expectations.deletionObserved(key);
      if (!isNotFound(err)) {
        removed--;
        firstErr ??= err;
      }
    };
    await Promise.all(
      pods.map(async (pod) => {
        const ns = pod.metadata?.namespace ?? '';
        const name = pod.metadata?.name ?? '';
        if (hasJobTrackingFinalizer(pod)) {
          try {
            await this.pods.patch(name, removeFinalizerPatch, { namespace: ns, type: 'strategic' });
          } catch (err) {
            fail(err);
            return;
          }
        }
        try {
          await this.podControl.deletePod(job.metadata?.namespace ?? '', name, withKind(job));
        } catch (err) {
          fail(err);
        }
        if (isPodReady(pod)) removedReady++;
      }),
    );
    return { removed, removedReady, err: firstErr };
  }

  /** Create or delete pods towards the wanted number of active pods; returns the new active count. */
  private async manageJob(job: Job, sc: SyncCtx, key: string): Promise<number> {
    const spec = job.spec!;
    let active = sc.activePods.length;
    const parallelism = spec.parallelism ?? 1;

    if (jobSuspended(job)) {
      const toDelete = activePodsForRemoval(job, sc.activePods, active);
      this.expectations.expectDeletions(key, toDelete.length);
      const { removed, removedReady, err } = await this.deleteJobPods(job, key, toDelete);
      active -= removed;
      sc.terminating += removed;
      sc.ready -= removedReady;
      if (err !== undefined) throw new ManageJobError(err, active);
      return active;
    }

    let wantActive: number;
    if (spec.completions === undefined || spec.completions === null) {
      // Without completions any success ends the Job: leave what runs, start nothing new.
      wantActive = sc.succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(spec.completions - sc.succeeded, parallelism));
    }

    const rmAtLeast = Math.max(0, active - wantActive);
    let toDelete = activePodsForRemoval(job, sc.activePods, rmAtLeast);
    if (toDelete.length > MAX_POD_CREATE_DELETE_PER_SYNC) toDelete = toDelete.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (toDelete.length > 0) {
      // Deleting takes precedence over creating within one sync.
      this.expectations.expectDeletions(key, toDelete.length);
      const { removed, removedReady, err } = await this.deleteJobPods(job, key, toDelete);
      active -= removed;
      sc.terminating += removed;
      sc.ready -= removedReady;
      if (err !== undefined) throw new ManageJobError(err, active);
      return active;
    }

    const terminating = onlyReplaceFailedPods(job) ? sc.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;

    if (!hasBackoffLimitPerIndex(job)) {
      const wait = remainingTime(this.ctx.clock, sc.newBackoffRecord);
      if (wait > 0) {
        this.queue.addAfter(key, Math.max(wait, this.batchMs));
        return 0;
      }
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexesToAdd: number[] = [];
    if (isIndexedJob(job)) {
      indexesToAdd = firstPendingIndexes(sc, diff, completionsOf(job));
      if (hasBackoffLimitPerIndex(job)) {
        const now: number[] = [];
        let minWait: number | undefined;
        for (const ix of indexesToAdd) {
          const wait = remainingTimePerIndex(this.ctx.clock, sc.podsWithDelayedDeletionPerIndex.get(ix));
          if (wait === 0) now.push(ix);
          else if (minWait === undefined || wait < minWait) minWait = wait;
        }
        if (now.length === 0 && minWait !== undefined && minWait > 0) {
          this.queue.addAfter(key, Math.max(minWait, this.batchMs));
          return 0;
        }
        indexesToAdd = now;
      }
      diff = indexesToAdd.length;
    }
    if (diff <= 0) return active;

    this.expectations.expectCreations(key, diff);
    active += diff;
    const template = deepClone(spec.template ?? {});
    if (isIndexedJob(job)) addCompletionIndexEnvVariables(template);
    template.metadata = { ...(template.metadata ?? {}) };
    if (!(template.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) {
      template.metadata.finalizers = [...(template.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    }
    const ref = newControllerRef(job, JOB_KIND);
    const ns = job.metadata?.namespace ?? '';
    let firstErr: unknown;
    const createOne = async (index: number): Promise<void> => {
      let t = template;
      let generateName: string | undefined;
      if (index !== UNKNOWN_INDEX) {
        t = deepClone(template);
        const meta = (t.metadata ??= {});
        meta.annotations = { ...(meta.annotations ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
        meta.labels = { ...(meta.labels ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
        t.spec = { ...(t.spec ?? { containers: [] }), hostname: `${job.metadata?.name}-${index}` };
        generateName = podGenerateNameWithIndex(job.metadata?.name ?? '', index);
        if (hasBackoffLimitPerIndex(job)) {
          const counts = newIndexFailureCounts(job, sc.podsWithDelayedDeletionPerIndex.get(index));
          meta.annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = String(counts.failures);
          if (counts.ignored > 0) meta.annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(counts.ignored);
        }
      }
      try {
        await this.podControl.createPod(ns, t, withKind(job), ref, generateName);
      } catch (err) {
        // A terminating namespace refuses all creations: nothing to retry or report.
        if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
        this.expectations.creationObserved(key);
        active--;
        firstErr ??= err;
      }
    };
    // Slow start: batches of 1, 2, 4 ... so a failing create (quota, admission) is not repeated hundreds of times.
    for (let batch = Math.min(diff, SLOW_START_INITIAL_BATCH_SIZE); diff > 0; batch = Math.min(2 * batch, diff)) {
      const hadError = firstErr !== undefined;
      const indexes = Array.from({ length: batch }, () => (indexesToAdd.length > 0 ? indexesToAdd.shift()! : UNKNOWN_INDEX));
      await Promise.all(indexes.map((ix) => createOne(ix)));
      const skipped = diff - batch;
      if (!hadError && firstErr !== undefined && skipped > 0) {
        active -= skipped;
        for (let i = 0; i < skipped; i++) this.expectations.creationObserved(key);
        break;
      }
      diff -= batch;
    }
    if (firstErr !== undefined) throw new ManageJobError(firstErr, active);
    return active;
  }

  /**
   * Record finished pods in uncountedTerminatedPods (or completedIndexes), remove their finalizers, move them into the
   * counters, and once nothing is uncounted or terminating, set the terminal condition.
   */
  private async trackJobStatusAndRemoveFinalizers(sc: SyncCtx, needsFlush: boolean): Promise<void> {
    const job = sc.job;
    const status = job.status!;
    const isIndexed = isIndexedJob(job);
    const uncounted = status.uncountedTerminatedPods!;
    const podsToRemoveFinalizer: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    const pods = isIndexed ? [...sc.pods].sort(byCompletionIndex) : sc.pods;
    const uidsWithFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (hasJobTrackingFinalizer(p) && !sc.expectedRmFinalizers.has(uid)) uidsWithFinalizer.add(uid);
    }
    if (cleanUncountedPodsWithoutFinalizers(status, uidsWithFinalizer)) needsFlush = true;
    let reachedMaxUncounted = false;
    const completions = completionsOf(job);
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasJobTrackingFinalizer(pod) || sc.expectedRmFinalizers.has(uid)) continue; // counted in an earlier sync
      const considerFailed = isPodFailed(pod, job);
      if (!canRemoveFinalizer(sc, pod, considerFailed)) continue;
      podsToRemoveFinalizer.push(pod);
      if (pod.status?.phase === 'Succeeded' && !sc.uncountedFailed.has(uid)) {
        if (isIndexed) {
          // The index alone tells whether it was counted.
          const ix = getCompletionIndex(pod.metadata?.annotations);
          if (ix !== UNKNOWN_INDEX && ix < completions && !sc.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!sc.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          uncounted.succeeded = [...(uncounted.succeeded ?? []), uid];
        }
      } else if (considerFailed || (sc.finishedCondition && sc.finishedCondition.type !== 'SuccessCriteriaMet')) {
        // A finishing Job counts every pod that did not succeed as failed.
        const ix = getCompletionIndex(pod.metadata?.annotations);
        if (!sc.uncountedFailed.has(uid) && (!isIndexed || (ix !== UNKNOWN_INDEX && ix < completions))) {
          const countFailed = job.spec?.podFailurePolicy ? matchPodFailurePolicy(job.spec.podFailurePolicy, pod).countFailed : true;
          if (countFailed) {
            needsFlush = true;
            uncounted.failed = [...(uncounted.failed ?? []), uid];
          }
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded ?? []).length + (uncounted.failed ?? []).length >= MAX_UNCOUNTED_PODS) {
        // Enough for one status write; the rest waits for the next sync.
        reachedMaxUncounted = true;
        break;
      }
    }
    if (isIndexed) {
      sc.succeededIndexes = sc.succeededIndexes.withOrderedIndexes(newSucceededIndexes.sort((a, b) => a - b));
      const text = sc.succeededIndexes.toString();
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = sc.succeededIndexes.total();
      status.completedIndexes = text;
      const failedText = sc.failedIndexes ? sc.failedIndexes.toString() : undefined;
      if ((status.failedIndexes ?? undefined) !== failedText) {
        if (failedText === undefined) delete status.failedIndexes;
        else status.failedIndexes = failedText;
        needsFlush = true;
      }
    }
    const now = this.ctx.clock.now();
    if (sc.finishedCondition?.type === 'FailureTarget') {
      // The interim condition is written before any finalizer goes; Failed follows once everything is counted.
      status.conditions = [...(status.conditions ?? []), sc.finishedCondition];
      needsFlush = true;
      sc.finishedCondition = newCondition('Failed', 'True', sc.finishedCondition.reason ?? '', sc.finishedCondition.message ?? '', now);
    }
    if (sc.finishedCondition?.type === 'SuccessCriteriaMet' && sc.finishedCondition.status === 'True') {
      if (findCondition(status.conditions, 'SuccessCriteriaMet')?.status !== 'True') {
        status.conditions = [...(status.conditions ?? []), sc.finishedCondition];
        needsFlush = true;
      }
      sc.finishedCondition = newCondition('Complete', 'True', sc.finishedCondition.reason ?? '', sc.finishedCondition.message ?? '', now);
    }
    needsFlush = await this.flushUncountedAndRemoveFinalizers(sc, podsToRemoveFinalizer, uidsWithFinalizer, needsFlush);
    const finished = !reachedMaxUncounted && this.enactJobFinished(sc);
    if (finished) needsFlush = true;
    if (needsFlush) {
      sc.job = await this.writeStatus(sc.job);
      if (finished) this.recordJobFinished(sc.job, sc.finishedCondition!);
    }
  }

  private async flushUncountedAndRemoveFinalizers(sc: SyncCtx, podsToRemoveFinalizer: readonly Pod[], uidsWithFinalizer: Set<string>, needsFlush: boolean): Promise<boolean> {
    const key = metaNamespaceKey(sc.job);
    if (needsFlush) {
      sc.job = await this.writeStatus(sc.job);
      sc.job.status = { ...(sc.job.status ?? {}) };
      sc.job.status.uncountedTerminatedPods = {
        succeeded: [...(sc.job.status.uncountedTerminatedPods?.succeeded ?? [])],
        failed: [...(sc.job.status.uncountedTerminatedPods?.failed ?? [])],
      };
      this.backoff.update(sc.newBackoffRecord);
      needsFlush = false;
    }
    let rmErr: unknown;
    if (podsToRemoveFinalizer.length > 0) {
      this.finalizerExpectations.expectRemoved(
        key,
        podsToRemoveFinalizer.map((p) => p.metadata?.uid ?? ''),
      );
      await Promise.all(
        podsToRemoveFinalizer.map(async (pod) => {
          const uid = pod.metadata?.uid ?? '';
          try {
            await this.pods.patch(pod.metadata?.name ?? '', removeFinalizerPatch, { namespace: pod.metadata?.namespace, type: 'strategic' });
            uidsWithFinalizer.delete(uid);
          } catch (err) {
            // No update will come for this pod: stop expecting it.
            this.finalizerExpectations.observed(key, uid);
            if (isNotFound(err)) uidsWithFinalizer.delete(uid);
            else rmErr ??= err;
          }
        }),
      );
    }
    if (cleanUncountedPodsWithoutFinalizers(sc.job.status!, uidsWithFinalizer)) needsFlush = true;
    if (rmErr !== undefined && needsFlush) sc.job = await this.writeStatus(sc.job);
    if (rmErr !== undefined) throw rmErr;
    return needsFlush;
  }

  /** Set Complete (with completionTime) or Failed once nothing is uncounted and no pod is terminating. */
  private enactJobFinished(sc: SyncCtx): boolean {
    const cond = sc.finishedCondition;
    if (!cond) return false;
    const status = sc.job.status!;
    const u = status.uncountedTerminatedPods;
    if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
    if (sc.terminating > 0) return false;
    const r = ensureJobConditionStatus(status.conditions ?? [], cond.type as ConditionType, 'True', cond.reason ?? '', cond.message ?? '', this.ctx.clock.now());
    status.conditions = r.list;
    if (cond.type === 'Complete') status.completionTime = findCondition(r.list, 'Complete')?.lastTransitionTime;
    return true;
  }

  private recordJobFinished(job: Job, cond: JobCondition): void {
    if (cond.type === 'Complete') {
      const completions = job.spec?.completions;
      if (completions !== undefined && completions !== null && (job.status?.succeeded ?? 0) > completions) {
        this.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.event(job, 'Warning', cond.reason ?? '', cond.message ?? '');
    }
  }
}

/** manageJob failed part-way: carries the active count it reached. */
class ManageJobError extends Error {
  constructor(
    readonly err: unknown,
    readonly active: number,
  ) {
    super(err instanceof Error ? err.message : String(err));
  }
}

function withKind(job: Job): Job {
  return { ...job, apiVersion: JOB_KIND.apiVersion, kind: JOB_KIND.kind };
}

function withStatus(job: Job): Job {
  return { ...withKind(job), status: normalizeStatus(job.status ?? {}) };
}

export const jobControllerDescriptor: ControllerDescriptor = {
  name: 'job',
  create: (ctx) => new JobController(ctx),
};
