// Shared helpers of upstream's plugins/helper package and core/v1 helpers.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeScore } from './interfaces.js';

/** Integer division truncating toward zero, as Go's int64 `/`. */
export const idiv = (a: number, b: number): number => Math.trunc(a / b);

/**
 * Upstream's DefaultNormalizeScore: scales scores so the highest becomes maxPriority; reverse flips them (a node
 * with the most of something bad gets 0). All zero stays zero, or all maxPriority when reversed.
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    let v = idiv(maxPriority * s.score, max);
    if (reverse) v = maxPriority - v;
    s.score = v;
  }
}

export { toleratesTaint, tolerationsTolerateTaint, findMatchingUntoleratedTaint } from '../../machinery/taints.js';

/** spec.priority, 0 when unset (upstream's corev1helpers.PodPriority). */
export const podPriority = (pod: Pod): number => pod.spec?.priority ?? 0;
