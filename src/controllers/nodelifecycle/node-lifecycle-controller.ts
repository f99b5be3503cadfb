// Upstream's node lifecycle controller ("nodelifecycle"), taint-based: every --node-monitor-period it checks each
// node's health from its kube-node-lease Lease and its Ready condition's heartbeat; a node silent for longer than
// --node-monitor-grace-period gets its Ready, MemoryPressure, DiskPressure and PIDPressure conditions set to Unknown,
// its pods' Ready condition set to False, and (through a per-zone rate-limited queue) the NoExecute taint
// node.kubernetes.io/unreachable (not-ready when Ready is False); the taint goes once the node is Ready again.
// Zones are watched for disruption (Normal / PartialDisruption / FullDisruption) and tainting slows or stops as
// upstream's does. Separately, on every node change, NoSchedule taints mirror the node's conditions
// (TaintNodesByCondition) and the beta os/arch labels follow the GA ones.
import type { Node, NodeCondition, NodeStatus, Pod, PodCondition, Taint } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  type Lister,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import {
  DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD,
  DEFAULT_NODE_EVICTION_RATE,
  DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
  DEFAULT_NODE_MONITOR_PERIOD_MS,
  DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS,
  DEFAULT_SECONDARY_NODE_EVICTION_RATE,
  DEFAULT_UNHEALTHY_ZONE_THRESHOLD,
} from '../options.js';
import { runQueueController } from '../run.js';
import {
  NOT_READY_NO_EXECUTE,
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  UNREACHABLE_NO_EXECUTE,
  getNodeCondition,
  swapTaints,
  taintExists,
  updateNodeTaints,
} from './taints.js';
import { RateLimitedTimedQueue, computeZoneState, zoneKey, type ZoneState } from './zones.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Nodes with this label are left out of zone disruption accounting. */
export const LABEL_EXCLUDE_DISRUPTION = 'node.kubernetes.io/exclude-disruption';
/** How often the rate-limited tainting queues are worked (upstream's nodeEvictionPeriod). */
export const NODE_EVICTION_PERIOD_MS = 100;

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };

/** Conditions the controller turns Unknown when the kubelet goes silent. */
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** TaintNodesByCondition: condition status → NoSchedule taint key. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const NO_SCHEDULE_KEYS = new Set([...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)), TAINT_NODE_UNSCHEDULABLE]);

/** Beta labels kept equal to their GA counterparts. */
const LABEL_RECONCILE: [primary: string, secondary: string][] = [
  ['kubernetes.io/os', 'beta.kubernetes.io/os'],
  ['kubernetes.io/arch', 'beta.kubernetes.io/arch'],
];

export const PODS_BY_NODE_INDEX = 'spec.nodeName';

/** Index pods by node on a (shared) pod informer; a no-op if another controller added the same index. */
export function ensurePodsByNodeIndex(informer: SharedIndexInformer<Pod>): void {
  try {
    informer.addIndexers({ [PODS_BY_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
  } catch (e) {
    if (!String((e as Error).message).includes('indexer conflict')) throw e;
  }
}

interface NodeHealth {
  status: NodeStatus;
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  lease?: Lease;
}

const clone = <T>(v: T): T => structuredClone(v);
const parseTime = (t: string | undefined): number => (t ? Date.parse(t) : 0);

export class NodeLifecycleController implements Controller {
  readonly nodeQueue: RateLimitingQueue<string>;
  readonly podQueue: RateLimitingQueue<string>;
  readonly recorder: CoreEventRecorder;
  private readonly nodeInformer: SharedIndexInformer<Node>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly leaseInformer: SharedIndexInformer<Lease>;
  private readonly nodeLister: Lister<Node>;
  private readonly leaseLister: Lister<Lease>;
  private readonly nodes: ResourceClient<Node>;
  private readonly pods: ResourceClient<Pod>;

  private readonly monitorPeriodMs: number;
  private readonly gracePeriodMs: number;
  private readonly startupGracePeriodMs: number;
  private readonly evictionQps: number;
  private readonly secondaryEvictionQps: number;
  private readonly largeClusterThreshold: number;
  private readonly unhealthyZoneThreshold: number;

  private readonly nodeHealth = new Map<string, NodeHealth>();
  private readonly knownNodes = new Map<string, Node>();
  readonly zoneStates = new Map<string, ZoneState>();
  readonly zoneTainter = new Map<string, RateLimitedTimedQueue>();
  private readonly nodeZone = new Map<string, string>();
  /** Nodes whose pods could not all be marked not ready: retried on the next pass. */
  private readonly nodesToRetry = new Set<string>();

  constructor(private readonly ctx: ControllerContext) {
    const o = ctx.options ?? {};
    this.monitorPeriodMs = o.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    this.gracePeriodMs = o.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.startupGracePeriodMs = o.nodeStartupGracePeriodMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS;
    this.evictionQps = o.nodeEvictionRate ?? DEFAULT_NODE_EVICTION_RATE;
    this.secondaryEvictionQps = o.secondaryNodeEvictionRate ?? DEFAULT_SECONDARY_NODE_EVICTION_RATE;
    this.largeClusterThreshold = o.largeClusterSizeThreshold ?? DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD;
    this.unhealthyZoneThreshold = o.unhealthyZoneThreshold ?? DEFAULT_UNHEALTHY_ZONE_THRESHOLD;

    this.nodeQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.podQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'node-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.nodes = ctx.client.resource<Node>(NODES);
    this.pods = ctx.client.resource<Pod>(PODS);
    this.nodeInformer = ctx.informers.informerFor<Node>(NODES);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    this.leaseInformer = ctx.informers.informerFor<Lease>(LEASES);
    ensurePodsByNodeIndex(this.podInformer);
    this.nodeLister = this.nodeInformer.lister();
    this.leaseLister = this.leaseInformer.lister();

    const enqueueNode = (n: Node) => this.nodeQueue.add(n.metadata?.name ?? '');
    this.nodeInformer.addEventHandler({
      onAdd: enqueueNode,
      onUpdate: (_old, n) => enqueueNode(n),
      onDelete: (n) => {
        const name = deletedObject(n).metadata?.name ?? '';
        this.nodeHealth.delete(name);
        this.nodeQueue.add(name);
      },
    });
    const enqueuePod = (p: Pod) => {
      if (p.spec?.nodeName) this.podQueue.add(metaNamespaceKey(p));
    };
    this.podInformer.addEventHandler({ onAdd: enqueuePod, onUpdate: (_o, p) => enqueuePod(p) });
  }

  private synced = async (): Promise<boolean> =>
    (await Promise.all([this.nodeInformer, this.podInformer, this.leaseInformer].map((i) => i.waitForCacheSync()))).every(Boolean);

  async run(signal: AbortSignal): Promise<void> {
    const loops = [
      runQueueController({ name: 'node-lifecycle (taint by condition)', waitForSync: this.synced, queue: this.nodeQueue, workers: 4, sync: (k) => this.syncNode(k), log: this.ctx.log }, signal),
      runQueueController({ name: 'node-lifecycle (pods)', waitForSync: this.synced, queue: this.podQueue, workers: 4, sync: (k) => this.syncPod(k), log: this.ctx.log }, signal),
      this.periodic('monitor node health', this.monitorPeriodMs, () => this.monitorNodeHealth(), signal),
      this.periodic('no-execute tainting', NODE_EVICTION_PERIOD_MS, () => this.doNoExecuteTaintingPass(), signal),
    ];
    await Promise.all(loops);
    await this.recorder.flush();
  }

  private async periodic(what: string, periodMs: number, fn: () => Promise<void>, signal: AbortSignal): Promise<void> {
    if (!(await this.synced())) return;
    while (!signal.aborted) {
      try {
        await fn();
      } catch (err) {
        this.ctx.log.warn(`node-lifecycle: ${what} failed`, { err });
      }
      await this.ctx.clock.sleep(periodMs, signal);
    }
  }

  private now(): Date {
    return new Date(this.ctx.clock.now());
  }

  // ---- TaintNodesByCondition and label reconciliation (per node event) ----

  async syncNode(name: string): Promise<void> {
    const node = this.nodeLister.get(name);
    if (!node) return;
    await this.doNoScheduleTaintingPass(node);
    await this.reconcileNodeLabels(node);
  }

  /** The NoSchedule taints a node's conditions and spec.unschedulable call for. */
  static desiredNoScheduleTaints(node: Node): Taint[] {
    const out: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) out.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) out.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
    return out;
  }

  private async doNoScheduleTaintingPass(node: Node): Promise<void> {
    const desired = NodeLifecycleController.desiredNoScheduleTaints(node);
    const managed = (t: Taint) => t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key);
    const has = (node.spec?.taints ?? []).filter(managed);
    const add = desired.filter((d) => !taintExists(has, d));
    const remove = has.filter((h) => !taintExists(desired, h));
    if (add.length === 0 && remove.length === 0) return;
    await updateNodeTaints(this.nodes, node.metadata!.name!, undefined, (taints) => swapTaints(taints, add, remove, this.now()));
  }

  private async reconcileNodeLabels(node: Node): Promise<void> {
    const labels = node.metadata?.labels ?? {};
    const patch: Record<string, string> = {};
    for (const [primary, secondary] of LABEL_RECONCILE) {
      const v = labels[primary];
      if (v !== undefined && labels[secondary] !== v) patch[secondary] = v;
    }
    if (Object.keys(patch).length === 0) return;
    try {
      await this.nodes.patch(node.metadata!.name!, { metadata: { labels: patch } }, { type: 'strategic' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  // ---- pods on not-ready nodes ----

  async syncPod(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = this.podInformer.lister().namespace(namespace).get(name);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    // Nodes not yet looked at by the monitor are handled by its first pass.
    if (!this.nodeHealth.has(nodeName)) return;
    const node = this.nodeLister.get(nodeName);
    const ready = getNodeCondition(node?.status, 'Ready');
    if (!node || !ready) return;
    if (ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  /** MarkPodsNotReady: the Ready condition of each pod on the node turns False (with a NodeNotReady event). */
  async markPodsNotReady(pods: readonly Pod[], nodeName: string): Promise<void> {
    const errors: unknown[] = [];
    const now = formatTime(this.now());
    for (const cached of pods) {
      if (cached.spec?.nodeName !== nodeName) continue;
      const ready = cached.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const copy = clone(cached);
      const conditions = (copy.status?.conditions ?? []).map((c): PodCondition => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: now } : c));
      const pod: Pod = { ...copy, status: { ...copy.status, conditions } };
      try {
        await this.pods.updateStatus(pod);
        this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e)) errors.push(e);
      }
    }
    if (errors.length) throw new AggregateError(errors, `marking pods on node ${nodeName} not ready`);
  }

  // ---- node health ----

  /** One pass over every node: health, taints, pods, then zone disruption (monitorNodeHealth). */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodeLister.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata!.name!;
      seen.add(name);
      if (this.knownNodes.has(name)) continue;
      this.recordNodeEvent(node, 'Normal', 'RegisteredNode', `Registered Node ${name} in Controller`);
      this.knownNodes.set(name, node);
      this.addZoneForNode(node);
      await this.markNodeAsReachable(node);
    }
    for (const [name, node] of this.knownNodes) {
      if (seen.has(name)) continue;
      this.recordNodeEvent(node, 'Normal', 'RemovingNode', `Removing Node ${name} from Controller`);
      this.knownNodes.delete(name);
      this.nodeHealth.delete(name);
      this.zoneTainter.get(this.nodeZone.get(name) ?? '')?.remove(name);
      this.nodeZone.delete(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    for (const cached of nodes) {
      const node = clone(cached);
      let result: { observed: NodeCondition; current: NodeCondition | undefined } | undefined;
      for (let attempt = 0; attempt < 5 && !result; attempt++) {
        try {
          result = await this.tryUpdateNodeHealth(node);
        } catch (e) {
          if (!isConflict(e)) throw e;
          // Someone else wrote the node: work on the latest copy.
          try {
            Object.assign(node, await this.nodes.get(node.metadata!.name!));
          } catch (err) {
            if (isNotFound(err)) break;
            throw err;
          }
        }
      }
      if (!result) continue;
      const { observed, current } = result;
      if (node.metadata?.labels?.[LABEL_EXCLUDE_DISRUPTION] === undefined) {
        const zone = zoneKey(node);
        zoneConditions.set(zone, [...(zoneConditions.get(zone) ?? []), current]);
      }
      if (!current) continue;
      const name = node.metadata!.name!;
      await this.processTaintBasedEviction(node, observed);
      const needsRetry = this.nodesToRetry.has(name);
      const becameNotReady = current.status !== 'True' && observed.status === 'True';
      if (becameNotReady) this.recorder.event(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      if (becameNotReady || (needsRetry && observed.status !== 'True')) {
        try {
          await this.markPodsNotReady(this.podInformer.indexer.byIndex(PODS_BY_NODE_INDEX, name), name);
        } catch (err) {
          this.ctx.log.warn('node-lifecycle: marking pods not ready failed', { node: name, err });
          this.nodesToRetry.add(name);
          continue;
        }
      }
      this.nodesToRetry.delete(name);
    }
    await this.handleDisruption(zoneConditions, nodes);
  }

  /**
   * tryUpdateNodeHealth: remember when the node last showed signs of life (its Ready heartbeat or Lease renewal, as
   * seen by this controller's clock) and, past the grace period, set the monitored conditions to Unknown. Returns the
   * Ready condition as observed and as it is now.
   */
  async tryUpdateNodeHealth(node: Node): Promise<{ observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = node.metadata!.name!;
    const nowMs = this.ctx.clock.now();
    const now = formatTime(new Date(nowMs));
    const created = node.metadata?.creationTimestamp ?? now;
    const status: NodeStatus = node.status ?? {};
    if (!node.status) Object.assign(node, { status });
    const previous = this.nodeHealth.get(name);
    let observed: NodeCondition;
    let gracePeriod: number;
    const observedReal = getNodeCondition(status, 'Ready');
    // What this controller saw last time (before this pass): decides whether the node showed signs of life.
    let baseline: NodeHealth | undefined = previous;
    if (!observedReal) {
      // The kubelet never posted status: count from the node's creation, with the startup grace period.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: created, lastTransitionTime: created };
      gracePeriod = this.startupGracePeriodMs;
      if (previous) previous.status = clone(status);
      else {
        const createdMs = parseTime(created);
        baseline = { status: clone(status), probeTimestamp: createdMs, readyTransitionTimestamp: createdMs };
      }
    } else {
      observed = clone(observedReal);
      gracePeriod = this.gracePeriodMs;
    }

    const saved = baseline ? getNodeCondition(baseline.status, 'Ready') : undefined;
    let health: NodeHealth;
    if (!baseline) {
      health = { status: clone(status), probeTimestamp: nowMs, readyTransitionTimestamp: nowMs };
    } else if ((!saved && observedReal) || (saved && !observedReal)) {
      health = { status: clone(status), probeTimestamp: nowMs, readyTransitionTimestamp: nowMs, lease: baseline.lease };
    } else if (saved && observedReal && saved.lastHeartbeatTime !== observedReal.lastHeartbeatTime) {
      const transition = saved.status !== observedReal.status ? nowMs : baseline.readyTransitionTimestamp;
      health = { status: clone(status), probeTimestamp: nowMs, readyTransitionTimestamp: transition, lease: baseline.lease };
    } else {
      health = baseline;
    }
    const lease = this.leaseLister.namespace(NODE_LEASE_NAMESPACE).get(name);
    if (lease && (!health.lease || parseTime(health.lease.spec?.renewTime) < parseTime(lease.spec?.renewTime))) {
      health.lease = lease;
      health.probeTimestamp = nowMs;
    }
    this.nodeHealth.set(name, health);

    let current = getNodeCondition(status, 'Ready');
    if (nowMs > health.probeTimestamp + gracePeriod) {
      const conditions = status.conditions ?? [];
      let changed = false;
      for (const type of MONITORED_CONDITIONS) {
        const c = conditions.find((x) => x.type === type);
        if (!c) {
          conditions.push({
            type,
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: created,
            lastTransitionTime: now,
          });
          changed = true;
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = now;
          changed = true;
        }
      }
      status.conditions = conditions;
      current = getNodeCondition(status, 'Ready');
      if (changed) {
        const updated = await this.nodes.updateStatus(node);
        Object.assign(node, updated);
        this.nodeHealth.set(name, { ...health, status: clone(updated.status ?? {}), readyTransitionTimestamp: nowMs });
      }
    }
    return { observed, current };
  }

  // ---- taint-based eviction ----

  private addZoneForNode(node: Node): void {
    const zone = zoneKey(node);
    this.nodeZone.set(node.metadata!.name!, zone);
    if (!this.zoneStates.has(zone)) {
      this.zoneStates.set(zone, 'Initial');
      this.zoneTainter.set(zone, new RateLimitedTimedQueue(this.evictionQps, this.ctx.clock));
    }
  }

  private tainterFor(node: Node): RateLimitedTimedQueue {
    const name = node.metadata!.name!;
    const zone = zoneKey(node);
    if (this.nodeZone.get(name) !== zone) {
      // The node moved zones (its labels changed).
      this.zoneTainter.get(this.nodeZone.get(name) ?? '')?.remove(name);
      this.addZoneForNode(node);
    }
    return this.zoneTainter.get(zone)!;
  }

  private async processTaintBasedEviction(node: Node, observed: NodeCondition): Promise<void> {
    const taints = node.spec?.taints ?? [];
    const name = node.metadata!.name!;
    switch (observed.status) {
      case 'False':
        if (taintExists(taints, UNREACHABLE_NO_EXECUTE)) {
          await updateNodeTaints(this.nodes, name, undefined, (t) => swapTaints(t, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE], this.now()));
        } else this.tainterFor(node).add(name, node.metadata?.uid ?? '');
        break;
      case 'Unknown':
        if (taintExists(taints, NOT_READY_NO_EXECUTE)) {
          await updateNodeTaints(this.nodes, name, undefined, (t) => swapTaints(t, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], this.now()));
        } else this.tainterFor(node).add(name, node.metadata?.uid ?? '');
        break;
      case 'True':
        await this.markNodeAsReachable(node);
        break;
    }
  }

  /** Remove both NoExecute taints and drop the node from its zone's tainting queue. */
  private async markNodeAsReachable(node: Node): Promise<void> {
    const name = node.metadata!.name!;
    if (taintExists(node.spec?.taints, UNREACHABLE_NO_EXECUTE) || taintExists(node.spec?.taints, NOT_READY_NO_EXECUTE)) {
      await updateNodeTaints(this.nodes, name, undefined, (t) => swapTaints(t, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE], this.now()));
    }
    this.zoneTainter.get(this.nodeZone.get(name) ?? zoneKey(node))?.remove(name);
  }

  /** Work each zone's queue as its limiter allows: taint not-ready / unreachable nodes (doNoExecuteTaintingPass). */
  async doNoExecuteTaintingPass(): Promise<void> {
    for (const queue of [...this.zoneTainter.values()]) {
      await queue.try(async (v) => {
        const node = this.nodeLister.get(v.value);
        if (!node) return { done: true, waitMs: 0 };
        const ready = getNodeCondition(node.status, 'Ready');
        if (!ready) return { done: true, waitMs: 0 };
        let add: Taint;
        let remove: Taint;
        if (ready.status === 'False') [add, remove] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE];
        else if (ready.status === 'Unknown') [add, remove] = [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
        else return { done: true, waitMs: 0 };
        try {
          await updateNodeTaints(this.nodes, v.value, undefined, (t) => swapTaints(t, [add], [remove], this.now()));
          return { done: true, waitMs: 0 };
        } catch (err) {
          this.ctx.log.warn('node-lifecycle: tainting node failed', { node: v.value, err });
          return { done: false, waitMs: 0 };
        }
      });
    }
  }

  /** Zone disruption states and their tainting rates; all zones fully disrupted stops taint-based eviction. */
  private async handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: readonly Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { state } = computeZoneState(conds, this.unhealthyZoneThreshold);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) {
        this.zoneStates.set(zone, 'Initial');
        if (!this.zoneTainter.has(zone)) this.zoneTainter.set(zone, new RateLimitedTimedQueue(this.evictionQps, this.ctx.clock));
      }
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== 'FullDisruption') {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.ctx.log.info('node-lifecycle: all nodes are not ready; entering master disruption mode (no taint-based eviction)');
      for (const node of nodes) await this.markNodeAsReachable(node);
      for (const zone of this.zoneStates.keys()) {
        this.zoneTainter.get(zone)?.swapLimiter(0);
        this.zoneStates.set(zone, 'FullDisruption');
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.ctx.log.info('node-lifecycle: some nodes are ready again; leaving master disruption mode');
      const nowMs = this.ctx.clock.now();
      for (const node of nodes) {
        const h = this.nodeHealth.get(node.metadata!.name!);
        if (h) {
          h.probeTimestamp = nowMs;
          h.readyTransitionTimestamp = nowMs;
        }
      }
      for (const zone of [...this.zoneStates.keys()]) {
        const state = newStates.get(zone) ?? 'Normal';
        this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of [...this.zoneStates]) {
      const next = newStates.get(zone) ?? 'Normal';
      if (state === next) continue;
      this.ctx.log.info('node-lifecycle: zone state changed', { zone: JSON.stringify(zone), from: state, to: next });
      this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }

  private setLimiterInZone(zone: string, zoneSize: number, state: ZoneState): void {
    const queue = this.zoneTainter.get(zone);
    if (!queue) return;
    switch (state) {
      case 'Normal':
      case 'Initial':
      case 'FullDisruption':
        queue.swapLimiter(this.evictionQps);
        break;
      case 'PartialDisruption':
        queue.swapLimiter(zoneSize > this.largeClusterThreshold ? this.secondaryEvictionQps : 0);
        break;
    }
  }

  /** RecordNodeEvent: "Node <name> event: <event>" on the node. */
  private recordNodeEvent(node: Node, type: 'Normal' | 'Warning', reason: string, event: string): void {
    this.recorder.event(nodeRef(node), type, reason, `Node ${node.metadata!.name!} event: ${event}`);
  }
}

const nodeRef = (node: Node) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata!.name!, uid: node.metadata?.uid } });

export const nodeLifecycleControllerDescriptor: ControllerDescriptor = {
  name: 'nodelifecycle',
  create: (ctx) => new NodeLifecycleController(ctx),
};
