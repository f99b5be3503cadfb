// NodeResourcesBalancedAllocation: favours nodes whose resources would be used in equal proportions.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PreScorePlugin, ScorePlugin } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import type { MaybeStatus } from '../../framework/status.js';
import { resourceSpecs } from './fit.js';
import { ResourceAllocationScorer } from './resource-allocation.js';
import { balancedResourceScorer } from './scorers.js';

export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation';
const PRE_SCORE_KEY = 'PreScore' + NODE_RESOURCES_BALANCED_ALLOCATION;

export interface NodeResourcesBalancedAllocationArgs {
  resources?: { name: string; weight?: number }[];
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION;
  readonly scorer: ResourceAllocationScorer;

  constructor(args: NodeResourcesBalancedAllocationArgs = {}) {
    // Balance is judged on real requests, not the defaults given to pods that state none.
    this.scorer = new ResourceAllocationScorer(resourceSpecs(args.resources), balancedResourceScorer, true);
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    return this.scorer.preScore(state, PRE_SCORE_KEY, pod);
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    return this.scorer.scoreNode(state, PRE_SCORE_KEY, pod, nodeInfo);
  }
}
