// Upstream's EndpointSlice mirroring, pure: the Endpoints of a Service without a selector (written by hand or by
// another controller) become EndpointSlices, so everything that reads slices (the service proxy, DNS) sees them.
// Each set of ports and address type maps to one slice of at most --mirroring-max-endpoints-per-subset endpoints.
import { isIP } from 'node:net';
import type { EndpointAddress, EndpointPort as CoreEndpointPort, Endpoints } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { newControllerRef } from '../common/index.js';
import { LEADER_ELECTION_ANNOTATION, sameStringMap } from '../endpointutil/endpointutil.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, endpointKey, endpointsEqualBeyondHash, portMapKey, type AddressType } from '../endpointslice/reconciler.js';

export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const DEFAULT_MAX_ENDPOINTS_PER_SUBSET = 1000;
/** Endpoints with this label set to "true" are not mirrored (the apiserver's own "kubernetes" Endpoints). */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
const NOT_COPIED_ANNOTATIONS = ['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration'];
const ADDRESS_TYPES: readonly AddressType[] = ['IPv4', 'IPv6'];

/** Upstream's shouldMirror: not skipped by label and not a leader-election record. */
export function shouldMirror(endpoints: Endpoints | undefined): boolean {
  if (!endpoints) return false;
  return endpoints.metadata?.labels?.[LABEL_SKIP_MIRROR] !== 'true' && endpoints.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] === undefined;
}

/** The address as an Endpoint (the IP re-formatted as Go does), or undefined for an address that is not an IP. */
export function addressToEndpoint(address: EndpointAddress, ready: boolean): { endpoint: Endpoint; addressType: AddressType } | undefined {
  const family = isIP(address.ip ?? '');
  if (family === 0) return undefined;
  const endpoint: Endpoint = { addresses: [canonicalIP(address.ip ?? '', family)], conditions: { ready } };
  if (address.targetRef) endpoint.targetRef = address.targetRef;
  if (address.nodeName) endpoint.nodeName = address.nodeName;
  if (address.hostname) endpoint.hostname = address.hostname;
  return { endpoint, addressType: family === 6 ? 'IPv6' : 'IPv4' };
}

function canonicalIP(ip: string, family: number): string {
  if (family === 4) return ip.split('.').map((o) => String(Number(o))).join('.');
  // URL parsing gives the compressed lower-case IPv6 form.
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function toSlicePorts(ports: readonly CoreEndpointPort[] | undefined): EndpointPort[] {
  return (ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
}

function sliceKey(addressType: AddressType, ports: readonly EndpointPort[] | undefined): string {
  return `${addressType}-${portMapKey(ports)}`;
}

function mirroredLabels(endpoints: Endpoints): Record<string, string> {
  return { ...(endpoints.metadata?.labels ?? {}), [LABEL_SERVICE_NAME]: endpoints.metadata?.name ?? '', [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER_NAME };
}

function mirroredAnnotations(endpoints: Endpoints): Record<string, string> {
  const out = { ...(endpoints.metadata?.annotations ?? {}) };
  for (const a of NOT_COPIED_ANNOTATIONS) delete out[a];
  return out;
}

export function newMirroredSlice(endpoints: Endpoints, ports: EndpointPort[], addressType: AddressType, name?: string): EndpointSlice {
  const epName = endpoints.metadata?.name ?? '';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...(name ? { name } : { generateName: `${epName}-`.length <= 253 - 5 ? `${epName}-` : epName }),
      namespace: endpoints.metadata?.namespace,
      labels: mirroredLabels(endpoints),
      annotations: mirroredAnnotations(endpoints),
      ownerReferences: [newControllerRef(endpoints, { apiVersion: 'v1', kind: 'Endpoints' })],
    },
    addressType,
    ports,
    endpoints: [],
  };
}

export interface MirrorPlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Addresses that are not IPs (event InvalidIPAddress). */
  invalidAddresses: number;
  /** Addresses left out, invalid ones included (over the per-subset limit: event TooManyAddressesToMirror). */
  addressesSkipped: number;
}

/** Upstream's reconcile: the slices to create, update and delete so the mirrored slices match `endpoints`. */
export function reconcileMirror(endpoints: Endpoints, existing: readonly EndpointSlice[], maxEndpointsPerSubset = DEFAULT_MAX_ENDPOINTS_PER_SUBSET): MirrorPlan {
  const desired = new Map<string, { addressType: AddressType; ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  let invalidAddresses = 0;
  let addressesSkipped = 0;
  for (const subset of endpoints.subsets ?? []) {
    const ports = toSlicePorts(subset.ports);
    const keys = {} as Record<AddressType, string>;
    for (const addressType of ADDRESS_TYPES) {
      keys[addressType] = sliceKey(addressType, ports);
      if (!desired.has(keys[addressType])) desired.set(keys[addressType], { addressType, ports, endpoints: new Map() });
    }
    const all = [...(subset.addresses ?? []).map((a) => [a, true] as const), ...(subset.notReadyAddresses ?? []).map((a) => [a, false] as const)];
    let added = 0;
    for (const [address, ready] of all) {
      if (added >= maxEndpointsPerSubset) break;
      const converted = addressToEndpoint(address, ready);
      if (!converted) {
        invalidAddresses++;
        continue;
      }
      desired.get(keys[converted.addressType])?.endpoints.set(endpointKey(converted.endpoint), converted.endpoint);
      added++;
    }
    addressesSkipped += all.length - added;
  }

  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = sliceKey((s.addressType as AddressType) ?? 'IPv4', s.ports);
    existingByKey.set(key, [...(existingByKey.get(key) ?? []), s]);
  }
  const plan: MirrorPlan = { create: [], update: [], delete: [], invalidAddresses, addressesSkipped };
  for (const [key, want] of desired) {
    const have = existingByKey.get(key) ?? [];
    if (want.endpoints.size === 0) {
      plan.delete.push(...have);
      continue;
    }
    plan.delete.push(...have.slice(1));
    const first = have[0];
    if (first && unchanged(first, want.endpoints, endpoints)) continue;
    const slice = newMirroredSlice(endpoints, want.ports, want.addressType, first?.metadata?.name);
    slice.endpoints = [...want.endpoints.values()].slice(0, maxEndpointsPerSubset);
    if (first) {
      slice.metadata = { ...slice.metadata, resourceVersion: first.metadata?.resourceVersion };
      plan.update.push(slice);
    } else {
      plan.create.push(slice);
    }
  }
  for (const [key, have] of existingByKey) if (!desired.has(key)) plan.delete.push(...have);
  recycle(plan);
  return plan;
}

/** The slice already holds exactly the desired endpoints, labels and annotations. */
function unchanged(slice: EndpointSlice, want: Map<string, Endpoint>, endpoints: Endpoints): boolean {
  const have = slice.endpoints ?? [];
  if (have.length !== want.size) return false;
  for (const ep of have) {
    const w = want.get(endpointKey(ep));
    if (!w || !endpointsEqualBeyondHash(w, ep)) return false;
  }
  return sameStringMap(slice.metadata?.labels, mirroredLabels(endpoints)) && sameStringMap(slice.metadata?.annotations, mirroredAnnotations(endpoints));
}

/** Upstream's recycleSlices: a create paired with a delete of the same address type becomes an update. */
function recycle(plan: MirrorPlan): void {
  for (let i = 0; i < plan.create.length; ) {
    const c = plan.create[i];
    const d = plan.delete.findIndex((s) => s.addressType === c.addressType);
    if (d < 0) {
      i++;
      continue;
    }
    const [old] = plan.delete.splice(d, 1);
    const { generateName: _unused, ...meta } = c.metadata ?? {};
    plan.update.push({ ...c, metadata: { ...meta, name: old.metadata?.name, resourceVersion: old.metadata?.resourceVersion } });
    plan.create.splice(i, 1);
  }
}
