// The built-in controllers `skiff server` runs, and the manager that hosts them.
import { readFile } from 'node:fs/promises';
import type { Logger } from '../apiserver/log.js';
import { loadKubeconfig, RestClient, type SharedInformerFactory } from '../client/index.js';
import { ControllerManager, type ControllerDescriptor, type LeaderElectionOptions } from './manager.js';
import { namespaceControllerDescriptor } from './namespace/namespace-controller.js';
import { serviceAccountControllerDescriptor } from './serviceaccount/serviceaccount-controller.js';
import { garbageCollectorDescriptor } from './garbagecollector/garbagecollector.js';
import { replicaSetControllerDescriptor, replicationControllerDescriptor } from './replicaset/replicaset-controller.js';
import { jobControllerDescriptor } from './job/job-controller.js';
import { deploymentControllerDescriptor } from './deployment/deployment-controller.js';
import type { ControllerOptions } from './options.js';
import { nodeLifecycleControllerDescriptor } from './nodelifecycle/node-lifecycle-controller.js';
import { taintEvictionControllerDescriptor } from './nodelifecycle/taint-eviction-controller.js';
import { disruptionControllerDescriptor } from './disruption/disruption-controller.js';
import { horizontalPodAutoscalerControllerDescriptor } from './podautoscaler/horizontal.js';
import { cronJobControllerDescriptor } from './cronjob/cronjob-controller.js';
import { ttlAfterFinishedControllerDescriptor } from './ttlafterfinished/ttl-after-finished-controller.js';
import { statefulSetControllerDescriptor } from './statefulset/statefulset-controller.js';
import { daemonSetControllerDescriptor } from './daemonset/daemonset-controller.js';
import { endpointsControllerDescriptor } from './endpoint/endpoints-controller.js';
import { endpointSliceControllerDescriptor } from './endpointslice/endpointslice-controller.js';
import { endpointSliceMirroringControllerDescriptor } from './endpointslicemirroring/endpointslicemirroring-controller.js';
import { nodeIpamControllerDescriptor } from './nodeipam/nodeipam-controller.js';
import { podGCControllerDescriptor } from './podgc/podgc-controller.js';
import { resourceQuotaControllerDescriptor } from './resourcequota/resourcequota-controller.js';
import { persistentVolumeBinderControllerDescriptor } from './volume/persistentvolume/pv-controller.js';
import { rootCACertPublisherDescriptor } from './rootcacertpublisher/publisher.js';
import { tokensControllerDescriptor } from './serviceaccount/tokens-controller.js';
import { legacyTokenCleanerDescriptor } from './serviceaccount/legacy-token-cleaner.js';
import { clusterRoleAggregationDescriptor } from './clusterroleaggregation/controller.js';

export * from './manager.js';
export * from './options.js';

/** Every controller this server has, by upstream's --controllers name. */
export const BUILTIN_CONTROLLERS: readonly ControllerDescriptor[] = [
  namespaceControllerDescriptor,
  serviceAccountControllerDescriptor,
  replicaSetControllerDescriptor,
  replicationControllerDescriptor,
  jobControllerDescriptor,
  deploymentControllerDescriptor,
  nodeLifecycleControllerDescriptor,
  taintEvictionControllerDescriptor,
  cronJobControllerDescriptor,
  ttlAfterFinishedControllerDescriptor,
  garbageCollectorDescriptor,
  statefulSetControllerDescriptor,
  daemonSetControllerDescriptor,
  disruptionControllerDescriptor,
  endpointsControllerDescriptor,
  endpointSliceControllerDescriptor,
  endpointSliceMirroringControllerDescriptor,
  nodeIpamControllerDescriptor,
  podGCControllerDescriptor,
  resourceQuotaControllerDescriptor,
  horizontalPodAutoscalerControllerDescriptor,
  persistentVolumeBinderControllerDescriptor,
  rootCACertPublisherDescriptor,
  tokensControllerDescriptor,
  clusterRoleAggregationDescriptor,
  legacyTokenCleanerDescriptor,
];

export interface StartControllersOptions {
  /** Admin kubeconfig: the manager is an API client like upstream's kube-controller-manager. */
  kubeconfigPath: string;
  /** Makes the manager's client instead of reading the kubeconfig (`skiff server`: the in-process transport). */
  client?: () => RestClient;
  disabled: readonly string[];
  log: Logger;
  leaderElection?: LeaderElectionOptions | false;
  options?: ControllerOptions;
  /** Informers shared with other in-process components (the scheduler): each leadership term uses a scope of them. */
  informers?: SharedInformerFactory;
}

/** Start the controller manager; call stop() on the result before the server's storage closes. */
export async function startControllerManager(opts: StartControllersOptions): Promise<{ manager: ControllerManager; stop: () => Promise<void> }> {
  const client = opts.client ? opts.client() : await RestClient.fromKubeconfig(opts.kubeconfigPath);
  // The root CA defaults to the kubeconfig's, as kube-controller-manager does without --root-ca-file.
  const rootCaPem = opts.options?.rootCaPem ?? (await loadKubeconfig(opts.kubeconfigPath)).ca;
  const keyFile = opts.options?.serviceAccountPrivateKeyFile;
  const serviceAccountPrivateKeyPem = opts.options?.serviceAccountPrivateKeyPem ?? (keyFile ? await readFile(keyFile, 'utf8') : undefined);
  const options = { ...opts.options, rootCaPem, ...(serviceAccountPrivateKeyPem ? { serviceAccountPrivateKeyPem } : {}) };
  const manager = new ControllerManager({ client, controllers: BUILTIN_CONTROLLERS, disabled: opts.disabled, leaderElection: opts.leaderElection, log: opts.log, options, ...(opts.informers ? { informers: opts.informers } : {}) });
  manager.start();
  return {
    manager,
    stop: async () => {
      await manager.stop();
      client.close();
    },
  };
}
