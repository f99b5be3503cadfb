// Upstream's Endpoints controller: every Service with a selector gets a core/v1 Endpoints of the same name listing
// its pods' addresses (ready ones in addresses, the others in notReadyAddresses) per resolved target port. Keys are
// "namespace/name" of services.
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isApiError, isNotFound } from '../../machinery/errors.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, splitMetaNamespaceKey, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController, UPSTREAM_MAX_RETRIES } from '../run.js';
import {
  HEADLESS_SERVICE_LABEL,
  LEADER_ELECTION_ANNOTATION,
  sameStringMap,
  LAST_CHANGE_TRIGGER_TIME,
  TriggerTimeTracker,
  isServiceIPSet,
  enqueueServicesOnChange,
  podsForService,
} from '../endpointutil/endpointutil.js';
import { OVER_CAPACITY_ANNOTATION, capacityAnnotationSetCorrectly, computeSubsets, subsetsEqualIgnoringResourceVersion, truncateEndpoints } from './subsets.js';

/** Endpoints used as leader-election locks carry this annotation; they are never cleaned up. */
export class EndpointsController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly services: SharedIndexInformer<Service>;
  private readonly pods: SharedIndexInformer<Pod>;
  private readonly endpoints: SharedIndexInformer<Endpoints>;
  private readonly client: ResourceClient<Endpoints>;
  private readonly recorder: CoreEventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 5,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<Endpoints>({ group: '', version: 'v1', resource: 'endpoints' });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'endpoint-controller', clock: ctx.clock, onError: () => undefined });
    this.services = ctx.informers.informerFor<Service>({ group: '', version: 'v1', resource: 'services' });
    this.pods = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.endpoints = ctx.informers.informerFor<Endpoints>({ group: '', version: 'v1', resource: 'endpoints' });
    enqueueServicesOnChange(this.services, this.pods, this.queue);
    // An Endpoints changed or deleted by someone else is put back as the service wants it.
    this.endpoints.addEventHandler({
      onUpdate: (_o, ep) => this.enqueueEndpoints(ep),
      onDelete: (obj) => this.enqueueEndpoints(deletedObject(obj)),
    });
  }

  private enqueueEndpoints(ep: Endpoints): void {
    const ns = ep.metadata?.namespace;
    const name = ep.metadata?.name;
    if (!ns || !name) return;
    if (this.services.lister().namespace(ns).get(name)) this.queue.add(`${ns}/${name}`);
  }

  async run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () =>
      (await this.services.waitForCacheSync()) && (await this.pods.waitForCacheSync()) && (await this.endpoints.waitForCacheSync());
    const started = runQueueController({ name: 'endpoint', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log, maxRetries: UPSTREAM_MAX_RETRIES }, signal);
    // Upstream's checkLeftoverEndpoints: Endpoints whose service vanished while no controller ran are removed.
    if (await waitForSync()) this.checkLeftoverEndpoints();
    await started;
  }

  checkLeftoverEndpoints(): void {
    for (const ep of this.endpoints.lister().list()) {
      if (ep.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] !== undefined) continue;
      const ns = ep.metadata?.namespace ?? '';
      const name = ep.metadata?.name ?? '';
      if (!this.services.lister().namespace(ns).get(name)) this.queue.add(`${ns}/${name}`);
    }
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.services.lister().namespace(namespace).get(name);
    if (!svc) {
      // The service is gone: its Endpoints go too.
      try {
        await this.client.delete(name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.triggerTimes.deleteService(namespace, name);
      return;
    }
    // Selector-less services get no endpoints from this controller (they are managed by hand).
    if (svc.spec?.selector === undefined) return;

    const pods = podsForService(this.pods.lister(), svc);
    const triggerTime = this.triggerTimes.compute(svc, pods);
    const { subsets } = computeSubsets(svc, pods);

    const current = this.endpoints.lister().namespace(namespace).get(name);
    const create = !current?.metadata?.resourceVersion;
    const currentLabels = { ...(current?.metadata?.labels ?? {}) };
    delete currentLabels[HEADLESS_SERVICE_LABEL];
    if (
      current &&
      !create &&
      subsetsEqualIgnoringResourceVersion(current.subsets, subsets) &&
      sameStringMap(currentLabels, svc.metadata?.labels) &&
      capacityAnnotationSetCorrectly(current.metadata?.annotations, current.subsets)
    ) {
      return;
    }

    const next: Endpoints = current ? structuredClone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.apiVersion = 'v1';
    next.kind = 'Endpoints';
    next.subsets = subsets;
    const meta = (next.metadata ??= {});
    const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
    if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = triggerTime;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncateEndpoints(next)) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    meta.annotations = annotations;
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (!isServiceIPSet(svc)) labels[HEADLESS_SERVICE_LABEL] = '';
    else delete labels[HEADLESS_SERVICE_LABEL];
    meta.labels = labels;
    if (!next.subsets.length) delete next.subsets;

    try {
      if (create) await this.client.create(next, { namespace });
      else await this.client.update(next, { namespace });
    } catch (err) {
      // A terminating namespace refuses new objects: nothing to publish there.
      if (create && isApiError(err) && err.reason === 'Forbidden' && /being terminated/.test(err.message)) return;
      if (create && isAlreadyExists(err)) throw err;
      this.recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }
}

export const endpointsControllerDescriptor: ControllerDescriptor = {
  name: 'endpoint',
  create: (ctx) => new EndpointsController(ctx),
};
