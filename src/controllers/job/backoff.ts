// Pod-failure backoff (upstream's backoff_utils.go): after consecutive failures since the last success, replacement
// pods wait 10 s, 20 s, 40 s ... capped at MAX_POD_FAILURE_BACKOFF_MS since the last failure. Records live in memory.
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../client/index.js';
import { indexAbsoluteFailureCount } from './indexes.js';

export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
/** Upstream's MaxJobPodFailureBackOff in 1.31's job_controller.go is 10 minutes (the docs still say six). */
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

export interface BackoffRecord {
  key: string;
  failuresAfterLastSuccess: number;
  /** Milliseconds since the epoch. */
  lastFailureTime?: number;
}

const parseTime = (t: string | undefined): number | undefined => {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
};

function latestFinishTime(prev: number | undefined, statuses: readonly ContainerStatus[], check?: (cs: ContainerStatus) => boolean): number | undefined {
  let finish = prev;
  for (const cs of statuses) {
    if (check && !check(cs)) continue;
    const at = parseTime(cs.state?.terminated?.finishedAt);
    if (at === undefined) return undefined;
    if (finish === undefined || finish < at) finish = at;
  }
  return finish;
}

/**
 * When the pod finished: the latest container finish (sidecars included), else the Ready=False transition, else its
 * deletion time less the grace period, else its creation.
 */
export function getFinishedTime(p: Pod): number {
  const sidecars = new Set((p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let fromContainers = latestFinishTime(undefined, p.status?.containerStatuses ?? []);
  fromContainers = latestFinishTime(fromContainers, p.status?.initContainerStatuses ?? [], (cs) => sidecars.has(cs.name));
  if (fromContainers !== undefined) return fromContainers;
  const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const readyFalse = ready?.status === 'False' ? parseTime(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deleted = parseTime(p.metadata?.deletionTimestamp);
  if (deleted !== undefined) return deleted - (p.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(p.metadata?.creationTimestamp) ?? 0;
}

const byFinishedTime = (pods: readonly Pod[]): Pod[] => [...pods].sort((a, b) => getFinishedTime(a) - getFinishedTime(b));

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  get(key: string): BackoffRecord | undefined {
    return this.records.get(key);
  }

  update(record: BackoffRecord): void {
    this.records.set(record.key, { ...record });
  }

  remove(key: string): void {
    this.records.delete(key);
  }

  /** The record after this sync's newly finished pods: a success resets the count to the failures after it. */
  newRecord(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const old = this.records.get(key);
    const rec: BackoffRecord = { key, failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, lastFailureTime: old?.lastFailureTime };
    const succeeded = byFinishedTime(newSucceeded);
    const failed = byFinishedTime(newFailed);
    if (succeeded.length === 0) {
      if (failed.length === 0) return rec;
      rec.failuresAfterLastSuccess += failed.length;
      rec.lastFailureTime = getFinishedTime(failed[failed.length - 1]!);
      return rec;
    }
    rec.failuresAfterLastSuccess = 0;
    rec.lastFailureTime = undefined;
    const lastSuccess = getFinishedTime(succeeded[succeeded.length - 1]!);
    for (let i = failed.length - 1; i >= 0; i--) {
      const t = getFinishedTime(failed[i]!);
      if (t <= lastSuccess) break;
      if (rec.lastFailureTime === undefined) rec.lastFailureTime = t;
      rec.failuresAfterLastSuccess++;
    }
    return rec;
  }
}

/** Time left before a replacement may be created: 0 when none is owed. */
export function remainingTimeForFailures(
  clock: Clock,
  failures: number,
  lastFailureTime: number | undefined,
  defaultMs = DEFAULT_POD_FAILURE_BACKOFF_MS,
  maxMs = MAX_POD_FAILURE_BACKOFF_MS,
): number {
  if (failures === 0 || lastFailureTime === undefined) return 0;
  let backoff = defaultMs;
  for (let i = 1; i < failures; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = clock.now() - lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

export const remainingTime = (clock: Clock, rec: BackoffRecord): number => remainingTimeForFailures(clock, rec.failuresAfterLastSuccess, rec.lastFailureTime);

/** Per-index backoff: counted from the index's last failed pod (its failure-count annotations plus one). */
export function remainingTimePerIndex(clock: Clock, lastFailedPod: Pod | undefined): number {
  if (!lastFailedPod) return 0;
  return remainingTimeForFailures(clock, indexAbsoluteFailureCount(lastFailedPod) + 1, getFinishedTime(lastFailedPod));
}
