// Upstream's eviction manager for node pressure: every monitoring interval it observes the eviction signals
// (memory.available, nodefs/imagefs available and inodesFree, pid.available), finds the thresholds they cross (soft
// ones only after their grace period; with a minimum reclaim a crossed threshold holds until the signal recovered that
// much further), reports MemoryPressure/DiskPressure/PIDPressure (kept for the pressure transition period after the
// signal recovered), tries node-level reclaim for disk (image GC), and otherwise evicts one pod per interval in
// upstream's rank order: pods using more than they request first, then lower priority, then by usage above requests.
// Critical pods are never evicted. Hard thresholds kill with upstream's 1 s grace, soft ones with the pod's grace capped
// by eviction-max-pod-grace-period. The pod ends Failed with reason Evicted, upstream's message and DisruptionTarget.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Quantity, parseQuantity } from '../../machinery/quantity.js';
import type { Clock } from '../../client/index.js';
import { IMMEDIATE_EVICTION_GRACE_SECONDS, isCriticalPod } from '../pods/eviction.js';
import type { EvictionConfig, EvictionSignal, EvictionThreshold, ThresholdValue } from './thresholds.js';

/** One signal as observed: what is available and the capacity percentages refer to. */
export interface SignalObservation {
  available: number;
  capacity: number;
}
export type Observations = Partial<Record<EvictionSignal, SignalObservation>>;

/** What a pod uses, per container (bytes). */
export interface PodUsage {
  containers: { name: string; memoryBytes?: number; diskBytes?: number }[];
  /** Pod-level disk beyond its containers (emptyDirs, logs). */
  extraDiskBytes?: number;
}

export interface PressureConditions {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export interface EvictionManagerDeps {
  config: EvictionConfig;
  clock: Clock;
  observe(): Promise<Observations>;
  /** Pods that run or may still run on the node. */
  activePods(): Pod[];
  podUsage(pods: Pod[]): Promise<Map<string, PodUsage>>;
  /** Kill the pod and mark it Failed/Evicted with `message` (grace period in seconds). */
  evict(pod: Pod, message: string, gracePeriodSeconds: number): void;
  /** Node-level reclaim before evicting for disk (image garbage collection). */
  reclaimDisk?(): Promise<void>;
  log?: { info(msg: string, fields?: Record<string, unknown>): void };
}

/** Upstream evicts for memory first, then the disk signals, then pids. */
const SIGNAL_ORDER: readonly EvictionSignal[] = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'];
type Resource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';
const RESOURCE_OF: Record<EvictionSignal, Resource> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

const bin = (n: number) => Quantity.fromInt(Math.floor(n), 'BinarySI').toString();

function thresholdAmount(v: ThresholdValue, capacity: number): number {
  return 'percentage' in v ? Math.floor(capacity * v.percentage) : v.quantity;
}

function thresholdText(v: ThresholdValue, capacity: number): string {
  return 'percentage' in v ? bin(capacity * v.percentage) : v.text;
}

const thresholdKey = (t: EvictionThreshold) => `${t.signal}/${t.gracePeriodMs}`;

/** Never evicted: system-critical priority, and static pods (upstream's IsCriticalPod). */
function isProtectedPod(pod: Pod): boolean {
  const source = pod.metadata?.annotations?.['kubernetes.io/config.source'];
  return isCriticalPod(pod) || (source !== undefined && source !== 'api');
}

function requestOf(pod: Pod, container: string, resource: 'memory' | 'ephemeral-storage'): number {
  const c = pod.spec?.containers?.find((x) => x.name === container);
  const q = c?.resources?.requests?.[resource];
  return q === undefined ? 0 : parseQuantity(String(q)).value();
}

function podRequest(pod: Pod, resource: 'memory' | 'ephemeral-storage'): number {
  return (pod.spec?.containers ?? []).reduce((s, c) => s + requestOf(pod, c.name, resource), 0);
}

function podUsed(u: PodUsage | undefined, resource: 'memory' | 'ephemeral-storage'): number {
  if (!u) return 0;
  const sum = u.containers.reduce((s, c) => s + ((resource === 'memory' ? c.memoryBytes : c.diskBytes) ?? 0), 0);
  return resource === 'memory' ? sum : sum + (u.extraDiskBytes ?? 0);
}

/**
 * Upstream's rank functions: for memory and disk, pods whose usage exceeds their requests first, then by priority
 * (lower first), then by usage above requests (more first); for pids by priority only.
 */
export function rankForEviction(pods: Pod[], usage: Map<string, PodUsage>, resource: Resource): Pod[] {
  const priority = (p: Pod) => p.spec?.priority ?? 0;
  if (resource === 'pids') return [...pods].sort((a, b) => priority(a) - priority(b));
  const r = resource === 'memory' ? 'memory' : 'ephemeral-storage';
  const over = (p: Pod) => podUsed(usage.get(p.metadata?.uid ?? ''), r) - podRequest(p, r);
  return [...pods].sort((a, b) => {
    const ea = over(a) > 0 ? 0 : 1;
    const eb = over(b) > 0 ? 0 : 1;
    if (ea !== eb) return ea - eb;
    if (priority(a) !== priority(b)) return priority(a) - priority(b);
    return over(b) - over(a);
  });
}

/** Upstream's eviction message: the resource, the threshold and what was available, and each container over its request. */
export function evictionMessage(pod: Pod, resource: Resource, threshold: string, available: string, usage: PodUsage | undefined): string {
  let message = `The node was low on resource: ${resource}. Threshold quantity: ${threshold}, available: ${available}. `;
  if ((resource === 'memory' || resource === 'ephemeral-storage') && usage) {
    for (const c of pod.spec?.containers ?? []) {
      const used = usage.containers.find((x) => x.name === c.name);
      const n = resource === 'memory' ? used?.memoryBytes : used?.diskBytes;
      if (n === undefined) continue;
      const req = requestOf(pod, c.name, resource);
      if (n > req) message += `Container ${c.name} was using ${bin(n)}, request is ${bin(req)}, has larger consumption of ${resource}. `;
    }
  }
  return message;
}

/**
 * A soft eviction's grace: min(eviction-max-pod-grace-period, the pod's terminationGracePeriodSeconds) as upstream asks
 * the pod worker for; an override of 0 (the flag's default) leaves the pod worker on the pod's own grace period.
 */
export function softEvictionGraceSeconds(maxPodGracePeriodSeconds: number, pod: Pod): number {
  const podGrace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  const override = Math.min(maxPodGracePeriodSeconds, podGrace);
  return override > 0 ? override : Math.max(podGrace, 1);
}

export class EvictionManager {
  private thresholdsMet: EvictionThreshold[] = [];
  private readonly firstObservedAt = new Map<string, number>();
  private readonly conditionLastObservedAt = new Map<keyof PressureConditions, number>();
  private conditions: PressureConditions = { memory: false, disk: false, pid: false };
  /** Pods already asked to go: not picked again while they terminate. */
  private readonly evicted = new Set<string>();

  constructor(private readonly d: EvictionManagerDeps) {}

  pressure(): PressureConditions {
    return { ...this.conditions };
  }

  /** The memory threshold allocatable is reduced by (the hard memory.available quantity), 0 without one. */
  static hardMemoryBytes(config: EvictionConfig, capacity: number): number {
    const t = config.thresholds.find((x) => x.signal === 'memory.available' && x.gracePeriodMs === 0);
    return t ? thresholdAmount(t.value, capacity) : 0;
  }

  private met(observations: Observations, previously: EvictionThreshold[]): EvictionThreshold[] {
    return this.d.config.thresholds.filter((t) => {
      const o = observations[t.signal];
      if (!o) return false;
      let amount = thresholdAmount(t.value, o.capacity);
      // A threshold crossed before holds until the minimum reclaim beyond it is reached.
      if (t.minReclaim && previously.includes(t)) amount += thresholdAmount(t.minReclaim, o.capacity);
      return o.available < amount;
    });
  }

  /** One monitoring pass; resolves to the evicted pod, if any. */
  async synchronize(): Promise<Pod | undefined> {
    const now = this.d.clock.now();
    const observations = await this.d.observe();
    const met = this.met(observations, this.thresholdsMet);
    this.thresholdsMet = met;
    const metKeys = new Set(met.map(thresholdKey));
    for (const k of [...this.firstObservedAt.keys()]) if (!metKeys.has(k)) this.firstObservedAt.delete(k);
    for (const t of met) if (!this.firstObservedAt.has(thresholdKey(t))) this.firstObservedAt.set(thresholdKey(t), now);

    // Conditions follow every crossed threshold (soft ones too) and linger for the transition period.
    for (const t of met) {
      const r = RESOURCE_OF[t.signal];
      this.conditionLastObservedAt.set(r === 'memory' ? 'memory' : r === 'pids' ? 'pid' : 'disk', now);
    }
    const held = (c: keyof PressureConditions) => {
      const at = this.conditionLastObservedAt.get(c);
      return at !== undefined && now - at < this.d.config.pressureTransitionPeriodMs;
    };
    this.conditions = { memory: held('memory'), disk: held('disk'), pid: held('pid') };

    // Forget pods that are gone; act only on thresholds past their grace period.
    const active = this.d.activePods();
    const activeUids = new Set(active.map((p) => p.metadata?.uid ?? ''));
    for (const uid of [...this.evicted]) if (!activeUids.has(uid)) this.evicted.delete(uid);
    const due = met.filter((t) => now - (this.firstObservedAt.get(thresholdKey(t)) ?? now) >= t.gracePeriodMs);
    if (due.length === 0) return undefined;
    due.sort((a, b) => SIGNAL_ORDER.indexOf(a.signal) - SIGNAL_ORDER.indexOf(b.signal) || a.gracePeriodMs - b.gracePeriodMs);
    const threshold = due[0]!;
    const resource = RESOURCE_OF[threshold.signal];

    if (resource !== 'memory' && resource !== 'pids' && this.d.reclaimDisk) {
      await this.d.reclaimDisk();
      const after = this.met(await this.d.observe(), []);
      if (!after.some((t) => t.signal === threshold.signal)) return undefined;
    }

    const candidates = active.filter((p) => !isProtectedPod(p) && !p.metadata?.deletionTimestamp && !this.evicted.has(p.metadata?.uid ?? ''));
    if (candidates.length === 0) return undefined;
    const usage = await this.d.podUsage(candidates);
    const [victim] = rankForEviction(candidates, usage, resource);
    if (!victim) return undefined;
    const o = observations[threshold.signal]!;
    const available = resource === 'memory' || resource === 'ephemeral-storage' ? bin(o.available) : String(o.available);
    const message = evictionMessage(victim, resource, thresholdText(threshold.value, o.capacity), available, usage.get(victim.metadata?.uid ?? ''));
    const grace = threshold.gracePeriodMs === 0 ? IMMEDIATE_EVICTION_GRACE_SECONDS : softEvictionGraceSeconds(this.d.config.maxPodGracePeriodSeconds, victim);
    this.evicted.add(victim.metadata?.uid ?? '');
    this.d.log?.info('eviction manager: evicting pod', { pod: `${victim.metadata?.namespace}/${victim.metadata?.name}`, signal: threshold.signal, message });
    this.d.evict(victim, message, grace);
    return victim;
  }
}
