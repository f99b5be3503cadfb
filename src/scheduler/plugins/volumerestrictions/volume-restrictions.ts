// Upstream's VolumeRestrictions plugin: a pod may not share a ReadWriteOncePod claim with any other pod, and the
// legacy in-tree disks (GCE PD, AWS EBS, RBD, ISCSI) may not be mounted by two pods of one node unless both only read.
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { ActionType, QueueingHint, claimUsedByPod, deletedAssignedPod, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { FilterPlugin, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const VOLUME_RESTRICTIONS = 'VolumeRestrictions';
const STATE_KEY = `PreFilter${VOLUME_RESTRICTIONS}`;

/** Upstream's ErrReasonDiskConflict. */
export const ERR_REASON_DISK_CONFLICT = 'node(s) had no available disk';
/** Upstream's ErrReasonReadWriteOncePodConflict. */
export const ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT = 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';

export interface VolumeRestrictionsOptions {
  /** The PersistentVolumeClaim lister (upstream's informer); without it no claim is found. */
  getPVC?: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
}

interface PreFilterState {
  /** namespace/claim of the pod's ReadWriteOncePod claims. */
  readWriteOncePodPVCs: ReadonlySet<string>;
  /** How many pods of the cluster already use one of them. */
  conflictingPVCRefCount: number;
}

const needsRestrictionsCheck = (v: Volume): boolean => !!(v.gcePersistentDisk || v.awsElasticBlockStore || v.rbd || v.iscsi);

const haveOverlap = (a: readonly string[], b: readonly string[]): boolean => {
  const set = new Set(a);
  return b.some((x) => set.has(x));
};

/** Upstream's isVolumeConflict: whether `volume` of the new pod clashes with a volume of `existing`. */
export function isVolumeConflict(volume: Volume, existing: Pod): boolean {
  for (const ev of existing.spec?.volumes ?? []) {
    if (volume.gcePersistentDisk && ev.gcePersistentDisk) {
      const d = volume.gcePersistentDisk;
      const e = ev.gcePersistentDisk;
      if (d.pdName === e.pdName && !(d.readOnly && e.readOnly)) return true;
    }
    if (volume.awsElasticBlockStore && ev.awsElasticBlockStore) {
      if (volume.awsElasticBlockStore.volumeID === ev.awsElasticBlockStore.volumeID) return true;
    }
    if (volume.iscsi && ev.iscsi) {
      if (volume.iscsi.iqn === ev.iscsi.iqn && !(volume.iscsi.readOnly && ev.iscsi.readOnly)) return true;
    }
    if (volume.rbd && ev.rbd) {
      const v = volume.rbd;
      const e = ev.rbd;
      // Upstream compares the pool and image as given; an unset pool is the same unset pool on both sides.
      if (haveOverlap(v.monitors, e.monitors) && v.pool === e.pool && v.image === e.image && !(v.readOnly && e.readOnly)) return true;
    }
  }
  return false;
}

/** Upstream's satisfyVolumeConflicts: no pod on the node mounts one of the pod's restricted disks. */
function satisfyVolumeConflicts(pod: Pod, nodeInfo: NodeInfo): boolean {
  for (const v of pod.spec?.volumes ?? []) {
    if (!needsRestrictionsCheck(v)) continue;
    for (const info of nodeInfo.pods) if (isVolumeConflict(v, info.pod)) return false;
  }
  return true;
}

const claimKeysOf = (pod: Pod): string[] =>
  (pod.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => `${pod.metadata?.namespace ?? ''}/${v.persistentVolumeClaim!.claimName}`);

export class VolumeRestrictions implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = VOLUME_RESTRICTIONS;

  /** A scheduled pod releasing a conflicting disk or a shared claim, a new node, or the pod's claim appearing. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('Pod', ActionType.Delete, (pod, o, n) => this.isSchedulableAfterPodDeleted(pod, o, n)),
      registerFor('Node', ActionType.Add),
      registerFor('PersistentVolumeClaim', ActionType.Add, claimUsedByPod),
    ];
  }

  /** Queue when the deleted pod was on a node and held a disk that clashes with the pod's, or one of its claims. */
  isSchedulableAfterPodDeleted(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const deleted = deletedAssignedPod(oldObj, newObj);
    if (!deleted) return QueueingHint.QueueSkip;
    if ((pod.spec?.volumes ?? []).some((v) => needsRestrictionsCheck(v) && isVolumeConflict(v, deleted))) return QueueingHint.Queue;
    const freed = new Set(claimKeysOf(deleted));
    return claimKeysOf(pod).some((k) => freed.has(k)) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  constructor(private readonly opts: VolumeRestrictionsOptions = {}) {}

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } | undefined {
    const needsCheck = (pod.spec?.volumes ?? []).some(needsRestrictionsCheck);
    const ns = pod.metadata?.namespace ?? '';
    const rwop = new Set<string>();
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const pvc = this.opts.getPVC?.(ns, claimName);
      if (!pvc) return { status: Status.unresolvable(`persistentvolumeclaim ${JSON.stringify(claimName)} not found`) };
      if (pvc.spec?.accessModes?.includes('ReadWriteOncePod')) rwop.add(`${ns}/${claimName}`);
    }
    let count = 0;
    if (rwop.size > 0) {
      const all = state.allNodes.length ? state.allNodes : nodes;
      const self = pod.metadata?.uid;
      for (const n of all) {
        for (const info of n.pods) {
          if (self && info.pod.metadata?.uid === self) continue;
          for (const key of claimKeysOf(info.pod)) if (rwop.has(key)) count++;
        }
      }
    }
    if (!needsCheck && count === 0) return { status: Status.skip() };
    const s: PreFilterState = { readWriteOncePodPVCs: rwop, conflictingPVCRefCount: count };
    state.write(STATE_KEY, s);
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    if (!satisfyVolumeConflicts(pod, nodeInfo)) return Status.unschedulable(ERR_REASON_DISK_CONFLICT);
    const s = state.has(STATE_KEY) ? state.read<PreFilterState>(STATE_KEY) : undefined;
    if (s && s.conflictingPVCRefCount > 0) return Status.unschedulable(ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT);
    return undefined;
  }
}
