// Informer indexes several controllers share: objects by the uid of their controlling owner, so "the pods of this
// ReplicaSet" is a Map lookup instead of a scan. Adding one twice (two controllers on one shared informer) is fine.
import type { ObjectLike, SharedIndexInformer } from '../../client/index.js';
import { getControllerOf } from './owner.js';

export const CONTROLLER_UID_INDEX = 'controllerUID';

export function controllerUIDIndexFunc(obj: ObjectLike): string[] {
  const uid = getControllerOf(obj)?.uid;
  return uid ? [uid] : [];
}

/** Ensure the informer has the controller-uid index (idempotent). */
export function ensureControllerUIDIndex<T extends ObjectLike>(informer: SharedIndexInformer<T>): void {
  try {
    informer.indexer.listIndexValues(CONTROLLER_UID_INDEX);
  } catch {
    informer.addIndexers({ [CONTROLLER_UID_INDEX]: controllerUIDIndexFunc });
  }
}

/** Objects controlled by the owner with this uid, from the index. */
export function controlledBy<T extends ObjectLike>(informer: SharedIndexInformer<T>, ownerUid: string): T[] {
  return informer.indexer.byIndex(CONTROLLER_UID_INDEX, ownerUid);
}
