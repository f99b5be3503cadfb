// ControllerRevision history as upstream's pkg/controller/history and the StatefulSet/DaemonSet controllers keep it:
// a revision is a snapshot of the owner's pod template stored as a strategic merge patch ("$patch": "replace"), named
// "<owner>-<hash>", numbered, owned by its controller, and pruned to spec.revisionHistoryLimit.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/errors.js';
import type { Selector } from '../../machinery/labels.js';
import type { ObjectLike, ResourceClient, SharedIndexInformer } from '../../client/index.js';
import { ControllerRefManager, getControllerOf, isControlledBy, newControllerRef, type OwnerKind } from '../common/index.js';
import { canonicalJSON, safeFnv1Hash } from './hash.js';

/** The label holding a revision's hash (history.ControllerRevisionHashLabel). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** An owner whose spec carries a pod template (StatefulSet, DaemonSet). */
export interface TemplateOwner extends ObjectLike {
  spec?: { template?: PodTemplateSpec };
}

/** history.ControllerRevisionName: "<prefix>-<hash>", the prefix cut to 223 characters. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** getPatch: the owner's template as a strategic merge patch that replaces spec.template wholesale. */
export function templatePatch(owner: TemplateOwner): Record<string, unknown> {
  const template = deepClone(owner.spec?.template ?? {}) as Record<string, unknown>;
  template.$patch = 'replace';
  return { spec: { template } };
}

/** The revision's data as bytes compare (canonical JSON of the stored patch). */
export function revisionData(rev: ControllerRevision): string {
  return canonicalJSON(rev.data ?? null);
}

/** history.HashControllerRevision: FNV-1 of the data, then the collision count in decimal when given. */
export function hashControllerRevision(rev: ControllerRevision, probe?: number): string {
  const parts = [];
  if (rev.data !== undefined) parts.push(revisionData(rev));
  if (probe !== undefined) parts.push(String(probe));
  return safeFnv1Hash(parts);
}

/** history.SortControllerRevisions: by revision number, then creation time, then name. */
export function sortControllerRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return revs.sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** The highest revision number (0 when there is none). */
export function maxRevision(revs: readonly ControllerRevision[]): number {
  let max = 0;
  for (const r of revs) if (r.revision > max) max = r.revision;
  return max;
}

/** nextRevision of sorted revisions: one past the last, 1 for the first. */
export function nextRevision(sorted: readonly ControllerRevision[]): number {
  return sorted.length === 0 ? 1 : sorted[sorted.length - 1].revision + 1;
}

/** history.EqualRevision: same hash label (when both have one) and the same data. */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  const ha = a.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  const hb = b.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return revisionData(a) === revisionData(b);
}

/** history.FindEqualRevisions, in the order given. */
export function findEqualRevisions(revs: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revs.filter((r) => equalRevision(r, needle));
}

/**
 * history.NewControllerRevision: a revision of `parent` holding `data`, labelled with the template's labels and its
 * hash, named "<parent>-<hash>".
 */
export function newControllerRevision(
  parent: ObjectLike,
  kind: OwnerKind,
  templateLabels: Readonly<Record<string, string>> | undefined,
  data: Record<string, unknown>,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const cr: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      namespace: parent.metadata?.namespace,
      labels: { ...(templateLabels ?? {}) },
      ownerReferences: [newControllerRef(parent, kind)],
    },
    data,
    revision,
  };
  const hash = hashControllerRevision(cr, collisionCount);
  cr.metadata = { ...cr.metadata, name: controllerRevisionName(parent.metadata?.name ?? '', hash), labels: { ...cr.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash } };
  return cr;
}

/** The revision's template: what ApplyRevision puts into the owner's spec.template. */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec {
  const spec = (rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec;
  const template = deepClone(spec?.template ?? {});
  delete template.$patch;
  return template as PodTemplateSpec;
}

/** upstream's realHistory: revisions read from an informer, written through the API. */
export class ControllerHistory {
  constructor(
    readonly client: ResourceClient<ControllerRevision>,
    readonly informer: SharedIndexInformer<ControllerRevision>,
  ) {}

  /** ListControllerRevisions: revisions in the parent's namespace matching the selector, owned by it or by nobody. */
  list(parent: ObjectLike, selector: Selector): ControllerRevision[] {
    const uid = parent.metadata?.uid;
    return this.informer
      .lister()
      .namespace(parent.metadata?.namespace ?? '')
      .list(selector)
      .filter((r) => {
        const ref = getControllerOf(r);
        return !ref || ref.uid === uid;
      });
  }

  /**
   * CreateControllerRevision: create under the name its hash gives; on a name taken by a different revision, bump
   * `collision.count` and try the next name. An identical revision already there (ours) is returned as is.
   */
  async create(parent: ObjectLike, revision: ControllerRevision, collision: { count: number }): Promise<ControllerRevision> {
    for (;;) {
      const hash = hashControllerRevision(revision, collision.count);
      const clone = deepClone(revision);
      clone.metadata = { ...clone.metadata, name: controllerRevisionName(parent.metadata?.name ?? '', hash), labels: { ...clone.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash } };
      try {
        return await this.client.create(clone, { namespace: parent.metadata?.namespace });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.client.get(clone.metadata?.name ?? '', { namespace: parent.metadata?.namespace });
        if (isControlledBy(existing, parent) && revisionData(existing) === revisionData(clone)) return existing;
        collision.count++;
      }
    }
  }

  /** UpdateControllerRevision: give an existing revision a new number (a rollback to an older template). */
  async updateRevision(rev: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    let current = rev;
    for (let attempt = 0; ; attempt++) {
      if (current.revision === newRevision) return current;
      try {
        return await this.client.update({ ...deepClone(current), revision: newRevision });
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        current = await this.client.get(rev.metadata?.name ?? '', { namespace: rev.metadata?.namespace });
      }
    }
  }

  async delete(rev: ControllerRevision): Promise<void> {
    try {
      await this.client.delete(rev.metadata?.name ?? '', { namespace: rev.metadata?.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** AdoptOrphanRevisions through the ControllerRefManager (orphans matching the selector get our controller ref). */
  async claim(parent: ObjectLike, kind: OwnerKind, selector: Selector, canAdopt: () => Promise<void>): Promise<ControllerRevision[]> {
    const all = this.informer.lister().namespace(parent.metadata?.namespace ?? '').list();
    const manager = new ControllerRefManager<ControllerRevision>({ controller: parent, controllerKind: kind, selector, client: this.client, canAdopt });
    return manager.claim(all);
  }
}

/**
 * truncateHistory: delete the oldest revisions that no pod, nor the current or update revision, uses, so that at most
 * `limit` such historic revisions remain. `sorted` must be in SortControllerRevisions order.
 */
export function revisionsToTruncate(sorted: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): ControllerRevision[] {
  const historic = sorted.filter((r) => !live.has(r.metadata?.name ?? ''));
  return historic.length <= limit ? [] : historic.slice(0, historic.length - limit);
}
