// Upstream's EndpointSlice reconciler, pure: given a service, its pods (with their nodes) and the slices that exist,
// decide which slices to create, update and delete. Existing slices are reused (endpoints that stay keep their slice),
// slices being updated are filled first, leftovers go into the unchanged slice they fit best, and only then new slices
// are made; a create paired with a delete becomes an update of the deleted slice.
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isPodReady, newControllerRef } from '../common/index.js';
import { findPort, ipFamilyOf, isServiceIPSet, podIPs, shouldPodBeInEndpoints, shouldSetHostname, HEADLESS_SERVICE_LABEL } from '../endpointutil/endpointutil.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;
const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

export type AddressType = 'IPv4' | 'IPv6';

/** The address types a service's slices use: one per ipFamily (IPv4 when none is set). */
export function addressTypesForService(svc: Service): AddressType[] {
  const fams = svc.spec?.ipFamilies ?? [];
  const types = fams.map((f) => (f === 'IPv6' ? 'IPv6' : 'IPv4') as AddressType);
  if (types.length) return [...new Set(types)];
  if (isServiceIPSet(svc)) return [ipFamilyOf(svc.spec?.clusterIP ?? '')];
  return ['IPv4'];
}

/** Upstream's podToEndpoint. */
export function podToEndpoint(pod: Pod, node: Node | undefined, svc: Service, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata?.deletionTimestamp !== undefined;
  // Never ready while terminating, unless the service publishes not-ready addresses.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: podIPs(pod).filter((ip) => ipFamilyOf(ip) === addressType),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec?.hostname;
  return ep;
}

/** The EndpointPorts a pod offers for the service (ports whose target the pod lacks are left out). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Identity of a set of ports, independent of their order. */
export function portMapKey(ports: readonly EndpointPort[] | undefined): string {
  return JSON.stringify(
    (ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
}

/** Identity of an endpoint (upstream's hashEndpoint): addresses, hostname and the target's namespace/name. */
export function endpointKey(ep: Endpoint): string {
  return JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

/** Upstream's EndpointsEqualBeyondHash: conditions, zone, node, hints and target identity. */
export function endpointsEqualBeyondHash(a: Endpoint, b: Endpoint): boolean {
  const c1 = a.conditions ?? {};
  const c2 = b.conditions ?? {};
  if ((c1.ready ?? undefined) !== (c2.ready ?? undefined) || c1.serving !== c2.serving || c1.terminating !== c2.terminating) return false;
  if ((a.zone ?? '') !== (b.zone ?? '') || (a.nodeName ?? '') !== (b.nodeName ?? '')) return false;
  if (JSON.stringify(a.hints ?? null) !== JSON.stringify(b.hints ?? null)) return false;
  const r1 = a.targetRef;
  const r2 = b.targetRef;
  if (!r1 || !r2) return r1 === r2;
  return r1.kind === r2.kind && r1.namespace === r2.namespace && r1.name === r2.name && r1.uid === r2.uid;
}

function isReservedLabel(key: string): boolean {
  return key === LABEL_SERVICE_NAME || key === LABEL_MANAGED_BY || key === HEADLESS_SERVICE_LABEL;
}

/** Upstream's setEndpointSliceLabels: the service's labels plus the reserved ones; `changed` ignores reserved ones. */
export function sliceLabels(slice: EndpointSlice | undefined, svc: Service): { labels: Record<string, string>; changed: boolean } {
  const current: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata?.labels ?? {})) if (!isReservedLabel(k)) current[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v;
  const keys = Object.keys(labels);
  const changed = keys.length !== Object.keys(current).length || keys.some((k) => current[k] !== labels[k]);
  if (!isServiceIPSet(svc)) labels[HEADLESS_SERVICE_LABEL] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return { labels, changed };
}

/** A slice's name prefix: "<service>-" (generateName appends the rest). */
function slicePrefix(serviceName: string): string {
  const prefix = `${serviceName}-`;
  return prefix.length <= 253 - 5 ? prefix : serviceName;
}

export function newEndpointSlice(svc: Service, ports: EndpointPort[], addressType: AddressType): EndpointSlice {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(svc.metadata?.name ?? ''),
      namespace: svc.metadata?.namespace,
      ownerReferences: [newControllerRef(svc, { apiVersion: 'v1', kind: 'Service' })],
    },
    ports,
    addressType,
    endpoints: [],
  };
  slice.metadata = { ...slice.metadata, labels: sliceLabels(slice, svc).labels };
  return slice;
}

/** Upstream's ownedBy: the slice references this very service (same UID). */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Service' && r.apiVersion === 'v1' && r.uid === svc.metadata?.uid);
}

export interface ReconcileInput {
  service: Service;
  pods: readonly Pod[];
  /** Node by name; a pod whose node is missing is skipped unless the service publishes not-ready addresses. */
  nodeFor: (name: string) => Node | undefined;
  existing: readonly EndpointSlice[];
  maxEndpointsPerSlice: number;
}

export interface ReconcilePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods skipped because their node is not known (the service is retried later). */
  skipped: string[];
}

/** An ordered set of desired endpoints keyed by endpointKey. */
class EndpointSet {
  private readonly items = new Map<string, Endpoint>();
  add(ep: Endpoint): void {
    this.items.set(endpointKey(ep), ep);
  }
  get(ep: Endpoint): Endpoint | undefined {
    return this.items.get(endpointKey(ep));
  }
  delete(ep: Endpoint): void {
    this.items.delete(endpointKey(ep));
  }
  get size(): number {
    return this.items.size;
  }
  pop(): Endpoint {
    const [key, ep] = this.items.entries().next().value as [string, Endpoint];
    this.items.delete(key);
    return ep;
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Upstream's reconcile: every address type of the service, plus deletion of slices of other types. */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const plan: ReconcilePlan = { create: [], update: [], delete: [], skipped: [] };
  const types = addressTypesForService(input.service);
  const byType = new Map<string, EndpointSlice[]>();
  for (const s of input.existing) {
    if (!types.includes(s.addressType as AddressType)) {
      plan.delete.push(s);
      continue;
    }
    const list = byType.get(s.addressType) ?? [];
    list.push(s);
    byType.set(s.addressType, list);
  }
  for (const t of types) {
    const p = reconcileByAddressType(input, t, byType.get(t) ?? []);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
    for (const s of p.skipped) if (!plan.skipped.includes(s)) plan.skipped.push(s);
  }
  return finalizePlan(input.service, plan);
}

function reconcileByAddressType(input: ReconcileInput, addressType: AddressType, existing: EndpointSlice[]): ReconcilePlan {
  const { service, maxEndpointsPerSlice } = input;
  const create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = [];
  const skipped: string[] = [];
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, service)) {
      del.push(s);
      continue;
    }
    const k = portMapKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }
  const desiredByPorts = new Map<string, { ports: EndpointPort[]; endpoints: EndpointSet }>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod);
    const node = pod.spec?.nodeName ? input.nodeFor(pod.spec.nodeName) : undefined;
    if (!node && service.spec?.publishNotReadyAddresses !== true) {
      skipped.push(pod.metadata?.name ?? '');
      continue;
    }
    const ep = podToEndpoint(pod, node, service, addressType);
    if (ep.addresses.length === 0) continue;
    const k = portMapKey(ports);
    let desired = desiredByPorts.get(k);
    if (!desired) desiredByPorts.set(k, (desired = { ports, endpoints: new EndpointSet() }));
    desired.endpoints.add(ep);
  }
  for (const [k, desired] of desiredByPorts) {
    const r = reconcileByPortMapping(service, addressType, existingByPorts.get(k) ?? [], desired.endpoints, desired.ports, maxEndpointsPerSlice);
    create.push(...r.create);
    update.push(...r.update);
    del.push(...r.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desiredByPorts.has(k)) del.push(...slices);
  // A service with no endpoints still gets one empty slice (the placeholder), kept rather than recreated.
  if (existing.length === del.length && create.length === 0) {
    const placeholder = newEndpointSlice(service, [], addressType);
    if (del.length === 1 && isPlaceholderOf(del[0], placeholder)) del.length = 0;
    else create.push(placeholder);
  }
  return { create, update, delete: del, skipped };
}

function isPlaceholderOf(slice: EndpointSlice, placeholder: EndpointSlice): boolean {
  return (
    (slice.metadata?.ownerReferences ?? []).some((r) => r.uid === placeholder.metadata?.ownerReferences?.[0]?.uid) &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0 &&
    slice.addressType === placeholder.addressType &&
    JSON.stringify(Object.entries(slice.metadata?.labels ?? {}).sort()) === JSON.stringify(Object.entries(placeholder.metadata?.labels ?? {}).sort())
  );
}

function reconcileByPortMapping(
  service: Service,
  addressType: AddressType,
  existing: EndpointSlice[],
  desired: EndpointSet,
  ports: EndpointPort[],
  max: number,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  // 1. Keep desired endpoints where they are, drop the others, refresh changed ones.
  for (const slice of existing) {
    const name = slice.metadata?.name ?? '';
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let endpointUpdated = false;
    for (const ep of slice.endpoints ?? []) {
      const got = desired.get(ep);
      if (!got) continue;
      kept.push(got);
      if (!endpointsEqualBeyondHash(got, ep)) endpointUpdated = true;
      desired.delete(ep);
    }
    const { labels, changed } = sliceLabels(slice, service);
    if (endpointUpdated || (slice.endpoints ?? []).length !== kept.length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const next = clone(slice);
        next.endpoints = kept;
        next.metadata = { ...next.metadata, labels };
        byName.set(name, next);
        toUpdate.add(name);
      }
    } else if (changed) {
      const next = clone(slice);
      next.metadata = { ...next.metadata, labels };
      byName.set(name, next);
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }
  // 2. Fill the slices being updated anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n) as EndpointSlice).sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const s of slices) {
      s.endpoints ??= [];
      while (desired.size > 0 && s.endpoints.length < max) s.endpoints.push(desired.pop());
    }
  }
  // 3. What is left goes into the unchanged slice it fits best, or into new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      fill = sliceToFill([...unchanged].map((n) => byName.get(n) as EndpointSlice), desired.size, max);
    }
    if (!fill) fill = newEndpointSlice(service, ports, addressType);
    else {
      fill = clone(fill);
      byName.set(fill.metadata?.name ?? '', fill);
    }
    fill.endpoints ??= [];
    while (desired.size > 0 && fill.endpoints.length < max) fill.endpoints.push(desired.pop());
    const name = fill.metadata?.name;
    if (name) {
      toUpdate.add(name);
      unchanged.delete(name);
    } else create.push(fill);
  }
  return {
    create,
    update: [...toUpdate].map((n) => byName.get(n) as EndpointSlice),
    delete: [...toDelete].map((n) => byName.get(n) as EndpointSlice),
  };
}

/** Upstream's getSliceToFill: the slice that the remaining endpoints fill most exactly without overflowing. */
export function sliceToFill(slices: readonly EndpointSlice[], numEndpoints: number, max: number): EndpointSlice | undefined {
  let closestDiff = max;
  let closest: EndpointSlice | undefined;
  for (const s of slices) {
    const diff = max - (numEndpoints + (s.endpoints?.length ?? 0));
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = s;
      if (diff === 0) return closest;
    }
  }
  return closest;
}

/** Upstream's finalize pairing: a slice to create takes over the name of one to delete (same address type, owned). */
function finalizePlan(service: Service, plan: ReconcilePlan): ReconcilePlan {
  const del = [...plan.delete];
  const create = [...plan.create];
  const update = [...plan.update];
  for (let i = 0; i < del.length; ) {
    if (create.length === 0) break;
    const toDelete = del[i];
    const slice = create[create.length - 1];
    if (toDelete.addressType === slice.addressType && ownedBy(toDelete, service)) {
      const { generateName: _g, ...meta } = slice.metadata ?? {};
      slice.metadata = { ...meta, name: toDelete.metadata?.name, resourceVersion: toDelete.metadata?.resourceVersion, uid: toDelete.metadata?.uid };
      create.pop();
      update.push(slice);
      del.splice(i, 1);
    } else i++;
  }
  return { create, update, delete: del, skipped: plan.skipped };
}
