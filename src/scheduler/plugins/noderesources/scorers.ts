// The scoring strategies of NodeResourcesFit and NodeResourcesBalancedAllocation's formula.
import { idiv } from '../../framework/helpers.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { ResourceScorer, ResourceSpec } from './resource-allocation.js';

/** Upstream's config.MaxCustomPriorityScore: shape scores are 0..10, scaled to node scores. */
export const MAX_CUSTOM_PRIORITY_SCORE = 10;
const MAX_UTILIZATION = 100;

/** Weighted mean of per-resource scores over resources the node has. */
function weighted(resources: readonly ResourceSpec[], perResource: (requested: number, capacity: number) => number): ResourceScorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const alloc = allocatable[i]!;
      if (alloc === 0) continue;
      const weight = resources[i]!.weight;
      nodeScore += perResource(requested[i]!, alloc) * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : idiv(nodeScore, weightSum);
  };
}

/** Favours nodes with more left free: (capacity - requested) / capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return idiv((capacity - requested) * MAX_NODE_SCORE, capacity);
}

/** Favours fuller nodes; requests beyond capacity (pods with default requests) count as full. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return idiv(Math.min(requested, capacity) * MAX_NODE_SCORE, capacity);
}

export const leastResourceScorer = (resources: readonly ResourceSpec[]): ResourceScorer => weighted(resources, leastRequestedScore);
export const mostResourceScorer = (resources: readonly ResourceSpec[]): ResourceScorer => weighted(resources, mostRequestedScore);

export interface FunctionShapePoint {
  utilization: number;
  score: number;
}

/** Piecewise-linear interpolation through the points (sorted by utilization), flat outside them. */
export function brokenLinearFunction(shape: readonly FunctionShapePoint[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      const cur = shape[i]!;
      if (p <= cur.utilization) {
        if (i === 0) return shape[0]!.score;
        const prev = shape[i - 1]!;
        return prev.score + idiv((cur.score - prev.score) * (p - prev.utilization), cur.utilization - prev.utilization);
      }
    }
    return shape[shape.length - 1]!.score;
  };
}

/** RequestedToCapacityRatio: the shape (scores 0..10) maps utilization percent to a score; rounded weighted mean. */
export function requestedToCapacityRatioScorer(resources: readonly ResourceSpec[], shape: readonly FunctionShapePoint[]): ResourceScorer {
  const fn = brokenLinearFunction(
    shape.map((p) => ({ utilization: p.utilization, score: p.score * idiv(MAX_NODE_SCORE, MAX_CUSTOM_PRIORITY_SCORE) })),
  );
  const resourceScore = (requested: number, capacity: number): number =>
    capacity === 0 || requested > capacity ? fn(MAX_UTILIZATION) : fn(idiv(requested * MAX_UTILIZATION, capacity));
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    requested.forEach((req, i) => {
      if (allocatable[i] === 0) return;
      const weight = resources[i]!.weight;
      const s = resourceScore(req, allocatable[i]!);
      // Zero-scoring resources do not dilute the mean.
      if (s > 0) {
        nodeScore += s * weight;
        weightSum += weight;
      }
    });
    // Go's math.Round rounds half away from zero; scores are never negative here.
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/** Balanced allocation: 1 - the standard deviation of the requested fractions, times 100. */
/** Scratch space for balancedResourceScorer's fractions (scoring is synchronous; reused for every node). */
const fractions: number[] = [];

export function balancedResourceScorer(requested: number[], allocatable: number[]): number {
  let n = 0;
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const alloc = allocatable[i]!;
    if (alloc === 0) continue;
    const f = Math.min(requested[i]! / alloc, 1);
    total += f;
    fractions[n++] = f;
  }
  let std = 0;
  if (n === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (n > 2) {
    const mean = total / n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (fractions[i]! - mean) * (fractions[i]! - mean);
    std = Math.sqrt(sum / n);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}
