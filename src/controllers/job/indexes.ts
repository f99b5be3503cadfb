// Indexed Jobs: completion indexes of pods and the compressed interval lists of .status.completedIndexes and
// .status.failedIndexes ("1,3-5,7"), as upstream's indexed_job_utils.
import type { Pod } from 'kubernetes-types/core/v1.js';

export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
export const JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const UNKNOWN_INDEX = -1;
/** Upstream's names.MaxGeneratedNameLength: 63 minus the 5 random characters. */
const MAX_GENERATED_NAME_LENGTH = 58;
const MAX_INT32 = 2147483647;

export interface Interval {
  first: number;
  last: number;
}

/** Sorted, non-overlapping, non-adjacent intervals of indexes. */
export class OrderedIntervals {
  constructor(readonly intervals: readonly Interval[] = []) {}

  static parse(text: string | undefined, completions: number): OrderedIntervals {
    if (!text) return new OrderedIntervals();
    const out: Interval[] = [];
    for (const part of text.split(',')) {
      const limits = part.split('-');
      const first = parseDecimal(limits[0] ?? '');
      if (first === undefined) continue; // corrupted interval: ignored, as upstream
      if (first >= completions) break;
      let last = first;
      if (limits.length > 1) {
        const l = parseDecimal(limits[1] ?? '');
        if (l === undefined) continue;
        last = Math.min(l, completions - 1);
      }
      const prev = out[out.length - 1];
      if (prev && prev.last === first - 1) prev.last = last;
      else out.push({ first, last });
    }
    return new OrderedIntervals(out);
  }

  /** A new list with `indexes` (ascending) added. */
  withOrderedIndexes(indexes: readonly number[]): OrderedIntervals {
    return this.merge(new OrderedIntervals(indexes.map((i) => ({ first: i, last: i }))));
  }

  merge(other: OrderedIntervals): OrderedIntervals {
    const out: Interval[] = [];
    const push = (iv: Interval) => {
      const last = out[out.length - 1];
      if (!last || iv.first > last.last + 1) out.push({ ...iv });
      else if (last.last < iv.last) last.last = iv.last;
    };
    const a = this.intervals;
    const b = other.intervals;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      if (a[i]!.first < b[j]!.first) push(a[i++]!);
      else push(b[j++]!);
    }
    while (i < a.length) push(a[i++]!);
    while (j < b.length) push(b[j++]!);
    return new OrderedIntervals(out);
  }

  total(): number {
    let n = 0;
    for (const iv of this.intervals) n += iv.last - iv.first + 1;
    return n;
  }

  has(ix: number): boolean {
    let lo = 0;
    let hi = this.intervals.length;
    while (hi > lo) {
      const mid = lo + ((hi - lo) >> 1);
      if (this.intervals[mid]!.last >= ix) hi = mid;
      else lo = mid + 1;
    }
    return hi < this.intervals.length && this.intervals[hi]!.first <= ix;
  }

  get length(): number {
    return this.intervals.length;
  }

  toString(): string {
    return this.intervals
      .map((v) => (v.last === v.first ? `${v.first}` : v.last === v.first + 1 ? `${v.first},${v.last}` : `${v.first}-${v.last}`))
      .join(',');
  }
}

function parseDecimal(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  return Number.parseInt(s, 10);
}

/** The pod's completion index from its annotation, or UNKNOWN_INDEX. */
export function getCompletionIndex(annotations: Readonly<Record<string, string>> | undefined): number {
  const v = annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined) return UNKNOWN_INDEX;
  const i = parseDecimal(v);
  return i === undefined || i < 0 ? UNKNOWN_INDEX : i;
}

/** Sort pods by completion index (pods without one first), stable. */
export function byCompletionIndex(a: Pod, b: Pod): number {
  return getCompletionIndex(a.metadata?.annotations) - getCompletionIndex(b.metadata?.annotations);
}

export function indexesOf(pods: readonly Pod[]): Set<number> {
  const out = new Set<number>();
  for (const p of pods) {
    const ix = getCompletionIndex(p.metadata?.annotations);
    if (ix !== UNKNOWN_INDEX) out.add(ix);
  }
  return out;
}

export const sortedIndexes = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

/** `<job>-<index>-`, the job name cut so the generated name stays valid. */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_NAME_LENGTH ? prefix.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix : prefix;
}

function parseCountAnnotation(pod: Pod, key: string): number {
  const v = pod.metadata?.annotations?.[key];
  if (v === undefined) return 0;
  const n = parseDecimal(v);
  return n === undefined || n < 0 || n > MAX_INT32 ? 0 : n;
}

/** batch.kubernetes.io/job-index-failure-count, 0 when missing or invalid. */
export const indexFailureCount = (pod: Pod): number => parseCountAnnotation(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION);
export const indexIgnoredFailureCount = (pod: Pod): number => parseCountAnnotation(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
export const indexAbsoluteFailureCount = (pod: Pod): number => indexFailureCount(pod) + indexIgnoredFailureCount(pod);
