// The API clients `skiff server` runs besides the API server: the controller manager (issue 3), the scheduler (issue
// 4) and simulated nodes. Upstream runs them as separate binaries that are API clients; here they run in a worker
// thread of the server (api-clients-worker.ts), their requests sent to the server's thread and handed to its request
// pipeline in-process, or (SKIFF_API_CLIENTS=in-process) on the server's thread itself.
import { join } from 'node:path';
import type { Logger } from '../apiserver/log.js';
import { parseControllerManagerArgs, startControllerManager } from '../controllers/index.js';
import { startSimulatedNodes } from '../kubelet/simulated/run.js';
import { SharedInformerFactory, type RestClient } from '../client/index.js';
import { SCHEDULER_COMPONENT, startScheduler } from '../scheduler/run.js';
import type { SimulatedNodesConfig } from './node-flags.js';
import { schedulerConfig } from './scheduler-config.js';
import { simulatorOptions } from './simulated.js';

/** What the API clients are started from: plain data, as it crosses to the worker thread. */
export interface ApiClientsConfig {
  kubeconfigPath: string;
  /** --disable-controllers (and "scheduler" for --disable-scheduler). */
  disabled: readonly string[];
  kubeControllerManagerArgs: readonly string[];
  clusterCidr: string;
  /** The server's PKI directory (service.key signs service account tokens). */
  pkiDir: string;
  simulated?: SimulatedNodesConfig;
  schedulerConfigFile?: string;
}

export interface RunningApiClients {
  /** Stops every component and closes their clients (the caller bounds how long it waits). */
  stop(): Promise<void>;
}

/**
 * Starts the components in the background (not awaited: failures to start are logged, as before) over clients made
 * by `makeClient` (one per call; each is closed when its component stops).
 */
export function startApiClients(config: ApiClientsConfig, makeClient: () => RestClient, log: Logger): RunningApiClients {
  const simOptions = config.simulated ? simulatorOptions(config.simulated, config.clusterCidr) : undefined;
  const scheduling = schedulerConfig(config.schedulerConfigFile);
  // The scheduler, the simulated nodes and the controller manager share one client and one informer factory: one
  // watch and one cached copy of every pod and node instead of one each (150,000 pods cost ~0.5 GiB per copy). The
  // controller manager runs each leadership term on a scope() of it, whose handlers go when the term ends.
  const sharedInformers = !config.disabled.includes(SCHEDULER_COMPONENT)
    ? (() => {
        const client = makeClient();
        return { client, informers: new SharedInformerFactory(client) };
      })()
    : undefined;
  const shared = sharedInformers ? Promise.resolve(sharedInformers) : undefined;
  const controllers = startControllerManager({
    kubeconfigPath: config.kubeconfigPath,
    client: makeClient,
    disabled: config.disabled,
    log,
    // kube-controller-manager gets --cluster-cidr from the server's flag, as k3s passes it.
    // ... and --service-account-private-key-file, the key the API server verifies service account tokens with.
    options: { ...parseControllerManagerArgs([...config.kubeControllerManagerArgs]), clusterCidr: config.clusterCidr, serviceAccountPrivateKeyFile: join(config.pkiDir, 'service.key') },
    ...(sharedInformers ? { informers: sharedInformers.informers } : {}),
  }).catch((err: unknown) => {
    log.error('controller manager failed to start', { err });
    return undefined;
  });
  const scheduler = startScheduler({ kubeconfigPath: config.kubeconfigPath, client: makeClient, disabled: config.disabled, log, ...scheduling, ...(shared ? { shared } : {}) });
  const simulated = simOptions ? startSimulatedNodes({ ...simOptions, client: async () => makeClient(), log, ...(shared ? { shared } : {}) }) : undefined;
  return {
    stop: async () => {
      const stopControllers = controllers.then((c) => c?.stop());
      await Promise.allSettled([scheduler.stop(), simulated?.stop(), stopControllers]);
      await sharedInformers?.informers.shutdown();
      sharedInformers?.client.close();
    },
  };
}
