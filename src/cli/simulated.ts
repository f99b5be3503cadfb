// The simulator's options from the --simulated-* and --node-* flags (shared by `skiff server` and `skiff agent`).
import { loadStagesFile } from '../kubelet/simulated/stages.js';
import type { SimulatedNodesOptions } from '../kubelet/simulated/simulator.js';
import type { SimulatedNodesConfig } from './node-flags.js';

/** Reads the stage file (if any) now, so a bad one fails the command before anything starts. */
export function simulatorOptions(sim: SimulatedNodesConfig, clusterCidr: string): SimulatedNodesOptions {
  return {
    names: sim.names,
    zones: sim.zones,
    capacity: sim.capacity,
    labels: sim.labels,
    taints: sim.taints,
    stopHeartbeat: sim.stopHeartbeat,
    renewIntervalMs: sim.renewIntervalMs,
    clusterCidr,
    ...(sim.stagesFile ? { stages: loadStagesFile(sim.stagesFile) } : {}),
  };
}
