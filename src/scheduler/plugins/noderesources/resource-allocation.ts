// Upstream's resourceAllocationScorer: per-resource (allocatable, requested) pairs fed to a scoring function.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../../framework/node-info.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { cachedPodRequests, isScalarResourceName } from '../../framework/resources.js';

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
  scoreNode(state: CycleState, stateKey: string, pod: Pod, nodeInfo: NodeInfo): number {
    const requests = state.get<number[]>(stateKey) ?? this.podRequestList(pod);
    return this.score(nodeInfo, requests);
  }

  /** The pod's request of each configured resource (milli-CPU, bytes, counts). */
  podRequestList(pod: Pod): number[] {
    const reqs = cachedPodRequests(pod, !this.useRequested);
    return this.resources.map((r) => {
      const q = reqs.get(r.name);
      if (!q) return 0;
      return r.name === 'cpu' ? q.milliValue() : q.value();
    });
  }

  /**
   * Writes the node's allocatable and requested-with-the-pod amount of resource `i` into the scratch arrays (0, 0
   * when the resource is left out of the score).
   */
  private fill(i: number, nodeInfo: NodeInfo, resource: string, podRequest: number): void {
    const requested = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
    let alloc = 0;
    let req = 0;
    // An extended resource the pod does not ask for is left out of the score.
    if (podRequest !== 0 || !isScalarResourceName(resource)) {
      switch (resource) {
        case 'cpu':
          alloc = nodeInfo.allocatable.milliCPU;
          req = requested.milliCPU + podRequest;
          break;
        case 'memory':
          alloc = nodeInfo.allocatable.memory;
          req = requested.memory + podRequest;
          break;
        case 'ephemeral-storage':
          alloc = nodeInfo.allocatable.ephemeralStorage;
          req = nodeInfo.requested.ephemeralStorage + podRequest;
          break;
        default: {
          alloc = nodeInfo.allocatable.scalarResources.get(resource) ?? 0;
          req = alloc === 0 ? 0 : (nodeInfo.requested.scalarResources.get(resource) ?? 0) + podRequest;
        }
      }
    }
    if (alloc === 0) req = 0;
    this.allocatable[i] = alloc;
    this.requested[i] = req;
  }

  /** Scratch arrays reused for every node (scoring is synchronous; scorers only read them). */
  private readonly requested: number[] = [];
  private readonly allocatable: number[] = [];

  score(nodeInfo: NodeInfo, podRequestList: readonly number[]): number {
    const n = this.resources.length;
    if (n === 0) throw new Error('resources not found');
    // Sized once (resizing on every node costs more than the scoring).
    if (this.requested.length !== n) {
      this.requested.length = n;
      this.allocatable.length = n;
    }
    for (let i = 0; i < n; i++) this.fill(i, nodeInfo, this.resources[i]!.name, podRequestList[i] ?? 0);
    return this.scorer(this.requested, this.allocatable);
  }
}
