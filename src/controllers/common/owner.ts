// Owner references as controllers use them (apimachinery's metav1 helpers): the one controller reference of an
// object, a fresh controller reference for an owner, and the strategic merge patches that adopt or release.
import type { LabelSelector, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { labelSelectorAsSelector } from '../../machinery/labels.js';
import type { ObjectLike } from '../../client/index.js';

/** The owner's kind as its references name it, e.g. { apiVersion: 'apps/v1', kind: 'ReplicaSet' }. */
export interface OwnerKind {
  apiVersion: string;
  kind: string;
}

/** metav1.GetControllerOf: the owner reference with controller=true, if any. */
export function getControllerOf(obj: ObjectLike): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** metav1.IsControlledBy: the object's controller reference points at this owner's uid. */
export function isControlledBy(obj: ObjectLike, owner: ObjectLike): boolean {
  const ref = getControllerOf(obj);
  return ref !== undefined && ref.uid !== undefined && ref.uid === owner.metadata?.uid;
}

/** metav1.NewControllerRef: controller=true and blockOwnerDeletion=true, as every workload controller sets. */
export function newControllerRef(owner: ObjectLike, kind: OwnerKind): OwnerReference {
  const m = owner.metadata ?? {};
  if (!m.name || !m.uid) throw new Error(`${kind.kind}: owner has no name or uid`);
  return { apiVersion: kind.apiVersion, kind: kind.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
}

/** Strategic merge patch that adds the controller reference; the uid makes it fail on a recreated object. */
export function adoptPatch(obj: ObjectLike, ref: OwnerReference): object {
  return { metadata: { ownerReferences: [ref], uid: obj.metadata?.uid } };
}

/** Strategic merge patch that removes the reference to `ownerUid` (merge key uid, `$patch: delete`). */
export function releasePatch(obj: ObjectLike, ownerUid: string): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: obj.metadata?.uid } };
}

/**
 * Whether a controller's selector selects these labels, as upstream's controllers decide it for orphans: an empty,
 * match-nothing or invalid selector selects nothing.
 */
export function selectorSelects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  try {
    const sel = labelSelectorAsSelector(selector);
    return !sel.matchesNothing && sel.requirements.length > 0 && sel.matches(labels);
  } catch {
    return false;
  }
}
