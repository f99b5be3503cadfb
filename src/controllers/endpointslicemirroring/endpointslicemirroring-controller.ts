// Upstream's EndpointSliceMirroring controller: keeps mirrored EndpointSlices (managed-by
// endpointslicemirroring-controller.k8s.io) for every Endpoints object whose Service has no selector, and removes them
// when the Endpoints or the Service goes away or the Service gains a selector. Keys are "namespace/name" of Endpoints.
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, splitMetaNamespaceKey, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController, UPSTREAM_MAX_RETRIES } from '../run.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../endpointslice/reconciler.js';
import { EndpointSliceTracker } from '../endpointslice/tracker.js';
import { DEFAULT_MAX_ENDPOINTS_PER_SUBSET, MIRRORING_CONTROLLER_NAME, reconcileMirror, shouldMirror } from './reconciler.js';

const MIRRORED_INDEX = 'mirrored-for';

function mirroredFor(slice: EndpointSlice): string[] {
  const labels = slice.metadata?.labels ?? {};
  if (labels[LABEL_MANAGED_BY] !== MIRRORING_CONTROLLER_NAME || !labels[LABEL_SERVICE_NAME]) return [];
  return [`${slice.metadata?.namespace}/${labels[LABEL_SERVICE_NAME]}`];
}

export class EndpointSliceMirroringController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly maxEndpointsPerSubset: number;
  private readonly endpoints: SharedIndexInformer<Endpoints>;
  private readonly services: SharedIndexInformer<Service>;
  private readonly slices: SharedIndexInformer<EndpointSlice>;
  private readonly client: ResourceClient<EndpointSlice>;
  private readonly recorder: CoreEventRecorder;
  private readonly tracker = new EndpointSliceTracker();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 5,
  ) {
    this.maxEndpointsPerSubset = ctx.options?.mirroringMaxEndpointsPerSubset ?? DEFAULT_MAX_ENDPOINTS_PER_SUBSET;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'endpoint-slice-mirroring-controller', clock: ctx.clock, onError: () => undefined });
    this.endpoints = ctx.informers.informerFor<Endpoints>({ group: '', version: 'v1', resource: 'endpoints' });
    this.services = ctx.informers.informerFor<Service>({ group: '', version: 'v1', resource: 'services' });
    this.slices = ctx.informers.informerFor<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    try {
      this.slices.addIndexers({ [MIRRORED_INDEX]: mirroredFor });
    } catch {
      // Another instance on the same factory added it already.
    }
    const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    this.services.addEventHandler({
      onAdd: (s) => s.spec?.selector === undefined && this.queue.add(key(s)),
      onUpdate: (old, s) => (old.spec?.selector === undefined) !== (s.spec?.selector === undefined) && this.queue.add(key(s)),
      onDelete: (obj) => {
        const s = deletedObject(obj);
        if (s.spec?.selector === undefined) this.queue.add(key(s));
      },
    });
    this.endpoints.addEventHandler({
      onAdd: (e) => shouldMirror(e) && this.queue.add(key(e)),
      onUpdate: (old, e) => (shouldMirror(e) || shouldMirror(old)) && this.queue.add(key(e)),
      onDelete: (obj) => {
        const e = deletedObject(obj);
        if (shouldMirror(e)) this.queue.add(key(e));
      },
    });
    const enqueueFor = (s: EndpointSlice) => {
      const name = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (name) this.queue.add(`${s.metadata?.namespace}/${name}`);
    };
    const mine = (s: EndpointSlice) => s.metadata?.labels?.[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER_NAME;
    this.slices.addEventHandler({
      onAdd: (s) => mine(s) && this.tracker.shouldSync(s) && enqueueFor(s),
      onUpdate: (old, s) => {
        if (old.metadata?.labels?.[LABEL_SERVICE_NAME] !== s.metadata?.labels?.[LABEL_SERVICE_NAME]) {
          enqueueFor(old);
          enqueueFor(s);
        } else if (mine(old) !== mine(s) || (mine(s) && this.tracker.shouldSync(s))) {
          enqueueFor(s);
        }
      },
      onDelete: (obj) => {
        const s = deletedObject(obj);
        // A deletion this controller did not make: sync to put the slice back.
        if (mine(s) && this.tracker.has(s) && this.tracker.handleDeletion(s)) enqueueFor(s);
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () =>
      (await this.endpoints.waitForCacheSync()) && (await this.services.waitForCacheSync()) && (await this.slices.waitForCacheSync());
    return runQueueController(
      { name: 'endpointslicemirroring', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log, maxRetries: UPSTREAM_MAX_RETRIES },
      signal,
    );
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const endpoints = this.endpoints.lister().namespace(namespace).get(name);
    const svc = this.services.lister().namespace(namespace).get(name);
    if (!endpoints || !shouldMirror(endpoints) || !svc || svc.spec?.selector !== undefined) {
      this.tracker.deleteService(namespace, name);
      await this.deleteAll(namespace, name, this.slices.indexer.byIndex(MIRRORED_INDEX, key));
      return;
    }
    const existing = this.slices.indexer.byIndex(MIRRORED_INDEX, key);
    if (this.tracker.staleSlices(namespace, name, existing)) throw new Error(`EndpointSlice informer cache is out of date for Endpoints ${key}`);

    const plan = reconcileMirror(endpoints, existing, this.maxEndpointsPerSubset);
    const ref = { ...endpoints, apiVersion: 'v1', kind: 'Endpoints' };
    if (plan.invalidAddresses > 0) {
      this.recorder.event(ref, 'Warning', 'InvalidIPAddress', `Skipped ${plan.invalidAddresses} invalid IP addresses when mirroring to EndpointSlices`);
    }
    if (plan.addressesSkipped > plan.invalidAddresses) {
      this.recorder.event(
        ref,
        'Warning',
        'TooManyAddressesToMirror',
        `A max of ${this.maxEndpointsPerSubset} addresses can be mirrored to EndpointSlices per Endpoints subset. ${plan.addressesSkipped} addresses were skipped`,
      );
    }
    // No new slices for Endpoints being deleted.
    if (!endpoints.metadata?.deletionTimestamp) {
      for (const s of plan.create) {
        try {
          this.tracker.update(await this.client.create(s, { namespace }));
        } catch (err) {
          if (isApiError(err) && err.reason === 'Forbidden' && /being terminated/.test(err.message)) return;
          throw new Error(`failed to create EndpointSlice for Endpoints ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    }
    for (const s of plan.update) {
      try {
        this.tracker.update(await this.client.update(s, { namespace }));
      } catch (err) {
        throw new Error(`failed to update ${s.metadata?.name} EndpointSlice for Endpoints ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    await this.deleteAll(namespace, name, plan.delete);
  }

  private async deleteAll(namespace: string, name: string, slices: readonly EndpointSlice[]): Promise<void> {
    const errors: string[] = [];
    for (const s of slices) {
      try {
        await this.client.delete(s.metadata?.name ?? '', { namespace });
        this.tracker.expectDeletion(s);
      } catch (err) {
        if (!isNotFound(err)) errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (errors.length) {
      throw new Error(`Error(s) deleting ${errors.length}/${slices.length} EndpointSlices for ${namespace}/${name} Endpoints, including: ${errors[0]}`);
    }
  }
}

export const endpointSliceMirroringControllerDescriptor: ControllerDescriptor = {
  name: 'endpointslicemirroring',
  create: (ctx) => new EndpointSliceMirroringController(ctx),
};
