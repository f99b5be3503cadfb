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

export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint passing the filter that no toleration tolerates. */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  inclusionFilter: (t: Taint) => boolean,
): Taint | undefined {
  // A loop, not find() over `taints ?? []`: the scheduler asks this for thousands of (mostly untainted) nodes a cycle.
  if (!taints) return undefined;
  for (const t of taints) if (inclusionFilter(t) && !tolerationsTolerateTaint(tolerations, t)) return t;
  return undefined;
}
