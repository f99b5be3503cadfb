// The scheduler as upstream's kube-scheduler runs it: an API client whose informers feed the node cache and the
// scheduling queue, and a loop that pops one pod at a time, picks a node over the cache, assumes the pod there and
// binds it in the background; a pod that fits nowhere gets PodScheduled=False and a FailedScheduling event.
import { hostname } from 'node:os';
import type { Binding, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import {
  EventRecorder,
  SharedInformerFactory,
  deletedObject,
  type DeletedFinalStateUnknown,
  type EventHandler,
  type HandlerRegistration,
  type RestClient,
  type SharedIndexInformer,
} from '../client/index.js';
import { formatTime } from '../machinery/time.js';
import { SchedulerCache } from './cache.js';
import { CycleState } from './framework/cycle-state.js';
import {
  runBindPlugins,
  runPermitPlugins,
  runPostBindPlugins,
  runPostFilterPlugins,
  runPreBindPlugins,
  runPreEnqueuePlugins,
  runReservePlugins,
  runUnreservePlugins,
} from './framework/cycle.js';
import type { QueuedPodInfo } from './framework/interfaces.js';
import { buildProfile, DEFAULT_SCHEDULER_NAME, type Profile, type ProfileConfig } from './framework/profile.js';
import { ActionType, EVENTS, nodeUpdateEvents, podUpdateEvents, type ClusterEvent } from './framework/events.js';
import { addPluginStatus, FitError, schedulePod, type Diagnosis } from './framework/schedule.js';
import type { Status } from './framework/status.js';
import type { BindFunc } from './plugins/defaultbinder/default-binder.js';
import { newInTreeRegistry, type InTreeOptions } from './plugins/registry.js';
import { observeAlgorithm, observeAttempt } from './metrics.js';
import { SchedulingQueue, podKey } from './queue.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const PVS = { group: '', version: 'v1', resource: 'persistentvolumes' };
const STORAGE_CLASSES = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
const CSI_NODES = { group: 'storage.k8s.io', version: 'v1', resource: 'csinodes' };
const CSI_DRIVERS = { group: 'storage.k8s.io', version: 'v1', resource: 'csidrivers' };
const CSI_STORAGE_CAPACITIES = { group: 'storage.k8s.io', version: 'v1', resource: 'csistoragecapacities' };
const VOLUME_ATTACHMENTS = { group: 'storage.k8s.io', version: 'v1', resource: 'volumeattachments' };
/** The VolumeAttachment index by spec.nodeName (NodeVolumeLimits counts a node's attachments). */
const VA_BY_NODE = 'va.spec.nodename';

export interface SchedulerOptions {
  /** Profiles by schedulerName (default: one "default-scheduler" profile with upstream's plugins). */
  profiles?: ProfileConfig[];
  percentageOfNodesToScore?: number;
  /** Pod backoff after a failed attempt (KubeSchedulerConfiguration podInitialBackoffSeconds/podMaxBackoffSeconds). */
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Informers shared with other in-process components (one cache and one watch per resource for all of them). The
   * owner starts nothing early and shuts it down; the scheduler only removes its handlers on stop.
   */
  informers?: SharedInformerFactory;
}

const isTerminal = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

const schedulingInputsChanged = (a: Pod, b: Pod): boolean =>
  JSON.stringify([a.metadata?.labels, a.metadata?.annotations, a.metadata?.deletionTimestamp, a.spec]) !==
  JSON.stringify([b.metadata?.labels, b.metadata?.annotations, b.metadata?.deletionTimestamp, b.spec]);


/** Every plugin name a profile mentions (enabled, disabled or configured). */
function pluginNames(config: ProfileConfig): string[] {
  const names: string[] = [];
  for (const set of Object.values(config.plugins ?? {})) {
    for (const p of set?.enabled ?? []) names.push(p.name);
    for (const p of set?.disabled ?? []) if (p.name !== '*') names.push(p.name);
  }
  for (const pc of config.pluginConfig ?? []) names.push(pc.name);
  return names;
}

/**
 * Builds the profiles as the scheduler will (plugins looked up by name, args handed to them, extension points
 * checked); throws on the first problem, e.g. `plugin "Nope" does not exist`. `bind` is how DefaultBinder binds.
 */
export function buildProfiles(
  configs: readonly ProfileConfig[],
  opts: { percentageOfNodesToScore?: number; bind?: BindFunc; inTree?: Omit<InTreeOptions, 'bind'> } = {},
): Map<string, Profile> {
  const registry = newInTreeRegistry({ ...opts.inTree, bind: opts.bind ?? (() => Promise.reject(new Error('not binding'))) });
  const profiles = new Map<string, Profile>();
  for (const config of configs) {
    for (const name of pluginNames(config)) {
      if (!registry.has(name)) throw new Error(`profile ${JSON.stringify(config.schedulerName ?? DEFAULT_SCHEDULER_NAME)}: plugin ${JSON.stringify(name)} does not exist`);
    }
    const profile = buildProfile({ percentageOfNodesToScore: opts.percentageOfNodesToScore, ...config }, registry);
    if (profiles.has(profile.schedulerName)) throw new Error(`duplicate profile with scheduler name ${JSON.stringify(profile.schedulerName)}`);
    profiles.set(profile.schedulerName, profile);
  }
  if (profiles.size === 0) throw new Error('no scheduler profile');
  return profiles;
}

/**
 * A Reserve, Permit or PreBind rejection as upstream reports it: a FitError over the one node tried, and the plugin
 * recorded as the pod's rejector so only events it registered bring the pod back. undefined for other statuses.
 */
export function rejectionError(info: QueuedPodInfo, pod: Pod, host: string, status: Status): FitError | undefined {
  if (!status.isRejected()) return undefined;
  const diagnosis = { nodeToStatus: new Map([[host, status]]), unschedulablePlugins: new Set<string>(), preFilterMsg: '', postFilterMsg: '' };
  addPluginStatus(diagnosis, status);
  recordRejectors(info, diagnosis);
  return new FitError(pod, 1, diagnosis);
}

/** The rejecting and pending plugins of an attempt go onto the pod's queue entry (upstream's handleSchedulingFailure). */
function recordRejectors(info: QueuedPodInfo, d: Pick<Diagnosis, 'unschedulablePlugins' | 'pendingPlugins'>): void {
  info.unschedulablePlugins = new Set(d.unschedulablePlugins);
  info.pendingPlugins = d.pendingPlugins?.size ? new Set(d.pendingPlugins) : undefined;
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  private readonly profiles: Map<string, Profile>;
  private readonly factory: SharedInformerFactory;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly nodeInformer: SharedIndexInformer<Node>;
  private readonly pvcInformer: SharedIndexInformer<PersistentVolumeClaim>;
  private readonly pvInformer: SharedIndexInformer<PersistentVolume>;
  private readonly storageClassInformer: SharedIndexInformer<StorageClass>;
  private readonly csiNodeInformer: SharedIndexInformer<CSINode>;
  private readonly csiDriverInformer: SharedIndexInformer<CSIDriver>;
  private readonly csiStorageCapacityInformer: SharedIndexInformer<CSIStorageCapacity>;
  private readonly volumeAttachmentInformer: SharedIndexInformer<VolumeAttachment>;
  /** One recorder per profile: events name the profile's schedulerName as their reporting controller, as upstream's do. */
  private readonly recorders = new Map<string, EventRecorder>();
  private readonly log: NonNullable<SchedulerOptions['log']>;
  private nextStartIndex = 0;
  private loop?: Promise<void>;
  private readonly bindings = new Set<Promise<void>>();
  private readonly registrations: HandlerRegistration[] = [];
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly client: RestClient,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.log = opts.log ?? (() => {});
    this.profiles = buildProfiles(opts.profiles ?? [{ schedulerName: DEFAULT_SCHEDULER_NAME }], {
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
      bind: (binding) => this.postBinding(binding),
      inTree: {
        volumes: {
          getPVC: (ns, name) => this.pvcInformer.indexer.getByKey(`${ns}/${name}`),
          getPV: (name) => this.pvInformer.indexer.getByKey(name),
          getStorageClass: (name) => this.storageClassInformer.indexer.getByKey(name),
          listPVs: () => this.pvInformer.indexer.list(),
          listPVCs: () => this.pvcInformer.indexer.list(),
          getNode: (name) => this.nodeInformer.indexer.getByKey(name),
          getCSINode: (name) => this.csiNodeInformer.indexer.getByKey(name),
          getCSIDriver: (name) => this.csiDriverInformer.indexer.getByKey(name),
          listCSIStorageCapacities: () => this.csiStorageCapacityInformer.indexer.list(),
          volumeAttachmentsOnNode: (node) => this.volumeAttachmentInformer.indexer.byIndex(VA_BY_NODE, node),
          getPod: (ns, name) => this.podInformer.indexer.getByKey(`${ns}/${name}`),
          updatePV: (pv) => this.client.resource<PersistentVolume>(PVS).update(pv),
          updatePVC: (pvc) => this.client.resource<PersistentVolumeClaim>(PVCS).update(pvc, { namespace: pvc.metadata?.namespace }),
        },
      },
    });
    const first = [...this.profiles.values()][0];
    const sort = first?.plugins.queueSort[0];
    if (!sort) throw new Error('no queue sort plugin is enabled');
    this.queue = new SchedulingQueue((a, b) => sort.less(a, b), {
      ...(opts.podInitialBackoffSeconds !== undefined ? { initialBackoffMs: opts.podInitialBackoffSeconds * 1000 } : {}),
      ...(opts.podMaxBackoffSeconds !== undefined ? { maxBackoffMs: opts.podMaxBackoffSeconds * 1000 } : {}),
      preEnqueue: (pod) => {
        const profile = this.profileFor(pod);
        if (!profile) return true;
        const status = runPreEnqueuePlugins(profile, pod);
        return status.isSuccess() || status.plugin || false;
      },
      hintsFor: (pod) => this.profileFor(pod)?.queueingHints,
      log: (msg, fields) => this.log(msg, fields),
    });
    for (const name of this.profiles.keys()) {
      this.recorders.set(
        name,
        new EventRecorder(client, {
          reportingController: name,
          reportingInstance: `${name}-${hostname()}`,
          onError: (err) => this.log('event recording failed', { err: String(err) }),
        }),
      );
    }
    this.factory = opts.informers ?? new SharedInformerFactory(client);
    this.podInformer = this.factory.informerFor<Pod>(PODS);
    this.nodeInformer = this.factory.informerFor<Node>(NODES);
    this.pvcInformer = this.factory.informerFor<PersistentVolumeClaim>(PVCS);
    this.pvInformer = this.factory.informerFor<PersistentVolume>(PVS);
    this.storageClassInformer = this.factory.informerFor<StorageClass>(STORAGE_CLASSES);
    this.csiNodeInformer = this.factory.informerFor<CSINode>(CSI_NODES);
    this.csiDriverInformer = this.factory.informerFor<CSIDriver>(CSI_DRIVERS);
    this.csiStorageCapacityInformer = this.factory.informerFor<CSIStorageCapacity>(CSI_STORAGE_CAPACITIES);
    this.volumeAttachmentInformer = this.factory.informerFor<VolumeAttachment>(VOLUME_ATTACHMENTS);
    if (!this.volumeAttachmentInformer.indexer.hasIndex(VA_BY_NODE)) {
      this.volumeAttachmentInformer.addIndexers({ [VA_BY_NODE]: (va) => [va.spec?.nodeName ?? ''] });
    }
    this.addEventHandlers();
  }

  /**
   * Starts the informers, waits for their first lists, then schedules until stop(). It waits for its own informers
   * only (a shared factory holds other components' too), and by default for as long as they take, as kube-scheduler's
   * WaitForCacheSync does: a restart on 150,000 pods lists them for minutes under load. stop() ends the wait.
   */
  async start(syncTimeoutMs = Infinity): Promise<void> {
    this.factory.start();
    const own = [
      this.podInformer, this.nodeInformer, this.pvcInformer, this.pvInformer, this.storageClassInformer, this.csiNodeInformer,
      this.csiDriverInformer, this.csiStorageCapacityInformer, this.volumeAttachmentInformer,
    ];
    const stopped = new Promise<boolean>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(false), { once: true }));
    const synced = await Promise.race([Promise.all(own.map((i) => i.waitForCacheSync(syncTimeoutMs))).then((all) => all.every(Boolean)), stopped]);
    if (this.stopping.signal.aborted) return;
    if (!synced) throw new Error('scheduler: timed out waiting for the informers to sync');
    this.loop = this.run();
  }

  /** Stops scheduling (and a start() still waiting for its caches); idempotent. */
  stop(): Promise<void> {
    if (!this.stopping.signal.aborted) {
      this.stopping.abort();
      this.stopped = this.shutdown();
    }
    return this.stopped ?? Promise.resolve();
  }

  private async shutdown(): Promise<void> {
    this.queue.close();
    await this.loop;
    await Promise.allSettled([...this.bindings]);
    if (this.opts.informers) for (const r of this.registrations.splice(0)) r.remove();
    else await this.factory.shutdown();
    await Promise.all([...this.recorders.values()].map((r) => r.flush()));
  }

  private recorderFor(pod: Pod): EventRecorder {
    return this.recorders.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) ?? this.recorders.values().next().value!;
  }

  private profileFor(pod: Pod): Profile | undefined {
    return this.profiles.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  }

  /** Pending pods this scheduler owns (upstream's responsibleForPod plus the unassigned filter). */
  private pending(pod: Pod): boolean {
    return !pod.spec?.nodeName && !isTerminal(pod) && this.profileFor(pod) !== undefined;
  }

  private addEventHandlers(): void {
    this.registrations.push(this.nodeInformer.addEventHandler({
      onAdd: (node) => {
        this.cache.addNode(node);
        this.moveOn(EVENTS.NodeAdd, undefined, node);
      },
      onUpdate: (oldNode, node) => {
        this.cache.updateNode(node);
        // One event per kind of change (labels, taints, allocatable, conditions, ...); none for a heartbeat.
        for (const event of nodeUpdateEvents(oldNode, node)) this.moveOn(event, oldNode, node);
      },
      onDelete: (obj) => {
        const node = deletedObject(obj);
        this.cache.removeNode(node);
        // Only spreading can be helped by a node going away (PodTopologySpread registers it).
        this.moveOn(EVENTS.NodeDelete, node, undefined);
      },
    }));
    // Storage objects that appear, change or go away can let a pod rejected by a volume plugin through; each informer
    // sends only the actions some plugin registers, as upstream's handlers do (PvcAdd/PvcUpdate, PvAdd/PvUpdate,
    // StorageClassAdd/Update, CSINodeAdd/Update, CSIDriverUpdate, CSIStorageCapacityAdd/Update, VolumeAttachmentDelete).
    // The plugins' hints tell which pods.
    type StorageEvents = { add?: ClusterEvent; update?: ClusterEvent; delete?: ClusterEvent };
    const storage: [{ addEventHandler(h: EventHandler<object>): HandlerRegistration }, StorageEvents][] = [
      [this.pvcInformer, { add: EVENTS.PvcAdd, update: EVENTS.PvcUpdate }],
      [this.pvInformer, { add: EVENTS.PvAdd, update: EVENTS.PvUpdate }],
      [this.storageClassInformer, { add: EVENTS.StorageClassAdd, update: EVENTS.StorageClassUpdate }],
      [this.csiNodeInformer, { add: EVENTS.CSINodeAdd, update: EVENTS.CSINodeUpdate }],
      [this.csiDriverInformer, { update: EVENTS.CSIDriverUpdate }],
      [this.csiStorageCapacityInformer, { add: EVENTS.CSIStorageCapacityAdd, update: EVENTS.CSIStorageCapacityUpdate }],
      [this.volumeAttachmentInformer, { delete: EVENTS.VolumeAttachmentDelete }],
    ];
    for (const [informer, { add, update, delete: del }] of storage) {
      this.registrations.push(informer.addEventHandler({
        ...(add ? { onAdd: (obj: object) => this.moveOn(add, undefined, obj) } : {}),
        ...(update ? { onUpdate: (old: object, obj: object) => this.moveOn(update, old, obj) } : {}),
        ...(del ? { onDelete: (obj: object | DeletedFinalStateUnknown<object>) => this.moveOn(del, deletedObject(obj), undefined) } : {}),
      }));
    }
    this.registrations.push(this.podInformer.addEventHandler({
      onAdd: (pod) => this.onPod(undefined, pod),
      onUpdate: (oldPod, pod) => this.onPod(oldPod, pod),
      onDelete: (obj: Pod | DeletedFinalStateUnknown<Pod>) => {
        const pod = deletedObject(obj);
        this.queue.delete(pod);
        if (pod.spec?.nodeName) {
          this.cache.removePod(pod);
          this.moveOn(EVENTS.AssignedPodDelete, pod, undefined);
        }
      },
    }));
  }

  private onPod(oldPod: Pod | undefined, pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.queue.delete(pod);
      if (isTerminal(pod)) {
        // A finished pod frees its node's resources, as a deleted one does.
        if (oldPod && !isTerminal(oldPod)) {
          this.cache.removePod(pod);
          this.moveOn(EVENTS.AssignedPodDelete, pod, undefined);
        }
        return;
      }
      this.cache.updatePod(pod);
      if (!oldPod?.spec?.nodeName) {
        // Newly assigned (bound, or created on a node): a pod that needs a matching pod somewhere may now fit.
        this.moveOn(EVENTS.AssignedPodAdd, undefined, pod);
      } else {
        // Status-only updates (the kubelet's) are not sent: no in-tree plugin registers them.
        for (const event of podUpdateEvents(oldPod, pod, 'AssignedPod')) {
          if (event.actionType !== ActionType.UpdateOther) this.moveOn(event, oldPod, pod);
        }
      }
      return;
    }
    if (!this.pending(pod)) {
      this.queue.delete(pod);
      return;
    }
    this.queue.nominator.update(oldPod, pod);
    if (!oldPod) this.queue.add(pod);
    // Status-only changes (such as this scheduler's own PodScheduled condition) cannot help, as upstream's isPodUpdated.
    else if (schedulingInputsChanged(oldPod, pod)) this.queue.update(pod);
  }

  private moveOn(event: ClusterEvent, oldObj: unknown, newObj: unknown): void {
    this.queue.moveAllToActiveOrBackoff(event, oldObj, newObj);
  }

  private async run(): Promise<void> {
    for (;;) {
      const info = await this.queue.pop();
      if (!info) return;
      try {
        this.scheduleOne(info);
      } catch (err) {
        this.log('scheduling cycle failed', { pod: podKey(info.pod), err: String(err) });
        this.queue.addUnschedulable(info, true);
      }
      // Let informer events and binding replies in between cycles.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One scheduling cycle: decide synchronously over the cache, then bind in the background. */
  private scheduleOne(info: QueuedPodInfo): void {
    const pod = info.pod;
    const profile = this.profileFor(pod);
    if (!profile || pod.metadata?.deletionTimestamp || pod.spec?.nodeName || this.cache.isAssumed(pod)) {
      this.queue.done(pod);
      return;
    }
    const start = performance.now();
    const state = new CycleState();
    let host: string;
    try {
      const result = schedulePod(pod, this.cache.nodeInfos(), profile, {
        state,
        startIndex: this.nextStartIndex,
        // Without nominated pods (the common case) filters need not ask for each node's.
        ...(this.queue.nominator.size > 0 ? { nominatedPods: (node: string) => this.queue.nominator.podsForNode(node) } : {}),
      });
      this.nextStartIndex = result.nextStartIndex;
      host = result.suggestedHost;
      observeAlgorithm(start);
    } catch (err) {
      let nominatedNodeName: string | undefined;
      if (err instanceof FitError) {
        recordRejectors(info, err.diagnosis);
        this.nextStartIndex = err.nextStartIndex;
        const post = runPostFilterPlugins(profile, state, pod, err);
        nominatedNodeName = post.result?.nominatedNodeName;
        for (const victim of post.result?.victims ?? []) this.evict(victim, pod);
      }
      observeAttempt(err instanceof FitError ? 'unschedulable' : 'error', profile.schedulerName, start);
      this.failed(info, err, nominatedNodeName);
      return;
    }
    this.cache.assumePod(pod, host);
    // Assumed on a node: whatever it was nominated to no longer holds room for it (upstream's assume).
    this.queue.nominator.delete(pod);
    const reserved = runReservePlugins(profile, state, pod, host);
    const permitted = reserved.isSuccess() ? runPermitPlugins(profile, state, pod, host).status : reserved;
    // Waiting at Permit needs a plugin that asks for it; none in-tree does, so Wait counts as a failure here.
    if (!permitted.isSuccess()) {
      runUnreservePlugins(profile, state, pod, host);
      this.cache.forgetPod(pod);
      observeAttempt(permitted.isRejected() ? 'unschedulable' : 'error', profile.schedulerName, start);
      this.failed(info, rejectionError(info, pod, host, permitted) ?? permitted.asError() ?? new Error(permitted.message()));
      return;
    }
    const binding = this.bindingCycle(info, profile, state, host, start).finally(() => this.bindings.delete(binding));
    this.bindings.add(binding);
  }

  private async bindingCycle(info: QueuedPodInfo, profile: Profile, state: CycleState, host: string, start: number): Promise<void> {
    const pod = info.pod;
    let status: Status = await runPreBindPlugins(profile, state, pod, host);
    if (status.isSuccess()) status = await runBindPlugins(profile, state, pod, host);
    if (status.isSuccess()) {
      observeAttempt('scheduled', profile.schedulerName, start);
      this.queue.done(pod);
      const ns = pod.metadata?.namespace ?? '';
      this.recorderFor(pod).eventf(pod, undefined, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${ns}/${pod.metadata?.name ?? ''} to ${host}`);
      runPostBindPlugins(profile, state, pod, host);
      return;
    }
    runUnreservePlugins(profile, state, pod, host);
    this.cache.forgetPod(pod);
    observeAttempt(status.isRejected() ? 'unschedulable' : 'error', profile.schedulerName, start);
    this.failed(info, status.isSkip() ? new Error('no bind plugin bound the pod') : (rejectionError(info, pod, host, status) ?? status.asError() ?? new Error(status.message())));
  }

  private async postBinding(binding: Binding): Promise<void> {
    const ns = encodeURIComponent(binding.metadata?.namespace ?? '');
    const name = encodeURIComponent(binding.metadata?.name ?? '');
    await this.client.call('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, binding);
  }

  /** Upstream's FailureHandler: event, requeue (unless the pod went away or got bound), PodScheduled=False. */
  private failed(info: QueuedPodInfo, err: unknown, nominatedNodeName?: string): void {
    const fit = err instanceof FitError;
    const message = err instanceof Error ? err.message : String(err);
    const reason = fit ? 'Unschedulable' : 'SchedulerError';
    if (!fit) this.log('error scheduling pod; retrying', { pod: podKey(info.pod), err: message });
    const latest = this.podInformer.indexer.getByKey(podKey(info.pod));
    if (!latest || latest.spec?.nodeName || latest.metadata?.uid !== info.pod.metadata?.uid) {
      this.queue.done(info.pod);
      return;
    }
    info.pod = latest;
    // Preemption's nomination (or its clearing) takes effect at once; otherwise the pod keeps what its status says.
    if (nominatedNodeName === undefined) this.queue.nominator.add(latest);
    else this.queue.nominator.add(latest, nominatedNodeName);
    this.queue.addUnschedulable(info, !fit);
    this.recorderFor(latest).eventf(latest, undefined, 'Warning', 'FailedScheduling', 'Scheduling', message);
    void this.updatePodStatus(latest, { type: 'PodScheduled', status: 'False', reason, message }, nominatedNodeName);
  }

  /** Patches the condition (and nominatedNodeName) only when something changed, as upstream's updatePod. */
  private async updatePodStatus(pod: Pod, condition: PodCondition, nominatedNodeName: string | undefined): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === condition.type);
    const conditionChanged = !old || old.status !== condition.status || old.reason !== condition.reason || old.message !== condition.message;
    const nominationChanged = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    if (!conditionChanged && !nominationChanged) return;
    const now = formatTime(new Date());
    const lastTransitionTime = old && old.status === condition.status ? old.lastTransitionTime : now;
    const status: Record<string, unknown> = {
      conditions: [{ ...condition, lastProbeTime: null, lastTransitionTime }],
    };
    if (nominationChanged) status.nominatedNodeName = nominatedNodeName || null;
    try {
      await this.client
        .resource<Pod>(PODS)
        .patch(pod.metadata?.name ?? '', { status }, { namespace: pod.metadata?.namespace, subresource: 'status', type: 'strategic' });
    } catch (err) {
      this.log('updating pod status failed', { pod: podKey(pod), err: String(err) });
    }
  }

  /** Preemption: the victim goes, so the preemptor can take its place. */
  private evict(victim: Pod, preemptor: Pod): void {
    const preemptorKey = podKey(preemptor);
    this.recorderFor(preemptor).eventf(victim, preemptor, 'Normal', 'Preempted', 'Preempting', `Preempted by pod ${preemptor.metadata?.uid ?? preemptorKey} on node ${victim.spec?.nodeName ?? ''}`);
    this.client
      .resource<Pod>(PODS)
      .delete(victim.metadata?.name ?? '', { namespace: victim.metadata?.namespace })
      .catch((err: unknown) => this.log('preemption: deleting victim failed', { pod: podKey(victim), err: String(err) }));
  }
}
