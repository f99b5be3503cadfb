// Defaults of simulated nodes, kept free of imports so the CLI can name them without loading the simulator.

export interface NodeCapacity {
  cpu: string;
  memory: string;
  pods: string;
  'ephemeral-storage': string;
}

export const DEFAULT_CAPACITY: NodeCapacity = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };

/** "sim-node-0" ... for count nodes with a prefix. */
export function simulatedNodeNames(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
