// Upstream's ResourceQuota controller: status.hard mirrors spec.hard and status.used is recounted from the objects in
// the quota's namespace (within its scopes) by the same evaluators the admission plugin charges with. Quotas are
// recounted when objects they count change (replenishment) and all of them every 5 minutes (full resync).
import type { ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service } from 'kubernetes-types/core/v1.js';
import {
  evaluatorFor,
  groupResourcesForQuota,
  listsEqual,
  mask,
  parseResourceList,
  toRecord,
  usageStats,
  type ResourceList,
} from '../../apiserver/admission/resourcequota/evaluators.js';
import { findResourceByGroupResource } from './resources.js';
import { RateLimitingQueue, deletedObject, splitMetaNamespaceKey, type ObjectLike, type ResourceClient, type SharedIndexInformer, type TimerHandle } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

/** kube-controller-manager's --resource-quota-sync-period default. */
export const RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60_000;

/** Resources whose objects are watched (so changes replenish quotas at once); others are listed at sync time. */
const WATCHED: { group: string; resource: string }[] = [
  { group: '', resource: 'pods' },
  { group: '', resource: 'services' },
  { group: '', resource: 'persistentvolumeclaims' },
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'secrets' },
  { group: '', resource: 'replicationcontrollers' },
];

type Watched = Pod | Service | PersistentVolumeClaim | ConfigMap | Secret | ReplicationController;

export class ResourceQuotaController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly quotas: SharedIndexInformer<ResourceQuota>;
  private readonly watched = new Map<string, SharedIndexInformer<Watched>>();
  private readonly client: ResourceClient<ResourceQuota>;
  private resyncTimer: TimerHandle | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 5,
    readonly resyncPeriodMs = RESOURCE_QUOTA_SYNC_PERIOD_MS,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<ResourceQuota>({ group: '', version: 'v1', resource: 'resourcequotas' });
    this.quotas = ctx.informers.informerFor<ResourceQuota>({ group: '', version: 'v1', resource: 'resourcequotas' });
    const enqueue = (q: ResourceQuota) => {
      if (q.metadata?.name) this.queue.add(`${q.metadata.namespace}/${q.metadata.name}`);
    };
    this.quotas.addEventHandler({
      onAdd: enqueue,
      onUpdate: (old, q) => {
        // Spec changes, and status written by someone else that disagrees with the spec.
        if (JSON.stringify(old.spec) !== JSON.stringify(q.spec) || JSON.stringify(q.spec?.hard ?? {}) !== JSON.stringify(q.status?.hard ?? {}) || !q.status?.used) enqueue(q);
        else this.enqueueNamespace(q.metadata?.namespace ?? '');
      },
    });
    for (const gr of WATCHED) {
      const informer = ctx.informers.informerFor<Watched>({ group: gr.group, version: 'v1', resource: gr.resource });
      this.watched.set(`${gr.group}/${gr.resource}`, informer);
      const onChange = (obj: Watched) => this.enqueueNamespace(obj.metadata?.namespace ?? '');
      informer.addEventHandler({
        onAdd: (o, initial) => {
          if (!initial) onChange(o);
        },
        onUpdate: (old, o) => {
          if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) onChange(o);
        },
        onDelete: (o) => onChange(deletedObject(o)),
      });
    }
  }

  /** Every quota in the namespace is recounted. */
  private enqueueNamespace(namespace: string): void {
    if (!namespace) return;
    for (const q of this.quotas.lister().namespace(namespace).list()) this.queue.add(`${namespace}/${q.metadata?.name}`);
  }

  private scheduleResync(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.resyncTimer = this.ctx.clock.setTimer(() => {
      for (const q of this.quotas.lister().list()) this.queue.add(`${q.metadata?.namespace}/${q.metadata?.name}`);
      this.scheduleResync(signal);
    }, this.resyncPeriodMs);
  }

  async run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => {
      if (!(await this.quotas.waitForCacheSync())) return false;
      for (const i of this.watched.values()) if (!(await i.waitForCacheSync())) return false;
      return true;
    };
    this.scheduleResync(signal);
    signal.addEventListener('abort', () => this.resyncTimer?.cancel(), { once: true });
    await runQueueController({ name: 'resourcequota', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
    this.resyncTimer?.cancel();
  }

  /** The objects of one resource in a namespace: from the informer when watched, else a live list. */
  private async objectsOf(group: string, resource: string, namespace: string): Promise<unknown[]> {
    const informer = this.watched.get(`${group}/${resource}`);
    if (informer) return informer.lister().namespace(namespace).list();
    const info = findResourceByGroupResource(group, resource);
    if (!info || !info.namespaced) return [];
    const rc = this.ctx.client.resource<ObjectLike>({ group, version: info.version, resource });
    return (await rc.list({ namespace })).items;
  }

  /** Upstream's syncResourceQuota + CalculateUsage. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const quota = this.quotas.lister().namespace(namespace).get(name);
    if (!quota) return;
    const hard = parseResourceList(quota.spec?.hard);
    const statusHard = parseResourceList(quota.status?.hard);
    let dirty = !listsEqual(hard, statusHard) || quota.status?.hard === undefined || quota.status?.used === undefined;
    const previous = parseResourceList(quota.status?.used);
    let used: ResourceList = new Map(previous);
    const hardNames = [...hard.keys()];
    const now = this.ctx.clock.now();
    let failure: unknown;
    for (const { group, resource } of groupResourcesForQuota(hardNames)) {
      const evaluator = evaluatorFor(group, resource);
      const resources = evaluator.matchingResources(hardNames);
      if (resources.length === 0) continue;
      try {
        const objects = await this.objectsOf(group, resource, namespace);
        for (const [k, v] of usageStats(evaluator, quota, objects, resources, now)) used.set(k, v);
      } catch (err) {
        failure = err;
      }
    }
    used = mask(used, hardNames);
    dirty = dirty || !listsEqual(used, previous);
    if (dirty) {
      const next = structuredClone(quota);
      next.apiVersion = 'v1';
      next.kind = 'ResourceQuota';
      next.status = { hard: toRecord(hard), used: toRecord(used) };
      await this.client.updateStatus(next, { namespace });
    }
    if (failure) throw failure;
  }
}

export const resourceQuotaControllerDescriptor: ControllerDescriptor = {
  name: 'resourcequota',
  create: (ctx) => new ResourceQuotaController(ctx),
};
