// Upstream's pod garbage collector: every 20 s it force-deletes terminated pods above --terminated-pod-gc-threshold
// (oldest first, evicted ones before others), pods bound to nodes that have been gone for the 40 s quarantine, pods
// terminating on out-of-service nodes, and terminating pods never scheduled. Pods not yet terminal are first marked
// Failed (with a DisruptionTarget condition, reason DeletionByPodGC, for orphaned ones) as 1.31 does.
import type { Node, Pod, PodCondition, Taint } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import { type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';

/** kube-controller-manager's --terminated-pod-gc-threshold default. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;
/** Upstream's gcCheckPeriod. */
export const GC_CHECK_PERIOD_MS = 20_000;
/** Upstream's quarantineTime: a node must be missing this long before its pods are deleted. */
export const QUARANTINE_MS = 40_000;
const FIELD_MANAGER = 'PodGC';
/** A pass lets other work run after this many pods. */
const YIELD_EVERY = 2000;
const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function creationMs(pod: Pod): number {
  const t = Date.parse(pod.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/** Upstream's byEvictionAndCreationTimestamp: evicted pods first, then oldest first, then by name. */
export function compareForTerminatedGC(a: Pod, b: Pod): number {
  const ea = a.status?.reason === 'Evicted';
  const eb = b.status?.reason === 'Evicted';
  if (ea !== eb) return ea ? -1 : 1;
  const d = creationMs(a) - creationMs(b);
  if (d !== 0) return d;
  const ka = `${a.metadata?.namespace}/${a.metadata?.name}`;
  const kb = `${b.metadata?.namespace}/${b.metadata?.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The terminated pods to delete so that at most `threshold` remain (none when the threshold is 0 or below). */
export function terminatedPodsToDelete(pods: readonly Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isTerminal);
  const excess = terminated.length - threshold;
  if (excess <= 0) return [];
  return [...terminated].sort(compareForTerminatedGC).slice(0, excess);
}

function nodeIsReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function hasOutOfServiceTaint(node: Node): boolean {
  return (node.spec?.taints ?? []).some((t: Taint) => t.key === OUT_OF_SERVICE_TAINT && t.effect === 'NoExecute');
}

export class PodGCController implements Controller {
  readonly threshold: number;
  private readonly pods: SharedIndexInformer<Pod>;
  private readonly nodes: SharedIndexInformer<Node>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly nodeClient: ResourceClient<Node>;
  /** Node name → when it was first seen missing (upstream's delayed nodeQueue). */
  private readonly quarantine = new Map<string, number>();

  constructor(
    private readonly ctx: ControllerContext,
    readonly periodMs = GC_CHECK_PERIOD_MS,
    readonly quarantineMs = QUARANTINE_MS,
  ) {
    this.threshold = ctx.options?.terminatedPodGcThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD;
    this.pods = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.nodes = ctx.informers.informerFor<Node>({ group: '', version: 'v1', resource: 'nodes' });
    this.podClient = ctx.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.nodeClient = ctx.client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!((await this.pods.waitForCacheSync()) && (await this.nodes.waitForCacheSync()))) if (signal.aborted) return;
    while (!signal.aborted) {
      try {
        await this.gc();
      } catch (err) {
        this.ctx.log.warn('pod garbage collection failed', { controller: 'podgc', err });
      }
      await this.ctx.clock.sleep(this.periodMs, signal);
    }
  }

  /**
   * One pass, as upstream's gc(): the pods are sorted into the few each step looks at in one walk over the cache, which
   * lets other work run every YIELD_EVERY pods (150,000 pods take ~40 ms of CPU: in one piece, every API request
   * waiting meanwhile would wait for all of it).
   */
  async gc(): Promise<void> {
    const nodes = this.nodes.lister().list();
    const existing = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    const terminated: Pod[] = [];
    const terminating: Pod[] = [];
    const orphaned: Pod[] = [];
    const unscheduledTerminating: Pod[] = [];
    let seen = 0;
    for (const pod of this.pods.indexer.list()) {
      if (++seen % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const node = pod.spec?.nodeName;
      const deleting = pod.metadata?.deletionTimestamp !== undefined;
      if (isTerminal(pod)) terminated.push(pod);
      else if (deleting) terminating.push(pod);
      if (node && !existing.has(node)) orphaned.push(pod);
      if (deleting && !node) unscheduledTerminating.push(pod);
    }
    if (this.threshold > 0) await this.gcTerminated(terminated);
    await this.gcTerminating(terminating, nodes);
    await this.gcOrphaned(orphaned, existing);
    await this.gcUnscheduledTerminating(unscheduledTerminating);
  }

  /** `terminated`: every terminal pod. */
  private async gcTerminated(terminated: Pod[]): Promise<void> {
    for (const pod of terminatedPodsToDelete(terminated, this.threshold)) await this.tryDelete(pod, undefined);
  }

  /** Pods terminating on a node that is not ready and tainted out-of-service are deleted at once. `terminating`: every
   * pod being deleted that is not terminal yet. */
  private async gcTerminating(terminating: Pod[], nodes: Node[]): Promise<void> {
    const outOfService = new Set(nodes.filter((n) => !nodeIsReady(n) && hasOutOfServiceTaint(n)).map((n) => n.metadata?.name ?? ''));
    if (outOfService.size === 0) return;
    for (const pod of terminating) {
      if (outOfService.has(pod.spec?.nodeName ?? '')) await this.tryDelete(pod, undefined);
    }
  }

  /** `orphaned`: every pod bound to a node not in the cache (`existing`). */
  private async gcOrphaned(orphaned: Pod[], existing: Set<string>): Promise<void> {
    const now = this.ctx.clock.now();
    for (const pod of orphaned) {
      const node = pod.spec?.nodeName ?? '';
      if (!this.quarantine.has(node)) this.quarantine.set(node, now);
    }
    // Nodes missing for the whole quarantine, and confirmed gone by a live read.
    const deleted = new Set<string>();
    for (const [node, since] of [...this.quarantine]) {
      if (now - since < this.quarantineMs) continue;
      this.quarantine.delete(node);
      if (existing.has(node)) continue;
      try {
        await this.nodeClient.get(node);
      } catch (err) {
        if (isNotFound(err)) deleted.add(node);
        else this.ctx.log.warn('podgc: cannot check node', { node, err });
      }
    }
    if (deleted.size === 0) return;
    for (const pod of orphaned) {
      if (!deleted.has(pod.spec?.nodeName ?? '')) continue;
      await this.tryDelete(pod, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    }
  }

  /** `pods`: every pod being deleted that was never scheduled. */
  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const pod of pods) await this.tryDelete(pod, undefined);
  }

  private async tryDelete(pod: Pod, condition: PodCondition | undefined): Promise<void> {
    try {
      await this.markFailedAndDelete(pod, condition);
    } catch (err) {
      if (!isNotFound(err)) this.ctx.log.warn('podgc: failed to delete pod', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err });
    }
  }

  /** Upstream's markFailedAndDeletePodWithCondition: a pod not yet terminal is marked Failed first, then force-deleted. */
  async markFailedAndDelete(pod: Pod, condition: PodCondition | undefined): Promise<void> {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.ctx.log.info('PodGC is force deleting Pod', { pod: `${namespace}/${name}` });
    if (!isTerminal(pod)) {
      const status: NonNullable<Pod['status']> = { phase: 'Failed' };
      if (condition) status.conditions = [{ ...condition, lastTransitionTime: formatTime(new Date(this.ctx.clock.now())) }];
      await this.podClient.patch(
        name,
        { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, status },
        { namespace, type: 'apply', fieldManager: FIELD_MANAGER, force: true, subresource: 'status' },
      );
    }
    await this.podClient.delete(name, { namespace, gracePeriodSeconds: 0 });
  }
}

export const podGCControllerDescriptor: ControllerDescriptor = {
  name: 'podgc',
  create: (ctx) => new PodGCController(ctx),
};
