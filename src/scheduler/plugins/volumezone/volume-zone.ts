// Upstream's VolumeZone plugin: a pod using bound PersistentVolumes labelled with a zone or region may only go to
// nodes in one of those zones or regions (values may list several zones joined by "__").
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { claimClass } from '../../../machinery/storage-volume.js';
import { ActionType, QueueingHint, UPDATE, asObjects, claimUsedByPod, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { FilterPlugin, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const VOLUME_ZONE = 'VolumeZone';
const STATE_KEY = `PreFilter${VOLUME_ZONE}`;

/** Upstream's ErrReasonConflict. */
export const ERR_REASON_VOLUME_ZONE_CONFLICT = 'node(s) had no available volume zone';

const BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION = 'failure-domain.beta.kubernetes.io/region';
const GA_ZONE = 'topology.kubernetes.io/zone';
const GA_REGION = 'topology.kubernetes.io/region';
const TOPOLOGY_LABELS = [BETA_ZONE, BETA_REGION, GA_ZONE, GA_REGION];
const TO_GA: Record<string, string> = { [BETA_ZONE]: GA_ZONE, [BETA_REGION]: GA_REGION };

export interface VolumeListers {
  getPVC?: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
  getPV?: (name: string) => PersistentVolume | undefined;
  getStorageClass?: (name: string) => StorageClass | undefined;
}

interface PVTopology {
  key: string;
  values: ReadonlySet<string>;
}

/** The zone/region labels of a volume, each value a set ("a__b" lists several zones). */
function volumeTopologies(pv: PersistentVolume): PVTopology[] {
  const out: PVTopology[] = [];
  for (const key of TOPOLOGY_LABELS) {
    const value = pv.metadata?.labels?.[key];
    if (value === undefined) continue;
    out.push({ key, values: new Set(value.split('__').map((z) => z.trim()).filter((z) => z)) });
  }
  return out;
}

const sameTopologies = (a: PVTopology[], b: PVTopology[]): boolean =>
  a.length === b.length && a.every((t, i) => t.key === b[i]!.key && t.values.size === b[i]!.values.size && [...t.values].every((v) => b[i]!.values.has(v)));

export class VolumeZone implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = VOLUME_ZONE;

  /**
   * Upstream's registrations: a new WaitForFirstConsumer class (a class's binding mode never changes), nodes that
   * appear or change labels (no hint upstream either), the pod's own claims, and volumes that appear or change their
   * zone/region labels.
   */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('StorageClass', ActionType.Add, (pod, o, n) => this.isSchedulableAfterStorageClassAdded(pod, o, n)),
      registerFor('Node', ActionType.Add | ActionType.UpdateNodeLabel),
      registerFor('PersistentVolumeClaim', ActionType.Add | UPDATE, claimUsedByPod),
      registerFor('PersistentVolume', ActionType.Add | UPDATE, (pod, o, n) => this.isSchedulableAfterPersistentVolumeChange(pod, o, n)),
    ];
  }

  /** Only a class that waits for the first consumer lets a pod through (its claims are no longer checked here). */
  isSchedulableAfterStorageClassAdded(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { newObj: cls } = asObjects<StorageClass>(oldObj, newObj);
    return cls?.volumeBindingMode === 'WaitForFirstConsumer' ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /** A new volume, or one whose zone/region labels changed (its node affinity is immutable). */
  isSchedulableAfterPersistentVolumeChange(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldPV, newObj: pv } = asObjects<PersistentVolume>(oldObj, newObj);
    if (!oldPV || !pv) return QueueingHint.Queue;
    return sameTopologies(volumeTopologies(oldPV), volumeTopologies(pv)) ? QueueingHint.QueueSkip : QueueingHint.Queue;
  }

  constructor(private readonly listers: VolumeListers = {}) {}

  private pvTopologies(pod: Pod): { topologies: PVTopology[]; status?: Status } {
    const ns = pod.metadata?.namespace ?? '';
    const out: PVTopology[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      const claimName = v.persistentVolumeClaim.claimName;
      if (!claimName) return { topologies: [], status: Status.unresolvable('PersistentVolumeClaim had no name') };
      const pvc = this.listers.getPVC?.(ns, claimName);
      if (!pvc) return { topologies: [], status: Status.unresolvable(`persistentvolumeclaim ${JSON.stringify(claimName)} not found`) };
      const pvName = pvc.spec?.volumeName ?? '';
      if (!pvName) {
        const scName = claimClass(pvc);
        if (!scName) return { topologies: [], status: Status.unresolvable('PersistentVolumeClaim had no pv name and storageClass name') };
        const sc = this.listers.getStorageClass?.(scName);
        if (!sc) return { topologies: [], status: Status.unresolvable(`storageclass.storage.k8s.io ${JSON.stringify(scName)} not found`) };
        if (!sc.volumeBindingMode) return { topologies: [], status: Status.unresolvable(`VolumeBindingMode not set for StorageClass ${JSON.stringify(scName)}`) };
        // The volume will be bound or provisioned for the chosen node: nothing to check yet.
        if (sc.volumeBindingMode === 'WaitForFirstConsumer') continue;
        return { topologies: [], status: Status.unresolvable('PersistentVolume had no name') };
      }
      const pv = this.listers.getPV?.(pvName);
      if (!pv) return { topologies: [], status: Status.unresolvable(`persistentvolume ${JSON.stringify(pvName)} not found`) };
      out.push(...volumeTopologies(pv));
    }
    return { topologies: out };
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } | undefined {
    const { topologies, status } = this.pvTopologies(pod);
    if (status) return { status };
    if (topologies.length === 0) return { status: Status.skip() };
    state.write(STATE_KEY, topologies);
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    if (!pod.spec?.volumes?.length) return undefined;
    let topologies: PVTopology[];
    if (state.has(STATE_KEY)) {
      topologies = state.read<PVTopology[]>(STATE_KEY);
    } else {
      const got = this.pvTopologies(pod);
      if (got.status) return got.status;
      topologies = got.topologies;
    }
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    if (!TOPOLOGY_LABELS.some((k) => k in labels)) return undefined;
    for (const t of topologies) {
      let v = labels[t.key];
      if (v === undefined && TO_GA[t.key]) v = labels[TO_GA[t.key]!];
      if (v === undefined || !t.values.has(v)) return Status.unresolvable(ERR_REASON_VOLUME_ZONE_CONFLICT);
    }
    return undefined;
  }
}
