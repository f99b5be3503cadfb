// Runs the scheduler inside `skiff server`: an API client of the server, as kube-scheduler is upstream (its requests
// handed to the server in-process, or over HTTPS with a kubeconfig).
import { RestClient, type SharedInformerFactory } from '../client/index.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/** The --disable-controllers name that turns the scheduler off (k3s's --disable-scheduler). */
export const SCHEDULER_COMPONENT = 'scheduler';

export interface RunningScheduler {
  stop(): Promise<void>;
}

export interface StartSchedulerOptions extends Omit<SchedulerOptions, 'log'> {
  kubeconfigPath: string;
  /** Makes the scheduler's client instead of reading the kubeconfig (`skiff server`: the in-process transport). */
  client?: () => RestClient;
  /** Components disabled by the operator; "scheduler" among them means none is started. */
  disabled?: readonly string[];
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** A client and informers shared with other in-process components (their owner closes them), instead of our own. */
  shared?: Promise<{ client: RestClient; informers: SharedInformerFactory }>;
}

/**
 * Starts the scheduler in the background and returns at once, so the server's signal handling is not held up; a
 * scheduler that cannot start is logged, and stop() waits for a start in progress.
 */
export function startScheduler(opts: StartSchedulerOptions): RunningScheduler {
  if (opts.disabled?.includes(SCHEDULER_COMPONENT)) return { stop: async () => {} };
  const { kubeconfigPath, client: makeClient, disabled: _disabled, log, shared, ...schedulerOpts } = opts;
  // Set as soon as it exists, so stop() can end a start still waiting for the caches.
  let created: Scheduler | undefined;
  const started = (async () => {
    const own = shared ? undefined : makeClient ? makeClient() : await RestClient.fromKubeconfig(kubeconfigPath);
    const { client, informers } = shared ? await shared : { client: own!, informers: undefined };
    const scheduler = (created = new Scheduler(client, {
      ...schedulerOpts,
      ...(informers ? { informers } : {}),
      ...(log ? { log: (msg, fields) => log.warn(`scheduler: ${msg}`, fields) } : {}),
    }));
    try {
      await scheduler.start();
    } catch (err) {
      await scheduler.stop();
      own?.close();
      throw err;
    }
    return { client: own, scheduler };
  })();
  started.catch((err: unknown) => log?.warn('scheduler: failed to start', { err: String(err) }));
  return {
    stop: async () => {
      await created?.stop();
      const running = await started.catch(() => undefined);
      if (!running) return;
      await running.scheduler.stop();
      running.client?.close();
    },
  };
}
