// Runs the API server for `skiff server` until SIGTERM/SIGINT.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createApiServer } from '../apiserver/apiserver.js';
import { watchStarted, watchStopped } from '../apiserver/metrics.js';
import { createLogger, startServer, type ServerConfig, type ServerDeps } from '../apiserver/server.js';
import { startControllerManager } from '../controllers/index.js';
import { startScheduler } from '../scheduler/run.js';

/** What `skiff server` plugs into the HTTPS server: the REST handlers over the opened storage. */
export function serverDeps(config: ServerConfig): ServerDeps {
  return {
    createApiHandler: async (ctx) => {
      const api = await createApiServer(ctx.storage, {
        serviceCIDR: config.serviceCidr,
        advertiseAddress: advertisedIP(config),
        // The bound port: differs from the flag when that is 0.
        securePort: ctx.port,
        registerLongRunning: (close) => ctx.lifecycle.registerLongRunning(close),
        onWatchStart: watchStarted,
        onWatchStop: watchStopped,
      });
      ctx.lifecycle.onShutdown('api-server', () => api.close());
      return api.handler;
    },
  };
}

/**
 * The address the `kubernetes` Service's endpoints name: --advertise-address, a specific bind address, or (like
 * k3s) the host's first non-loopback IPv4 address; loopback only when the host has nothing else.
 */
function advertisedIP(config: ServerConfig): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  if (isIP(config.bindAddress) === 4 && config.bindAddress !== '0.0.0.0') return config.bindAddress;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (a second signal exits at once). */
export async function runServer(config: ServerConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  if (!config.disableAgent) log.info('no local node yet: running the control plane only (as with --disable-agent)');
  const server = await startServer(config, { ...serverDeps(config), logger: log });
  // --- controller manager (issue 3): an API client of this server over loopback, started in the background (not
  // awaited, so the signal handlers below are in place as soon as the server is ready), stopped before storage closes ---
  const controllers = startControllerManager({ kubeconfigPath: server.kubeconfigPath, disabled: config.disableControllers, log }).catch(
    (err: unknown) => {
      log.error('controller manager failed to start', { err });
      return undefined;
    },
  );
  server.lifecycle.onShutdown('controller-manager', async () => (await controllers)?.stop());
  // --- end controller manager ---
  // --- scheduler (issue 4): an API client of this server over loopback, started in the background (not awaited, so
  // the signal handlers below are in place as soon as the server says it is ready), stopped before storage closes ---
  const scheduler = startScheduler({ kubeconfigPath: server.kubeconfigPath, disabled: config.disableControllers, log });
  server.lifecycle.onShutdown('scheduler', () => scheduler.stop());
  // --- end scheduler ---
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('received signal, shutting down', { signal });
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
