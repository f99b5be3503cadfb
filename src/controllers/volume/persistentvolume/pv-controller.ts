// Upstream's PersistentVolume controller ("persistentvolume-binder", pkg/controller/volume/persistentvolume): binds
// claims to volumes both ways (pv.spec.claimRef and pvc.spec.volumeName), keeps the phases (PV Pending/Available/
// Bound/Released/Failed, PVC Pending/Bound/Lost), leaves WaitForFirstConsumer claims to the scheduler until it picks a
// node or pre-binds a volume, hands dynamic provisioning to external provisioners, and reclaims released volumes
// (Retain keeps them, Delete deletes them through their provisioner, Recycle is obsolete).
//
// Like upstream it keeps its own copy of the newest volumes and claims it has seen or written, so a sync never acts
// on an informer object older than its own last write; a claim queue and a volume queue each run one worker.
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Logger } from '../../../apiserver/log.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  deletedObject,
  type ResourceClient,
  type SharedIndexInformer,
} from '../../../client/index.js';
import { isNotFound } from '../../../machinery/errors.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_STORAGE_PROVISIONER,
  IS_DEFAULT_STORAGE_CLASS_ANNOTATION,
  bindVolumeToClaim,
  checkAccessModes,
  checkVolumeModeMismatches,
  claimClass,
  claimKey,
  compareResourceVersion,
  findMatchingVolume,
  hasAnnotation,
  isDelayBindingMode,
  isDelayBindingProvisioning,
  isVolumeBoundToClaim,
  requestedStorage,
  volumeClass,
  volumeStorage,
} from '../../../machinery/storage-volume.js';
import { formatTime } from '../../../machinery/time.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../../manager.js';
import { runQueueController } from '../../run.js';

const PVS = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const STORAGE_CLASSES = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/** kube-controller-manager's --pvclaimbinder-sync-period default. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;
const POD_PVC_INDEX = 'pod-pvc-index';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type ObjectWithRV = { metadata?: { resourceVersion?: string } };

/** Upstream's storeObjectUpdate: keep the newer of the cached and the given object; false when the given one is older. */
function storeObjectUpdate<T extends ObjectWithRV>(store: Map<string, T>, key: string, obj: T): boolean {
  const old = store.get(key);
  if (old && compareResourceVersion(old.metadata?.resourceVersion, obj.metadata?.resourceVersion) > 0) return false;
  store.set(key, obj);
  return true;
}

const modesKey = (modes: readonly string[] | undefined): string => [...new Set(modes ?? [])].sort().join(',');

/** The claims a pod uses, as namespace/name (ephemeral volumes' claims are <pod>-<volume>). */
export function podClaimKeys(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? '';
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(`${ns}/${v.persistentVolumeClaim.claimName}`);
    else if (v.ephemeral) out.push(`${ns}/${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

export interface PersistentVolumeControllerOptions {
  /** Periodic resync of every claim and volume (upstream's --pvclaimbinder-sync-period). */
  syncPeriodMs?: number;
}

export class PersistentVolumeController implements Controller {
  readonly claimQueue: RateLimitingQueue<string>;
  readonly volumeQueue: RateLimitingQueue<string>;
  private readonly volumeInformer: SharedIndexInformer<PersistentVolume>;
  private readonly claimInformer: SharedIndexInformer<PersistentVolumeClaim>;
  private readonly classInformer: SharedIndexInformer<StorageClass>;
  private readonly podInformer: SharedIndexInformer<Pod>;
  private readonly pvClient: ResourceClient<PersistentVolume>;
  private readonly pvcClient: ResourceClient<PersistentVolumeClaim>;
  private readonly recorder: CoreEventRecorder;
  private readonly log: Logger;
  /** The newest version of each volume and claim seen from the informers or written by this controller. */
  private readonly volumes = new Map<string, PersistentVolume>();
  private readonly claims = new Map<string, PersistentVolumeClaim>();

  constructor(
    private readonly ctx: ControllerContext,
    opts: PersistentVolumeControllerOptions = {},
  ) {
    this.log = ctx.log;
    this.claimQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.volumeQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.pvClient = ctx.client.resource<PersistentVolume>(PVS);
    this.pvcClient = ctx.client.resource<PersistentVolumeClaim>(PVCS);
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'persistentvolume-controller', clock: ctx.clock, onError: (err) => ctx.log.debug('event not recorded', { err }) });
    this.volumeInformer = ctx.informers.informerFor<PersistentVolume>(PVS);
    this.claimInformer = ctx.informers.informerFor<PersistentVolumeClaim>(PVCS);
    this.classInformer = ctx.informers.informerFor<StorageClass>(STORAGE_CLASSES);
    this.podInformer = ctx.informers.informerFor<Pod>(PODS);
    this.podInformer.addIndexers({ [POD_PVC_INDEX]: podClaimKeys });
    const resync = opts.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;

    this.volumeInformer.addEventHandler(
      {
        onAdd: (pv) => {
          storeObjectUpdate(this.volumes, pv.metadata?.name ?? '', pv);
          this.volumeQueue.add(pv.metadata?.name ?? '');
          // A volume pre-bound to a waiting claim: do not make it wait for the periodic resync.
          this.enqueueUnboundClaims();
        },
        onUpdate: (_old, pv) => {
          storeObjectUpdate(this.volumes, pv.metadata?.name ?? '', pv);
          this.volumeQueue.add(pv.metadata?.name ?? '');
        },
        onDelete: (obj) => {
          const pv = deletedObject(obj);
          this.volumes.delete(pv.metadata?.name ?? '');
          // A bound claim whose volume went is Lost; let it see that now.
          const ref = pv.spec?.claimRef;
          if (ref?.name) this.claimQueue.add(`${ref.namespace ?? ''}/${ref.name}`);
        },
      },
      resync,
    );
    this.claimInformer.addEventHandler(
      {
        onAdd: (pvc) => {
          storeObjectUpdate(this.claims, claimKey(pvc), pvc);
          this.claimQueue.add(claimKey(pvc));
        },
        onUpdate: (_old, pvc) => {
          storeObjectUpdate(this.claims, claimKey(pvc), pvc);
          this.claimQueue.add(claimKey(pvc));
        },
        onDelete: (obj) => {
          const pvc = deletedObject(obj);
          this.claims.delete(claimKey(pvc));
          // Its volume is released now (upstream's deleteClaim).
          const volumeName = pvc.spec?.volumeName;
          if (volumeName) this.volumeQueue.add(volumeName);
        },
      },
      resync,
    );
  }

  run(signal: AbortSignal): Promise<void> {
    const waitForSync = async () =>
      (await this.volumeInformer.waitForCacheSync()) &&
      (await this.claimInformer.waitForCacheSync()) &&
      (await this.classInformer.waitForCacheSync()) &&
      (await this.podInformer.waitForCacheSync());
    return Promise.all([
      runQueueController({ name: 'persistentvolume-binder-volumes', waitForSync, queue: this.volumeQueue, workers: 1, sync: (k) => this.volumeWorker(k), log: this.log }, signal),
      runQueueController({ name: 'persistentvolume-binder-claims', waitForSync, queue: this.claimQueue, workers: 1, sync: (k) => this.claimWorker(k), log: this.log }, signal),
    ]).then(async () => {
      await this.recorder.flush();
    });
  }

  // ---- workers: re-read the informer, keep the newer of it and our own copy ----

  async volumeWorker(name: string): Promise<void> {
    const pv = this.volumeInformer.indexer.getByKey(name);
    if (!pv) {
      this.volumes.delete(name);
      return;
    }
    storeObjectUpdate(this.volumes, name, pv);
    await this.syncVolume(this.volumes.get(name)!);
  }

  async claimWorker(key: string): Promise<void> {
    const pvc = this.claimInformer.indexer.getByKey(key);
    if (!pvc) {
      this.claims.delete(key);
      return;
    }
    storeObjectUpdate(this.claims, key, pvc);
    await this.syncClaim(this.claims.get(key)!);
  }

  /** Claims still waiting for a volume; upstream only finds new volumes for them at the periodic resync. */
  private enqueueUnboundClaims(): void {
    for (const pvc of this.claimInformer.indexer.list()) if (!hasAnnotation(pvc, ANN_BIND_COMPLETED)) this.claimQueue.add(claimKey(pvc));
  }

  private getClass = (name: string): StorageClass | undefined => this.classInformer.indexer.getByKey(name);

  // ---- claims ----

  async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) return this.syncUnboundClaim(claim);
    return this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (!volumeName) {
      const delayBinding = isDelayBindingMode(claim, this.getClass);
      const volume = this.findBestMatchForClaim(claim, delayBinding);
      if (volume) {
        await this.bind(volume, claim);
        return;
      }
      if (await this.assignDefaultStorageClass(claim)) return;
      if (delayBinding && !isDelayBindingProvisioning(claim)) {
        this.emitEventForUnboundDelayBindingClaim(claim);
      } else if (claimClass(claim) !== '') {
        await this.provisionClaim(claim);
        return;
      } else {
        this.recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    // The user asked for a specific volume.
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    if (!volume.spec?.claimRef) {
      const mismatch = checkVolumeSatisfyClaim(volume, claim);
      if (mismatch) {
        this.recorder.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume ${JSON.stringify(volumeName)}: ${mismatch}`);
        await this.updateClaimStatus(claim, 'Pending', undefined);
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.bind(volume, claim);
      return;
    }
    if (!hasAnnotation(claim, ANN_BOUND_BY_CONTROLLER)) {
      // Pre-bound by the user to a volume someone else holds: wait for it.
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const ref = volume.spec.claimRef;
    throw new Error(`invalid binding of claim ${JSON.stringify(claimKey(claim))} to volume ${JSON.stringify(volumeName)}: volume already claimed by ${JSON.stringify(`${ref.namespace ?? ''}/${ref.name ?? ''}`)}`);
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (!volumeName) {
      await this.updateClaimStatusWithEvent(claim, 'Lost', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.updateClaimStatusWithEvent(claim, 'Lost', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref || ref.uid === claim.metadata?.uid) {
      // Unbound volume (or the controller has not seen our write yet), or all is well: make sure both sides agree.
      await this.bind(volume, claim);
      return;
    }
    await this.updateClaimStatusWithEvent(claim, 'Lost', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  /** Upstream's persistentVolumeOrderedIndex.findByClaim: volumes grouped by access modes, fewest modes first. */
  findBestMatchForClaim(claim: PersistentVolumeClaim, delayBinding: boolean): PersistentVolume | undefined {
    const wanted = claim.spec?.accessModes ?? [];
    const groups = new Map<string, PersistentVolume[]>();
    for (const pv of this.volumes.values()) {
      const key = modesKey(pv.spec?.accessModes);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(pv);
    }
    const candidates = [...groups.keys()]
      .filter((k) => {
        const offered = new Set(k ? k.split(',') : []);
        return wanted.every((m) => offered.has(m));
      })
      .sort((a, b) => (a ? a.split(',').length : 0) - (b ? b.split(',').length : 0) || a.localeCompare(b));
    for (const key of candidates) {
      const found = findMatchingVolume(claim, groups.get(key)!, undefined, undefined, delayBinding);
      if (found) return found;
    }
    return undefined;
  }

  /** Upstream's emitEventForUnboundDelayBindingClaim: name the unscheduled pods waiting for the claim, if any. */
  private emitEventForUnboundDelayBindingClaim(claim: PersistentVolumeClaim): void {
    const pods = this.podInformer.indexer
      .byIndex(POD_PVC_INDEX, claimKey(claim))
      .filter((p) => !p.spec?.nodeName)
      .map((p) => p.metadata?.name ?? '');
    if (pods.length === 0) {
      this.recorder.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    } else if (pods.length === 1) {
      this.recorder.event(claim, 'Normal', 'WaitForPodScheduled', `waiting for pod ${pods[0]} to be scheduled`);
    } else {
      this.recorder.event(claim, 'Normal', 'WaitForPodScheduled', `waiting for pods ${pods.join(',')} to be scheduled`);
    }
  }

  /** Retroactive default class: a claim with no storageClassName at all gets the default class, if there is one. */
  private async assignDefaultStorageClass(claim: PersistentVolumeClaim): Promise<boolean> {
    if (claim.spec?.storageClassName !== undefined && claim.spec.storageClassName !== null) return false;
    if (hasAnnotation(claim, 'volume.beta.kubernetes.io/storage-class')) return false;
    const defaults = this.classInformer.indexer
      .list()
      .filter((c) => c.metadata?.annotations?.[IS_DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true')
      // The newest default wins, by creation time then name (upstream's GetDefaultClass).
      .sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const cls = defaults[0];
    if (!cls) return false;
    const clone = structuredClone(claim);
    clone.spec = { ...clone.spec, storageClassName: cls.metadata?.name ?? '' };
    await this.writeClaim(clone);
    return true;
  }

  /**
   * Upstream's provisionClaim for a claim of a class: no in-tree provisioners exist here, so a "kubernetes.io/" one
   * fails as upstream's plugin lookup does, and any other is an external provisioner's job: annotate the claim for
   * it and say so.
   */
  private async provisionClaim(claim: PersistentVolumeClaim): Promise<void> {
    const name = claimClass(claim);
    const cls = this.getClass(name);
    if (!cls) {
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io ${JSON.stringify(name)} not found`);
      return;
    }
    const provisioner = cls.provisioner ?? '';
    if (provisioner.startsWith('kubernetes.io/')) {
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${provisioner}`);
      return;
    }
    let current = claim;
    const ann = claim.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      const clone = structuredClone(claim);
      clone.metadata = { ...clone.metadata, annotations: { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } };
      try {
        current = await this.writeClaim(clone);
      } catch (err) {
        this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `Error saving claim: ${(err as Error).message}`);
        throw err;
      }
    }
    this.recorder.event(
      current,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  // ---- volumes ----

  async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref) {
      await this.updateVolumePhase(volume, 'Available', '');
      return;
    }
    if (!ref.uid) {
      // Pre-bound to a claim that has not bound yet: the claim's sync does it.
      await this.updateVolumePhase(volume, 'Available', '');
      return;
    }
    const key = `${ref.namespace ?? ''}/${ref.name ?? ''}`;
    let claim: PersistentVolumeClaim | undefined = this.claims.get(key) ?? this.claimInformer.indexer.getByKey(key);
    if (!claim && volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
      // The informer may lag behind a claim that was just created: ask the API before releasing the volume.
      try {
        claim = await this.pvcClient.get(ref.name ?? '', { namespace: ref.namespace ?? '' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined; // deleted and created again: not ours
    if (!claim) {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') current = await this.updateVolumePhase(volume, 'Released', '');
      await this.reclaimVolume(current);
      return;
    }
    const claimVolume = claim.spec?.volumeName ?? '';
    if (!claimVolume) {
      if (checkVolumeModeMismatches(claim, volume)) {
        this.recorder.event(volume, 'Warning', 'VolumeMismatch', `Cannot bind PersistentVolume to requested PersistentVolumeClaim ${JSON.stringify(claim.metadata?.name ?? '')} due to incompatible volumeMode.`);
        this.recorder.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind PersistentVolume ${JSON.stringify(volume.metadata?.name ?? '')} to requested PersistentVolumeClaim due to incompatible volumeMode.`);
        return;
      }
      // The volume points at the claim, the claim not yet at the volume (e.g. the scheduler pre-bound it): the
      // claim's sync completes the binding.
      this.claimQueue.add(key);
      return;
    }
    if (claimVolume === volume.metadata?.name) {
      await this.updateVolumePhase(volume, 'Bound', '');
      return;
    }
    // The claim is bound to another volume.
    if (hasAnnotation(volume, ANN_DYNAMICALLY_PROVISIONED) && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') current = await this.updateVolumePhase(volume, 'Released', '');
      await this.reclaimVolume(current);
      return;
    }
    // Bound by us to a claim that got another volume, or pre-bound by the user: drop the binding (the user's
    // claimRef name stays, without the uid).
    await this.unbindVolume(volume);
  }

  private async reclaimVolume(volume: PersistentVolume): Promise<void> {
    switch (volume.spec?.persistentVolumeReclaimPolicy) {
      case 'Retain':
      case undefined:
        return;
      case 'Recycle':
        await this.updateVolumePhaseWithEvent(volume, 'Failed', 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        return;
      case 'Delete':
        await this.deleteVolumeOperation(volume);
        return;
      default:
        await this.updateVolumePhaseWithEvent(volume, 'Failed', 'Warning', 'VolumeUnknownReclaimPolicy', 'Volume has unrecognized PersistentVolumeReclaimPolicy');
    }
  }

  /**
   * Upstream's deleteVolumeOperation: re-read the volume, make sure it is still released, then find its deleter. A
   * volume provisioned by an external provisioner is left to it; no in-tree deleters exist here, so any other
   * volume fails as upstream's plugin lookup fails (the controller keeps retrying on every sync).
   */
  private async deleteVolumeOperation(volume: PersistentVolume): Promise<void> {
    let fresh: PersistentVolume;
    try {
      fresh = await this.pvClient.get(volume.metadata?.name ?? '');
    } catch {
      return;
    }
    if (fresh.metadata?.deletionTimestamp) return;
    if (!(await this.isVolumeReleased(fresh))) return;
    const provisionedBy = fresh.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED];
    let error: string;
    if (provisionedBy && !provisionedBy.startsWith('kubernetes.io/')) {
      this.log.debug('volume waits for its external deleter', { volume: fresh.metadata?.name, provisioner: provisionedBy });
      return;
    } else {
      error = `error getting deleter volume plugin for volume ${JSON.stringify(fresh.metadata?.name ?? '')}: ${provisionedBy ? `no volume plugin matched name: ${provisionedBy}` : 'no deletable volume plugin matched'}`;
    }
    await this.updateVolumePhaseWithEvent(fresh, 'Failed', 'Warning', 'VolumeFailedDelete', error);
  }

  /** Upstream's isVolumeReleased: bound to a claim that no longer exists (or is another claim now). */
  private async isVolumeReleased(volume: PersistentVolume): Promise<boolean> {
    const ref = volume.spec?.claimRef;
    if (!ref?.uid) return false;
    const key = `${ref.namespace ?? ''}/${ref.name ?? ''}`;
    let claim = this.claims.get(key) ?? this.claimInformer.indexer.getByKey(key);
    if (!claim) {
      try {
        claim = await this.pvcClient.get(ref.name ?? '', { namespace: ref.namespace ?? '' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (claim && claim.metadata?.uid === ref.uid && (!claim.spec?.volumeName || claim.spec.volumeName === volume.metadata?.name)) return false;
    return true;
  }

  /** Upstream's unbindVolume: a controller binding is dropped entirely, a user's pre-binding keeps name and namespace. */
  private async unbindVolume(volume: PersistentVolume): Promise<void> {
    const clone = structuredClone(volume);
    clone.spec ??= {};
    if (hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER)) {
      delete clone.spec.claimRef;
      const annotations = { ...clone.metadata?.annotations };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      clone.metadata = { ...clone.metadata, annotations };
    } else if (clone.spec.claimRef) {
      clone.spec.claimRef = { ...clone.spec.claimRef, uid: '' };
    }
    const updated = await this.writeVolume(clone);
    await this.updateVolumePhase(updated, 'Available', '');
  }

  // ---- binding ----

  /** Upstream's bind: volume → claim, volume Bound, claim → volume, claim Bound; a failed step is redone next sync. */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    let pv = volume;
    const { pv: bound, dirty } = bindVolumeToClaim(pv, claim);
    if (dirty) pv = await this.writeVolume(bound);
    pv = await this.updateVolumePhase(pv, 'Bound', '');
    let pvc = await this.bindClaimToVolume(claim, pv);
    pvc = await this.updateClaimStatus(pvc, 'Bound', pv);
    this.log.debug('bound claim to volume', { claim: claimKey(pvc), volume: pv.metadata?.name });
  }

  private async bindClaimToVolume(claim: PersistentVolumeClaim, volume: PersistentVolume): Promise<PersistentVolumeClaim> {
    const name = volume.metadata?.name ?? '';
    const clone = structuredClone(claim);
    clone.spec ??= {};
    const annotations = { ...clone.metadata?.annotations };
    let dirty = false;
    if (clone.spec.volumeName !== name) {
      if (!annotations[ANN_BOUND_BY_CONTROLLER]) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      clone.spec.volumeName = name;
      dirty = true;
    }
    if (annotations[ANN_BIND_COMPLETED] === undefined) {
      annotations[ANN_BIND_COMPLETED] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    clone.metadata = { ...clone.metadata, annotations };
    return this.writeClaim(clone);
  }

  // ---- writes (each keeps the written object as the newest copy) ----

  private async writeVolume(pv: PersistentVolume, status = false): Promise<PersistentVolume> {
    const out = status ? await this.pvClient.updateStatus(pv) : await this.pvClient.update(pv);
    storeObjectUpdate(this.volumes, out.metadata?.name ?? '', out);
    return out;
  }

  private async writeClaim(pvc: PersistentVolumeClaim, status = false): Promise<PersistentVolumeClaim> {
    const namespace = pvc.metadata?.namespace ?? '';
    const out = status ? await this.pvcClient.updateStatus(pvc, { namespace }) : await this.pvcClient.update(pvc, { namespace });
    storeObjectUpdate(this.claims, claimKey(out), out);
    return out;
  }

  async updateVolumePhase(volume: PersistentVolume, phase: string, message: string): Promise<PersistentVolume> {
    if (volume.status?.phase === phase && (volume.status?.message ?? '') === message) return volume;
    const status: Mutable<NonNullable<PersistentVolume['status']>> = { ...volume.status, phase };
    if (message) status.message = message;
    else delete status.message;
    if (volume.status?.phase !== phase) status.lastPhaseTransitionTime = formatTime(new Date(this.ctx.clock.now()));
    const out = await this.writeVolume({ ...structuredClone(volume), status }, true);
    // A volume that just became Available may be what a waiting claim needs.
    if (phase === 'Available' && volume.status?.phase !== phase) this.enqueueUnboundClaims();
    return out;
  }

  private async updateVolumePhaseWithEvent(volume: PersistentVolume, phase: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<PersistentVolume> {
    if (volume.status?.phase === phase) return volume;
    const out = await this.updateVolumePhase(volume, phase, message);
    this.recorder.event(out, type, reason, message);
    return out;
  }

  /** Upstream's updateClaimStatus: the phase, and access modes and capacity from the volume (cleared without one). */
  async updateClaimStatus(claim: PersistentVolumeClaim, phase: string, volume: PersistentVolume | undefined): Promise<PersistentVolumeClaim> {
    const status: Mutable<NonNullable<PersistentVolumeClaim['status']>> = { ...structuredClone(claim.status) };
    let dirty = false;
    if (status.phase !== phase) {
      status.phase = phase;
      dirty = true;
    }
    if (!volume) {
      if (status.accessModes !== undefined) {
        delete status.accessModes;
        dirty = true;
      }
      if (status.capacity !== undefined) {
        delete status.capacity;
        dirty = true;
      }
    } else {
      if (JSON.stringify(status.accessModes ?? null) !== JSON.stringify(volume.spec?.accessModes ?? null)) {
        status.accessModes = volume.spec?.accessModes;
        dirty = true;
      }
      // Capacity is set when the claim becomes Bound, not afterwards (a difference may be on purpose).
      if (claim.status?.phase !== phase) {
        const cap = volume.spec?.capacity?.storage;
        if (cap === undefined) throw new Error(`PersistentVolume ${JSON.stringify(volume.metadata?.name ?? '')} is without a storage capacity`);
        const have = claim.status?.capacity?.storage;
        if (have === undefined || !volumeStorage(volume).equals(volumeStorage({ spec: { capacity: { storage: String(have) } } }))) {
          status.capacity = volume.spec?.capacity;
          dirty = true;
        }
      }
    }
    if (!dirty) return claim;
    return this.writeClaim({ ...structuredClone(claim), status }, true);
  }

  private async updateClaimStatusWithEvent(claim: PersistentVolumeClaim, phase: string, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === phase) return;
    const out = await this.updateClaimStatus(claim, phase, undefined);
    this.recorder.event(out, 'Warning', reason, message);
  }
}

/** Upstream's checkVolumeSatisfyClaim for a claim that names its volume; the reason it does not, or undefined. */
export function checkVolumeSatisfyClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volume.metadata?.deletionTimestamp) return `the volume is marked for deletion ${JSON.stringify(volume.metadata.name ?? '')}`;
  if (volumeStorage(volume).cmp(requestedStorage(claim)) < 0) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (checkVolumeModeMismatches(claim, volume)) return 'incompatible volumeMode';
  if (!checkAccessModes(claim, volume)) return 'incompatible accessMode';
  return undefined;
}

export const persistentVolumeBinderControllerDescriptor: ControllerDescriptor = {
  name: 'persistentvolume-binder',
  create: (ctx) => new PersistentVolumeController(ctx),
};
