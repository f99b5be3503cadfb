// The worker thread `skiff server` runs its API clients in (api-clients.ts): the scheduler, the controller manager and
// simulated nodes get a second core, as upstream's kube-scheduler and kube-controller-manager are processes of their
// own. Each client's transport is a MessageChannel whose other end the server's thread serves (serveTransport over
// the in-process transport of its handler, authenticated as the admin as before).
//
// Protocol on parentPort — from the server's thread: {t:'stop'}, {t:'metrics', id}; to it: {t:'transport', port}
// (a new client's channel), {t:'stopped'}, {t:'metrics', id, metrics} (this thread's Prometheus metrics
// with samples: the scheduler's live here).
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { createLogger, type LogLevel } from '../apiserver/log.js';
import { metricsForExport } from '../apiserver/metrics.js';
import { MessagePortTransport, RestClient } from '../client/index.js';
import { startApiClients, type ApiClientsConfig } from './api-clients.js';

export interface ApiClientsWorkerData {
  config: ApiClientsConfig;
  logLevel: LogLevel;
}

export type ToApiClientsWorker = { t: 'stop' } | { t: 'metrics'; id: number };

if (!parentPort) throw new Error('api-clients-worker runs as a worker thread');
const parent = parentPort;
const data = workerData as ApiClientsWorkerData;
const log = createLogger(data.logLevel);

const makeClient = (): RestClient => {
  const { port1, port2 } = new MessageChannel();
  parent.postMessage({ t: 'transport', port: port2 }, [port2]);
  return new RestClient(new MessagePortTransport(port1));
};

const running = startApiClients(data.config, makeClient, log);
let stopping: Promise<void> | undefined;
parent.on('message', (msg: ToApiClientsWorker) => {
  if (msg.t === 'stop') {
    stopping ??= running.stop().finally(() => parent.postMessage({ t: 'stopped' }));
  } else if (msg.t === 'metrics') {
    metricsForExport().then(
      (metrics) => parent.postMessage({ t: 'metrics', id: msg.id, metrics }),
      () => parent.postMessage({ t: 'metrics', id: msg.id, metrics: { names: [], text: '' } }),
    );
  }
});
