// Upstream's DaemonSet controller ("daemonset"): one pod per eligible node (nodeSelector, node affinity, taints and
// the tolerations every daemon pod gets), each pinned to its node by a matchFields metadata.name node affinity for the
// scheduler to bind; RollingUpdate with maxUnavailable or maxSurge, OnDelete; ControllerRevision history; status.
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { isAlreadyExists, isNotFound } from '../../machinery/errors.js';
import { isEverything, labelSelectorAsSelector, type Selector } from '../../machinery/labels.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../client/index.js';
import {
  ControllerExpectations,
  ControllerRefManager,
  NAMESPACE_TERMINATING_CAUSE,
  PodControl,
  getControllerOf,
  hasStatusCause,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  recheckDeletionTimestamp,
  semanticEqual,
  type EventSink,
  onPodUpdate,
  type PodOwnerEvents,
} from '../common/index.js';
import { computeHash } from '../deployment/hash.js';
import { canonicalJSON, maxRevision, templatePatch } from '../history/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import {
  DAEMONSET_HASH_LABEL,
  DAEMON_SET_KIND,
  allowsSurge,
  byCreationTimestampAndPhase,
  createPodTemplate,
  isPodUpdated,
  nodeShouldRunDaemonPod,
  pinToNode,
  rollingUpdateCounts,
  targetNodeName,
  templateGeneration,
} from './utils.js';

/** controller.BurstReplicas of the DaemonSet controller. */
export const DAEMONSET_BURST_REPLICAS = 250;
export const FAILED_DAEMON_POD_REASON = 'FailedDaemonPod';
export const SELECTING_ALL_REASON = 'SelectingAll';
const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000;

/** flowcontrol.Backoff for failed daemon pods, per "<ds uid>/<node>". */
class FailedPodsBackoff {
  private readonly entries = new Map<string, { durationMs: number; lastUpdate: number }>();

  isInBackOffSinceUpdate(key: string, now: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && now - e.lastUpdate < e.durationMs;
  }

  get(key: string): number {
    return this.entries.get(key)?.durationMs ?? 0;
  }

  next(key: string, now: number): void {
    const e = this.entries.get(key);
    if (!e || now - e.lastUpdate > 2 * FAILED_POD_BACKOFF_MAX_MS) this.entries.set(key, { durationMs: FAILED_POD_BACKOFF_INITIAL_MS, lastUpdate: now });
    else this.entries.set(key, { durationMs: Math.min(e.durationMs * 2, FAILED_POD_BACKOFF_MAX_MS), lastUpdate: now });
  }
}

/** history.Match: the revision holds exactly this DaemonSet's template. */
const matchesRevision = (ds: DaemonSet, rev: ControllerRevision): boolean => canonicalJSON(templatePatch(ds)) === canonicalJSON(rev.data ?? null);

export class DaemonSetController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly sets: SharedIndexInformer<DaemonSet>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly nodes: SharedIndexInformer<Node>;
  readonly revisions: SharedIndexInformer<ControllerRevision>;
  readonly expectations: ControllerExpectations;
  readonly recorder: EventSink;
  private readonly dsClient: ResourceClient<DaemonSet>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly revisionClient: ResourceClient<ControllerRevision>;
  private readonly podControl: PodControl;
  private readonly backoff = new FailedPodsBackoff();

  constructor(
    private readonly ctx: ControllerContext,
    opts: { workers?: number; recorder?: EventSink } = {},
    private readonly workers = opts.workers ?? 2,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.expectations = new ControllerExpectations(ctx.clock);
    this.dsClient = ctx.client.resource<DaemonSet>({ group: 'apps', version: 'v1', resource: 'daemonsets' });
    this.podClient = ctx.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.revisionClient = ctx.client.resource<ControllerRevision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions' });
    this.sets = ctx.informers.informerFor<DaemonSet>({ group: 'apps', version: 'v1', resource: 'daemonsets' });
    this.pods = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.nodes = ctx.informers.informerFor<Node>({ group: '', version: 'v1', resource: 'nodes' });
    this.revisions = ctx.informers.informerFor<ControllerRevision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions' });
    this.recorder = opts.recorder ?? new CoreEventRecorder(ctx.client, { component: 'daemonset-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event not recorded', { err }) });
    this.podControl = new PodControl(this.podClient, this.recorder);

    this.sets.addEventHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_o, ds) => this.enqueue(ds),
      onDelete: (obj) => {
        const ds = deletedObject(obj);
        this.expectations.deleteExpectations(this.keyOf(ds));
        this.enqueue(ds);
      },
    });
    this.pods.addEventHandler({ onAdd: (p) => this.addPod(p), onUpdate: (o, p) => this.updatePod(o, p), onDelete: (p) => this.deletePod(p) });
    this.nodes.addEventHandler({ onAdd: (n) => this.nodeChanged(undefined, n), onUpdate: (o, n) => this.nodeChanged(o, n), onDelete: () => this.enqueueAll() });
    this.revisions.addEventHandler({
      onAdd: (r) => this.revisionChanged(r),
      onUpdate: (_o, r) => this.revisionChanged(r),
      onDelete: (r) => this.revisionChanged(deletedObject(r)),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const informers = [this.sets, this.pods, this.nodes, this.revisions];
    const waitForSync = async () => (await Promise.all(informers.map((i) => i.waitForCacheSync()))).every(Boolean);
    return runQueueController({ name: 'daemonset', waitForSync, queue: this.queue, workers: this.workers, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  private keyOf(ds: DaemonSet): string {
    return `${ds.metadata?.namespace ?? ''}/${ds.metadata?.name ?? ''}`;
  }

  private enqueue(ds: DaemonSet): void {
    if (ds.metadata?.name) this.queue.add(this.keyOf(ds));
  }

  private enqueueAfter(ds: DaemonSet, ms: number): void {
    if (ds.metadata?.name) this.queue.addAfter(this.keyOf(ds), ms);
  }

  private enqueueAll(): void {
    for (const ds of this.sets.lister().list()) this.enqueue(ds);
  }

  private resolveControllerRef(namespace: string, obj: Pod | ControllerRevision): DaemonSet | undefined {
    const ref = getControllerOf(obj);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.sets.lister().namespace(namespace).get(ref.name);
    return ds && ds.metadata?.uid === ref.uid ? ds : undefined;
  }

  /** getDaemonSetsForPod / ForHistory: orphans wake every DaemonSet whose selector matches. */
  private setsMatching(namespace: string, labels: Record<string, string> | undefined): DaemonSet[] {
    if (!labels || Object.keys(labels).length === 0) return [];
    return this.sets
      .lister()
      .namespace(namespace)
      .list()
      .filter((ds) => {
        try {
          const sel = labelSelectorAsSelector(ds.spec?.selector);
          return !isEverything(sel) && sel.matches(labels);
        } catch {
          return false;
        }
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.deletePod(pod);
    if (getControllerOf(pod)) {
      const ds = this.resolveControllerRef(pod.metadata?.namespace ?? '', pod);
      if (!ds) return;
      this.expectations.creationObserved(this.keyOf(ds));
      this.enqueue(ds);
      return;
    }
    for (const ds of this.setsMatching(pod.metadata?.namespace ?? '', pod.metadata?.labels)) this.enqueue(ds);
  }

  private updatePod(old: Pod, cur: Pod): void {
    onPodUpdate(old, cur, this.podEvents);
  }

  private readonly podEvents: PodOwnerEvents<DaemonSet> = {
    ownerOf: (pod) => this.resolveControllerRef(pod.metadata?.namespace ?? '', pod),
    ownersMatching: (pod) => this.setsMatching(pod.metadata?.namespace ?? '', pod.metadata?.labels),
    enqueue: (ds, afterMs) => (afterMs === undefined ? this.enqueue(ds) : this.enqueueAfter(ds, afterMs)),
    minReadySeconds: (ds) => ds.spec?.minReadySeconds ?? 0,
    isReady: isPodReady,
    availabilitySlackMs: 1000,
  };

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ds = this.resolveControllerRef(pod.metadata?.namespace ?? '', pod);
    if (!ds) return;
    this.expectations.deletionObserved(this.keyOf(ds));
    this.enqueue(ds);
  }

  private revisionChanged(rev: ControllerRevision): void {
    const ns = rev.metadata?.namespace ?? '';
    if (getControllerOf(rev)) {
      const ds = this.resolveControllerRef(ns, rev);
      if (ds) this.enqueue(ds);
      return;
    }
    for (const ds of this.setsMatching(ns, rev.metadata?.labels)) this.enqueue(ds);
  }

  /** A node appeared or changed in a way that can change where daemon pods belong. */
  private nodeChanged(old: Node | undefined, node: Node): void {
    if (old) {
      const same =
        semanticEqual(old.metadata?.labels, node.metadata?.labels) &&
        semanticEqual(old.spec?.taints, node.spec?.taints) &&
        semanticEqual(old.spec?.unschedulable, node.spec?.unschedulable);
      if (same) return;
    }
    for (const ds of this.sets.lister().list()) {
      if (!old) {
        if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(ds);
        continue;
      }
      const before = nodeShouldRunDaemonPod(old, ds);
      const after = nodeShouldRunDaemonPod(node, ds);
      if (before.shouldRun !== after.shouldRun || before.shouldContinueRunning !== after.shouldContinueRunning) this.enqueue(ds);
    }
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.sets.lister().namespace(namespace).get(name);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const ds = deepClone(cached);
    const sel = ds.spec?.selector;
    if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) {
      this.recorder.event(ds, 'Warning', SELECTING_ALL_REASON, 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(sel);
    } catch (err) {
      this.ctx.log.warn('daemonset has an invalid selector', { key, err });
      return;
    }
    // A DaemonSet being deleted: its history may already be gone, so neither roll out nor write status.
    if (ds.metadata?.deletionTimestamp) return;
    const nodes = this.nodes.lister().list();
    const canAdopt = recheckDeletionTimestamp(() => this.dsClient.get(name, { namespace }), ds, 'DaemonSet');
    const { cur, old } = await this.constructHistory(ds, selector, canAdopt);
    const hash = cur.metadata?.labels?.[DAEMONSET_HASH_LABEL] ?? '';
    if (!this.expectations.satisfiedExpectations(key)) {
      await this.updateStatus(ds, nodes, hash, selector, canAdopt, false);
      return;
    }
    let failure: unknown;
    try {
      await this.manage(ds, nodes, hash, selector, canAdopt);
      if (this.expectations.satisfiedExpectations(key) && ds.spec?.updateStrategy?.type === 'RollingUpdate') {
        await this.rollingUpdate(ds, nodes, hash, selector, canAdopt);
      }
      await this.cleanupHistory(ds, old, selector, canAdopt);
    } catch (err) {
      failure = err;
    }
    try {
      await this.updateStatus(ds, nodes, hash, selector, canAdopt, true);
    } catch (err) {
      failure ??= err;
    }
    if (failure !== undefined) throw failure;
  }

  /** getDaemonPods + getNodesToDaemonPods: claimed pods by the node they are on or pinned to. */
  private async nodesToDaemonPods(ds: DaemonSet, selector: Selector, canAdopt: () => Promise<void>, includeDeletedTerminal: boolean): Promise<Map<string, Pod[]>> {
    const all = this.pods.lister().namespace(ds.metadata?.namespace ?? '').list();
    const manager = new ControllerRefManager<Pod>({ controller: ds, controllerKind: DAEMON_SET_KIND, selector, client: this.podClient, canAdopt });
    const claimed = await manager.claim(all);
    const byNode = new Map<string, Pod[]>();
    for (const pod of claimed) {
      const phase = pod.status?.phase;
      if (!includeDeletedTerminal && (phase === 'Succeeded' || phase === 'Failed') && pod.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = byNode.get(node);
      if (list) list.push(pod);
      else byNode.set(node, [pod]);
    }
    return byNode;
  }

  /** manage: create daemon pods where missing, delete them where they do not belong (or failed). */
  private async manage(ds: DaemonSet, nodes: Node[], hash: string, selector: Selector, canAdopt: () => Promise<void>): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt, false);
    const needing: string[] = [];
    const toDelete: string[] = [];
    for (const node of nodes) this.podsShouldBeOnNode(node, byNode, ds, hash, needing, toDelete);
    // Unscheduled pods pinned to nodes that no longer exist would never be scheduled nor collected.
    const known = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const [nodeName, pods] of byNode) {
      if (known.has(nodeName)) continue;
      for (const p of pods) if (!p.spec?.nodeName && !p.metadata?.deletionTimestamp) toDelete.push(p.metadata?.name ?? '');
    }
    await this.syncNodes(ds, toDelete, needing, hash);
  }

  private podsShouldBeOnNode(node: Node, byNode: Map<string, Pod[]>, ds: DaemonSet, hash: string, needing: string[], toDelete: string[]): void {
    const nodeName = node.metadata?.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(nodeName);
    const exists = pods !== undefined && pods.length > 0;
    if (shouldRun && !exists) {
      needing.push(nodeName);
      return;
    }
    if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const pod of pods ?? []) {
        if (pod.metadata?.deletionTimestamp) continue;
        if (pod.status?.phase === 'Failed') {
          // Fighting a kubelet that keeps rejecting the pod: back off per node.
          const key = `${ds.metadata?.uid}/${nodeName}`;
          const now = this.ctx.clock.now();
          if (this.backoff.isInBackOffSinceUpdate(key, now)) {
            this.enqueueAfter(ds, this.backoff.get(key));
            continue;
          }
          this.backoff.next(key, now);
          this.recorder.event(ds, 'Warning', FAILED_DAEMON_POD_REASON, `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${nodeName}, will try to kill it`);
          toDelete.push(pod.metadata?.name ?? '');
        } else if (pod.status?.phase === 'Succeeded') {
          toDelete.push(pod.metadata?.name ?? '');
        } else {
          running.push(pod);
        }
      }
      running.sort(byCreationTimestampAndPhase);
      if (!allowsSurge(ds)) {
        // One pod per node: keep the oldest.
        for (const p of running.slice(1)) toDelete.push(p.metadata?.name ?? '');
        return;
      }
      if (running.length <= 1) {
        if (running.length === 0 && shouldRun) needing.push(nodeName);
        return;
      }
      // Surging: keep the oldest new pod, and the oldest old pod only while the new one is not yet available.
      let oldestNew: Pod | undefined;
      let oldestOld: Pod | undefined;
      for (const pod of running) {
        if (pod.metadata?.labels?.[DAEMONSET_HASH_LABEL] === hash) {
          if (!oldestNew) {
            oldestNew = pod;
            continue;
          }
        } else if (!oldestOld) {
          oldestOld = pod;
          continue;
        }
        toDelete.push(pod.metadata?.name ?? '');
      }
      if (oldestNew && oldestOld) {
        if (!isPodReady(oldestOld)) toDelete.push(oldestOld.metadata?.name ?? '');
        else if (isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.ctx.clock.now())) toDelete.push(oldestOld.metadata?.name ?? '');
      }
      return;
    }
    if (exists) for (const pod of pods) if (!pod.metadata?.deletionTimestamp) toDelete.push(pod.metadata?.name ?? '');
  }

  /** syncNodes: create on nodes (slow start) and delete pods, under expectations, at most burstReplicas each. */
  private async syncNodes(ds: DaemonSet, podsToDelete: string[], nodesNeeding: string[], hash: string): Promise<void> {
    const key = this.keyOf(ds);
    const createDiff = Math.min(nodesNeeding.length, DAEMONSET_BURST_REPLICAS);
    const deleteDiff = Math.min(podsToDelete.length, DAEMONSET_BURST_REPLICAS);
    this.expectations.setExpectations(key, createDiff, deleteDiff);
    const errors: unknown[] = [];
    const template = createPodTemplate(ds.spec?.template, templateGeneration(ds), hash);
    const ref = newControllerRef(ds, DAEMON_SET_KIND);
    let batch = Math.min(createDiff, 1);
    for (let pos = 0; pos < createDiff; ) {
      const before = errors.length;
      await Promise.all(
        nodesNeeding.slice(pos, pos + batch).map(async (nodeName) => {
          const t = deepClone(template);
          t.spec = { ...t.spec!, affinity: pinToNode(t.spec?.affinity, nodeName) };
          try {
            await this.podControl.createPod(ds.metadata?.namespace ?? '', t, ds, ref);
          } catch (err) {
            // A terminating namespace refuses every creation: nothing to retry.
            if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
            this.expectations.creationObserved(key);
            errors.push(err);
          }
        }),
      );
      pos += batch;
      const skipped = createDiff - pos;
      if (errors.length > before && skipped > 0) {
        this.expectations.lowerExpectations(key, skipped, 0);
        break;
      }
      batch = Math.min(2 * batch, createDiff - pos);
    }
    await Promise.all(
      podsToDelete.slice(0, deleteDiff).map(async (podName) => {
        try {
          await this.podControl.deletePod(ds.metadata?.namespace ?? '', podName, ds);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isNotFound(err)) errors.push(err);
        }
      }),
    );
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
  }

  /** updatedDesiredNodeCounts: nodes that should run a pod, and maxSurge / maxUnavailable over them. */
  private desiredCounts(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>): { maxSurge: number; maxUnavailable: number; desired: number } {
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      const name = node.metadata?.name ?? '';
      if (!byNode.has(name)) byNode.set(name, []);
    }
    const { maxUnavailable, maxSurge } = rollingUpdateCounts(ds, desired);
    // Neither set (an impossible configuration): accept one unavailable pod, as upstream defaults.
    return { maxSurge, maxUnavailable: desired > 0 && maxUnavailable === 0 && maxSurge === 0 ? 1 : maxUnavailable, desired };
  }

  /** findUpdatedPodsOnNode: at most one new and one old live pod, else not ok (the manage loop prunes first). */
  private updatedPodsOnNode(ds: DaemonSet, pods: Pod[], hash: string): { ok: boolean; newPod?: Pod; oldPod?: Pod } {
    let newPod: Pod | undefined;
    let oldPod: Pod | undefined;
    const generation = templateGeneration(ds);
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      if (isPodUpdated(pod, hash, generation)) {
        if (newPod) return { ok: false };
        newPod = pod;
      } else {
        if (oldPod) return { ok: false };
        oldPod = pod;
      }
    }
    return { ok: true, newPod, oldPod };
  }

  /** rollingUpdate: replace old pods within maxUnavailable, or surge new ones next to them within maxSurge. */
  private async rollingUpdate(ds: DaemonSet, nodes: Node[], hash: string, selector: Selector, canAdopt: () => Promise<void>): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt, false);
    const { maxSurge, maxUnavailable, desired } = this.desiredCounts(ds, nodes, byNode);
    const now = this.ctx.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (p: Pod) => isPodAvailable(p, minReady, now);
    const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));

    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowedReplacements: string[] = [];
      const candidates: string[] = [];
      for (const pods of byNode.values()) {
        const { ok, newPod, oldPod } = this.updatedPodsOnNode(ds, pods, hash);
        if (!ok) {
          numUnavailable++;
          continue;
        }
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) {
            allowedReplacements.push(oldPod.metadata?.name ?? '');
            numUnavailable++;
          } else if (numUnavailable < maxUnavailable) {
            candidates.push(oldPod.metadata?.name ?? '');
          }
        }
      }
      const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
      await this.syncNodes(ds, [...allowedReplacements, ...candidates.slice(0, remaining)], [], hash);
      return;
    }

    const oldPodsToDelete: string[] = [];
    const shouldNotRunPodsToDelete: string[] = [];
    const candidateNewNodes: string[] = [];
    const allowedNewNodes: string[] = [];
    let numSurge = 0;
    let numAvailable = 0;
    for (const [nodeName, pods] of byNode) {
      const { ok, newPod, oldPod } = this.updatedPodsOnNode(ds, pods, hash);
      if (!ok) {
        numSurge++;
        continue;
      }
      if (oldPod) {
        if (available(oldPod)) numAvailable++;
      } else if (newPod && available(newPod)) numAvailable++;
      if (!oldPod) continue;
      if (!newPod) {
        const node = nodeByName.get(nodeName);
        if (!node) throw new Error(`couldn't get node for nodeName "${nodeName}": node "${nodeName}" not found`);
        const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
        if (!available(oldPod)) {
          if (!shouldRun) oldPodsToDelete.push(oldPod.metadata?.name ?? '');
          else allowedNewNodes.push(nodeName);
        } else if (!shouldRun) {
          shouldNotRunPodsToDelete.push(oldPod.metadata?.name ?? '');
        } else if (numSurge < maxSurge) {
          candidateNewNodes.push(nodeName);
        }
        continue;
      }
      // Already surged here: the old pod goes once the new one is available.
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      oldPodsToDelete.push(oldPod.metadata?.name ?? '');
    }
    // Pods on nodes that should no longer run one go only while availability stays above the desired count.
    const deletable = Math.min(numAvailable - desired, shouldNotRunPodsToDelete.length);
    for (const podName of shouldNotRunPodsToDelete.slice(0, Math.max(deletable, 0))) {
      if (this.pods.lister().namespace(ds.metadata?.namespace ?? '').get(podName)) oldPodsToDelete.push(podName);
    }
    const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNewNodes.length);
    await this.syncNodes(ds, oldPodsToDelete, [...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge)], hash);
  }

  /** constructHistory: claim revisions, find the one matching the template (or snapshot it), renumber if needed. */
  private async constructHistory(ds: DaemonSet, selector: Selector, canAdopt: () => Promise<void>): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const all = this.revisions.lister().namespace(ds.metadata?.namespace ?? '').list();
    const manager = new ControllerRefManager<ControllerRevision>({ controller: ds, controllerKind: DAEMON_SET_KIND, selector, client: this.revisionClient, canAdopt });
    const histories = await manager.claim(all);
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let h of histories) {
      if (h.metadata?.labels?.[DAEMONSET_HASH_LABEL] === undefined) {
        // Older revisions without the hash label: their name stands in for it.
        const copy = deepClone(h);
        copy.metadata = { ...copy.metadata, labels: { ...copy.metadata?.labels, [DAEMONSET_HASH_LABEL]: copy.metadata?.name ?? '' } };
        h = await this.revisionClient.update(copy, { namespace: copy.metadata?.namespace });
      }
      if (matchesRevision(ds, h)) current.push(h);
      else old.push(h);
    }
    const currRevision = maxRevision(old) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) {
      cur = await this.snapshot(ds, currRevision);
    } else {
      cur = await this.dedupCurHistories(ds, current, selector, canAdopt);
      if (cur.revision < currRevision) {
        cur = await this.revisionClient.update({ ...deepClone(cur), revision: currRevision }, { namespace: cur.metadata?.namespace });
      }
    }
    return { cur, old };
  }

  /** snapshot: a new revision named "<ds>-<hash>"; a name clash with another template bumps status.collisionCount. */
  private async snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision> {
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const name = `${ds.metadata?.name}-${hash}`;
    const namespace = ds.metadata?.namespace;
    const history: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace,
        labels: { ...ds.spec?.template?.metadata?.labels, [DAEMONSET_HASH_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds, DAEMON_SET_KIND)],
      },
      data: templatePatch(ds),
      revision,
    };
    try {
      return await this.revisionClient.create(history, { namespace });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.revisionClient.get(name, { namespace });
      if (matchesRevision(ds, existing)) return existing;
      const fresh = await this.dsClient.get(ds.metadata?.name ?? '', { namespace });
      if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined)) {
        throw new Error(`found a stale collision count (${ds.status?.collisionCount}, expected ${fresh.status?.collisionCount}) of DaemonSet "${ds.metadata?.name}" while processing; will retry until it is updated`);
      }
      await this.dsClient.updateStatus({ ...fresh, status: { ...fresh.status!, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
      throw err;
    }
  }

  /** dedupCurHistories: keep the highest-numbered duplicate, relabel pods of the others to its hash, delete them. */
  private async dedupCurHistories(ds: DaemonSet, current: ControllerRevision[], selector: Selector, canAdopt: () => Promise<void>): Promise<ControllerRevision> {
    if (current.length === 1) return current[0];
    let keep = current[0];
    for (const h of current) if (h.revision >= keep.revision) keep = h;
    const keepHash = keep.metadata?.labels?.[DAEMONSET_HASH_LABEL] ?? '';
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt, true);
    for (const h of current) {
      if (h === keep) continue;
      for (const pods of byNode.values()) {
        for (const pod of pods) {
          if (pod.metadata?.labels?.[DAEMONSET_HASH_LABEL] === keepHash) continue;
          await this.podClient.patch(pod.metadata?.name ?? '', { metadata: { labels: { [DAEMONSET_HASH_LABEL]: keepHash } } }, { namespace: pod.metadata?.namespace, type: 'strategic' });
        }
      }
      try {
        await this.revisionClient.delete(h.metadata?.name ?? '', { namespace: h.metadata?.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return keep;
  }

  /** cleanupHistory: delete the oldest revisions no pod uses, down to revisionHistoryLimit old ones. */
  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[], selector: Selector, canAdopt: () => Promise<void>): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt, true);
    const liveHashes = new Set<string>();
    for (const pods of byNode.values()) for (const p of pods) {
      const h = p.metadata?.labels?.[DAEMONSET_HASH_LABEL];
      if (h) liveHashes.add(h);
    }
    for (const h of [...old].sort((a, b) => a.revision - b.revision)) {
      if (toKill <= 0) break;
      if (liveHashes.has(h.metadata?.labels?.[DAEMONSET_HASH_LABEL] ?? '')) continue;
      try {
        await this.revisionClient.delete(h.metadata?.name ?? '', { namespace: h.metadata?.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      toKill--;
    }
  }

  /** updateDaemonSetStatus: counts over the nodes; observedGeneration only when this generation was worked on. */
  private async updateStatus(ds: DaemonSet, nodes: Node[], hash: string, selector: Selector, canAdopt: () => Promise<void>, updateObservedGen: boolean): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt, false);
    const now = this.ctx.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let available = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata?.name ?? '') ?? [];
      const scheduled = pods.length > 0;
      if (!shouldRun) {
        if (scheduled) misscheduled++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = [...pods].sort(byCreationTimestampAndPhase)[0];
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const observed = ds.status?.observedGeneration ?? 0;
    const status: DaemonSetStatus = {
      ...ds.status,
      observedGeneration: updateObservedGen ? (ds.metadata?.generation ?? observed) : observed,
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (!semanticEqual(ds.status, status)) {
      let base = ds;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.dsClient.updateStatus({ ...deepClone(base), status: { ...base.status, ...status, collisionCount: base.status?.collisionCount } });
          break;
        } catch (err) {
          if (attempt >= 2) throw err;
          base = await this.dsClient.get(ds.metadata?.name ?? '', { namespace: ds.metadata?.namespace });
        }
      }
    }
    // A last look once minReadySeconds have passed, in case no pod event comes.
    if (minReady > 0 && ready !== available) this.enqueueAfter(ds, minReady * 1000);
  }
}

export const daemonSetControllerDescriptor: ControllerDescriptor = {
  name: 'daemonset',
  create: (ctx) => new DaemonSetController(ctx),
};
