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

  static fromList(list: ResourceList): Resource {
    const r = new Resource();
    r.addList(list);
    return r;
  }

  addList(list: ResourceList): void {
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
export function podResource(pod: Pod): { requested: Resource; nonZeroMilliCPU: number; nonZeroMemory: number } {
  const requested = Resource.fromList(podRequests(pod));
  const nonZero = podRequests(pod, { nonMissingContainerRequests: NON_ZERO_DEFAULTS });
  return {
    requested,
    nonZeroMilliCPU: nonZero.get('cpu')?.milliValue() ?? 0,
    nonZeroMemory: nonZero.get('memory')?.value() ?? 0,
  };
}
