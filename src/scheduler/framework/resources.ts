// Pod resource requests as upstream computes them (k8s.io/component-helpers resource.PodRequests) and the
// scheduler's Resource totals (framework.Resource), in integer units: milli-CPU and bytes.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity, quantityFromJSON } from '../../machinery/quantity.js';

export type ResourceList = Map<string, Quantity>;

/** Upstream's schedutil defaults for pods that state no request, used for spreading (non-zero requests). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export const NON_ZERO_DEFAULTS: ReadonlyMap<string, Quantity> = new Map([
  ['cpu', Quantity.fromMilli(DEFAULT_MILLI_CPU_REQUEST)],
  ['memory', Quantity.fromInt(DEFAULT_MEMORY_REQUEST)],
]);

export interface PodRequestOptions {
  /** Requests added for each container that states none for these resources (upstream's NonMissingContainerRequests). */
  nonMissingContainerRequests?: ReadonlyMap<string, Quantity>;
  /** Leave out spec.overhead. */
  excludeOverhead?: boolean;
}

/** Parses a resource map from an object; a malformed quantity is a clear error naming the resource. */
export function toResourceList(list: Readonly<Record<string, unknown>> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [name, raw] of Object.entries(list ?? {})) {
    try {
      out.set(name, quantityFromJSON(raw));
    } catch (err) {
      throw new Error(`invalid quantity for resource ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
  }
  return out;
}

function addInto(target: ResourceList, add: ResourceList): void {
  for (const [k, v] of add) {
    const cur = target.get(k);
    target.set(k, cur ? cur.add(v) : v);
  }
}

function maxInto(target: ResourceList, other: ResourceList): void {
  for (const [k, v] of other) {
    const cur = target.get(k);
    if (!cur || v.cmp(cur) > 0) target.set(k, v);
  }
}

function containerRequests(c: Container, opts: PodRequestOptions): ResourceList {
  const reqs = toResourceList(c.resources?.requests as Record<string, unknown> | undefined);
  for (const [k, v] of opts.nonMissingContainerRequests ?? []) {
    if (!reqs.has(k)) reqs.set(k, v);
  }
  return reqs;
}

/**
 * Upstream's PodRequests: regular containers summed, sidecars (init containers with restartPolicy Always) added to
 * them and to every later init container, the result at least the largest init-container step, plus overhead.
 */
export function podRequests(pod: Pod, opts: PodRequestOptions = {}): ResourceList {
  const reqs: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, opts));

  const sidecarReqs: ResourceList = new Map();
  const initReqs: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = containerRequests(c, opts);
    let step: ResourceList;
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running, so it adds to everything that starts after it.
      addInto(sidecarReqs, own);
      step = new Map(sidecarReqs);
    } else {
      step = new Map(own);
      addInto(step, sidecarReqs);
    }
    maxInto(initReqs, step);
  }
  addInto(reqs, sidecarReqs);
  maxInto(reqs, initReqs);

  if (!opts.excludeOverhead) addInto(reqs, toResourceList(pod.spec?.overhead as Record<string, unknown> | undefined));
  return reqs;
}

export const isHugePageResourceName = (name: string): boolean => name.startsWith('hugepages-');
export const isAttachableVolumeResourceName = (name: string): boolean => name.startsWith('attachable-volumes-');
export const isPrefixedNativeResource = (name: string): boolean => name.includes('kubernetes.io/');
/** Native resources have no domain or live in kubernetes.io; the rest (except quota's "requests.") are extended. */
export const isExtendedResourceName = (name: string): boolean =>
  !isPrefixedNativeResource(name) && name.includes('/') && !name.startsWith('requests.');
export const isScalarResourceName = (name: string): boolean =>
  isExtendedResourceName(name) || isHugePageResourceName(name) || isPrefixedNativeResource(name) || isAttachableVolumeResourceName(name);

/** Upstream's framework.Resource: integer totals the scheduler compares. */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  readonly scalarResources = new Map<string, number>();

  static fromList(list: ReadonlyMap<string, Quantity>): Resource {
    const r = new Resource();
    r.addList(list);
    return r;
  }

  addList(list: ReadonlyMap<string, Quantity>): void {
    for (const [name, q] of list) {
      switch (name) {
        case 'cpu':
          this.milliCPU += q.milliValue();
          break;
        case 'memory':
          this.memory += q.value();
          break;
        case 'pods':
          this.allowedPodNumber += q.value();
          break;
        case 'ephemeral-storage':
          this.ephemeralStorage += q.value();
          break;
        default:
          if (isScalarResourceName(name)) this.addScalar(name, q.value());
      }
    }
  }

  addScalar(name: string, value: number): void {
    this.scalarResources.set(name, (this.scalarResources.get(name) ?? 0) + value);
  }

  /** Adds (sign 1) or removes (sign -1) another total. */
  accumulate(other: Resource, sign: 1 | -1): void {
    this.milliCPU += sign * other.milliCPU;
    this.memory += sign * other.memory;
    this.ephemeralStorage += sign * other.ephemeralStorage;
    this.allowedPodNumber += sign * other.allowedPodNumber;
    for (const [k, v] of other.scalarResources) this.addScalar(k, sign * v);
  }

  isEmpty(): boolean {
    return this.milliCPU === 0 && this.memory === 0 && this.ephemeralStorage === 0 && this.scalarResources.size === 0;
  }

  clone(): Resource {
    const r = new Resource();
    r.accumulate(this, 1);
    return r;
  }
}

/** A pod's requests as a Resource, plus its non-zero CPU and memory (defaults for containers stating none). */
export interface PodResource {
  readonly requested: Resource;
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
}

/**
 * The requests of pod objects seen before. A scheduling cycle asks for them several times (NodeResourcesFit's
 * PreFilter and PreScore, BalancedAllocation's PreScore, the assumed pod's PodInfo); informer objects are never
 * mutated, so an object's requests cannot change. Shared answers: callers only read them.
 */
const requestsOfPod = new WeakMap<Pod, { plain?: ResourceList; nonZero?: ResourceList; resource?: PodResource }>();

function memoOf(pod: Pod): { plain?: ResourceList; nonZero?: ResourceList; resource?: PodResource } {
  let m = requestsOfPod.get(pod);
  if (!m) requestsOfPod.set(pod, (m = {}));
  return m;
}

/** podRequests(pod), or with the non-zero defaults for containers stating none, worked out once per pod object. */
export function cachedPodRequests(pod: Pod, nonZero: boolean): ReadonlyMap<string, Quantity> {
  const m = memoOf(pod);
  if (nonZero) return (m.nonZero ??= podRequests(pod, { nonMissingContainerRequests: NON_ZERO_DEFAULTS }));
  return (m.plain ??= podRequests(pod));
}

/** The pod's PodResource, worked out once per pod object (the Resource is shared: do not change it). */
export function podResource(pod: Pod): PodResource {
  const m = memoOf(pod);
  if (m.resource) return m.resource;
  const nonZero = cachedPodRequests(pod, true);
  return (m.resource = {
    requested: Resource.fromList(cachedPodRequests(pod, false)),
    nonZeroMilliCPU: nonZero.get('cpu')?.milliValue() ?? 0,
    nonZeroMemory: nonZero.get('memory')?.value() ?? 0,
  });
}

/** Raw request values of a container list, compared without parsing quantities. */
function sameContainerRequests(a: readonly Container[] | undefined, b: readonly Container[] | undefined): boolean {
  if (a === b) return true;
  if ((a?.length ?? 0) !== (b?.length ?? 0)) return false;
  for (let i = 0; i < (a?.length ?? 0); i++) {
    const x = a![i]!;
    const y = b![i]!;
    if (x.restartPolicy !== y.restartPolicy) return false;
    if (!sameValues(x.resources?.requests, y.resources?.requests)) return false;
  }
  return true;
}

function sameValues(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): boolean {
  if (a === b) return true;
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a![k] !== b![k]) return false;
  return true;
}

/**
 * Whether two versions of a pod state the same requests (containers, init containers with their restart policy,
 * overhead), compared as written: a PodResource worked out for one holds for the other. Quantities written
 * differently ("1" and "1000m") compare as different, which only costs working them out again.
 */
export function sameRequests(a: Pod, b: Pod): boolean {
  return (
    sameContainerRequests(a.spec?.containers, b.spec?.containers) &&
    sameContainerRequests(a.spec?.initContainers, b.spec?.initContainers) &&
    sameValues(a.spec?.overhead, b.spec?.overhead)
  );
}
