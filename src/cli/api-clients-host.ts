// The server's side of the API clients' worker thread (api-clients-worker.ts): starts it, serves each client channel
// it opens with the in-process transport of the API handler (authenticated as the admin, as the clients' kubeconfig
// would be), adds its metrics to /metrics, and stops it. A worker that fails (an uncaught error, or exiting by itself)
// is logged and ends the process, as an uncaught error in the server's own thread would.
import { availableParallelism } from 'node:os';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Logger, LogLevel } from '../apiserver/log.js';
import { addMetricsSource, type ForeignMetrics } from '../apiserver/metrics.js';
import { ADMIN_USER_INFO } from '../apiserver/pki/cluster.js';
import type { RunningServer } from '../apiserver/server.js';
import { InProcessTransport, RestClient, serveTransport, type ServedPort } from '../client/index.js';
import { startApiClients, type ApiClientsConfig, type RunningApiClients } from './api-clients.js';
import type { ApiClientsWorkerData, ToApiClientsWorker } from './api-clients-worker.js';

type FromApiClientsWorker = { t: 'transport'; port: MessagePort } | { t: 'stopped' } | { t: 'metrics'; id: number; metrics: ForeignMetrics };

/** How long /metrics waits for the worker's part. */
const METRICS_TIMEOUT_MS = 5000;
const NO_METRICS: ForeignMetrics = { names: [], text: '' };

export interface ApiClientsHostOptions {
  config: ApiClientsConfig;
  logLevel: LogLevel;
  log: Logger;
  /** Called when the worker fails (default: exit the process with status 1). */
  onFailure?: (err: Error) => void;
}

export type ApiClientsMode = 'worker' | 'in-process';

/**
 * Where the API clients run: SKIFF_API_CLIENTS=worker|in-process decides; otherwise a worker thread when there is a
 * second core for it to use, and the server's own thread on one core (where a second isolate would only cost memory).
 */
export function apiClientsMode(setting: string | undefined, cores: number): ApiClientsMode {
  if (setting === 'worker' || setting === 'in-process') return setting;
  if (setting) throw new Error(`SKIFF_API_CLIENTS=${setting}: expected "worker" or "in-process"`);
  return cores >= 2 ? 'worker' : 'in-process';
}

/** Starts the API clients where apiClientsMode puts them. */
export function startApiClientsHost(server: Pick<RunningServer, 'inProcessHandler'>, opts: ApiClientsHostOptions): RunningApiClients {
  const handler = server.inProcessHandler(ADMIN_USER_INFO);
  if (apiClientsMode(process.env.SKIFF_API_CLIENTS, availableParallelism()) === 'in-process') {
    return startApiClients(opts.config, () => new RestClient(new InProcessTransport(handler)), opts.log);
  }
  const log = opts.log;
  const onFailure =
    opts.onFailure ??
    ((err: Error) => {
      log.error('API clients worker failed', { err: err.message });
      process.exit(1);
    });
  const data: ApiClientsWorkerData = { config: opts.config, logLevel: opts.logLevel };
  const worker = new Worker(new URL('./api-clients-worker.js', import.meta.url), { workerData: data });
  const served = new Set<ServedPort>();
  const transports = new Set<InProcessTransport>();
  let stopping = false;
  let exited = false;
  let stopped: () => void = () => undefined;
  const whenStopped = new Promise<void>((resolve) => (stopped = resolve));
  let nextMetricsId = 1;
  const metricsWaiting = new Map<number, (metrics: ForeignMetrics) => void>();

  worker.on('message', (msg: FromApiClientsWorker) => {
    if (msg.t === 'transport') {
      // Requests from the worker arrive as port messages, each its own task: no second hop before the handler.
      const transport = new InProcessTransport(handler, { arrivesAsTask: true });
      transports.add(transport);
      served.add(serveTransport(msg.port, transport));
    } else if (msg.t === 'stopped') {
      stopped();
    } else if (msg.t === 'metrics') {
      metricsWaiting.get(msg.id)?.(msg.metrics);
      metricsWaiting.delete(msg.id);
    }
  });
  worker.on('error', (err) => {
    if (!stopping) onFailure(err);
    else log.warn('API clients worker failed while stopping', { err: err.message });
  });
  worker.on('exit', (code) => {
    exited = true;
    stopped();
    for (const answer of metricsWaiting.values()) answer(NO_METRICS);
    metricsWaiting.clear();
    if (!stopping) onFailure(new Error(`API clients worker exited with code ${code}`));
  });
  const removeMetrics = addMetricsSource(
    () =>
      new Promise<ForeignMetrics>((resolve) => {
        if (exited || stopping) return resolve(NO_METRICS);
        const id = nextMetricsId++;
        const timer = setTimeout(() => {
          metricsWaiting.delete(id);
          resolve(NO_METRICS);
        }, METRICS_TIMEOUT_MS);
        timer.unref();
        metricsWaiting.set(id, (metrics) => {
          clearTimeout(timer);
          resolve(metrics);
        });
        worker.postMessage({ t: 'metrics', id } satisfies ToApiClientsWorker);
      }),
  );

  return {
    stop: async () => {
      if (!stopping) {
        stopping = true;
        removeMetrics();
        if (!exited) worker.postMessage({ t: 'stop' } satisfies ToApiClientsWorker);
      }
      await whenStopped;
      for (const s of served) s.close();
      for (const t of transports) t.close();
      if (!exited) await worker.terminate();
    },
  };
}
