// --scheduler-config: read and checked before anything starts.
import { loadSchedulerConfig, type SchedulerConfiguration } from '../scheduler/config.js';
import { buildProfiles } from '../scheduler/scheduler.js';

/** Reads and checks --scheduler-config (plugins exist, args decode) before anything starts. */
export function schedulerConfig(file: string | undefined): SchedulerConfiguration | undefined {
  if (!file) return undefined;
  const config = loadSchedulerConfig(file);
  try {
    buildProfiles(config.profiles, { percentageOfNodesToScore: config.percentageOfNodesToScore });
  } catch (err) {
    throw new Error(`--scheduler-config ${file}: ${(err as Error).message}`);
  }
  return config;
}
