// Shared helpers of upstream's plugins/helper package and core/v1 helpers.
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
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

/** Upstream's Toleration.ToleratesTaint: empty effect or key match any; operator Exists ignores the value. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export const tolerationsTolerateTaint = (tolerations: readonly Toleration[] | undefined, taint: Taint): boolean =>
  (tolerations ?? []).some((t) => toleratesTaint(t, taint));

/** The first taint passing the filter that no toleration tolerates. */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  inclusionFilter: (t: Taint) => boolean,
): Taint | undefined {
  return (taints ?? []).find((t) => inclusionFilter(t) && !tolerationsTolerateTaint(tolerations, t));
}

/** spec.priority, 0 when unset (upstream's corev1helpers.PodPriority). */
export const podPriority = (pod: Pod): number => pod.spec?.priority ?? 0;
