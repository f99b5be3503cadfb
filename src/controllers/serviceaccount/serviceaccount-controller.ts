// Upstream's ServiceAccounts controller: every active namespace has a "default" ServiceAccount; one that is deleted
// is created again. Keys are namespace names.
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isApiError, isNotFound } from '../../machinery/errors.js';
import { RateLimitingQueue, deletedObject, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

/** kube-controller-manager's default for --service-accounts-to-ensure... (only "default"). */
export const SERVICE_ACCOUNTS_TO_ENSURE: readonly string[] = ['default'];

/** A namespace that exists and is neither terminating nor marked for deletion (what per-namespace publishers fill). */
export function isActiveNamespace(ns: Namespace | undefined): ns is Namespace {
  return !!ns && !ns.metadata?.deletionTimestamp && (!ns.status?.phase || ns.status.phase === 'Active');
}

export class ServiceAccountsController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly namespaces: SharedIndexInformer<Namespace>;
  private readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  private readonly client: ResourceClient<ServiceAccount>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 1,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    this.namespaces = ctx.informers.informerFor<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    this.serviceAccounts = ctx.informers.informerFor<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    const enqueueNamespace = (ns: Namespace) => {
      if (ns.metadata?.name) this.queue.add(ns.metadata.name);
    };
    this.namespaces.addEventHandler({ onAdd: enqueueNamespace, onUpdate: (_old, ns) => enqueueNamespace(ns) });
    this.serviceAccounts.addEventHandler({
      onDelete: (obj) => {
        const sa = deletedObject(obj);
        const ns = sa.metadata?.namespace;
        if (ns && sa.metadata?.name && SERVICE_ACCOUNTS_TO_ENSURE.includes(sa.metadata.name)) this.queue.add(ns);
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => (await this.namespaces.waitForCacheSync()) && (await this.serviceAccounts.waitForCacheSync());
    return runQueueController({ name: 'serviceaccount', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  /** Create what is missing in an active namespace; a namespace that is gone or terminating needs nothing. */
  async sync(namespace: string): Promise<void> {
    if (!isActiveNamespace(this.namespaces.lister().get(namespace))) return;
    const existing = this.serviceAccounts.lister().namespace(namespace);
    for (const name of SERVICE_ACCOUNTS_TO_ENSURE) {
      if (existing.get(name)) continue;
      try {
        await this.client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      } catch (err) {
        // Already there (the cache lags), or the namespace started terminating or vanished meanwhile: nothing to do.
        if (isAlreadyExists(err) || isNotFound(err) || (isApiError(err) && err.reason === 'Forbidden')) continue;
        throw err;
      }
    }
  }
}

export const serviceAccountControllerDescriptor: ControllerDescriptor = {
  name: 'serviceaccount',
  create: (ctx) => new ServiceAccountsController(ctx),
};
