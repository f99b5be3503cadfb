// Runs the scheduler inside `skiff server`: an API client of the server over loopback, as kube-scheduler is upstream.
import { RestClient } from '../client/index.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/** The --disable-controllers name that turns the scheduler off (k3s's --disable-scheduler). */
export const SCHEDULER_COMPONENT = 'scheduler';

export interface RunningScheduler {
  stop(): Promise<void>;
}

export interface StartSchedulerOptions extends Omit<SchedulerOptions, 'log'> {
  kubeconfigPath: string;
  /** Components disabled by the operator; "scheduler" among them means none is started. */
  disabled?: readonly string[];
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

export async function startScheduler(opts: StartSchedulerOptions): Promise<RunningScheduler> {
  if (opts.disabled?.includes(SCHEDULER_COMPONENT)) return { stop: async () => {} };
  const client = await RestClient.fromKubeconfig(opts.kubeconfigPath);
  const { kubeconfigPath: _path, disabled: _disabled, log, ...schedulerOpts } = opts;
  const scheduler = new Scheduler(client, { ...schedulerOpts, ...(log ? { log: (msg, fields) => log.warn(`scheduler: ${msg}`, fields) } : {}) });
  await scheduler.start();
  return {
    stop: async () => {
      await scheduler.stop();
      client.close();
    },
  };
}
