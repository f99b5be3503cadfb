// Upstream's namespace controller: once a namespace has a deletionTimestamp, delete everything in it, wait until the
// content is gone, then remove the "kubernetes" finalizer through namespaces/<name>/finalize so the server deletes the
// namespace itself. Status conditions report progress the way upstream's namespace_condition.go does.
import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import { BUILTIN_RESOURCES, type ResourceInfo } from '../../api/catalog.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import {
  ItemExponentialFailureRateLimiter,
  BucketRateLimiter,
  MaxOfRateLimiter,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  type ObjectLike,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

export const FINALIZER_KUBERNETES = 'kubernetes';

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

/** Upstream's five deletion conditions, in the order it writes them. */
export const NAMESPACE_CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type ConditionType = (typeof NAMESPACE_CONDITION_TYPES)[number];

/** The reason and message each condition carries while it is False (nothing wrong). */
const OKAY: Record<ConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/**
 * Every namespaced kind that can be deleted, one version per resource (the catalog's first, which is the preferred
 * one): deleting through one version deletes the object for all.
 */
export function deletableNamespacedResources(catalog: readonly ResourceInfo[] = BUILTIN_RESOURCES): ResourceInfo[] {
  const seen = new Set<string>();
  const out: ResourceInfo[] = [];
  for (const r of catalog) {
    if (!r.namespaced || !r.verbs.includes('list') || !(r.verbs.includes('deletecollection') || r.verbs.includes('delete'))) continue;
    const key = `${r.group}/${r.resource}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** What one deletion pass left behind, counted like upstream's allGVRDeletionMetadata. */
export interface ContentTotals {
  /** "<resource>.<group>" → instances still present. */
  remaining: Map<string, number>;
  /** finalizer → instances that still carry it. */
  finalizers: Map<string, number>;
  /** Resource types whose deletion failed, with the error. */
  failures: string[];
  /** Seconds until graceful deletions should have finished (0: none pending). */
  estimateSeconds: number;
}

/** Upstream's conditions for a pass: the failing ones True with details, the rest False with their okay reason. */
export function namespaceConditions(totals: ContentTotals, previous: readonly NamespaceCondition[], now: string): NamespaceCondition[] {
  const bad = new Map<ConditionType, { reason: string; message: string }>();
  if (totals.failures.length > 0) {
    bad.set('NamespaceDeletionContentFailure', {
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${totals.failures.length} remaining: ${totals.failures.join(', ')}`,
    });
  }
  if (totals.remaining.size > 0) {
    const parts = [...totals.remaining].map(([r, n]) => `${r} has ${n} resource instances`).sort();
    bad.set('NamespaceContentRemaining', { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` });
  }
  if (totals.finalizers.size > 0) {
    const parts = [...totals.finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
    bad.set('NamespaceFinalizersRemaining', { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` });
  }
  return NAMESPACE_CONDITION_TYPES.map((type) => {
    const found = bad.get(type);
    const next = { type, status: found ? 'True' : 'False', ...(found ?? OKAY[type]) };
    const prev = previous.find((c) => c.type === type);
    // The transition time moves only when the status does.
    const lastTransitionTime = prev && prev.status === next.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { ...next, lastTransitionTime };
  });
}

const hasKubernetesFinalizer = (ns: Namespace): boolean => (ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES);

export class NamespaceController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly informer: SharedIndexInformer<Namespace>;
  private readonly namespaces: ResourceClient<Namespace>;
  private readonly content: ResourceClient<ObjectLike>[];

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 10,
  ) {
    // Upstream's namespace rate limiter: retries capped at a minute, not the default 1000 s, as content often needs a few.
    this.queue = new RateLimitingQueue<string>({
      clock: ctx.clock,
      rateLimiter: new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter<string>(5, 60_000), new BucketRateLimiter<string>(10, 100, ctx.clock)),
    });
    this.namespaces = ctx.client.resource<Namespace>(NAMESPACES);
    this.content = deletableNamespacedResources().map((r) => ctx.client.resource<ObjectLike>(r));
    this.informer = ctx.informers.informerFor<Namespace>(NAMESPACES);
    const enqueue = (ns: Namespace) => {
      if (ns.metadata?.deletionTimestamp) this.queue.add(metaNamespaceKey(ns));
    };
    this.informer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, ns) => enqueue(ns),
      onDelete: (obj) => this.queue.forget(metaNamespaceKey(deletedObject(obj))),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runQueueController(
      { name: 'namespace', waitForSync: () => this.informer.waitForCacheSync(), queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log },
      signal,
    );
  }

  /** Idempotent: works from the cached namespace; a namespace that is gone or not being deleted needs nothing. */
  async sync(name: string): Promise<void> {
    const cached = this.informer.lister().get(name);
    if (!cached?.metadata?.deletionTimestamp || !hasKubernetesFinalizer(cached)) return;
    const totals = await this.deleteAllContent(name);
    let ns: Namespace;
    try {
      ns = await this.updateConditions(name, totals);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (totals.failures.length > 0) throw new Error(`namespace ${name}: ${totals.failures.join('; ')}`);
    if (totals.remaining.size > 0) {
      // Graceful deletions finish on their own schedule: look again when they should be done, else back off.
      if (totals.estimateSeconds > 0) {
        this.queue.addAfter(name, totals.estimateSeconds * 1000);
        return;
      }
      throw new Error(`namespace ${name}: content remains (${[...totals.remaining.keys()].join(', ')})`);
    }
    await this.finalize(ns);
  }

  /** One pass: deletecollection for every type (delete one by one where that is all it supports), then count what is left. */
  async deleteAllContent(namespace: string): Promise<ContentTotals> {
    const totals: ContentTotals = { remaining: new Map(), finalizers: new Map(), failures: [], estimateSeconds: 0 };
    const nowMs = this.ctx.clock.now();
    await Promise.all(
      this.content.map(async (rc) => {
        const { resource, group, verbs } = rc.info;
        const label = `${resource}.${group}`;
        try {
          if (verbs.includes('deletecollection')) {
            await rc.deleteCollection({ namespace, propagationPolicy: 'Background' });
          } else {
            const list = await rc.list({ namespace });
            for (const item of list.items) {
              const itemName = item.metadata?.name;
              if (!itemName) continue;
              await rc.delete(itemName, { namespace, propagationPolicy: 'Background' }).catch((e: unknown) => {
                if (!isNotFound(e)) throw e;
              });
            }
          }
          const left = (await rc.list({ namespace })).items;
          if (left.length === 0) return;
          totals.remaining.set(label, left.length);
          for (const item of left) {
            const meta = item.metadata;
            for (const f of meta?.finalizers ?? []) totals.finalizers.set(f, (totals.finalizers.get(f) ?? 0) + 1);
            // A graceful deletion ends at deletionTimestamp (the server sets it to now + grace period).
            const ends = meta?.deletionTimestamp ? Date.parse(meta.deletionTimestamp) : NaN;
            if (!(meta?.finalizers?.length) && Number.isFinite(ends)) {
              totals.estimateSeconds = Math.max(totals.estimateSeconds, Math.max(1, Math.ceil((ends - nowMs) / 1000)));
            }
          }
        } catch (err) {
          if (isNotFound(err)) return;
          totals.failures.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    return totals;
  }

  /** Write the conditions (retrying on conflict with a fresh read); returns the namespace as written. */
  private async updateConditions(name: string, totals: ContentTotals): Promise<Namespace> {
    for (;;) {
      const ns = await this.namespaces.get(name);
      const previous = ns.status?.conditions ?? [];
      const conditions = namespaceConditions(totals, previous, formatTime(new Date(this.ctx.clock.now())));
      const unchanged = JSON.stringify(conditions) === JSON.stringify(previous) && ns.status?.phase === 'Terminating';
      if (unchanged) return ns;
      try {
        return await this.namespaces.updateStatus({ ...ns, status: { ...ns.status, phase: 'Terminating', conditions } });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  /** PUT namespaces/<name>/finalize without "kubernetes"; the server deletes the namespace once no finalizer is left. */
  private async finalize(ns: Namespace): Promise<void> {
    let current = ns;
    for (;;) {
      if (!hasKubernetesFinalizer(current)) return;
      const finalizers = (current.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
      try {
        const name = current.metadata?.name ?? '';
        await this.ctx.client.call('PUT', this.namespaces.path(undefined, name, 'finalize'), { ...current, spec: { ...current.spec, finalizers } });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        current = await this.namespaces.get(current.metadata?.name ?? '');
      }
    }
  }
}

export const namespaceControllerDescriptor: ControllerDescriptor = {
  name: 'namespace',
  create: (ctx) => new NamespaceController(ctx),
};
