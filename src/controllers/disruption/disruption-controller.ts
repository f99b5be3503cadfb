// Upstream's disruption controller ("disruption"): keeps every PodDisruptionBudget's status in step with its pods —
// expectedPods (the owning controllers' scale, found through their listers or the /scale subresource),
// desiredHealthy (minAvailable, or expected minus maxUnavailable; percentages rounded up), currentHealthy (ready pods
// not being deleted and not recently evicted), disruptionsAllowed, disruptedPods (evictions not yet followed by the
// pod's deletion, dropped after two minutes), observedGeneration and the DisruptionAllowed condition
// (SufficientPods / InsufficientPods / SyncFailed). It also clears DisruptionTarget conditions on pods that were
// marked for disruption but not deleted within two minutes.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { labelSelectorAsSelector } from '../../machinery/labels.js';
import { formatTime } from '../../machinery/time.js';
import { setStatusCondition } from '../../machinery/conditions.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, metaNamespaceKey, type ObjectLike, type RestClient, type SharedIndexInformer } from '../../client/index.js';
import { getControllerOf, isPodReady, semanticEqual } from '../common/index.js';
import { scaledValueFromIntOrPercent } from '../deployment/util.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const REPLICASETS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

/** How long an eviction recorded in disruptedPods waits for the pod's deletion (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
/** How long a pod may carry DisruptionTarget=True without being deleted (stalePodDisruptionTimeout). */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;
/** PDBs are re-examined this often even without events (upstream's resync). */
const PDB_RESYNC_MS = 30_000;

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';

/** The number of pods its controllers want, and the pods without a controller. */
interface ExpectedScale {
  expected: number;
  unmanaged: string[];
}

const parseTime = (t: string | undefined): number => (t ? Date.parse(t) : 0);

/** SetStatusCondition for DisruptionAllowed (UpdateDisruptionAllowedCondition / failSafe). */
export function withDisruptionAllowed(conditions: readonly Condition[] | undefined, cond: Omit<Condition, 'type' | 'lastTransitionTime'>, now: string): Condition[] {
  return setStatusCondition<Condition>(conditions, { type: DISRUPTION_ALLOWED, ...cond }, now);
}

/** ConditionsAreUpToDate: the condition exists, was computed for this generation and matches disruptionsAllowed. */
function conditionsUpToDate(pdb: PodDisruptionBudget): boolean {
  const cond = pdb.status?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED);
  if (!cond) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  const allowed = (pdb.status?.disruptionsAllowed ?? 0) > 0;
  return allowed ? cond.status === 'True' && cond.reason === 'SufficientPods' : cond.status === 'False' && cond.reason === 'InsufficientPods';
}

export class DisruptionController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly stalePodQueue: RateLimitingQueue<string>;
  readonly recorder: CoreEventRecorder;
  private readonly pdbInformer: SharedIndexInformer<PodDisruptionBudget>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly rsInformer: SharedIndexInformer<ReplicaSet>;
  private readonly deploymentInformer: SharedIndexInformer<Deployment>;
  private readonly client: RestClient;

  constructor(private readonly ctx: ControllerContext) {
    this.client = ctx.client;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.stalePodQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'controllermanager', clock: ctx.clock, onError: (err) => ctx.log.debug('event write failed', { err }) });
    this.pdbInformer = ctx.informers.informerFor<PodDisruptionBudget>(PDBS);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    this.rsInformer = ctx.informers.informerFor<ReplicaSet>(REPLICASETS);
    this.deploymentInformer = ctx.informers.informerFor<Deployment>(DEPLOYMENTS);

    const enqueuePdb = (p: PodDisruptionBudget) => this.queue.add(metaNamespaceKey(p));
    this.pdbInformer.addEventHandler(
      { onAdd: enqueuePdb, onUpdate: (_o, p) => enqueuePdb(p), onDelete: (p) => enqueuePdb(deletedObject(p)) },
      PDB_RESYNC_MS,
    );
    const onPod = (pod: Pod) => {
      const pdb = this.pdbForPod(pod);
      if (pdb) enqueuePdb(pdb);
      if (this.hasStaleDisruptionCandidate(pod)) this.stalePodQueue.add(metaNamespaceKey(pod));
    };
    this.podInformer.addEventHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: (p) => onPod(deletedObject(p)) });
  }

  private synced = async (): Promise<boolean> =>
    (await Promise.all([this.pdbInformer, this.podInformer, this.rsInformer, this.deploymentInformer].map((i) => i.waitForCacheSync()))).every(Boolean);

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      runQueueController({ name: 'disruption', waitForSync: this.synced, queue: this.queue, workers: 5, sync: (k) => this.sync(k), log: this.ctx.log }, signal),
      runQueueController({ name: 'disruption (stale pod disruption)', waitForSync: this.synced, queue: this.stalePodQueue, workers: 2, sync: (k) => this.syncStalePodDisruption(k), log: this.ctx.log }, signal),
    ]);
    await this.recorder.flush();
  }

  /** getPdbForPod: the first budget whose selector matches the pod (a warning event when several do). */
  private pdbForPod(pod: Pod): PodDisruptionBudget | undefined {
    const ns = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const matching = this.pdbInformer
      .lister()
      .namespace(ns)
      .list()
      .filter((p) => p.spec?.selector && labelSelectorAsSelector(p.spec.selector).matches(labels));
    if (matching.length > 1) {
      this.recorder.event(pod, 'Warning', 'MultiplePodDisruptionBudgets', 'Pod belongs to multiple PodDisruptionBudgets. Only one PodDisruptionBudget is allowed per pod.');
    }
    return matching[0];
  }

  private podsForPdb(pdb: PodDisruptionBudget): Pod[] {
    // policy/v1: a nil selector selects nothing, an empty one everything in the namespace.
    if (!pdb.spec?.selector) return [];
    const selector = labelSelectorAsSelector(pdb.spec.selector);
    return this.podInformer.lister().namespace(pdb.metadata?.namespace ?? '').list(selector);
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pdb = this.pdbInformer.lister().namespace(namespace).get(name);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (err) {
      // A conflict means a newer PDB is on its way: just retry.
      if (isConflict(err)) throw err;
      this.ctx.log.warn('disruption: failed to sync pdb', { pdb: key, err });
      await this.failSafe(pdb, err);
      throw err;
    }
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<void> {
    const pods = this.podsForPdb(pdb);
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let counts: { expected: number; desiredHealthy: number; unmanaged: string[] };
    try {
      counts = await this.expectedPodCount(pdb, pods);
    } catch (err) {
      this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      throw err;
    }
    if (counts.unmanaged.length > 0) {
      this.recorder.event(
        pdb,
        'Normal',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${labelSelectorAsSelector(pdb.spec?.selector ?? {}).toString()}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const nowMs = this.ctx.clock.now();
    const { disrupted, recheckAt } = this.buildDisruptedPodMap(pods, pdb, nowMs);
    const currentHealthy = countHealthyPods(pods, disrupted, nowMs);
    await this.updatePdbStatus(pdb, currentHealthy, counts.desiredHealthy, counts.expected, disrupted);
    if (recheckAt !== undefined) this.queue.addAfter(metaNamespaceKey(pdb), recheckAt - nowMs);
  }

  /** getExpectedPodCount: expectedPods and desiredHealthy from maxUnavailable or minAvailable. */
  async expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[]): Promise<{ expected: number; desiredHealthy: number; unmanaged: string[] }> {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expected, unmanaged } = await this.expectedScale(pods);
      const maxUnavailable = scaledValueFromIntOrPercent(spec.maxUnavailable, expected, true);
      return { expected, desiredHealthy: Math.max(0, expected - maxUnavailable), unmanaged };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number') return { expected: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
      const { expected, unmanaged } = await this.expectedScale(pods);
      return { expected, desiredHealthy: scaledValueFromIntOrPercent(spec.minAvailable, expected, true), unmanaged };
    }
    return { expected: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scales of the pods' controllers, each counted once. */
  private async expectedScale(pods: readonly Pod[]): Promise<ExpectedScale> {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    const seenRefs = new Set<string>();
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (seenRefs.has(ref.uid)) continue;
      seenRefs.add(ref.uid);
      const found = await this.findController(ref, pod.metadata?.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expected = 0;
    for (const n of scales.values()) expected += n;
    return { expected, unmanaged };
  }

  /**
   * The finders: a ReplicaSet (or the Deployment controlling it) from the listers, any other controller through its
   * /scale subresource; undefined when the controller is gone or is another object by now (uid differs).
   */
  async findController(ref: OwnerReference, namespace: string): Promise<{ uid: string; scale: number } | undefined> {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) {
      const rs = this.rsInformer.lister().namespace(namespace).get(ref.name);
      if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
      const owner = getControllerOf(rs);
      if (owner?.kind === 'Deployment') {
        const d = this.deploymentInformer.lister().namespace(namespace).get(owner.name);
        if (!d || d.metadata?.uid !== owner.uid) return undefined;
        return { uid: d.metadata.uid, scale: d.spec?.replicas ?? 1 };
      }
      return { uid: rs.metadata.uid, scale: rs.spec?.replicas ?? 1 };
    }
    return this.scaleOf(ref, namespace, group);
  }

  private async scaleOf(ref: OwnerReference, namespace: string, group: string): Promise<{ uid: string; scale: number } | undefined> {
    const version = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[1] : ref.apiVersion;
    const info =
      BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.kind === ref.kind && r.subresources.some((s) => s.name === 'scale')) ??
      BUILTIN_RESOURCES.find((r) => r.group === group && r.kind === ref.kind && r.subresources.some((s) => s.name === 'scale'));
    if (!info) return undefined;
    try {
      const scale = await this.client.resource<ObjectLike & { spec?: { replicas?: number } }>(info).get(ref.name, { namespace, subresource: 'scale' });
      if (scale.metadata?.uid !== ref.uid) return undefined;
      return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** buildDisruptedPodMap: evictions still waiting for their pod's deletion, and when the next one times out. */
  private buildDisruptedPodMap(pods: readonly Pod[], pdb: PodDisruptionBudget, nowMs: number): { disrupted: Record<string, string>; recheckAt?: number } {
    const recorded = pdb.status?.disruptedPods;
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    if (!recorded) return { disrupted };
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = recorded[pod.metadata?.name ?? ''];
      if (at === undefined) continue;
      const expectedDeletion = parseTime(at) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < nowMs) {
        this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata?.namespace}/${pdb.metadata?.name} to be deleted but it wasn't`);
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disrupted[pod.metadata!.name!] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  private async updatePdbStatus(pdb: PodDisruptionBudget, currentHealthy: number, desiredHealthy: number, expectedPods: number, disruptedPods: Record<string, string>): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const st = pdb.status;
    const generation = pdb.metadata?.generation ?? 0;
    if (
      st &&
      (st.currentHealthy ?? 0) === currentHealthy &&
      (st.desiredHealthy ?? 0) === desiredHealthy &&
      (st.expectedPods ?? 0) === expectedPods &&
      (st.disruptionsAllowed ?? 0) === disruptionsAllowed &&
      semanticEqual(st.disruptedPods ?? {}, disruptedPods) &&
      (st.observedGeneration ?? 0) === generation &&
      conditionsUpToDate(pdb)
    ) {
      return;
    }
    const now = formatTime(new Date(this.ctx.clock.now()));
    const status: PodDisruptionBudgetStatus = {
      currentHealthy,
      desiredHealthy,
      expectedPods,
      disruptionsAllowed,
      ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
      observedGeneration: generation,
      conditions: withDisruptionAllowed(
        st?.conditions,
        disruptionsAllowed > 0
          ? { status: 'True', reason: 'SufficientPods', message: '', observedGeneration: generation }
          : { status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: generation },
        now,
      ),
    };
    await this.client.resource<PodDisruptionBudget>(PDBS).updateStatus({ ...pdb, status });
  }

  /** failSafe: no disruptions while the status cannot be computed; the condition says why. */
  private async failSafe(pdb: PodDisruptionBudget, err: unknown): Promise<void> {
    const now = formatTime(new Date(this.ctx.clock.now()));
    const status: PodDisruptionBudgetStatus = {
      ...(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }),
      disruptionsAllowed: 0,
      conditions: withDisruptionAllowed(
        pdb.status?.conditions,
        { status: 'False', reason: 'SyncFailed', message: err instanceof Error ? err.message : String(err), observedGeneration: pdb.status?.observedGeneration ?? 0 },
        now,
      ),
    };
    try {
      await this.client.resource<PodDisruptionBudget>(PDBS).updateStatus({ ...pdb, status });
    } catch (e) {
      this.ctx.log.warn('disruption: fail-safe status update failed', { pdb: metaNamespaceKey(pdb), err: e });
    }
  }

  // ---- stale DisruptionTarget conditions ----

  private hasStaleDisruptionCandidate(pod: Pod): boolean {
    if (pod.metadata?.deletionTimestamp) return false;
    return pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True') ?? false;
  }

  /** A pod marked DisruptionTarget but not deleted within the timeout gets the condition back to False. */
  async syncStalePodDisruption(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = this.podInformer.lister().namespace(namespace).get(name);
    if (!pod || !this.hasStaleDisruptionCandidate(pod)) return;
    const cond = pod.status!.conditions!.find((c) => c.type === 'DisruptionTarget')!;
    const nowMs = this.ctx.clock.now();
    const dueAt = parseTime(cond.lastTransitionTime ?? undefined) + STALE_POD_DISRUPTION_TIMEOUT_MS;
    if (dueAt > nowMs) {
      this.stalePodQueue.addAfter(key, dueAt - nowMs);
      return;
    }
    const condition = { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTime(new Date(nowMs)) };
    try {
      await this.client.resource<Pod>(PODS).patch(name, { status: { conditions: [condition] } }, { namespace, type: 'strategic', subresource: 'status' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** countHealthyPods: ready pods that are neither being deleted nor recently evicted. */
export function countHealthyPods(pods: readonly Pod[], disrupted: Record<string, string>, nowMs: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && parseTime(at) + DELETION_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

export const disruptionControllerDescriptor: ControllerDescriptor = {
  name: 'disruption',
  create: (ctx) => new DisruptionController(ctx),
};
