// Upstream's NodeVolumeLimits plugin (CSILimits): a node may not have more CSI volumes of a driver attached than the
// driver's allocatable count in the node's CSINode (or the node's legacy attachable-volumes-* allocatable). A volume
// used by several pods on the node counts once; claims not bound yet count through their class's provisioner; volumes
// the node's VolumeAttachments say are attached count too (an attachment outlives its pod until detached).
import { createHash } from 'node:crypto';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSINode, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import { claimClass } from '../../../machinery/storage-volume.js';
import { ActionType, QueueingHint, UPDATE, asObjects, claimUsedByPod, deletedAssignedPod, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { FilterPlugin, PreFilterPlugin, PreFilterResult } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';
import type { VolumeListers } from '../volumezone/volume-zone.js';

export const NODE_VOLUME_LIMITS = 'NodeVolumeLimits';

/** Upstream's ErrReasonMaxVolumeCountExceeded. */
export const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED = 'node(s) exceed max volume count';

const CSI_ATTACH_LIMIT_PREFIX = 'attachable-volumes-csi-';
const ATTACHABLE_VOLUMES_PREFIX = 'attachable-volumes-';
const RESOURCE_NAME_LENGTH_LIMIT = 63;

/** Upstream's GetCSIAttachLimitKey: the resource name of a driver's attach limit (long names are shortened with a hash). */
export function csiAttachLimitKey(driver: string): string {
  if (CSI_ATTACH_LIMIT_PREFIX.length + driver.length >= RESOURCE_NAME_LENGTH_LIMIT) {
    const hashed = createHash('sha256').update(driver).digest('hex').slice(0, 16);
    return CSI_ATTACH_LIMIT_PREFIX + driver.slice(0, 23) + hashed;
  }
  return CSI_ATTACH_LIMIT_PREFIX + driver;
}

export interface NodeVolumeLimitsListers extends VolumeListers {
  getCSINode?: (name: string) => CSINode | undefined;
  /** The VolumeAttachments whose spec.nodeName is the node. */
  volumeAttachmentsOnNode?: (nodeName: string) => Iterable<VolumeAttachment>;
}

class NotFoundError extends Error {}

export class NodeVolumeLimits implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_VOLUME_LIMITS;

  /** A driver's limit appearing or growing, a scheduled pod with volumes going away, or the pod's claim appearing. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      // Any new CSINode may carry room for the pod's volumes (no hint, as upstream).
      registerFor('CSINode', ActionType.Add),
      registerFor('CSINode', UPDATE, (pod, o, n) => this.isSchedulableAfterCSINodeUpdated(pod, o, n)),
      registerFor('Pod', ActionType.Delete, (pod, o, n) => this.isSchedulableAfterPodDeleted(pod, o, n)),
      registerFor('PersistentVolumeClaim', ActionType.Add, claimUsedByPod),
      registerFor('VolumeAttachment', ActionType.Delete, (pod, o, n) => this.isSchedulableAfterVolumeAttachmentDeleted(pod, o, n)),
    ];
  }

  /**
   * Upstream's isSchedulableAfterVolumeAttachmentDeleted: a detached volume frees a slot for a pod with a claim
   * volume (any claim: the attachment's volume need not be the pod's). Upstream also matches migrated in-tree inline
   * volumes by driver; skiff translates no in-tree volumes, so those never count here.
   */
  isSchedulableAfterVolumeAttachmentDeleted(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: deleted } = asObjects<VolumeAttachment>(oldObj, newObj);
    if (!deleted) return QueueingHint.QueueSkip;
    return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /**
   * Upstream's isSchedulableAfterCSINodeUpdated: queue when a driver appears or its attach limit (allocatable.count)
   * grows; a driver whose limit is removed has none any more, which counts as growing.
   */
  isSchedulableAfterCSINodeUpdated(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<CSINode>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    if (!oldNode) return QueueingHint.Queue;
    const limit = (d: { allocatable?: { count?: number } }): number => d.allocatable?.count ?? Infinity;
    const before = new Map<string, number>((oldNode.spec?.drivers ?? []).map((d) => [d.name, limit(d)]));
    for (const d of node.spec?.drivers ?? []) {
      const old = before.get(d.name);
      if (old === undefined || limit(d) > old) return QueueingHint.Queue;
    }
    return QueueingHint.QueueSkip;
  }

  /** Queue when the deleted pod ran on a node and had claim-backed volumes (which count against the limits). */
  isSchedulableAfterPodDeleted(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const deleted = deletedAssignedPod(oldObj, newObj);
    return deleted?.spec?.volumes?.some((v) => v.persistentVolumeClaim || v.ephemeral) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }
  /** Unbound claims are counted under a per-instance prefix so they never collide with real volume handles. */
  private readonly randomVolumeIDPrefix = `skiff-${Math.random().toString(36).slice(2, 10)}`;

  constructor(private readonly l: NodeVolumeLimitsListers = {}) {}

  preFilter(_state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } | undefined {
    if ((pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim || v.ephemeral)) return undefined;
    return { status: Status.skip() };
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    if (!pod.spec?.volumes?.length) return undefined;
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('node not found'));
    const csiNode = this.l.getCSINode?.(node.metadata?.name ?? '');
    const newVolumes = new Map<string, string>();
    try {
      this.filterAttachableVolumes(pod, true, newVolumes);
    } catch (err) {
      if (err instanceof NotFoundError) return Status.unresolvable(err.message);
      return Status.fromError(err);
    }
    if (newVolumes.size === 0) return undefined;
    const limits = volumeLimits(nodeInfo, csiNode);
    if (limits.size === 0) return undefined;
    const attached = new Map<string, string>();
    try {
      for (const info of nodeInfo.pods) this.filterAttachableVolumes(info.pod, false, attached);
    } catch (err) {
      return Status.fromError(err);
    }
    const attachedCount = new Map<string, number>();
    for (const [unique, key] of attached) {
      // A volume already attached for another pod does not count again.
      newVolumes.delete(unique);
      attachedCount.set(key, (attachedCount.get(key) ?? 0) + 1);
    }
    // Then what the node's VolumeAttachments hold beyond its pods' volumes (upstream's getNodeVolumeAttachmentInfo).
    for (const [unique, key] of this.attachmentVolumes(node.metadata?.name ?? '')) {
      if (attached.has(unique)) continue;
      attachedCount.set(key, (attachedCount.get(key) ?? 0) + 1);
    }
    const newCount = new Map<string, number>();
    for (const key of newVolumes.values()) newCount.set(key, (newCount.get(key) ?? 0) + 1);
    for (const [key, count] of newCount) {
      const max = limits.get(key);
      if (max !== undefined && (attachedCount.get(key) ?? 0) + count > max) return Status.unschedulable(ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED);
    }
    return undefined;
  }

  /** Adds the pod's CSI volumes as unique name → limit key; a new pod's missing claim is an error. */
  private filterAttachableVolumes(pod: Pod, newPod: boolean, result: Map<string, string>): void {
    const ns = pod.metadata?.namespace ?? '';
    for (const v of pod.spec?.volumes ?? []) {
      let claimName: string;
      let ephemeral = false;
      if (v.persistentVolumeClaim) claimName = v.persistentVolumeClaim.claimName;
      else if (v.ephemeral) {
        claimName = `${pod.metadata?.name ?? ''}-${v.name}`;
        ephemeral = true;
      } else continue;
      if (!claimName) throw new Error('PersistentVolumeClaim had no name');
      const pvc = this.l.getPVC?.(ns, claimName);
      if (!pvc) {
        if (newPod) throw new NotFoundError(`looking up PVC ${ns}/${claimName}: persistentvolumeclaim ${JSON.stringify(claimName)} not found`);
        continue;
      }
      if (ephemeral) {
        const owner = pvc.metadata?.ownerReferences?.find((o) => o.controller);
        if (!owner || owner.uid !== pod.metadata?.uid) throw new Error(`PVC ${ns}/${claimName} was not created for pod ${ns}/${pod.metadata?.name ?? ''} (pod is not owner)`);
      }
      const { driver, handle } = this.csiDriverInfo(pvc);
      if (!driver || !handle) continue;
      result.set(`${driver}/${handle}`, csiAttachLimitKey(driver));
    }
  }

  /**
   * The volumes attached to the node by VolumeAttachments, as unique name → limit key: an attacher and a
   * PersistentVolume source whose volume exists and is a CSI volume (others are not counted).
   */
  private attachmentVolumes(nodeName: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const va of this.l.volumeAttachmentsOnNode?.(nodeName) ?? []) {
      const attacher = va.spec?.attacher;
      const pvName = va.spec?.source?.persistentVolumeName;
      if (!attacher || !pvName || va.spec?.nodeName !== nodeName) continue;
      const csi = this.l.getPV?.(pvName)?.spec?.csi;
      if (!csi) continue;
      out.set(`${attacher}/${csi.volumeHandle}`, csiAttachLimitKey(attacher));
    }
    return out;
  }

  /** The driver and volume handle of the claim's PV, or for an unbound claim its class's provisioner. */
  private csiDriverInfo(pvc: PersistentVolumeClaim): { driver?: string; handle?: string } {
    const pvName = pvc.spec?.volumeName ?? '';
    const pv = pvName ? this.l.getPV?.(pvName) : undefined;
    if (pv) return { driver: pv.spec?.csi?.driver, handle: pv.spec?.csi?.volumeHandle };
    // No volume yet (or it went away): count by the class that will provision it.
    const cls = claimClass(pvc);
    if (!cls) return {};
    const sc = this.l.getStorageClass?.(cls);
    if (!sc) return {};
    return { driver: sc.provisioner, handle: `${this.randomVolumeIDPrefix}-${pvc.metadata?.namespace ?? ''}/${pvc.metadata?.name ?? ''}` };
  }
}

/** Attach limits by resource name: the node's attachable-volumes-* allocatable, overridden by its CSINode's drivers. */
function volumeLimits(nodeInfo: NodeInfo, csiNode: CSINode | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(nodeInfo.node?.status?.allocatable ?? {})) {
    if (!k.startsWith(ATTACHABLE_VOLUMES_PREFIX)) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out.set(k, n);
  }
  for (const d of csiNode?.spec?.drivers ?? []) {
    const count = d.allocatable?.count;
    if (count !== undefined && count !== null) out.set(csiAttachLimitKey(d.name), count);
  }
  return out;
}
