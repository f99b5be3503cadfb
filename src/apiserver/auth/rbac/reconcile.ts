// Upstream's auto-reconciliation of the bootstrap policy (pkg/registry/rbac/reconciliation), run at every start: an
// existing bootstrap ClusterRole gets the expected labels, annotations, rules and aggregation selectors it lacks, an
// existing ClusterRoleBinding the subjects it lacks (and is recreated when its roleRef differs). Nothing is ever
// removed. An object annotated rbac.authorization.kubernetes.io/autoupdate=false is the user's: left as it is.
import type { AggregationRule, ClusterRole, ClusterRoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { jsonEqual } from '../../../machinery/patch/json.js';
import { covers } from './rules.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';

/** What reconciling one object needs: nothing, an update (to `object`), or (bindings) delete and create again. */
export type ReconcileOperation = 'none' | 'update' | 'recreate';

export interface Reconciled<T> {
  operation: ReconcileOperation;
  /** The object as it should be stored (the existing one, unchanged, when the operation is 'none'). */
  object: T;
  /** autoupdate=false: the operation is what upstream would do, but it must not be done. */
  protected: boolean;
  /** What the existing object lacked (rules, selectors or subjects), for the log of a protected object. */
  missing: unknown[];
}

const isProtected = (meta: { annotations?: Record<string, string> } | undefined) => meta?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';

/** Expected keys added to the existing map, existing values kept (upstream's merge(expected, existing)). */
function mergeMaps(expected: Record<string, string> | undefined, existing: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!expected && !existing) return undefined;
  return { ...expected, ...existing };
}

/** The existing object's metadata with the expected labels and annotations merged in, and whether that changed it. */
function mergedMetadata<M extends { labels?: Record<string, string>; annotations?: Record<string, string> }>(existing: M, expected: M | undefined): { metadata: M; changed: boolean } {
  const annotations = mergeMaps(expected?.annotations, existing.annotations);
  const labels = mergeMaps(expected?.labels, existing.labels);
  const changed = !jsonEqual(annotations ?? {}, existing.annotations ?? {}) || !jsonEqual(labels ?? {}, existing.labels ?? {});
  return { metadata: { ...existing, ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) }, changed };
}

/** The selectors of `wanted` that `owner` lacks (equal as JSON; an empty and a missing list are the same). */
function missingSelectors(owner: AggregationRule | undefined, wanted: AggregationRule | undefined): LabelSelector[] {
  const have = owner?.clusterRoleSelectors ?? [];
  return (wanted?.clusterRoleSelectors ?? []).filter((s) => !have.some((h) => jsonEqual(normalizedSelector(h), normalizedSelector(s))));
}

const normalizedSelector = (s: LabelSelector): LabelSelector => ({
  ...(s.matchLabels && Object.keys(s.matchLabels).length ? { matchLabels: s.matchLabels } : {}),
  ...(s.matchExpressions?.length ? { matchExpressions: s.matchExpressions } : {}),
});

export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): Reconciled<ClusterRole> {
  const { metadata, changed: metaChanged } = mergedMetadata(existing.metadata ?? {}, expected.metadata);
  let operation: ReconcileOperation = metaChanged ? 'update' : 'none';
  const role: ClusterRole = { ...existing, metadata };
  // Most bootstrap roles hold exactly the expected rules: no Covers (its breakdown is what costs) for those.
  const missingRules = jsonEqual(existing.rules ?? [], expected.rules ?? []) ? [] : covers(existing.rules ?? [], expected.rules ?? []).missing;
  if (missingRules.length) {
    role.rules = [...(existing.rules ?? []), ...missingRules];
    operation = 'update';
  }
  const selectors = missingSelectors(existing.aggregationRule, expected.aggregationRule);
  if (!expected.aggregationRule && existing.aggregationRule) {
    // Upstream drops an aggregation rule the bootstrap role no longer has.
    delete role.aggregationRule;
    operation = 'update';
  } else if (selectors.length) {
    role.aggregationRule = { ...existing.aggregationRule, clusterRoleSelectors: [...(existing.aggregationRule?.clusterRoleSelectors ?? []), ...selectors] };
    operation = 'update';
  }
  return { operation, object: operation === 'none' ? existing : role, protected: isProtected(existing.metadata), missing: [...missingRules, ...selectors] };
}

const sameSubject = (a: Subject, b: Subject) =>
  a.kind === b.kind && (a.apiGroup ?? '') === (b.apiGroup ?? '') && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

export function reconcileClusterRoleBinding(existing: ClusterRoleBinding, expected: ClusterRoleBinding): Reconciled<ClusterRoleBinding> {
  const prot = isProtected(existing.metadata);
  const ref = existing.roleRef;
  if (ref.apiGroup !== expected.roleRef.apiGroup || ref.kind !== expected.roleRef.kind || ref.name !== expected.roleRef.name) {
    // A roleRef cannot be changed in place: the expected binding replaces the existing one.
    return { operation: 'recreate', object: expected, protected: prot, missing: expected.subjects ?? [] };
  }
  const { metadata, changed } = mergedMetadata(existing.metadata ?? {}, expected.metadata);
  const have = existing.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => sameSubject(h, s)));
  if (!changed && !missing.length) return { operation: 'none', object: existing, protected: prot, missing };
  return { operation: 'update', object: { ...existing, metadata, ...(missing.length ? { subjects: [...have, ...missing] } : {}) }, protected: prot, missing };
}
