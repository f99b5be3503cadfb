// A complete API server (memory storage, every REST handler and admission plugin) reached through the in-process
// transport: controller unit tests get a real API without spawning `skiff server` or opening a socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../apiserver/apiserver.js';
import type { UserInfo } from '../../apiserver/auth/user.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { createLogger } from '../../apiserver/log.js';
import { InProcessTransport, RestClient, SharedInformerFactory, realClock, type Clock, type RestClientOptions } from '../../client/index.js';
import type { Controller, ControllerContext } from '../manager.js';
import type { ControllerOptions } from '../options.js';

export const IN_PROCESS_ADMIN: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:masters', 'system:authenticated'] };

export interface InProcessApi {
  api: ApiServer;
  client: RestClient;
  /** Another client on the same server (e.g. with its own retry options). */
  newClient(opts?: RestClientOptions): RestClient;
  close(): Promise<void>;
}

export async function startInProcessApi(opts: Partial<ApiServerOptions> = {}): Promise<InProcessApi> {
  const storage = openMemoryStorage();
  const longRunning = new Set<() => void>();
  const api = await createApiServer(storage, {
    serviceCIDR: '198.19.0.0/16',
    advertiseAddress: '127.0.0.1',
    securePort: 6443,
    registerLongRunning: (close) => {
      longRunning.add(close);
      return () => longRunning.delete(close);
    },
    // No serviceaccount controller runs here: as upstream's integration tests, pods are admitted without their
    // ServiceAccount unless a test turns the plugin back on.
    admissionPlugins: { disable: ['ServiceAccount'] },
    ...opts,
  });
  const handler = (req: IncomingMessage, res: ServerResponse) => api.handler(req, res, IN_PROCESS_ADMIN);
  const clients: RestClient[] = [];
  const newClient = (o?: RestClientOptions) => {
    const c = new RestClient(new InProcessTransport(handler), o);
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    api,
    client,
    newClient,
    close: async () => {
      for (const c of clients) c.close();
      for (const close of [...longRunning]) close();
      api.close();
      await storage.close();
    },
  };
}

export interface RunningController<C extends Controller> {
  informers: SharedInformerFactory;
  controller: C;
  /** Stops the controller and its informers (the API server stays). */
  stop(): Promise<void>;
}

export interface ControllerUnderTest<C extends Controller> extends InProcessApi, RunningController<C> {
  /** Stops the controller, its informers and the API server. */
  stop(): Promise<void>;
}

type ControllerTestOptions = { clock?: Clock; options?: ControllerOptions; waitForSync?: boolean };

async function withStartedInformers<C extends Controller>(
  api: InProcessApi,
  create: (ctx: ControllerContext) => C,
  opts: ControllerTestOptions,
): Promise<{ informers: SharedInformerFactory; controller: C }> {
  const informers = new SharedInformerFactory(api.client);
  const controller = create({ client: api.client, informers, clock: opts.clock ?? realClock, log: createLogger('error'), options: opts.options });
  informers.start();
  if (opts.waitForSync && !(await informers.waitForCacheSync(10_000))) throw new Error('informer caches did not sync');
  return { informers, controller };
}

/**
 * One controller built against `api` with its informers started and synced, but not running: the test drives
 * `sync()` itself (e.g. with a FakeClock). stop() shuts the informers down (the API server stays).
 */
export async function buildControllerOn<C extends Controller>(
  api: InProcessApi,
  create: (ctx: ControllerContext) => C,
  opts: Omit<ControllerTestOptions, 'waitForSync'> = {},
): Promise<RunningController<C>> {
  const { informers, controller } = await withStartedInformers(api, create, { ...opts, waitForSync: true });
  return { informers, controller, stop: () => informers.shutdown() };
}

/** One controller running against `api` (e.g. after the test created what must exist before it starts). */
export async function startControllerOn<C extends Controller>(
  api: InProcessApi,
  create: (ctx: ControllerContext) => C,
  opts: ControllerTestOptions = {},
): Promise<RunningController<C>> {
  const { informers, controller } = await withStartedInformers(api, create, opts);
  const abort = new AbortController();
  const running = controller.run(abort.signal);
  return {
    informers,
    controller,
    async stop() {
      abort.abort();
      await running;
      await informers.shutdown();
    },
  };
}

/** One controller running against a fresh in-process API, until stop(). */
export async function runControllerUnderTest<C extends Controller>(
  create: (ctx: ControllerContext) => C,
  opts: ControllerTestOptions = {},
): Promise<ControllerUnderTest<C>> {
  const api = await startInProcessApi();
  const running = await startControllerOn(api, create, opts);
  return {
    ...api,
    ...running,
    async stop() {
      await running.stop();
      await api.close();
    },
  };
}
