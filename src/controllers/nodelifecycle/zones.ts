// Zones and rate-limited tainting for the node lifecycle controller: a node's zone key from its topology labels, a
// zone's disruption state from its nodes' Ready conditions, and upstream's RateLimitedTimedQueue (nodes waiting to be
// tainted, taken at most as fast as the zone's token bucket allows).
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { BucketRateLimiter, type Clock } from '../../client/index.js';

export type ZoneState = 'Initial' | 'Normal' | 'FullDisruption' | 'PartialDisruption';

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

/** GetZoneKey: "region:\0:zone" from the GA labels (beta ones as fallback); "" when the node has neither. */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const pick = (keys: string[]) => keys.map((k) => labels[k]).find((v) => v !== undefined && v !== '') ?? '';
  const region = pick(REGION_LABELS);
  const zone = pick(ZONE_LABELS);
  if (region === '' && zone === '') return '';
  return `${region}:\u0000:${zone}`;
}

/** ComputeZoneState: no ready node → FullDisruption; more than 2 not ready and at least `threshold` of all → Partial. */
export function computeZoneState(readyConditions: readonly (NodeCondition | undefined)[], unhealthyThreshold: number): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) {
    if (c && c.status === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

export interface TimedValue {
  value: string;
  uid: string;
  addedAt: number;
  processAt: number;
}

/** A token bucket with burst 1 that accepts nothing at qps 0 (flowcontrol's fake always-reject limiter). */
class ZoneLimiter {
  private readonly bucket: BucketRateLimiter<string> | undefined;
  constructor(
    readonly qps: number,
    clock: Clock,
  ) {
    this.bucket = qps > 0 ? new BucketRateLimiter<string>(qps, 1, clock) : undefined;
  }
  tryAccept(): boolean {
    return this.bucket?.tryAccept() ?? false;
  }
}

/** Nodes waiting for an action, unique by name, taken in processAt order as the zone's limiter allows. */
export class RateLimitedTimedQueue {
  private readonly items = new Map<string, TimedValue>();
  private limiter: ZoneLimiter;

  constructor(
    qps: number,
    private readonly clock: Clock,
  ) {
    this.limiter = new ZoneLimiter(qps, clock);
  }

  /** Queue a node; false when it is already queued. */
  add(value: string, uid: string): boolean {
    if (this.items.has(value)) return false;
    const now = this.clock.now();
    this.items.set(value, { value, uid, addedAt: now, processAt: now });
    return true;
  }

  remove(value: string): boolean {
    return this.items.delete(value);
  }

  has(value: string): boolean {
    return this.items.has(value);
  }

  size(): number {
    return this.items.size;
  }

  qps(): number {
    return this.limiter.qps;
  }

  /** A new rate (zone state changed); the bucket starts over. */
  swapLimiter(qps: number): void {
    if (qps === this.limiter.qps) return;
    this.limiter = new ZoneLimiter(qps, this.clock);
  }

  /**
   * Hand queued nodes to `fn` in processAt order while the limiter gives tokens: done ones leave the queue, the rest
   * are tried again after the wait `fn` asks for.
   */
  async try(fn: (v: TimedValue) => Promise<{ done: boolean; waitMs: number }>): Promise<void> {
    for (;;) {
      let head: TimedValue | undefined;
      for (const v of this.items.values()) if (!head || v.processAt < head.processAt) head = v;
      if (!head) return;
      if (!this.limiter.tryAccept()) return;
      const now = this.clock.now();
      if (now < head.processAt) return;
      const { done, waitMs } = await fn(head);
      if (this.items.get(head.value) !== head) continue;
      if (done) this.items.delete(head.value);
      else head.processAt = now + waitMs + 1;
    }
  }
}
