// Upstream's resourceAllocationScorer: per-resource (allocatable, requested) pairs fed to a scoring function.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../../framework/node-info.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { NON_ZERO_DEFAULTS, isScalarResourceName, podRequests } from '../../framework/resources.js';

export interface ResourceSpec {
  name: string;
  weight: number;
}

/** Scores a node from requested and allocatable amounts, one entry per configured resource. */
export type ResourceScorer = (requested: number[], allocatable: number[]) => number;

export class ResourceAllocationScorer {
  constructor(
    readonly resources: readonly ResourceSpec[],
    private readonly scorer: ResourceScorer,
    /** Use the pods' actual requests instead of the non-zero defaults for pods stating none. */
    private readonly useRequested: boolean,
  ) {}

  /** PreScore: compute the pod's requests once per cycle under the plugin's own state key. */
  preScore(state: CycleState, stateKey: string, pod: Pod): undefined {
    state.write(stateKey, this.podRequestList(pod));
    return undefined;
  }

  /** Score: the node's score for the pod, from the PreScore requests when present. */
  scoreNode(state: CycleState, stateKey: string, pod: Pod, nodeInfo: NodeInfo): { score: number } {
    const requests = state.has(stateKey) ? state.read<number[]>(stateKey) : this.podRequestList(pod);
    return { score: this.score(nodeInfo, requests) };
  }

  /** The pod's request of each configured resource (milli-CPU, bytes, counts). */
  podRequestList(pod: Pod): number[] {
    const reqs = podRequests(pod, this.useRequested ? {} : { nonMissingContainerRequests: NON_ZERO_DEFAULTS });
    return this.resources.map((r) => {
      const q = reqs.get(r.name);
      if (!q) return 0;
      return r.name === 'cpu' ? q.milliValue() : q.value();
    });
  }

  private allocatableAndRequested(nodeInfo: NodeInfo, resource: string, podRequest: number): [number, number] {
    const requested = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
    // An extended resource the pod does not ask for is left out of the score.
    if (podRequest === 0 && isScalarResourceName(resource)) return [0, 0];
    switch (resource) {
      case 'cpu':
        return [nodeInfo.allocatable.milliCPU, requested.milliCPU + podRequest];
      case 'memory':
        return [nodeInfo.allocatable.memory, requested.memory + podRequest];
      case 'ephemeral-storage':
        return [nodeInfo.allocatable.ephemeralStorage, nodeInfo.requested.ephemeralStorage + podRequest];
      default: {
        const alloc = nodeInfo.allocatable.scalarResources.get(resource);
        if (alloc === undefined) return [0, 0];
        return [alloc, (nodeInfo.requested.scalarResources.get(resource) ?? 0) + podRequest];
      }
    }
  }

  score(nodeInfo: NodeInfo, podRequestList: readonly number[]): number {
    if (this.resources.length === 0) throw new Error('resources not found');
    const requested = new Array<number>(this.resources.length).fill(0);
    const allocatable = new Array<number>(this.resources.length).fill(0);
    this.resources.forEach((r, i) => {
      const [alloc, req] = this.allocatableAndRequested(nodeInfo, r.name, podRequestList[i] ?? 0);
      if (alloc === 0) return;
      allocatable[i] = alloc;
      requested[i] = req;
    });
    return this.scorer(requested, allocatable);
  }
}
