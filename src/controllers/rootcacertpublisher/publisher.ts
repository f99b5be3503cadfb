// Upstream's root-ca-cert-publisher: every active namespace holds a ConfigMap "kube-root-ca.crt" with the cluster
// CA (ca.crt), which the kube-api-access volume projects into pods next to their service account token. A changed
// or deleted copy is put back. Keys are namespace names.
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isApiError, isNotFound } from '../../machinery/errors.js';
import { RateLimitingQueue, deletedObject, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import { isActiveNamespace } from '../serviceaccount/serviceaccount-controller.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or ' +
  'kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCACertPublisher implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly namespaces: SharedIndexInformer<Namespace>;
  private readonly configMaps: SharedIndexInformer<ConfigMap>;
  private readonly client: ResourceClient<ConfigMap>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly rootCA: string,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    this.namespaces = ctx.informers.informerFor<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    this.configMaps = ctx.informers.informerFor<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const enqueueNamespace = (ns: Namespace) => {
      if (ns.metadata?.name) this.queue.add(ns.metadata.name);
    };
    const enqueueConfigMap = (cm: ConfigMap) => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP && cm.metadata.namespace) this.queue.add(cm.metadata.namespace);
    };
    this.namespaces.addEventHandler({ onAdd: enqueueNamespace, onUpdate: (_old, ns) => enqueueNamespace(ns) });
    this.configMaps.addEventHandler({ onUpdate: (_old, cm) => enqueueConfigMap(cm), onDelete: (obj) => enqueueConfigMap(deletedObject(obj)) });
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () => (await this.namespaces.waitForCacheSync()) && (await this.configMaps.waitForCacheSync());
    return runQueueController({ name: 'root-ca-cert-publisher', waitForSync, queue: this.queue, workers: 1, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  async sync(namespace: string): Promise<void> {
    if (!isActiveNamespace(this.namespaces.lister().get(namespace))) return;
    const current = this.configMaps.lister().namespace(namespace).get(ROOT_CA_CONFIGMAP);
    try {
      if (!current) {
        await this.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data: { 'ca.crt': this.rootCA },
        });
        return;
      }
      const data = current.data ?? {};
      if (data['ca.crt'] === this.rootCA && Object.keys(data).length === 1 && current.metadata?.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION) return;
      const next = structuredClone(current);
      next.data = { 'ca.crt': this.rootCA };
      next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
      await this.client.update(next);
    } catch (err) {
      // The cache lags a create, or the namespace began terminating: the next event brings it back here.
      if (isAlreadyExists(err) || isNotFound(err) || (isApiError(err) && err.reason === 'Forbidden')) return;
      throw err;
    }
  }
}

export const rootCACertPublisherDescriptor: ControllerDescriptor = {
  name: 'root-ca-cert-publisher',
  create: (ctx) => {
    const ca = ctx.options?.rootCaPem;
    if (ca) return new RootCACertPublisher(ctx, ca);
    // As kube-controller-manager without --root-ca-file and without a CA in its kubeconfig: nothing to publish.
    ctx.log.warn('root-ca-cert-publisher: no root CA to publish');
    return { run: async () => undefined };
  },
};
