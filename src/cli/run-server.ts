// Runs the API server for `skiff server` until SIGTERM/SIGINT.
import { createLogger, startServer, type ServerConfig, type ServerDeps } from '../apiserver/server.js';

/**
 * What `skiff server` plugs into the API server. The REST handlers are wired here (createApiHandler) once they
 * exist; until then every API path answers 404.
 */
export function serverDeps(_config: ServerConfig): ServerDeps {
  return {};
}

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (a second signal exits at once). */
export async function runServer(config: ServerConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  if (!config.disableAgent) log.info('no local node yet: running the control plane only (as with --disable-agent)');
  const server = await startServer(config, { ...serverDeps(config), logger: log });
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
