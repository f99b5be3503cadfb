// Upstream's CronJob controller (pkg/controller/cronjob, ControllerV2, v1.31): each sync reconciles the CronJob's Jobs
// (active list, lastSuccessfulTime, history limits), then, unless suspended, creates the Job of the most recent missed
// schedule time — named "<cronjob>-<scheduled minutes since the epoch>" so a repeat sync cannot create it twice —
// honouring startingDeadlineSeconds and concurrencyPolicy, and requeues itself for the next schedule time.
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { isAlreadyExists, isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type Clock,
  type DeletedFinalStateUnknown,
  type EventType,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import { NAMESPACE_TERMINATING_CAUSE, SupersededVersions, getControllerOf, hasStatusCause, isControlledBy, newControllerRef } from '../common/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import { isValidTimeZone, localTimeZone, parseStandard, wallClock, zoneOffset, type Schedule } from '../../machinery/cron.js';

export const CRONJOB_KIND = { apiVersion: 'batch/v1', kind: 'CronJob' } as const;
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const CRONJOBS = { group: 'batch', version: 'v1', resource: 'cronjobs' };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
/** Upstream's nextScheduleDelta: wake a little after the schedule time, never just before it. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed start times than this are reported as TooManyMissedTimes. */
export const MANY_MISSED = 100;

export type MissedSchedules = 'none' | 'few' | 'many';

export interface MostRecent {
  earliestTime: number;
  mostRecentTime?: number;
  missed: MissedSchedules;
  error?: string;
}

const parseTime = (t: string | undefined | null): number | undefined => (t ? Date.parse(t) : undefined);

/**
 * The most recent schedule time not yet acted on, counting from lastScheduleTime (or creation) and, when asked, no
 * earlier than startingDeadlineSeconds ago. The number of misses is estimated from the interval between two
 * consecutive schedule times, as upstream does, so a decades-old CronJob does not walk every missed minute.
 */
export function mostRecentScheduleTime(cj: CronJob, nowMs: number, schedule: Schedule, includeStartingDeadline: boolean): MostRecent {
  let earliestTime = parseTime(cj.metadata?.creationTimestamp) ?? nowMs;
  const last = parseTime(cj.status?.lastScheduleTime);
  if (last !== undefined) earliestTime = last;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && sds !== undefined && sds !== null) {
    const deadline = nowMs - sds * 1000;
    if (deadline > earliestTime) earliestTime = deadline;
  }
  const t1 = schedule.next(earliestTime);
  const t2 = t1 === undefined ? undefined : schedule.next(t1);
  if (t1 !== undefined && nowMs < t1) return { earliestTime, missed: 'none' };
  if (t1 !== undefined && t2 !== undefined && nowMs < t2) return { earliestTime, mostRecentTime: t1, missed: 'none' };
  // A schedule that never fires (e.g. "59 23 31 2 *") yields no interval at all.
  const between = t1 === undefined || t2 === undefined ? 0 : Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliestTime, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((nowMs - t1!) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  // Start one interval before the estimate so irregular schedules ("30 6-16/4 * * 1-5") are walked exactly.
  const potentialEarliest = t1! + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = schedule.next(potentialEarliest); t !== undefined && t <= nowMs; t = schedule.next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > MANY_MISSED ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliestTime, mostRecentTime: mostRecent, missed };
}

/** The schedule time to act on now, if any (and whether too many were missed, for the warning). */
export function nextScheduleTime(cj: CronJob, nowMs: number, schedule: Schedule): { time?: number; tooManyMissed: boolean; error?: string } {
  const r = mostRecentScheduleTime(cj, nowMs, schedule, true);
  if (r.mostRecentTime === undefined || r.mostRecentTime > nowMs) return { tooManyMissed: false, error: r.error };
  return { time: r.mostRecentTime, tooManyMissed: r.missed === 'many', error: r.error };
}

/** How long until the next schedule time after the last one acted on (plus a small delta). */
export function nextScheduleTimeDuration(cj: CronJob, nowMs: number, schedule: Schedule): number {
  const r = mostRecentScheduleTime(cj, nowMs, schedule, false);
  // An error or misses without a recent time (the estimate overshot): aim for the next slot from now.
  const base = r.error !== undefined ? nowMs : (r.mostRecentTime ?? (r.missed === 'none' ? r.earliestTime : nowMs));
  const next = schedule.next(base);
  // A schedule that never fires again: look again in a day rather than spin.
  if (next === undefined) return 24 * 3_600_000;
  return next + NEXT_SCHEDULE_DELTA_MS - nowMs;
}

/** "<cronjob>-<scheduled time in minutes since the epoch>". */
export function getJobName(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata?.name ?? ''}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 in the zone, with its offset ("Z" for UTC), as Go's time.Format(time.RFC3339). */
export function formatRFC3339InZone(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  const pad = (n: number, l = 2) => String(n).padStart(l, '0');
  const base = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  const offMin = Math.round(zoneOffset(ms, tz) / 60_000);
  if (offMin === 0) return `${base}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${base}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The schedule string the controller parses: spec.timeZone becomes a TZ= prefix unless the schedule names one. */
export function formatSchedule(cj: CronJob): { schedule: string; unsupportedTZ: boolean } {
  const schedule = cj.spec?.schedule ?? '';
  if (schedule.includes('TZ')) return { schedule, unsupportedTZ: true };
  const tz = cj.spec?.timeZone;
  if (tz !== undefined && tz !== null) {
    if (!isValidTimeZone(tz)) return { schedule, unsupportedTZ: false };
    return { schedule: `TZ=${tz} ${schedule}`, unsupportedTZ: false };
  }
  return { schedule, unsupportedTZ: false };
}

/** The Job for one schedule time: the template's labels, annotations and spec, owned by the CronJob. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number): Job {
  const tmpl = cj.spec?.jobTemplate ?? {};
  const tz = cj.spec?.timeZone ? cj.spec.timeZone : 'UTC';
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: getJobName(cj, scheduledMs),
      namespace: cj.metadata?.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatRFC3339InZone(scheduledMs, tz) },
      ownerReferences: [newControllerRef(cj, CRONJOB_KIND)],
    },
    spec: deepClone(tmpl.spec ?? { template: {} }),
  };
}

export function jobFinishedType(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** Oldest first by status.startTime (jobs that never started last), then by name. */
export function byJobStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa === sb || (sa && sb && Date.parse(sa) === Date.parse(sb))) return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  return Date.parse(sa!) - Date.parse(sb!);
}

const inActiveList = (cj: CronJob, uid: string | undefined): boolean => (cj.status?.active ?? []).some((r) => r.uid === uid);
const inActiveListByName = (cj: CronJob, name: string): boolean => (cj.status?.active ?? []).some((r) => r.name === name && r.namespace === cj.metadata?.namespace);
function deleteFromActiveList(cj: CronJob, uid: string | undefined): void {
  const status = (cj.status ??= {});
  status.active = (status.active ?? []).filter((r) => r.uid !== uid);
}

const withKind = (cj: CronJob): CronJob => ({ ...cj, apiVersion: CRONJOB_KIND.apiVersion, kind: CRONJOB_KIND.kind });
const formatRFC1123Z = (ms: number): string => {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
};

export interface CronJobControllerOptions {
  workers?: number;
  /** Zone of schedules without TZ= or spec.timeZone (upstream: the controller manager's local zone). */
  defaultTimeZone?: string;
}

export class CronJobController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly recorder: CoreEventRecorder;
  readonly cronJobInformer: SharedIndexInformer<CronJob>;
  readonly jobInformer: SharedIndexInformer<Job>;
  private readonly cronJobs: ResourceClient<CronJob>;
  private readonly jobs: ResourceClient<Job>;
  private readonly clock: Clock;
  private readonly defaultTimeZone: string;
  private readonly superseded = new SupersededVersions();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: CronJobControllerOptions = {},
  ) {
    this.clock = ctx.clock;
    this.defaultTimeZone = opts.defaultTimeZone ?? localTimeZone();
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.cronJobs = ctx.client.resource<CronJob>(CRONJOBS);
    this.jobs = ctx.client.resource<Job>(JOBS);
    this.recorder = new CoreEventRecorder(ctx.client, {
      component: 'cronjob-controller',
      clock: ctx.clock,
      onError: (err) => ctx.log.debug('cronjob event not recorded', { err }),
    });
    this.cronJobInformer = ctx.informers.informerFor<CronJob>(CRONJOBS);
    this.jobInformer = ctx.informers.informerFor<Job>(JOBS);
    this.cronJobInformer.addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKey(cj)),
      onUpdate: (old, cur) => this.updateCronJob(old, cur),
      onDelete: (obj) => this.queue.add(metaNamespaceKey(deletedObject(obj))),
    });
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.enqueueOwner(job),
      onUpdate: (old, cur) => this.updateJob(old, cur),
      onDelete: (obj) => this.enqueueOwner(deletedObject(obj as Job | DeletedFinalStateUnknown<Job>)),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => (await this.cronJobInformer.waitForCacheSync()) && (await this.jobInformer.waitForCacheSync());
    return runQueueController(
      { name: 'cronjob', waitForSync, queue: this.queue, workers: this.opts.workers ?? 5, sync: (k) => this.syncKey(k), log: this.ctx.log },
      signal,
    ).then(() => this.recorder.flush());
  }

  private resolveControllerRef(namespace: string | undefined, ref: { kind?: string; name?: string; uid?: string }): CronJob | undefined {
    if (ref.kind !== CRONJOB_KIND.kind || !namespace || !ref.name) return undefined;
    const cj = this.cronJobInformer.lister().namespace(namespace).get(ref.name);
    return cj && cj.metadata?.uid === ref.uid ? cj : undefined;
  }

  private enqueueOwner(job: Job): void {
    const ref = getControllerOf(job);
    if (!ref) return;
    const cj = this.resolveControllerRef(job.metadata?.namespace, ref);
    if (cj) this.queue.add(metaNamespaceKey(cj));
  }

  private updateJob(old: Job, cur: Job): void {
    if (cur.metadata?.resourceVersion === old.metadata?.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    if (JSON.stringify(curRef) !== JSON.stringify(oldRef) && oldRef) this.enqueueOwner(old);
    this.enqueueOwner(cur);
  }

  private updateCronJob(old: CronJob, cur: CronJob): void {
    const key = metaNamespaceKey(cur);
    if (old.spec?.schedule !== cur.spec?.schedule || (old.spec?.timeZone ?? null) !== (cur.spec?.timeZone ?? null)) {
      // A new schedule: wait for its next time rather than the old one.
      try {
        const schedule = parseStandard(formatSchedule(cur).schedule, this.defaultTimeZone);
        this.queue.addAfter(key, nextScheduleTimeDuration(cur, this.clock.now(), schedule));
        return;
      } catch {
        // Unparseable: the sync reports it.
      }
    }
    this.queue.add(key);
  }

  private event(cj: CronJob, type: EventType, reason: string, message: string): void {
    this.recorder.event(withKind(cj), type, reason, message);
  }

  /** The queue's sync: errors retry with backoff; otherwise requeue at the next schedule time. */
  private async syncKey(key: string): Promise<void> {
    const requeueAfter = await this.sync(key);
    if (requeueAfter !== undefined) {
      this.queue.forget(key);
      this.queue.addAfter(key, requeueAfter);
    }
  }

  /** One reconcile; returns when to look again (undefined: not until something changes). */
  async sync(key: string): Promise<number | undefined> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.cronJobInformer.lister().namespace(namespace).get(name);
    if (!cached) {
      this.superseded.forget(key);
      return undefined;
    }
    // Acting on a copy our own status write replaced could start a Job twice.
    if (this.superseded.isStale(key, cached.metadata?.resourceVersion)) return undefined;
    // Every Job whose controller reference names this CronJob, matching labels or not.
    const jobs = this.jobInformer
      .lister()
      .namespace(namespace)
      .list()
      .filter((j) => getControllerOf(j)?.name === name);
    const cj = deepClone(cached);
    cj.status = { ...(cj.status ?? {}), active: [...(cj.status?.active ?? [])] };
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let result: { requeueAfter?: number; updateStatus: boolean; error?: unknown };
    try {
      result = await this.syncCronJob(cj, jobs);
    } catch (err) {
      result = { updateStatus: true, error: err };
    }
    if (cleaned || result.updateStatus) {
      const status = { ...cj.status };
      if (!status.active?.length) delete status.active;
      await this.cronJobs.updateStatus({ ...withKind(cj), status });
      this.superseded.replaced(key, cj.metadata?.resourceVersion);
    }
    if (result.error !== undefined) throw result.error;
    return result.requeueAfter;
  }

  private async syncCronJob(cj: CronJob, jobs: readonly Job[]): Promise<{ requeueAfter?: number; updateStatus: boolean }> {
    const now = this.clock.now();
    let updateStatus = false;
    const status = cj.status!;
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata?.uid ?? '';
      children.add(uid);
      const found = inActiveList(cj, uid);
      const finished = jobFinishedType(j);
      if (!found && !finished) {
        // Maybe our own status write is not in the cache yet: check the live object before complaining.
        const fresh = await this.cronJobs.get(cj.metadata?.name ?? '', { namespace: cj.metadata?.namespace });
        if (inActiveList(fresh, uid)) {
          cj.metadata = fresh.metadata;
          cj.spec = fresh.spec;
          const target = status as Record<string, unknown>;
          for (const k of Object.keys(target)) delete target[k];
          Object.assign(status, deepClone(fresh.status ?? {}));
          status.active = [...(status.active ?? [])];
          continue;
        }
        this.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
      } else if (found && finished) {
        deleteFromActiveList(cj, uid);
        this.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, condition: ${finished}`);
        updateStatus = true;
      } else if (finished === 'Complete') {
        // A succeeded job counts for lastSuccessfulTime whether or not it was in the active list.
        const completion = j.status?.completionTime;
        if (!status.lastSuccessfulTime) {
          status.lastSuccessfulTime = completion;
          updateStatus = true;
        }
        if (completion && status.lastSuccessfulTime && Date.parse(completion) > Date.parse(status.lastSuccessfulTime)) {
          status.lastSuccessfulTime = completion;
          updateStatus = true;
        }
      }
    }
    // Active entries whose Job is gone (checked live, the cache may lag).
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.jobs.get(ref.name ?? '', { namespace: ref.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        deleteFromActiveList(cj, ref.uid);
        updateStatus = true;
      }
    }
    if (cj.metadata?.deletionTimestamp) return { updateStatus };

    const tz = cj.spec?.timeZone;
    if (tz !== undefined && tz !== null && !isValidTimeZone(tz)) {
      this.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}": unknown time zone ${tz}`);
      return { updateStatus };
    }
    if (cj.spec?.suspend === true) return { updateStatus };

    const formatted = formatSchedule(cj);
    if (formatted.unsupportedTZ) {
      this.event(
        cj,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule "${cj.spec?.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    }
    let schedule: Schedule;
    try {
      schedule = parseStandard(formatted.schedule, this.defaultTimeZone);
    } catch (err) {
      this.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${err instanceof Error ? err.message : String(err)}`);
      return { updateStatus };
    }
    const next = nextScheduleTime(cj, now, schedule);
    if (next.tooManyMissed) {
      this.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    if (next.error !== undefined) {
      this.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${next.error}`);
      return { updateStatus };
    }
    const requeue = () => nextScheduleTimeDuration(cj, now, schedule);
    const scheduled = next.time;
    if (scheduled === undefined) return { requeueAfter: requeue(), updateStatus };

    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null && scheduled + sds * 1000 < now) {
      this.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRFC1123Z(scheduled)}`);
      return { requeueAfter: requeue(), updateStatus };
    }
    const lastSchedule = parseTime(status.lastScheduleTime);
    if (inActiveListByName(cj, getJobName(cj, scheduled)) || lastSchedule === scheduled) {
      return { requeueAfter: requeue(), updateStatus };
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length > 0) {
      this.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAfter: requeue(), updateStatus };
    }
    if (policy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.jobs.get(ref.name ?? '', { namespace: ref.namespace });
        } catch (err) {
          this.event(cj, 'Warning', 'FailedGet', `Get job: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        }
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata?.namespace}/${job.metadata?.name}`);
        updateStatus = true;
      }
    }

    const request = jobFromTemplate(cj, scheduled);
    let created: Job;
    let alreadyExists = false;
    try {
      created = await this.jobs.create(request, { namespace: cj.metadata?.namespace });
    } catch (err) {
      if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) throw err;
      if (!isAlreadyExists(err)) {
        this.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      // Someone (maybe our previous self) made it: adopt the bookkeeping only if it is ours and not yet listed.
      alreadyExists = true;
      created = await this.jobs.get(request.metadata?.name ?? '', { namespace: cj.metadata?.namespace });
      if (!isControlledBy(created, cj)) return { updateStatus };
      if (inActiveList(cj, created.metadata?.uid)) return { updateStatus };
    }
    if (!alreadyExists) this.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
    const ref: ObjectReference = {
      kind: 'Job',
      namespace: created.metadata?.namespace,
      name: created.metadata?.name,
      uid: created.metadata?.uid,
      apiVersion: 'batch/v1',
      resourceVersion: created.metadata?.resourceVersion,
    };
    status.active = [...(status.active ?? []), ref];
    status.lastScheduleTime = formatTime(new Date(scheduled));
    return { requeueAfter: requeue(), updateStatus: true };
  }

  /** Delete finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const successLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if ((successLimit === undefined || successLimit === null) && (failedLimit === undefined || failedLimit === null)) return false;
    const succeeded = jobs.filter((j) => jobFinishedType(j) === 'Complete');
    const failed = jobs.filter((j) => jobFinishedType(j) === 'Failed');
    let updated = false;
    if (successLimit !== undefined && successLimit !== null && (await this.removeOldestJobs(cj, succeeded, successLimit))) updated = true;
    if (failedLimit !== undefined && failedLimit !== null && (await this.removeOldestJobs(cj, failed, failedLimit))) updated = true;
    return updated;
  }

  private async removeOldestJobs(cj: CronJob, jobs: Job[], max: number): Promise<boolean> {
    const n = jobs.length - max;
    if (n <= 0) return false;
    let updated = false;
    for (const j of [...jobs].sort(byJobStartTime).slice(0, n)) if (await this.deleteJob(cj, j)) updated = true;
    return updated;
  }

  /** Delete a Job (its pods by background propagation) and drop it from the active list. */
  private async deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.jobs.delete(job.metadata?.name ?? '', { namespace: job.metadata?.namespace, propagationPolicy: 'Background' });
    } catch (err) {
      this.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    deleteFromActiveList(cj, job.metadata?.uid);
    this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    return true;
  }
}

export const cronJobControllerDescriptor: ControllerDescriptor = {
  name: 'cronjob',
  create: (ctx) => new CronJobController(ctx),
};
