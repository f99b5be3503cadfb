// Upstream's quota evaluators (pkg/quota/v1/evaluator/core and generic): what each object charges against a
// ResourceQuota, which quota resources an evaluator tracks, and which quota scopes an object falls under. Shared by
// the ResourceQuota admission plugin and the resourcequota controller.
import type { Container, PersistentVolumeClaim, Pod, ResourceQuota, ScopedResourceSelectorRequirement, Service } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../../machinery/quantity.js';

export type ResourceList = Map<string, Quantity>;

export function parseResourceList(list: Readonly<Record<string, string | number>> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(list ?? {})) {
    try {
      out.set(k, Quantity.parse(String(v)));
    } catch {
      // Validation keeps unparsable quantities out of storage; ignore any that slipped through.
    }
  }
  return out;
}

export function toRecord(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = (list.get(k) as Quantity).toString();
  return out;
}

export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) out.set(k, out.has(k) ? (out.get(k) as Quantity).add(v) : v);
  return out;
}

/** a - b, never below zero (upstream's SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) {
    const d = b.has(k) ? v.sub(b.get(k) as Quantity) : v;
    out.set(k, d.sign() < 0 ? Quantity.fromInt(0) : d);
  }
  return out;
}

export function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) if (list.has(n)) out.set(n, list.get(n) as Quantity);
  return out;
}

export function listsEqual(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.has(k) || !v.equals(b.get(k) as Quantity)) return false;
  return true;
}

/** upstream's prettyPrint: "k=v,k2=v2" with sorted keys. */
export function prettyPrint(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${(list.get(k) as Quantity).toString()}`)
    .join(',');
}

const one = () => Quantity.fromInt(1);
const zero = () => Quantity.fromInt(0);

export interface EvaluatorOps {
  create: boolean;
  update: boolean;
}

export interface Evaluator {
  /** group/resource, e.g. "/pods", "apps/deployments". */
  readonly groupResource: string;
  /** Operations whose admission this evaluator charges. */
  readonly handles: EvaluatorOps;
  /** The quota resources among `names` this evaluator tracks. */
  matchingResources(names: readonly string[]): string[];
  /** Whether the object falls under one scope requirement of a quota. */
  matchesScope(req: ScopedResourceSelectorRequirement, obj: unknown): boolean;
  usage(obj: unknown, nowMs: number): ResourceList;
  /** Admission-time requirements (pods must declare cpu/memory when the quota constrains them). */
  constraints?(required: readonly string[], obj: unknown): string | undefined;
}

/** count/<resource>[.<group>] for a group/resource. */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

// ---------- pods ----------

const POD_RESOURCES = new Set([
  'pods',
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);
const POD_RESOURCE_PREFIXES = ['hugepages-', 'requests.hugepages-'];
/** Resources for which every container must declare a request or limit. */
const POD_VALIDATION_SET = new Set(['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory']);

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return true;
}

function isPodComputeResource(name: string): boolean {
  if (POD_RESOURCES.has(name)) return true;
  if (POD_RESOURCE_PREFIXES.some((p) => name.startsWith(p))) return true;
  // requests.<extended resource>
  return name.startsWith('requests.') && isExtendedResourceName(name.slice('requests.'.length));
}

function addInto(target: ResourceList, list: ResourceList): void {
  for (const [k, v] of list) target.set(k, target.has(k) ? (target.get(k) as Quantity).add(v) : v);
}

function maxInto(target: ResourceList, list: ResourceList): void {
  for (const [k, v] of list) if (!target.has(k) || v.cmp(target.get(k) as Quantity) > 0) target.set(k, v);
}

/** Upstream's PodRequests / PodLimits: containers summed, init containers as a maximum, sidecars added, plus overhead. */
function podResources(pod: Pod, which: 'requests' | 'limits'): ResourceList {
  const sum: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(sum, parseResourceList(c.resources?.[which]));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = parseResourceList(c.resources?.[which]);
    if (c.restartPolicy === 'Always') {
      addInto(sum, own);
      addInto(sidecars, own);
      maxInto(initMax, sidecars);
    } else {
      const effective = new Map(own);
      addInto(effective, sidecars);
      maxInto(initMax, effective);
    }
  }
  maxInto(sum, initMax);
  if (pod.spec?.overhead) addInto(sum, parseResourceList(pod.spec.overhead));
  return sum;
}

function podComputeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const r: ResourceList = new Map([['pods', one()]]);
  for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(res);
    if (req) {
      r.set(res, req);
      r.set(`requests.${res}`, req);
    }
    const lim = limits.get(res);
    if (lim) r.set(`limits.${res}`, lim);
  }
  for (const [res, q] of requests) {
    if (res.startsWith('hugepages-')) {
      r.set(res, q);
      r.set(`requests.${res}`, q);
    } else if (isExtendedResourceName(res)) r.set(`requests.${res}`, q);
  }
  return r;
}

/** Upstream's QuotaV1Pod: terminal pods, and pods past their deletion grace, are not charged compute resources. */
export function podCountsForQuota(pod: Pod, nowMs: number): boolean {
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return false;
  const del = pod.metadata?.deletionTimestamp;
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (del && grace !== undefined) {
    const t = Date.parse(del);
    if (!Number.isNaN(t) && nowMs > t + grace * 1000) return false;
  }
  return true;
}

function isBestEffort(pod: Pod): boolean {
  const all: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const supported = new Set(['cpu', 'memory']);
  for (const c of all) {
    for (const list of [c.resources?.requests, c.resources?.limits]) {
      for (const [k, v] of Object.entries(list ?? {})) {
        if (!supported.has(k)) continue;
        try {
          if (!Quantity.parse(String(v)).isZero()) return false;
        } catch {
          return false;
        }
      }
    }
  }
  return true;
}

function isTerminatingPod(pod: Pod): boolean {
  const d = pod.spec?.activeDeadlineSeconds;
  return d !== undefined && d !== null && d >= 0;
}

function usesCrossNamespacePodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  const terms = [
    ...(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
    ...(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
  ];
  return terms.some((t) => (t.namespaces?.length ?? 0) > 0 || t.namespaceSelector !== undefined);
}

/** A scope requirement applied to one value (PriorityClass: the pod's priorityClassName, always "present"). */
function matchesValue(req: ScopedResourceSelectorRequirement, value: string): boolean {
  switch (req.operator) {
    case 'In':
      return (req.values ?? []).includes(value);
    case 'NotIn':
      return !(req.values ?? []).includes(value);
    case 'Exists':
      return value.length !== 0;
    case 'DoesNotExist':
      return false;
    default:
      return false;
  }
}

export const podEvaluator: Evaluator = {
  groupResource: '/pods',
  handles: { create: true, update: false },
  matchingResources: (names) => names.filter(isPodComputeResource),
  matchesScope(req, obj) {
    const pod = obj as Pod;
    switch (req.scopeName) {
      case 'Terminating':
        return isTerminatingPod(pod);
      case 'NotTerminating':
        return !isTerminatingPod(pod);
      case 'BestEffort':
        return isBestEffort(pod);
      case 'NotBestEffort':
        return !isBestEffort(pod);
      case 'PriorityClass':
        return matchesValue(req, pod.spec?.priorityClassName ?? '');
      case 'CrossNamespacePodAffinity':
        return usesCrossNamespacePodAffinity(pod);
      default:
        return false;
    }
  },
  usage(obj, nowMs) {
    const pod = obj as Pod;
    // The object count is charged whatever the pod's state; the rest only while it lives.
    const r: ResourceList = new Map([['count/pods', one()]]);
    if (!podCountsForQuota(pod, nowMs)) return r;
    for (const [k, v] of podComputeUsage(podResources(pod, 'requests'), podResources(pod, 'limits'))) r.set(k, v);
    return r;
  },
  constraints(required, obj) {
    const pod = obj as Pod;
    const requiredSet = required.filter((r) => POD_VALIDATION_SET.has(r));
    if (requiredSet.length === 0) return undefined;
    const missing = new Map<string, Set<string>>();
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      const have = podComputeUsage(parseResourceList(c.resources?.requests), parseResourceList(c.resources?.limits));
      for (const r of requiredSet) {
        if (have.has(r)) continue;
        if (!missing.has(r)) missing.set(r, new Set());
        missing.get(r)?.add(c.name);
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...(missing.get(r) ?? [])].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---------- services ----------

export const serviceEvaluator: Evaluator = {
  groupResource: '/services',
  handles: { create: true, update: true },
  matchingResources: (names) => names.filter((n) => ['services', 'count/services', 'services.nodeports', 'services.loadbalancers'].includes(n)),
  matchesScope: () => false,
  usage(obj) {
    const svc = obj as Service;
    const ports = svc.spec?.ports?.length ?? 0;
    const r: ResourceList = new Map([
      ['count/services', one()],
      ['services', one()],
      ['services.loadbalancers', zero()],
      ['services.nodeports', zero()],
    ]);
    if (svc.spec?.type === 'NodePort') r.set('services.nodeports', Quantity.fromInt(ports));
    if (svc.spec?.type === 'LoadBalancer') {
      let n = ports;
      if (svc.spec.allocateLoadBalancerNodePorts === false) n = (svc.spec.ports ?? []).filter((p) => (p.nodePort ?? 0) !== 0).length;
      r.set('services.nodeports', Quantity.fromInt(n));
      r.set('services.loadbalancers', one());
    }
    return r;
  },
};

// ---------- persistent volume claims ----------

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

function claimClass(pvc: PersistentVolumeClaim): string {
  const annotated = pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (annotated !== undefined) return annotated;
  return pvc.spec?.storageClassName ?? '';
}

export const pvcEvaluator: Evaluator = {
  groupResource: '/persistentvolumeclaims',
  handles: { create: true, update: true },
  matchingResources: (names) =>
    names.filter(
      (n) =>
        ['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage'].includes(n) ||
        n.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`) ||
        n.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`),
    ),
  matchesScope: () => false,
  usage(obj) {
    const pvc = obj as PersistentVolumeClaim;
    const r: ResourceList = new Map([
      ['persistentvolumeclaims', one()],
      ['count/persistentvolumeclaims', one()],
    ]);
    const cls = claimClass(pvc);
    if (cls) r.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, one());
    const req = pvc.spec?.resources?.requests?.storage;
    if (req !== undefined) {
      let q: Quantity;
      try {
        q = Quantity.parse(String(req)).roundUp(0).quantity;
      } catch {
        return r;
      }
      r.set('requests.storage', q);
      if (cls) r.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, q);
    }
    return r;
  },
};

// ---------- generic object counts ----------

/** Legacy quota names that count objects of a core resource without the count/ prefix. */
const LEGACY_COUNT_NAMES: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  resourcequotas: 'resourcequotas',
  replicationcontrollers: 'replicationcontrollers',
};

/** An evaluator that charges one object per object (count/<resource>.<group>, and the legacy name if any). */
export function objectCountEvaluator(group: string, resource: string): Evaluator {
  const names = [objectCountName(group, resource)];
  if (!group && LEGACY_COUNT_NAMES[resource]) names.push(LEGACY_COUNT_NAMES[resource]);
  return {
    groupResource: `${group}/${resource}`,
    handles: { create: true, update: false },
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    matchesScope: () => false,
    usage: () => new Map(names.map((n) => [n, one()])),
  };
}

const SPECIAL: Record<string, Evaluator> = {
  '/pods': podEvaluator,
  '/services': serviceEvaluator,
  '/persistentvolumeclaims': pvcEvaluator,
};

/** The evaluator for a group/resource: the special ones, else a generic object count. */
export function evaluatorFor(group: string, resource: string): Evaluator {
  return SPECIAL[`${group}/${resource}`] ?? objectCountEvaluator(group, resource);
}

/** The group/resources a quota's hard resources need evaluated (count/x.y → y/x, legacy names → core). */
export function groupResourcesForQuota(hardNames: readonly string[]): { group: string; resource: string }[] {
  const out = new Map<string, { group: string; resource: string }>();
  const add = (group: string, resource: string) => out.set(`${group}/${resource}`, { group, resource });
  for (const n of hardNames) {
    if (n.startsWith('count/')) {
      const rest = n.slice('count/'.length);
      const dot = rest.indexOf('.');
      if (dot < 0) add('', rest);
      else add(rest.slice(dot + 1), rest.slice(0, dot));
    } else if (podEvaluator.matchingResources([n]).length) add('', 'pods');
    else if (serviceEvaluator.matchingResources([n]).length) add('', 'services');
    else if (pvcEvaluator.matchingResources([n]).length) add('', 'persistentvolumeclaims');
    else if (LEGACY_COUNT_NAMES[n]) add('', n);
  }
  return [...out.values()];
}

/** The quota's scopes as requirements: spec.scopes (operator Exists) plus scopeSelector.matchExpressions. */
export function scopeSelectors(q: ResourceQuota): ScopedResourceSelectorRequirement[] {
  return [...(q.spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists' })), ...(q.spec?.scopeSelector?.matchExpressions ?? [])];
}

/** Whether an object falls under every scope of a quota (a quota without scopes takes everything). */
export function matchesQuotaScopes(evaluator: Evaluator, q: ResourceQuota, obj: unknown): boolean {
  return scopeSelectors(q).every((req) => evaluator.matchesScope(req, obj));
}

/** Upstream's UsageStats for one evaluator: usage summed over the objects in the quota's scopes, masked. */
export function usageStats(evaluator: Evaluator, q: ResourceQuota, objects: readonly unknown[], resources: readonly string[], nowMs: number): ResourceList {
  let used: ResourceList = new Map(resources.map((r) => [r, zero()]));
  for (const obj of objects) {
    if (!matchesQuotaScopes(evaluator, q, obj)) continue;
    used = addLists(used, mask(evaluator.usage(obj, nowMs), resources));
  }
  return used;
}
