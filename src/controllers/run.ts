// The run loop every queue-driven controller shares: wait for its caches, run workers until the signal aborts, then
// shut the queue down so the workers return.
import type { Logger } from '../apiserver/log.js';
import { runWorkers, type RateLimitingQueue } from '../client/index.js';

export interface QueueControllerRun {
  name: string;
  /** Resolves true once the controller's caches are filled (false on timeout or when the informers stop). */
  waitForSync: () => Promise<boolean>;
  queue: RateLimitingQueue<string>;
  workers: number;
  sync: (key: string) => Promise<void>;
  log: Logger;
}

export async function runQueueController(c: QueueControllerRun, signal: AbortSignal): Promise<void> {
  const onAbort = () => c.queue.shutDown();
  if (signal.aborted) return onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  // A slow server only delays the start: keep waiting until synced or told to stop.
  while (!(await c.waitForSync())) {
    if (signal.aborted) return;
    c.log.warn('still waiting for caches to sync', { controller: c.name });
  }
  if (signal.aborted) return;
  c.log.debug('controller started', { controller: c.name });
  await runWorkers(c.queue, c.workers, c.sync, {
    onError: (key, err) => c.log.warn('sync failed, will retry', { controller: c.name, key, err }),
  });
}
