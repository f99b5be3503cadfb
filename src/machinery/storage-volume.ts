// PersistentVolume / PersistentVolumeClaim helpers as upstream's component-helpers/storage/volume package: the binding
// annotations, classes, access/volume mode checks, PV node affinity and the volume matching that both the
// PersistentVolume controller and the scheduler's VolumeBinding plugin use.
import type { Node, ObjectReference, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { labelSelectorAsSelector, type Selector } from './labels.js';
import { NodeSelectorMatcher } from './nodeaffinity.js';
import { Quantity, parseQuantity } from './quantity.js';

/** On a claim: its binding finished once (the controller's view of "bound"). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a PV or claim: the binding was made by the controller, not pre-bound by the user. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a PV: the plugin or external provisioner that provisioned it. */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** On a claim: the node the scheduler chose for a WaitForFirstConsumer claim to be provisioned for. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** The legacy class annotation older claims and volumes carry. */
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
export const IS_DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** A class whose volumes are never provisioned (local volumes). */
export const NOT_SUPPORTED_PROVISIONER = 'kubernetes.io/no-provisioner';

const hasAnnotation = (o: { metadata?: { annotations?: Record<string, string> } }, key: string): boolean => o.metadata?.annotations?.[key] !== undefined;
export { hasAnnotation };

/** storageClassName, or the beta annotation (upstream's GetPersistentVolumeClaimClass). */
export function claimClass(pvc: PersistentVolumeClaim): string {
  const ann = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return pvc.spec?.storageClassName ?? '';
}

/** Upstream's GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  const ann = pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return pv.spec?.storageClassName ?? '';
}

export const claimKey = (pvc: PersistentVolumeClaim): string => `${pvc.metadata?.namespace ?? ''}/${pvc.metadata?.name ?? ''}`;

/** The claim the PV's claimRef names and, if the ref has a uid, that exact claim. */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if ((ref.name ?? '') !== (pvc.metadata?.name ?? '') || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** Claim and volume want different volumeModes (both default to Filesystem). */
export function checkVolumeModeMismatches(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** Every access mode the claim asks for is offered by the volume. */
export function checkAccessModes(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** Upstream's CheckNodeAffinity: the PV's required node affinity admits a node with these labels (names are not seen). */
export function checkNodeAffinity(pv: PersistentVolume, nodeLabels: Record<string, string> | undefined): string | undefined {
  const required = pv.spec?.nodeAffinity?.required;
  if (!required) return undefined;
  const matcher = new NodeSelectorMatcher(required);
  if (matcher.matches({ metadata: { labels: nodeLabels ?? {} } })) return undefined;
  if (matcher.errors.length) return matcher.errors.join('; ');
  return 'no matching NodeSelectorTerms';
}

const ZERO = Quantity.fromInt(0);

function storageOf(resources: Record<string, unknown> | undefined): Quantity {
  const v = resources?.storage;
  if (typeof v !== 'string' && typeof v !== 'number') return ZERO;
  try {
    return parseQuantity(String(v));
  } catch {
    return ZERO;
  }
}

export const requestedStorage = (pvc: PersistentVolumeClaim): Quantity => storageOf(pvc.spec?.resources?.requests);
export const volumeStorage = (pv: PersistentVolume): Quantity => storageOf(pv.spec?.capacity);

/**
 * Upstream's FindMatchingVolume: a volume pre-bound to the claim wins (unless `node` is given and its affinity
 * refuses the node); otherwise the smallest Available volume of the claim's class, size, mode and selector. With
 * `delayBinding` and no node (the controller's view of a WaitForFirstConsumer claim) only pre-bound volumes count.
 * With a node (the scheduler's view) node affinity and access modes are checked too. Throws on a bad selector.
 */
export function findMatchingVolume(
  pvc: PersistentVolumeClaim,
  volumes: Iterable<PersistentVolume>,
  node: Node | undefined,
  excluded: ReadonlySet<string> | undefined,
  delayBinding: boolean,
): PersistentVolume | undefined {
  let smallest: PersistentVolume | undefined;
  let smallestQty: Quantity | undefined;
  const requested = requestedStorage(pvc);
  const requestedClass = claimClass(pvc);
  let selector: Selector | undefined;
  if (pvc.spec?.selector) {
    try {
      selector = labelSelectorAsSelector(pvc.spec.selector);
    } catch (err) {
      throw new Error(`error creating internal label selector for claim: ${claimKey(pvc)}: ${(err as Error).message}`);
    }
  }
  for (const pv of volumes) {
    const name = pv.metadata?.name ?? '';
    if (excluded?.has(name)) continue;
    if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) continue;
    const qty = volumeStorage(pv);
    if (qty.cmp(requested) < 0) continue;
    if (checkVolumeModeMismatches(pvc, pv)) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const affinityOk = !node || checkNodeAffinity(pv, node.metadata?.labels) === undefined;
    if (isVolumeBoundToClaim(pv, pvc)) return affinityOk ? pv : undefined;
    if (!node && delayBinding) continue;
    if (pv.status?.phase !== 'Available') continue;
    if (selector && !selector.matches(pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== requestedClass) continue;
    if (!affinityOk) continue;
    if (node && !checkAccessModes(pvc, pv)) continue;
    if (!smallest || smallestQty!.cmp(qty) > 0) {
      smallest = pv;
      smallestQty = qty;
    }
  }
  return smallest;
}

/** The claim's class uses WaitForFirstConsumer (upstream's IsDelayBindingMode); a class without a mode is an error. */
export function isDelayBindingMode(pvc: PersistentVolumeClaim, getClass: (name: string) => StorageClass | undefined): boolean {
  const name = claimClass(pvc);
  if (!name) return false;
  const sc = getClass(name);
  if (!sc) return false;
  if (!sc.volumeBindingMode) throw new Error(`VolumeBindingMode not set for StorageClass ${JSON.stringify(name)}`);
  return sc.volumeBindingMode === 'WaitForFirstConsumer';
}

/** The scheduler picked a node for this claim to be provisioned on (upstream's IsDelayBindingProvisioning). */
export const isDelayBindingProvisioning = (pvc: PersistentVolumeClaim): boolean => hasAnnotation(pvc, ANN_SELECTED_NODE);

/** A reference to the claim as client-go's GetReference makes it. */
export function claimReference(pvc: PersistentVolumeClaim): ObjectReference {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: pvc.metadata?.namespace ?? '',
    name: pvc.metadata?.name ?? '',
    uid: pvc.metadata?.uid ?? '',
    apiVersion: 'v1',
    resourceVersion: pvc.metadata?.resourceVersion ?? '',
  };
}

/**
 * Upstream's GetBindVolumeToClaim: a copy of the PV pointing at the claim, marked bound-by-controller unless the
 * user had pre-bound it; `dirty` when anything changed.
 */
export function bindVolumeToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): { pv: PersistentVolume; dirty: boolean } {
  const clone = structuredClone(pv);
  clone.spec ??= {};
  let dirty = false;
  const setByController = !isVolumeBoundToClaim(pv, pvc);
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace || ref.uid !== pvc.metadata?.uid) {
    clone.spec.claimRef = claimReference(pvc);
    dirty = true;
  }
  if (setByController && !hasAnnotation(clone, ANN_BOUND_BY_CONTROLLER)) {
    clone.metadata = { ...clone.metadata, annotations: { ...clone.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } };
    dirty = true;
  }
  return { pv: clone, dirty };
}

/** Compares resourceVersions as the storage layer makes them (integers); -1, 0 or 1. */
export function compareResourceVersion(a: string | undefined, b: string | undefined): number {
  const x = BigInt(/^\d+$/.test(a ?? '') ? a! : '0');
  const y = BigInt(/^\d+$/.test(b ?? '') ? b! : '0');
  return x < y ? -1 : x > y ? 1 : 0;
}
