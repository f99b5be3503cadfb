// A complete API server (memory storage, every REST handler and admission plugin) reached through the in-process
// transport: controller unit tests get a real API without spawning `skiff server` or opening a socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../apiserver/apiserver.js';
import type { UserInfo } from '../../apiserver/auth/user.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { InProcessTransport, RestClient, type RestClientOptions } from '../../client/index.js';

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
