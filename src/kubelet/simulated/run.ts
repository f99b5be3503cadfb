// Starts simulated nodes as an API client of a server: inside `skiff server --simulated-nodes N` (over the admin
// kubeconfig) or inside `skiff agent --simulated-nodes N` (over --server and --token).
import type { Logger } from '../../apiserver/log.js';
import type { RestClient, SharedInformerFactory } from '../../client/index.js';
import { SimulatedNodes, type SimulatedNodesOptions } from './simulator.js';

export interface RunningSimulatedNodes {
  /** Resolves once the nodes are registered (undefined if starting failed; the failure is logged). */
  readonly started: Promise<SimulatedNodes | undefined>;
  stop(): Promise<void>;
}

export interface StartSimulatedNodesOptions extends SimulatedNodesOptions {
  /** A client of the server (closed on stop), or how to make one. */
  client: RestClient | (() => Promise<RestClient>);
  log: Logger;
  /** A client and informers shared with other in-process components (their owner closes them), used instead of `client`. */
  shared?: Promise<{ client: RestClient; informers: SharedInformerFactory }>;
}

/** Starts in the background and returns at once, so a caller's signal handling is not held up. */
export function startSimulatedNodes(opts: StartSimulatedNodesOptions): RunningSimulatedNodes {
  const { client: clientOrFactory, shared, ...simOpts } = opts;
  const running = (async () => {
    const common = shared ? await shared : undefined;
    const own = common ? undefined : typeof clientOrFactory === 'function' ? await clientOrFactory() : clientOrFactory;
    const sim = new SimulatedNodes(common?.client ?? own!, { ...simOpts, ...(common ? { informers: common.informers } : {}) });
    try {
      await sim.start();
    } catch (err) {
      await sim.stop();
      own?.close();
      throw err;
    }
    opts.log.info('simulated nodes running', { nodes: opts.names.length });
    return { client: own, sim };
  })();
  const started = running.then(
    (r) => r.sim,
    (err: unknown) => {
      opts.log.error('simulated nodes failed to start', { err: String(err) });
      return undefined;
    },
  );
  return {
    started,
    stop: async () => {
      const r = await running.catch(() => undefined);
      if (!r) return;
      await r.sim.stop();
      r.client?.close();
    },
  };
}
