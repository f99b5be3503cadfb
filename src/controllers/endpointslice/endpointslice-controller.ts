// Upstream's EndpointSlice controller: every Service with a selector gets discovery.k8s.io/v1 EndpointSlices (at most
// --max-endpoints-per-slice endpoints each) labelled kubernetes.io/service-name and managed-by, owned by the Service
// (the garbage collector removes them with it). Keys are "namespace/name" of services.
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, splitMetaNamespaceKey, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController, UPSTREAM_MAX_RETRIES } from '../run.js';
import { LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker, enqueueServicesOnChange, podsForService, serviceKeysForPodChange } from '../endpointutil/endpointutil.js';
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, reconcile } from './reconciler.js';
import { EndpointSliceTracker } from './tracker.js';

const SERVICE_INDEX = 'service';

function serviceIndex(slice: EndpointSlice): string[] {
  const labels = slice.metadata?.labels ?? {};
  const svc = labels[LABEL_SERVICE_NAME];
  if (!svc || labels[LABEL_MANAGED_BY] !== CONTROLLER_NAME) return [];
  return [`${slice.metadata?.namespace}/${svc}`];
}

export class EndpointSliceController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly maxEndpointsPerSlice: number;
  private readonly services: SharedIndexInformer<Service>;
  private readonly pods: SharedIndexInformer<Pod>;
  private readonly nodes: SharedIndexInformer<Node>;
  private readonly slices: SharedIndexInformer<EndpointSlice>;
  private readonly client: ResourceClient<EndpointSlice>;
  private readonly recorder: CoreEventRecorder;
  private readonly tracker = new EndpointSliceTracker();
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Services whose last sync found the slice cache behind this controller's writes: synced as soon as it catches up. */
  private readonly waitingForCache = new Set<string>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 5,
  ) {
    this.maxEndpointsPerSlice = ctx.options?.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'endpoint-slice-controller', clock: ctx.clock, onError: () => undefined });
    this.services = ctx.informers.informerFor<Service>({ group: '', version: 'v1', resource: 'services' });
    this.pods = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.nodes = ctx.informers.informerFor<Node>({ group: '', version: 'v1', resource: 'nodes' });
    this.slices = ctx.informers.informerFor<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    try {
      this.slices.addIndexers({ [SERVICE_INDEX]: serviceIndex });
    } catch {
      // Another instance on the same factory added it already.
    }
    enqueueServicesOnChange(this.services, this.pods, this.queue);
    // A node's arrival (or zone change) can let skipped pods in; sync the services of its pods.
    this.nodes.addEventHandler({
      onAdd: (node) => this.enqueueNodePods(node),
      onUpdate: (old, node) => {
        if (old.metadata?.labels?.['topology.kubernetes.io/zone'] !== node.metadata?.labels?.['topology.kubernetes.io/zone']) this.enqueueNodePods(node);
      },
    });
    this.slices.addEventHandler({
      onAdd: (s) => {
        if (this.tracker.shouldSync(s)) this.enqueueSliceService(s);
        else this.cacheCaughtUp(s);
      },
      onUpdate: (old, s) => {
        // A slice relabelled away from its service: sync both services.
        if (old.metadata?.labels?.[LABEL_SERVICE_NAME] !== s.metadata?.labels?.[LABEL_SERVICE_NAME]) this.enqueueSliceService(old);
        if (this.tracker.shouldSync(s)) this.enqueueSliceService(s);
        else this.cacheCaughtUp(s);
      },
      onDelete: (obj) => {
        const s = deletedObject(obj);
        if (this.tracker.handleDeletion(s)) this.enqueueSliceService(s);
        else this.cacheCaughtUp(s);
      },
    });
  }

  private enqueueNodePods(node: Node): void {
    const name = node.metadata?.name;
    if (!name) return;
    const lister = this.services.lister();
    for (const pod of this.pods.lister().list()) {
      if (pod.spec?.nodeName === name) serviceKeysForPodChange(lister, undefined, pod).forEach((k) => this.queue.add(k));
    }
  }

  private sliceServiceKey(s: EndpointSlice): string | undefined {
    const labels = s.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== CONTROLLER_NAME || !labels[LABEL_SERVICE_NAME]) return undefined;
    return `${s.metadata?.namespace}/${labels[LABEL_SERVICE_NAME]}`;
  }

  private enqueueSliceService(s: EndpointSlice): void {
    const key = this.sliceServiceKey(s);
    if (key) this.queue.add(key);
  }

  /** The cache caught up with one of this controller's writes: a service that found it stale may sync now. */
  private cacheCaughtUp(s: EndpointSlice): void {
    const key = this.sliceServiceKey(s);
    if (key && this.waitingForCache.delete(key)) this.queue.add(key);
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () =>
      (await this.services.waitForCacheSync()) &&
      (await this.pods.waitForCacheSync()) &&
      (await this.nodes.waitForCacheSync()) &&
      (await this.slices.waitForCacheSync());
    return runQueueController({ name: 'endpointslice', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log, maxRetries: UPSTREAM_MAX_RETRIES }, signal);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.services.lister().namespace(namespace).get(name);
    if (!svc) {
      // The slices are owned by the service: the garbage collector deletes them.
      this.triggerTimes.deleteService(namespace, name);
      this.tracker.deleteService(namespace, name);
      this.waitingForCache.delete(key);
      return;
    }
    // ExternalName services and services without a selector get no slices from this controller.
    if (svc.spec?.type === 'ExternalName' || svc.spec?.selector === undefined) return;

    const pods = podsForService(this.pods.lister(), svc);
    const existing = this.slices.indexer.byIndex(SERVICE_INDEX, key);
    if (this.tracker.staleSlices(namespace, name, existing)) {
      this.waitingForCache.add(key);
      throw new Error(`EndpointSlice informer cache is out of date for service ${key}`);
    }
    const triggerTime = this.triggerTimes.compute(svc, pods);
    const nodes = this.nodes.lister();
    const plan = reconcile({ service: svc, pods, nodeFor: (n) => nodes.get(n), existing, maxEndpointsPerSlice: this.maxEndpointsPerSlice });
    const annotate = (s: EndpointSlice) => {
      const annotations = { ...(s.metadata?.annotations ?? {}) };
      if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = triggerTime;
      else delete annotations[LAST_CHANGE_TRIGGER_TIME];
      s.metadata = { ...s.metadata, annotations };
      if (Object.keys(annotations).length === 0) delete s.metadata.annotations;
    };
    try {
      // No new slices for a service being deleted (the garbage collector would race them).
      if (!svc.metadata?.deletionTimestamp) {
        for (const s of plan.create) {
          annotate(s);
          try {
            this.tracker.update(await this.client.create(s, { namespace }));
          } catch (err) {
            if (isApiError(err) && err.reason === 'Forbidden' && /being terminated/.test(err.message)) return;
            throw new Error(`failed to create EndpointSlice for Service ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          }
        }
      }
      for (const s of plan.update) {
        annotate(s);
        try {
          this.tracker.update(await this.client.update(s, { namespace }));
        } catch (err) {
          throw new Error(`failed to update ${s.metadata?.name} EndpointSlice for Service ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
      for (const s of plan.delete) {
        try {
          await this.client.delete(s.metadata?.name ?? '', { namespace });
        } catch (err) {
          if (!isNotFound(err)) {
            throw new Error(`failed to delete ${s.metadata?.name} EndpointSlice for Service ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          }
        }
        this.tracker.expectDeletion(s);
      }
    } catch (err) {
      this.recorder.event({ ...svc, apiVersion: 'v1', kind: 'Service' }, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    // Pods on nodes not (yet) known were left out: try again later.
    if (plan.skipped.length) throw new Error(`skipping Pods ${plan.skipped.join(', ')} for Service ${key}: Node not found`);
  }
}

export const endpointSliceControllerDescriptor: ControllerDescriptor = {
  name: 'endpointslice',
  create: (ctx) => new EndpointSliceController(ctx),
};
