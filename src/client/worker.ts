// The standard controller worker loop (client-go's processNextWorkItem): take a key, reconcile it, forget it on success
// or re-add it rate-limited on failure, and always mark it done so a key dirtied meanwhile is queued again.
import type { RateLimitingQueue } from './workqueue.js';

export interface WorkerOptions<T> {
  /** A reconcile failed (it is retried unless maxRetries is reached). */
  onError?: (item: T, err: unknown) => void;
  /** Drop an item after this many consecutive failures (default: retry forever, as most controllers do). */
  maxRetries?: number;
}

/** Process one item; false once the queue is shut down and empty. */
export async function processNextWorkItem<T>(queue: RateLimitingQueue<T>, reconcile: (item: T) => Promise<void>, opts: WorkerOptions<T> = {}): Promise<boolean> {
  const next = await queue.get();
  if (next.shutdown) return false;
  const item = next.item;
  try {
    await reconcile(item);
    queue.forget(item);
  } catch (err) {
    opts.onError?.(item, err);
    if (opts.maxRetries !== undefined && queue.numRequeues(item) >= opts.maxRetries) queue.forget(item);
    else queue.addRateLimited(item);
  } finally {
    queue.done(item);
  }
  return true;
}

/** Run `count` concurrent workers until the queue shuts down; resolves when all have stopped. */
export async function runWorkers<T>(queue: RateLimitingQueue<T>, count: number, reconcile: (item: T) => Promise<void>, opts: WorkerOptions<T> = {}): Promise<void> {
  const worker = async () => {
    while (await processNextWorkItem(queue, reconcile, opts));
  };
  await Promise.all(Array.from({ length: count }, worker));
}
