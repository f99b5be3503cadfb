// The pure part of upstream's Endpoints controller: a service's pods → EndpointSubsets (RepackSubsets, SortSubsets),
// the 1000-address truncation, and the comparison that decides whether an update is needed.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isPodReady } from '../common/index.js';
import { findPort, podIPs, serviceIPFamily, ipFamilyOf, shouldPodBeInEndpoints, shouldSetHostname } from '../endpointutil/endpointutil.js';

/** Upstream's maxCapacity: Endpoints hold at most this many addresses (ready and not ready together). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** Annotation set to "truncated" when addresses were dropped to stay within capacity. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

/** The address a pod contributes to a service (the pod IP of the service's family), or undefined. */
export function podToEndpointAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  const family = serviceIPFamily(svc, pod);
  const ip = podIPs(pod).find((p) => ipFamilyOf(p) === family);
  if (!ip) return undefined;
  const addr: EndpointAddress = {
    ip,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec?.hostname;
  return addr;
}

export interface ComputedSubsets {
  subsets: EndpointSubset[];
  ready: number;
  notReady: number;
}

/** Upstream's syncService loop: one subset per (pod, port), then repacked. */
export function computeSubsets(svc: Service, pods: readonly Pod[]): ComputedSubsets {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  let subsets: EndpointSubset[] = [];
  let ready = 0;
  let notReady = 0;
  const add = (pod: Pod, addr: EndpointAddress, port: EndpointPort | undefined) => {
    const ports = port ? [port] : [];
    if (publishNotReady || isPodReady(pod)) {
      subsets.push({ addresses: [addr], ports });
      ready++;
    } else {
      subsets.push({ notReadyAddresses: [addr], ports });
      notReady++;
    }
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = podToEndpointAddress(svc, pod);
    if (!addr) continue;
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      // A headless service may have no ports: its pods are listed without any.
      if (svc.spec?.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const portNum = findPort(pod, sp);
      if (portNum === undefined) continue;
      add(pod, addr, {
        ...(sp.name ? { name: sp.name } : {}),
        port: portNum,
        protocol: sp.protocol ?? 'TCP',
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      });
    }
  }
  subsets = repackSubsets(subsets);
  return { subsets, ready, notReady };
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
}

function portKey(p: EndpointPort): string {
  return JSON.stringify([p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']);
}

/**
 * Upstream's RepackSubsets: addresses grouped by the exact set of ports they serve, one subset per group; an address
 * not ready on some port is not ready (not-ready wins).
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const allAddrs = new Map<string, EndpointAddress>();
  const ports = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();
  const map = (addr: EndpointAddress, port: EndpointPort | undefined, ready: boolean) => {
    const key = addressKey(addr);
    if (!allAddrs.has(key)) allAddrs.set(key, addr);
    const pk = port ? portKey(port) : '<none>';
    let entry = ports.get(pk);
    if (!entry) ports.set(pk, (entry = { port, addrs: new Map() }));
    const was = entry.addrs.get(key);
    if (was === undefined || was) entry.addrs.set(key, ready);
  };
  for (const s of subsets) {
    const sPorts: (EndpointPort | undefined)[] = s.ports?.length ? s.ports : [undefined];
    for (const p of sPorts) {
      for (const a of s.addresses ?? []) map(a, p, true);
      for (const a of s.notReadyAddresses ?? []) map(a, p, false);
    }
  }
  // Address sets (with readiness) → the ports offered to exactly that set.
  const byAddrSet = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs } of ports.values()) {
    const key = [...addrs.entries()]
      .map(([k, r]) => `${k}\u0000${r}`)
      .sort()
      .join('\u0001');
    let group = byAddrSet.get(key);
    if (!group) byAddrSet.set(key, (group = { addrs, ports: [] }));
    if (port) group.ports.push(port);
  }
  const final: EndpointSubset[] = [];
  for (const { addrs, ports: ps } of byAddrSet.values()) {
    const readyAddrs: EndpointAddress[] = [];
    const notReadyAddrs: EndpointAddress[] = [];
    for (const [k, r] of addrs) (r ? readyAddrs : notReadyAddrs).push(allAddrs.get(k) as EndpointAddress);
    const subset: EndpointSubset = {};
    if (readyAddrs.length) subset.addresses = readyAddrs;
    if (notReadyAddrs.length) subset.notReadyAddresses = notReadyAddrs;
    if (ps.length) subset.ports = ps;
    final.push(subset);
  }
  return sortSubsets(final);
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** Addresses by IP then UID, ports by name and number, subsets by their first address: a stable order. */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const s of subsets) {
    s.addresses?.sort(compareAddresses);
    s.notReadyAddresses?.sort(compareAddresses);
    s.ports?.sort((a, b) => portKey(a).localeCompare(portKey(b)));
  }
  const first = (s: EndpointSubset) => s.addresses?.[0] ?? s.notReadyAddresses?.[0];
  return subsets.sort((x, y) => {
    const a = first(x);
    const b = first(y);
    if (a && b) {
      const c = compareAddresses(a, b);
      if (c !== 0) return c;
    }
    return JSON.stringify(x.ports ?? []).localeCompare(JSON.stringify(y.ports ?? []));
  });
}

/**
 * Upstream's truncateEndpoints: above capacity, not-ready addresses are cut first (or, when the ready ones alone
 * exceed it, all not-ready ones go and ready ones are cut), each subset keeping its proportional share. Returns
 * whether anything was cut.
 */
export function truncateEndpoints(ep: Endpoints): boolean {
  const subsets = ep.subsets ?? [];
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_ENDPOINTS_CAPACITY) return false;
  let truncateReady = false;
  let max = MAX_ENDPOINTS_CAPACITY - totalReady;
  let numTotal = totalNotReady;
  if (totalReady > MAX_ENDPOINTS_CAPACITY) {
    truncateReady = true;
    max = MAX_ENDPOINTS_CAPACITY;
    numTotal = totalReady;
  }
  let canBeAdded = max;
  for (const s of subsets) {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * max), canBeAdded);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses.length;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses.length;
    }
    if (!s.addresses?.length) delete s.addresses;
    if (!s.notReadyAddresses?.length) delete s.notReadyAddresses;
  }
  return true;
}

/** Upstream's capacityAnnotationSetCorrectly: within capacity and not marked over it. */
export function capacityAnnotationSetCorrectly(annotations: Record<string, string> | undefined, subsets: readonly EndpointSubset[] | undefined): boolean {
  let n = 0;
  for (const s of subsets ?? []) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  if (n > MAX_ENDPOINTS_CAPACITY) return false;
  return annotations?.[OVER_CAPACITY_ANNOTATION] === undefined;
}

function normaliseAddress(a: EndpointAddress): unknown {
  const { targetRef, ...rest } = a;
  if (!targetRef) return rest;
  const { resourceVersion: _rv, ...ref } = targetRef;
  return { ...rest, targetRef: ref };
}

/** Subsets equal once target references' resourceVersions are ignored (pod updates that do not matter). */
export function subsetsEqualIgnoringResourceVersion(a: readonly EndpointSubset[] | undefined, b: readonly EndpointSubset[] | undefined): boolean {
  const norm = (subs: readonly EndpointSubset[] | undefined) =>
    JSON.stringify(
      canonical(
        (subs ?? []).map((s) => ({
          addresses: (s.addresses ?? []).map(normaliseAddress),
          notReadyAddresses: (s.notReadyAddresses ?? []).map(normaliseAddress),
          ports: s.ports ?? [],
        })),
      ),
    );
  return norm(a) === norm(b);
}

/** The value with object keys sorted, so JSON text compares structurally. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
