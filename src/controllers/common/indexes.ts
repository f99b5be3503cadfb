// Informer indexes several controllers share: objects by the uid of their controlling owner, and objects without a
// controller by namespace, so "the pods this ReplicaSet may claim" is two Map lookups instead of a namespace scan.
// Adding one twice (two controllers on one shared informer) is fine.
import type { ObjectLike, SharedIndexInformer } from '../../client/index.js';
import { getControllerOf } from './owner.js';

export const CONTROLLER_UID_INDEX = 'controllerUID';
export const ORPHAN_NAMESPACE_INDEX = 'orphanNamespace';

export function controllerUIDIndexFunc(obj: ObjectLike): string[] {
  const uid = getControllerOf(obj)?.uid;
  return uid ? [uid] : [];
}

export function orphanNamespaceIndexFunc(obj: ObjectLike): string[] {
  return getControllerOf(obj) ? [] : [obj.metadata?.namespace ?? ''];
}

function ensureIndex<T extends ObjectLike>(informer: SharedIndexInformer<T>, name: string, fn: (obj: ObjectLike) => string[]): void {
  try {
    informer.indexer.listIndexValues(name);
  } catch {
    informer.addIndexers({ [name]: fn });
  }
}

/** Ensure the informer has the controller-uid index (idempotent). */
export function ensureControllerUIDIndex<T extends ObjectLike>(informer: SharedIndexInformer<T>): void {
  ensureIndex(informer, CONTROLLER_UID_INDEX, controllerUIDIndexFunc);
}

/** Ensure the informer has both the controller-uid and the orphans-by-namespace index (idempotent). */
export function ensureClaimIndexes<T extends ObjectLike>(informer: SharedIndexInformer<T>): void {
  ensureIndex(informer, CONTROLLER_UID_INDEX, controllerUIDIndexFunc);
  ensureIndex(informer, ORPHAN_NAMESPACE_INDEX, orphanNamespaceIndexFunc);
}

/** Objects controlled by the owner with this uid, from the index. */
export function controlledBy<T extends ObjectLike>(informer: SharedIndexInformer<T>, ownerUid: string): T[] {
  return informer.indexer.byIndex(CONTROLLER_UID_INDEX, ownerUid);
}

/**
 * What a controller may claim (needs ensureClaimIndexes): the objects it controls plus the namespace's objects without
 * a controller. Objects controlled by someone else are never claimed, so they need not be looked at.
 */
export function claimCandidates<T extends ObjectLike>(informer: SharedIndexInformer<T>, owner: ObjectLike): T[] {
  const uid = owner.metadata?.uid;
  const owned = uid ? controlledBy(informer, uid) : [];
  return [...owned, ...informer.indexer.byIndex(ORPHAN_NAMESPACE_INDEX, owner.metadata?.namespace ?? '')];
}
