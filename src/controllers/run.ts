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
  /**
   * Drop a key (and log it) after this many consecutive failed syncs, as upstream's endpoint, endpointslice,
   * endpointslicemirroring and deployment controllers do (15); undefined: retry with backoff forever, like the others.
   * A later event for the key queues it afresh.
   */
  maxRetries?: number;
}

/** Upstream's maxRetries of the controllers that give up on a key: 15 rate-limited retries (up to ~1,000 s apart). */
export const UPSTREAM_MAX_RETRIES = 15;

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
  const maxRetries = c.maxRetries;
  await runWorkers(c.queue, c.workers, c.sync, {
    maxRetries,
    onError: (key, err) => {
      // Called before the worker decides: at maxRetries requeues it forgets the key instead of adding it again.
      const retries = c.queue.numRequeues(key);
      if (maxRetries !== undefined && retries >= maxRetries) {
        c.log.warn('dropping key out of the queue', { controller: c.name, key, retries, err });
      } else {
        c.log.warn('sync failed, will retry', { controller: c.name, key, err });
      }
    },
  });
}
