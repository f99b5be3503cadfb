// Upstream's ResourceQuota admission plugin: a create (or an update that grows usage) in a namespace with quotas is
// charged against each quota that covers it; if any would go over its hard limit the request is refused with 403
// "exceeded quota: ...", otherwise the quotas' status.used is raised at once (compare-and-swap, retried) so that
// concurrent requests see each other before the resourcequota controller recounts.
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { ApiError, isConflict } from '../../../machinery/errors.js';
import type { Store } from '../../registry/store.js';
import type { AdmissionAttributes, ValidatingAdmission } from '../types.js';
import { addLists, evaluatorFor, mask, matchesQuotaScopes, parseResourceList, prettyPrint, subtractNonNegative, toRecord, type ResourceList } from './evaluators.js';
import { Quantity } from '../../../machinery/quantity.js';

const MAX_RETRIES = 5;
/** How long a live lookup that found no quotas is trusted while the watched cache has none (upstream's liveTTL). */
const LIVE_LOOKUP_TTL_MS = 30_000;

/**
 * Whether a namespace may have quotas, from the watched quotas (upstream's quota lister). When the cache has none,
 * a live list decides and is remembered for 30 s, as upstream's liveLookupCache: a quota created a moment ago may
 * not have reached the watch yet. Only a namespace that may have quotas pays for the live list of validate().
 */
export class QuotaPresence {
  private readonly emptyUntil = new Map<string, number>();

  constructor(
    private readonly watched: (namespace: string) => number,
    private readonly live: () => Store,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async mayHaveQuotas(namespace: string): Promise<boolean> {
    if (this.watched(namespace) > 0) return true;
    const t = this.now();
    const until = this.emptyUntil.get(namespace);
    if (until !== undefined && until > t) return false;
    const n = (await this.live().list({ namespace, limit: 1 })).items.length;
    if (n > 0) {
      this.emptyUntil.delete(namespace);
      return true;
    }
    if (this.emptyUntil.size > 10_000) this.emptyUntil.clear();
    this.emptyUntil.set(namespace, t + LIVE_LOOKUP_TTL_MS);
    return false;
  }
}
const SYSTEM_USER = { name: 'system:apiserver', groups: ['system:masters'] };

export class ResourceQuotaAdmission implements ValidatingAdmission {
  readonly name = 'ResourceQuota';

  constructor(
    private readonly quotas: () => Store,
    private readonly now: () => number = () => Date.now(),
    /** Skips namespaces without quotas without reading storage (a watched cache); absent: always list. */
    private readonly presence?: QuotaPresence,
  ) {}

  async validate(a: AdmissionAttributes): Promise<void> {
    if (!a.namespace || a.subresource !== '' || !a.object) return;
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    const evaluator = evaluatorFor(a.group, a.resource);
    if (a.operation === 'CREATE' ? !evaluator.handles.create : !evaluator.handles.update) return;
    if (this.presence && !(await this.presence.mayHaveQuotas(a.namespace))) return;
    for (let attempt = 0; ; attempt++) {
      const list = (await this.quotas().list({ namespace: a.namespace })).items as unknown as ResourceQuota[];
      if (list.length === 0) return;
      const updates = this.check(a, list);
      if (a.dryRun || updates.length === 0) return;
      try {
        for (const q of updates) {
          await this.quotas().update(a.namespace, q.metadata?.name ?? '', () => q as unknown as KubeObject, { user: SYSTEM_USER, dryRun: false, subresource: 'status' });
        }
        return;
      } catch (err) {
        // Another request charged the quota meanwhile: recheck against the fresh usage.
        if (isConflict(err) && attempt < MAX_RETRIES) continue;
        if (isConflict(err)) throw ApiError.internal('resource quota evaluation timed out', err);
        throw err;
      }
    }
  }

  /** Checks the request against every quota; returns the quotas with raised usage to write (throws 403 if over). */
  private check(a: AdmissionAttributes, quotas: ResourceQuota[]): ResourceQuota[] {
    const evaluator = evaluatorFor(a.group, a.resource);
    const obj = a.object as unknown;
    const now = this.now();
    const forbidden = (message: string) => ApiError.forbidden(a.group, a.resource, a.name || (a.object?.metadata.generateName ?? 'Unknown'), message);
    const interesting: ResourceQuota[] = [];
    for (const q of quotas) {
      const hardNames = Object.keys(q.status?.hard ?? {});
      const restricted = evaluator.matchingResources(hardNames);
      if (restricted.length === 0 || !matchesQuotaScopes(evaluator, q, obj)) continue;
      const constraint = evaluator.constraints?.(restricted, obj);
      if (constraint) throw forbidden(`failed quota: ${q.metadata?.name}: ${constraint}`);
      const used = q.status?.used ?? {};
      const missing = restricted.filter((r) => used[r] === undefined);
      if (missing.length) throw forbidden(`status unknown for quota: ${q.metadata?.name}, resources: ${[...restricted].sort().join(',')}`);
      interesting.push(q);
    }
    if (interesting.length === 0) return [];
    let delta: ResourceList = evaluator.usage(obj, now);
    if (a.operation === 'UPDATE' && a.oldObject) {
      // Only growth is charged; an old object outside the quota's scope charged nothing.
      const prev = evaluator.usage(a.oldObject as unknown, now);
      delta = subtractNonNegative(delta, prev);
    }
    if ([...delta.values()].every((q) => q.isZero())) return [];
    const out: ResourceQuota[] = [];
    for (const q of interesting) {
      const hard = parseResourceList(q.status?.hard);
      const used = parseResourceList(q.status?.used);
      const requested = mask(delta, hard.keys());
      const newUsage = addLists(used, requested);
      const maskedNew = mask(newUsage, requested.keys());
      const exceeded = [...maskedNew.entries()].filter(([k, v]) => v.cmp(hard.get(k) as Quantity) > 0).map(([k]) => k);
      if (exceeded.length) {
        throw forbidden(
          `exceeded quota: ${q.metadata?.name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
        );
      }
      const changed = [...requested.values()].some((v) => !v.isZero());
      if (!changed) continue;
      const next = structuredClone(q);
      next.status = { ...next.status, used: { ...(q.status?.used ?? {}), ...toRecord(newUsage) } };
      out.push(next);
    }
    return out;
  }
}
