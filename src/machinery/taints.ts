// Taints and tolerations as upstream's core/v1 helpers (shared by the scheduler and the DaemonSet controller).
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

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
