// Upstream's ControllerRefManager (BaseControllerRefManager.ClaimObject): a controller claims the objects its selector
// matches. Objects it already controls stay claimed while the selector matches and are released when it no longer
// does; orphans that match are adopted (after one fresh check that the controller is not being deleted); objects owned
// by another controller, being deleted, or in another namespace are left alone.
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import type { Selector } from '../../machinery/labels.js';
import type { ObjectLike, ResourceClient } from '../../client/index.js';
import { adoptPatch, getControllerOf, newControllerRef, releasePatch, type OwnerKind } from './owner.js';

export interface ControllerRefManagerOptions<T extends ObjectLike> {
  /** The controller as cached (its uid, namespace and deletionTimestamp decide). */
  controller: ObjectLike;
  controllerKind: OwnerKind;
  selector: Selector;
  /** Client of the claimed kind (pods, replicasets, controllerrevisions...): adoption and release patch through it. */
  client: ResourceClient<T>;
  /**
   * Called once before the first adoption (upstream's RecheckDeletionTimestamp): throw if a fresh read shows the
   * controller gone, replaced or being deleted.
   */
  canAdopt: () => Promise<void>;
  /** Extra conditions an object must meet to be claimed (e.g. pods must be active). */
  filter?: (obj: T) => boolean;
}

/** Upstream's RecheckDeletionTimestamp: a canAdopt that reads the controller fresh and refuses if it changed or is going. */
export function recheckDeletionTimestamp(fetch: () => Promise<ObjectLike>, original: ObjectLike, kind: string): () => Promise<void> {
  return async () => {
    const fresh = await fetch();
    const want = original.metadata?.uid;
    const m = fresh.metadata ?? {};
    if (m.uid !== want) throw new Error(`original ${kind} ${original.metadata?.namespace}/${original.metadata?.name} is gone: got uid ${m.uid}, wanted ${want}`);
    if (m.deletionTimestamp) throw new Error(`${kind} ${m.namespace}/${m.name} has just been deleted at ${m.deletionTimestamp}`);
  };
}

export class ControllerRefManager<T extends ObjectLike> {
  private adoptCheck: Promise<void> | undefined;
  private readonly ref: OwnerReference;

  constructor(private readonly opts: ControllerRefManagerOptions<T>) {
    this.ref = newControllerRef(opts.controller, opts.controllerKind);
  }

  /**
   * The objects this controller owns after claiming: adopts matching orphans, releases owned objects that no longer
   * match. Every object is tried; failures are thrown together afterwards, as upstream aggregates them.
   */
  async claim(objects: readonly T[]): Promise<T[]> {
    const claimed: T[] = [];
    const errors: unknown[] = [];
    const uid = this.opts.controller.metadata?.uid;
    const controllerDeleting = this.opts.controller.metadata?.deletionTimestamp !== undefined;
    for (const obj of objects) {
      const match = this.opts.selector.matches(obj.metadata?.labels) && (this.opts.filter?.(obj) ?? true);
      const ref = getControllerOf(obj);
      try {
        if (ref) {
          if (ref.uid !== uid) continue; // another controller's
          if (match) {
            claimed.push(obj);
            continue;
          }
          // Ours, but the selector no longer matches: release it unless we are going away ourselves.
          if (!controllerDeleting) await this.release(obj);
          continue;
        }
        // An orphan.
        if (controllerDeleting || !match || obj.metadata?.deletionTimestamp) continue;
        const ns = this.opts.controller.metadata?.namespace;
        if (ns && ns !== obj.metadata?.namespace) continue;
        if (await this.adopt(obj)) claimed.push(obj);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
    return claimed;
  }

  /** Adopt one orphan; false if it vanished meanwhile. */
  private async adopt(obj: T): Promise<boolean> {
    this.adoptCheck ??= this.opts.canAdopt();
    try {
      await this.adoptCheck;
    } catch (err) {
      throw new Error(`can't adopt ${this.opts.client.info.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      await this.opts.client.patch(obj.metadata?.name ?? '', adoptPatch(obj, this.ref), { namespace: obj.metadata?.namespace, type: 'strategic' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async release(obj: T): Promise<void> {
    try {
      await this.opts.client.patch(obj.metadata?.name ?? '', releasePatch(obj, this.ref.uid), { namespace: obj.metadata?.namespace, type: 'strategic' });
    } catch (err) {
      // Gone, or its uid changed (a recreated object): nothing of ours to release.
      if (isNotFound(err) || (isApiError(err) && err.reason === 'Invalid')) return;
      throw err;
    }
  }
}
