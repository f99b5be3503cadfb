// Upstream's CycleState: per-scheduling-cycle data that plugins share by key (PreFilter writes, Filter reads).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './node-info.js';

/** Pods waiting for a node after preemption (status.nominatedNodeName), per node. */
export type NominatedPodsLister = (nodeName: string) => readonly Pod[];

export class StateNotFoundError extends Error {
  override readonly name = 'StateNotFoundError';
  constructor(key: string) {
    super(`error reading ${JSON.stringify(key)} from cycleState: not found`);
  }
}

export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not run this cycle. */
  readonly skipScorePlugins = new Set<string>();
  /**
   * Every node of the cycle's snapshot (upstream's SnapshotSharedLister), for plugins that count pods on nodes
   * other than the ones they score. Set by schedulePod.
   */
  allNodes: readonly NodeInfo[] = [];
  /** Pods nominated to each node (upstream's PodNominator in the framework handle). Set by schedulePod. */
  nominatedPods?: NominatedPodsLister;

  /** The last activeFilterPlugins() answer and what it was worked out from. */
  private filters?: { all: readonly { name: string }[]; skipped: number; active: readonly { name: string }[] };

  /**
   * `all` less the plugins in skipFilterPlugins, worked out once and reused for every node of the cycle (only PreFilter
   * adds to the skip set, so its size tells whether the answer still holds).
   */
  activeFilterPlugins<P extends { name: string }>(all: readonly P[]): readonly P[] {
    const skip = this.skipFilterPlugins;
    if (skip.size === 0) return all;
    const f = this.filters;
    if (f && f.all === all && f.skipped === skip.size) return f.active as readonly P[];
    const active = all.filter((pl) => !skip.has(pl.name));
    this.filters = { all, skipped: skip.size, active };
    return active;
  }

  /** A copy for a what-if run: values are shared, so plugins must replace (not mutate) what they write. */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [k, v] of this.data) copy.data.set(k, v);
    for (const p of this.skipFilterPlugins) copy.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) copy.skipScorePlugins.add(p);
    copy.allNodes = this.allNodes;
    copy.nominatedPods = this.nominatedPods;
    return copy;
  }

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  /** Reads a value written this cycle; throws StateNotFoundError with upstream's wording when absent. */
  read<T>(key: string): T {
    const value = this.data.get(key);
    if (value === undefined && !this.data.has(key)) throw new StateNotFoundError(key);
    return value as T;
  }

  /** A value written this cycle, or undefined (one lookup where has() then read() would take two). */
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.data.has(key);
  }

  delete(key: string): void {
    this.data.delete(key);
  }
}
