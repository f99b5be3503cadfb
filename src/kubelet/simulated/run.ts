// Starts simulated nodes as an API client of a server: inside `skiff server --simulated-nodes N` (over the admin
// kubeconfig) or inside `skiff agent --simulated-nodes N` (over --server and --token).
import type { Logger } from '../../apiserver/log.js';
import { RestClient } from '../../client/index.js';
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
}

/** Starts in the background and returns at once, so a caller's signal handling is not held up. */
export function startSimulatedNodes(opts: StartSimulatedNodesOptions): RunningSimulatedNodes {
  const { client: clientOrFactory, ...simOpts } = opts;
  const running = (async () => {
    const client = typeof clientOrFactory === 'function' ? await clientOrFactory() : clientOrFactory;
    const sim = new SimulatedNodes(client, simOpts);
    try {
      await sim.start();
    } catch (err) {
      await sim.stop();
      client.close();
      throw err;
    }
    opts.log.info('simulated nodes running', { nodes: opts.names.length });
    return { client, sim };
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
      r.client.close();
    },
  };
}
