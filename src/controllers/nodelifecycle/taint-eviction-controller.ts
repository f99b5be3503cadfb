// Upstream's NoExecute taint manager ("taint-eviction-controller" since 1.29): a pod on a node with NoExecute taints
// it does not tolerate is deleted at once; one that tolerates them all for a bounded time (tolerationSeconds) is
// deleted when the shortest of those runs out, counted from when the controller first saw the pod under the taints;
// the scheduled deletion is cancelled when the taints go or the pod gains tolerations. Before deleting, the pod gets
// the DisruptionTarget condition (reason DeletionByTaintManager).
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  metaNamespaceKey,
  type ResourceClient,
  type SharedIndexInformer,
  type TimerHandle,
} from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import { PODS_BY_NODE_INDEX, ensurePodsByNodeIndex } from './node-lifecycle-controller.js';
import { matchingTolerations, minTolerationSeconds } from './taints.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PODS = { group: '', version: 'v1', resource: 'pods' };

export const TAINT_MANAGER_EVICTION_REASON = 'TaintManagerEviction';
export const DELETION_BY_TAINT_MANAGER = 'DeletionByTaintManager';

const noExecuteTaints = (node: Node | undefined): Taint[] => (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');

interface ScheduledEviction {
  createdAt: number;
  fireAt: number;
  /** Undefined once the eviction ran: the entry stays (so the pod is not scheduled twice) until cancelled. */
  timer: TimerHandle | undefined;
}

export class TaintEvictionController implements Controller {
  readonly nodeQueue: RateLimitingQueue<string>;
  readonly podQueue: RateLimitingQueue<string>;
  readonly recorder: CoreEventRecorder;
  private readonly nodeInformer: SharedIndexInformer<Node>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly pods: ResourceClient<Pod>;
  /** NoExecute taints of every node that has some. */
  private readonly taintedNodes = new Map<string, Taint[]>();
  readonly scheduled = new Map<string, ScheduledEviction>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly ctx: ControllerContext) {
    this.nodeQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.podQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'taint-eviction-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.pods = ctx.client.resource<Pod>(PODS);
    this.nodeInformer = ctx.informers.informerFor<Node>(NODES);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    ensurePodsByNodeIndex(this.podInformer);

    this.nodeInformer.addEventHandler({
      onAdd: (n) => this.nodeQueue.add(n.metadata?.name ?? ''),
      onUpdate: (o, n) => {
        if (JSON.stringify(noExecuteTaints(o)) !== JSON.stringify(noExecuteTaints(n))) this.nodeQueue.add(n.metadata?.name ?? '');
      },
      onDelete: (n) => this.nodeQueue.add(deletedObject(n).metadata?.name ?? ''),
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => {
        if (p.spec?.nodeName) this.podQueue.add(metaNamespaceKey(p));
      },
      onUpdate: (o, p) => {
        if (o.spec?.nodeName === p.spec?.nodeName && JSON.stringify(o.spec?.tolerations ?? []) === JSON.stringify(p.spec?.tolerations ?? [])) return;
        if (p.spec?.nodeName) this.podQueue.add(metaNamespaceKey(p));
      },
      onDelete: (p) => this.podQueue.add(metaNamespaceKey(deletedObject(p))),
    });
  }

  private synced = async (): Promise<boolean> => (await Promise.all([this.nodeInformer.waitForCacheSync(), this.podInformer.waitForCacheSync()])).every(Boolean);

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      runQueueController({ name: 'taint-eviction (nodes)', waitForSync: this.synced, queue: this.nodeQueue, workers: 4, sync: async (k) => this.syncNode(k), log: this.ctx.log }, signal),
      runQueueController({ name: 'taint-eviction (pods)', waitForSync: this.synced, queue: this.podQueue, workers: 4, sync: async (k) => this.syncPod(k), log: this.ctx.log }, signal),
    ]);
    for (const s of this.scheduled.values()) s.timer?.cancel();
    this.scheduled.clear();
    await Promise.allSettled([...this.inFlight]);
    await this.recorder.flush();
  }

  /** handleNodeUpdate: remember the node's NoExecute taints and (re)consider every pod on it. */
  syncNode(name: string): void {
    const node = this.nodeInformer.lister().get(name);
    if (!node) {
      this.taintedNodes.delete(name);
      return;
    }
    const taints = noExecuteTaints(node);
    if (taints.length === 0) this.taintedNodes.delete(name);
    else this.taintedNodes.set(name, taints);
    const pods = this.podInformer.indexer.byIndex(PODS_BY_NODE_INDEX, name);
    if (taints.length === 0) {
      for (const p of pods) this.cancel(metaNamespaceKey(p), true);
      return;
    }
    for (const p of pods) this.processPodOnNode(metaNamespaceKey(p), p.spec?.tolerations ?? [], taints);
  }

  /** handlePodUpdate. */
  syncPod(key: string): void {
    const [namespace, name] = key.split('/');
    const pod = this.podInformer.lister().namespace(namespace).get(name);
    if (!pod) {
      this.cancel(key, true);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const taints = this.taintedNodes.get(nodeName) ?? [];
    if (taints.length === 0) return;
    this.processPodOnNode(key, pod.spec?.tolerations ?? [], taints);
  }

  private processPodOnNode(key: string, tolerations: readonly Toleration[], taints: readonly Taint[]): void {
    if (taints.length === 0) {
      this.cancel(key, true);
      return;
    }
    const now = this.ctx.clock.now();
    const { all, used } = matchingTolerations(taints, tolerations);
    if (!all) {
      // Not tolerated: delete now.
      this.cancel(key, false);
      this.schedule(key, now, now);
      return;
    }
    const min = minTolerationSeconds(used);
    if (min < 0) {
      // Tolerated forever.
      this.cancel(key, true);
      return;
    }
    let start = now;
    const trigger = now + min * 1000;
    const existing = this.scheduled.get(key);
    if (existing?.timer) {
      start = existing.createdAt;
      if (start + min * 1000 < trigger) return;
      this.cancel(key, true);
    }
    this.schedule(key, start, start + min * 1000);
  }

  private schedule(key: string, createdAt: number, fireAt: number): void {
    if (this.scheduled.has(key)) return;
    const entry: ScheduledEviction = { createdAt, fireAt, timer: undefined };
    entry.timer = this.ctx.clock.setTimer(() => {
      entry.timer = undefined;
      const work = this.evict(key).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }, fireAt - this.ctx.clock.now());
    this.scheduled.set(key, entry);
  }

  private cancel(key: string, withEvent: boolean): void {
    const entry = this.scheduled.get(key);
    if (!entry) return;
    this.scheduled.delete(key);
    if (!entry.timer) return;
    entry.timer.cancel();
    if (withEvent) {
      const [namespace, name] = key.split('/');
      this.recorder.event(podRef(namespace, name), 'Normal', TAINT_MANAGER_EVICTION_REASON, `Cancelling deletion of Pod ${key}`);
    }
  }

  /** Mark the pod (DisruptionTarget) and delete it, retrying a few times. */
  private async evict(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    this.recorder.event(podRef(namespace, name), 'Normal', TAINT_MANAGER_EVICTION_REASON, `Marking for deletion Pod ${key}`);
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.addConditionAndDeletePod(namespace, name);
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        lastErr = e;
        await this.ctx.clock.sleep(10);
      }
    }
    this.ctx.log.warn('taint-eviction: deleting pod failed', { pod: key, err: lastErr });
  }

  private async addConditionAndDeletePod(namespace: string, name: string): Promise<void> {
    const pod = await this.pods.get(name, { namespace });
    const cond = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    if (!cond || cond.status !== 'True' || cond.reason !== DELETION_BY_TAINT_MANAGER) {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: DELETION_BY_TAINT_MANAGER,
        message: 'Taint manager: deleting due to NoExecute taint',
        lastTransitionTime: formatTime(new Date(this.ctx.clock.now())),
      };
      await this.pods.patch(name, { status: { conditions: [condition] } }, { namespace, type: 'strategic', subresource: 'status' });
    }
    await this.pods.delete(name, { namespace, ...(pod.metadata?.uid ? { preconditions: { uid: pod.metadata.uid } } : {}) });
  }
}

const podRef = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name } });

export const taintEvictionControllerDescriptor: ControllerDescriptor = {
  name: 'taint-eviction-controller',
  create: (ctx) => new TaintEvictionController(ctx),
};
