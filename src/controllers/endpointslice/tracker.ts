// Upstream's EndpointSliceTracker: the generation of every slice this controller wrote, per service, so a sync that
// reads an informer cache older than its own writes waits instead of creating duplicates, and informer events of the
// controller's own writes do not trigger another sync.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_SERVICE_NAME } from './reconciler.js';

const DELETION_EXPECTED = -1;

function serviceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return svc ? `${slice.metadata?.namespace}/${svc}` : undefined;
}

export class EndpointSliceTracker {
  private readonly byService = new Map<string, Map<string, number>>();

  private gens(key: string, create: boolean): Map<string, number> | undefined {
    let m = this.byService.get(key);
    if (!m && create) this.byService.set(key, (m = new Map()));
    return m;
  }

  has(slice: EndpointSlice): boolean {
    const key = serviceKey(slice);
    return key !== undefined && (this.byService.get(key)?.has(slice.metadata?.uid ?? '') ?? false);
  }

  /** True when the informer shows a slice newer than (or unknown to) what this controller wrote. */
  shouldSync(slice: EndpointSlice): boolean {
    const key = serviceKey(slice);
    if (!key) return true;
    const g = this.byService.get(key)?.get(slice.metadata?.uid ?? '');
    if (g === undefined) return true;
    return (slice.metadata?.generation ?? 0) > g;
  }

  /** The slices from the cache are older than what this controller wrote (or miss a slice it created). */
  staleSlices(serviceNamespace: string, serviceName: string, slices: readonly EndpointSlice[]): boolean {
    const gens = this.byService.get(`${serviceNamespace}/${serviceName}`);
    if (!gens) return false;
    const provided = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata?.uid ?? '';
      provided.add(uid);
      const g = gens.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (s.metadata?.generation ?? 0))) return true;
    }
    for (const [uid, g] of gens) if (g !== DELETION_EXPECTED && !provided.has(uid)) return true;
    return false;
  }

  update(slice: EndpointSlice): void {
    const key = serviceKey(slice);
    if (key) this.gens(key, true)?.set(slice.metadata?.uid ?? '', slice.metadata?.generation ?? 0);
  }

  expectDeletion(slice: EndpointSlice): void {
    const key = serviceKey(slice);
    if (key) this.gens(key, true)?.set(slice.metadata?.uid ?? '', DELETION_EXPECTED);
  }

  /** A slice was deleted: forget it; true when the deletion was not this controller's (the service needs a sync). */
  handleDeletion(slice: EndpointSlice): boolean {
    const key = serviceKey(slice);
    if (!key) return true;
    const gens = this.byService.get(key);
    const g = gens?.get(slice.metadata?.uid ?? '');
    gens?.delete(slice.metadata?.uid ?? '');
    if (gens && gens.size === 0) this.byService.delete(key);
    return g !== DELETION_EXPECTED;
  }

  deleteService(namespace: string, name: string): void {
    this.byService.delete(`${namespace}/${name}`);
  }
}
