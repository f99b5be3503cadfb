// StatefulSet pod identity, storage and state (upstream's stateful_set_utils.go): pods named "<set>-<ordinal>",
// their PVCs "<claim>-<set>-<ordinal>", the revision a pod was made from, and the ownerReferences a PVC carries under
// persistentVolumeClaimRetentionPolicy.
import type { StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { deepClone } from '../../api/object.js';
import type { ObjectLike } from '../../client/index.js';
import { isPodAvailable, isPodReady, newControllerRef, podFromTemplate } from '../common/index.js';

/** apps.StatefulSetRevisionLabel: the revision (ControllerRevision name) a pod was made from. */
export const STATEFUL_SET_REVISION_LABEL = 'controller-revision-hash';
/** apps.StatefulSetPodNameLabel. */
export const STATEFUL_SET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** apps.PodIndexLabel (PodIndexLabel is on by default in v1.31). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const STATEFUL_SET_KIND = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;

const POD_NAME_RE = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal: "web-3" -> { parent: "web", ordinal: 3 }; ordinal -1 when the name has none. */
export function parentNameAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = POD_NAME_RE.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  // strconv.ParseInt(..., 10, 32): out of int32 range is an error.
  return n <= 2147483647 ? { parent: m[1], ordinal: n } : { parent: m[1], ordinal: -1 };
}

export const getOrdinal = (pod: Pod): number => parentNameAndOrdinal(pod).ordinal;

/** isMemberOf: the pod's name says it belongs to this set. */
export const isMemberOf = (set: StatefulSet, pod: Pod): boolean => parentNameAndOrdinal(pod).parent === set.metadata?.name;

export const getStartOrdinal = (set: StatefulSet): number => set.spec?.ordinals?.start ?? 0;
export const replicasOf = (set: StatefulSet): number => set.spec?.replicas ?? 1;
export const getEndOrdinal = (set: StatefulSet): number => getStartOrdinal(set) + replicasOf(set) - 1;

export function podInOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const ord = getOrdinal(pod);
  return ord >= getStartOrdinal(set) && ord <= getEndOrdinal(set);
}

export const getPodName = (set: StatefulSet, ordinal: number): string => `${set.metadata?.name ?? ''}-${ordinal}`;

export const getPersistentVolumeClaimName = (set: StatefulSet, claimName: string, ordinal: number): string => `${claimName}-${set.metadata?.name ?? ''}-${ordinal}`;

export const getPodRevision = (pod: Pod): string => pod.metadata?.labels?.[STATEFUL_SET_REVISION_LABEL] ?? '';

export function setPodRevision(pod: Pod, revision: string): void {
  pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, [STATEFUL_SET_REVISION_LABEL]: revision } };
}

// Pod state as the StatefulSet controller judges it.
export const isCreated = (pod: Pod): boolean => (pod.status?.phase ?? '') !== '';
export const isPending = (pod: Pod): boolean => pod.status?.phase === 'Pending';
export const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: Pod): boolean => pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: Pod, minReadySeconds: number, nowMs: number): boolean => isPodAvailable(pod, minReadySeconds, nowMs);
export const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** allowsBurst: Parallel pod management does not wait for predecessors. */
export const allowsBurst = (set: StatefulSet): boolean => set.spec?.podManagementPolicy === 'Parallel';

export function retentionPolicy(set: StatefulSet): Required<StatefulSetPersistentVolumeClaimRetentionPolicy> {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted || 'Retain', whenScaled: p?.whenScaled || 'Retain' };
}

/** getPersistentVolumeClaims: the claims of the pod's ordinal by template name, labelled with the set's matchLabels. */
export function getPersistentVolumeClaims(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = getOrdinal(pod);
  const claims = new Map<string, PersistentVolumeClaim>();
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const templateName = template.metadata?.name ?? '';
    const { status: _status, ...rest } = deepClone(template);
    const claim: PersistentVolumeClaim = {
      ...rest,
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        ...rest.metadata,
        name: getPersistentVolumeClaimName(set, templateName, ordinal),
        namespace: set.metadata?.namespace,
        labels: { ...rest.metadata?.labels, ...set.spec?.selector?.matchLabels },
      },
    };
    claims.set(templateName, claim);
  }
  return claims;
}

/** identityMatches: name, namespace and identity labels as the ordinal dictates. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  const labels = pod.metadata?.labels;
  return (
    ordinal >= 0 &&
    set.metadata?.name === parent &&
    pod.metadata?.name === getPodName(set, ordinal) &&
    pod.metadata?.namespace === set.metadata?.namespace &&
    labels !== undefined &&
    labels[STATEFUL_SET_POD_NAME_LABEL] === pod.metadata?.name &&
    labels[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** updateIdentity: name, namespace and identity labels from the ordinal (mutates the pod). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  const name = getPodName(set, ordinal);
  pod.metadata = {
    ...pod.metadata,
    name,
    namespace: set.metadata?.namespace,
    labels: { ...pod.metadata?.labels, [STATEFUL_SET_POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
  };
}

/** storageMatches: every claim template is mounted from this ordinal's claim. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map<string, Volume>();
  for (const v of pod.spec?.volumes ?? []) volumes.set(v.name, v);
  for (const claim of set.spec?.volumeClaimTemplates ?? []) {
    const name = claim.metadata?.name ?? '';
    const v = volumes.get(name);
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== getPersistentVolumeClaimName(set, name, ordinal)) return false;
  }
  return true;
}

/** updateStorage: claim volumes first (replacing same-named volumes), then the pod's other volumes (mutates the pod). */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = getPersistentVolumeClaims(set, pod);
  const volumes: Volume[] = [];
  for (const [name, claim] of claims) volumes.push({ name, persistentVolumeClaim: { claimName: claim.metadata?.name ?? '' } });
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], volumes };
}

/** newStatefulSetPod: the pod of an ordinal, from the set's template, with its identity and storage. */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): Pod {
  const pod = podFromTemplate(set.spec?.template ?? {}, set, newControllerRef(set, STATEFUL_SET_KIND));
  pod.metadata = { ...pod.metadata, name: getPodName(set, ordinal) };
  delete pod.metadata.generateName;
  updateIdentity(set, pod);
  // initIdentity: hostname and subdomain are set only when the pod is made.
  pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], hostname: pod.metadata.name, subdomain: set.spec?.serviceName };
  if (!pod.spec.subdomain) delete pod.spec.subdomain;
  updateStorage(set, pod);
  return pod;
}

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or below the current replica count without a rollingUpdate
 * block) are made at the current revision, the rest at the update revision. Go's operator precedence is kept.
 */
export function newVersionedStatefulSetPod(currentSet: StatefulSet, updateSet: StatefulSet, currentRevision: string, updateRevision: string, ordinal: number): Pod {
  const strategy = currentSet.spec?.updateStrategy;
  const start = getStartOrdinal(currentSet);
  if (
    (strategy?.type === 'RollingUpdate' && !strategy.rollingUpdate && ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (strategy?.rollingUpdate && ordinal < start + (strategy.rollingUpdate.partition ?? 0))
  ) {
    const pod = newStatefulSetPod(currentSet, ordinal);
    setPodRevision(pod, currentRevision);
    return pod;
  }
  const pod = newStatefulSetPod(updateSet, ordinal);
  setPodRevision(pod, updateRevision);
  return pod;
}

// PVC owner references under the retention policy.

export const hasOwnerRef = (target: ObjectLike, owner: ObjectLike): boolean => (target.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.metadata?.uid);

/** A reference to an owner of the same name but another uid: the claim belongs to an earlier incarnation. */
export const hasStaleOwnerRef = (target: ObjectLike, owner: ObjectLike): boolean =>
  (target.metadata?.ownerReferences ?? []).some((r) => r.name === owner.metadata?.name && r.uid !== owner.metadata?.uid);

function removeOwnerRef(target: ObjectLike, owner: ObjectLike): boolean {
  if (!hasOwnerRef(target, owner)) return false;
  const refs = (target.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata?.uid);
  target.metadata = { ...target.metadata, ownerReferences: refs };
  if (refs.length === 0) delete target.metadata.ownerReferences;
  return true;
}

function setOwnerRef(target: ObjectLike, owner: ObjectLike, kind: { apiVersion: string; kind: string }): boolean {
  if (hasOwnerRef(target, owner)) return false;
  const ref: OwnerReference = { apiVersion: kind.apiVersion, kind: kind.kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '' };
  target.metadata = { ...target.metadata, ownerReferences: [...(target.metadata?.ownerReferences ?? []), ref] };
  return true;
}

/** claimOwnerMatchesSetAndPod: the claim's references agree with the retention policy for this pod. */
export function claimOwnerMatchesSetAndPod(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const policy = retentionPolicy(set);
  const scaledDown = !podInOrdinalRange(pod, set);
  if (policy.whenScaled === 'Delete' && policy.whenDeleted === 'Delete') {
    return scaledDown !== hasOwnerRef(claim, set) && scaledDown === hasOwnerRef(claim, pod);
  }
  if (policy.whenScaled === 'Delete' && policy.whenDeleted === 'Retain') {
    return !hasOwnerRef(claim, set) && scaledDown === hasOwnerRef(claim, pod);
  }
  if (policy.whenScaled === 'Retain' && policy.whenDeleted === 'Delete') {
    return hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod);
  }
  // Retain/Retain, and anything unknown treated as Retain.
  return !hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod);
}

/** updateClaimOwnerRefForSetAndPod: set the claim's references as the policy wants; true when it changed. */
export function updateClaimOwnerRefForSetAndPod(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const policy = retentionPolicy(set);
  const podKind = { apiVersion: 'v1', kind: 'Pod' };
  const scaledDown = !podInOrdinalRange(pod, set);
  let changed = false;
  if (policy.whenScaled === 'Delete' && policy.whenDeleted === 'Delete') {
    if (scaledDown) {
      changed = removeOwnerRef(claim, set) || changed;
      changed = setOwnerRef(claim, pod, podKind) || changed;
    } else {
      changed = setOwnerRef(claim, set, STATEFUL_SET_KIND) || changed;
      changed = removeOwnerRef(claim, pod) || changed;
    }
  } else if (policy.whenScaled === 'Delete' && policy.whenDeleted === 'Retain') {
    changed = removeOwnerRef(claim, set) || changed;
    changed = (scaledDown ? setOwnerRef(claim, pod, podKind) : removeOwnerRef(claim, pod)) || changed;
  } else if (policy.whenScaled === 'Retain' && policy.whenDeleted === 'Delete') {
    changed = setOwnerRef(claim, set, STATEFUL_SET_KIND) || changed;
    changed = removeOwnerRef(claim, pod) || changed;
  } else {
    changed = removeOwnerRef(claim, set) || changed;
    changed = removeOwnerRef(claim, pod) || changed;
  }
  return changed;
}
