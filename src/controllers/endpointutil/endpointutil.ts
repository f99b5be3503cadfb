// What the Endpoints and EndpointSlice controllers share (upstream's pkg/controller/util/endpoint and
// staging/.../endpointslice/util): which pods belong in endpoints, target port resolution, hostnames, the services
// selecting a pod, and the last-change-trigger-time tracker.
import type { Container, ContainerPort, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { isIP } from 'node:net';
import { selectorFromSet } from '../../machinery/labels.js';
import { formatTime } from '../../machinery/time.js';
import { deletedObject, type Lister, type RateLimitingQueue, type SharedIndexInformer } from '../../client/index.js';
import { isPodReady } from '../common/index.js';

/** Annotation on Endpoints and EndpointSlices: when the change that led to this object's content happened. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Label set on the Endpoints and EndpointSlices of headless services. */
export const HEADLESS_SERVICE_LABEL = 'service.kubernetes.io/headless';
/** Endpoints carrying this annotation are leader-election records, not a service's endpoints. */
export const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** Same keys and values (an absent map is empty). */
export function sameStringMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a?.[k] === b?.[k]);
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The pod's IPs: status.podIPs, or the single status.podIP when only that is set. */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip ?? '').filter((ip) => ip !== '');
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** Upstream's ShouldPodBeInEndpoints: not terminal, has an IP, and (unless included) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** A pod's hostname is published when its subdomain names this service (in the same namespace). */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** A ClusterIP is allocated (not headless, not ExternalName). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

function isRestartableInitContainer(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/**
 * Upstream's podutil.FindPort: a numeric targetPort is used as is; a named one is looked up among the pod's container
 * ports (and sidecar init containers) with the service port's protocol. undefined: the pod has no such port.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = svcPort.protocol ?? 'TCP';
  const match = (ports: ContainerPort[] | undefined) => (ports ?? []).find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
  for (const c of pod.spec?.containers ?? []) {
    const p = match(c.ports);
    if (p) return p.containerPort;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    if (!isRestartableInitContainer(c)) continue;
    const p = match(c.ports);
    if (p) return p.containerPort;
  }
  return undefined;
}

/** The IP family a service's endpoints use (its first ipFamily, else its ClusterIP's, else the pod's). */
export function serviceIPFamily(svc: Service, pod?: Pod): 'IPv4' | 'IPv6' {
  const families = svc.spec?.ipFamilies;
  if (families?.length) return families[0] === 'IPv6' ? 'IPv6' : 'IPv4';
  if (isServiceIPSet(svc)) return isIP(svc.spec?.clusterIP ?? '') === 6 ? 'IPv6' : 'IPv4';
  const ip = pod ? podIPs(pod)[0] : undefined;
  return ip && isIP(ip) === 6 ? 'IPv6' : 'IPv4';
}

export function ipFamilyOf(ip: string): 'IPv4' | 'IPv6' {
  return isIP(ip) === 6 ? 'IPv6' : 'IPv4';
}

/** Services in the pod's namespace whose selector matches the pod's labels (selector-less services never do). */
export function servicesForPod(services: Lister<Service>, pod: Pod): Service[] {
  const ns = pod.metadata?.namespace ?? '';
  return services
    .namespace(ns)
    .list()
    .filter((svc) => {
      const sel = svc.spec?.selector;
      return sel !== undefined && selectorFromSet(sel).matches(pod.metadata?.labels ?? {});
    });
}

/** Pods a service selects (none for a service without a selector). */
export function podsForService(pods: Lister<Pod>, svc: Service): Pod[] {
  const sel = svc.spec?.selector;
  if (sel === undefined) return [];
  return pods.namespace(svc.metadata?.namespace ?? '').list(selectorFromSet(sel));
}

/** Keys ("namespace/name") of the services to sync after a pod changed from `old` to `cur`. */
export function serviceKeysForPodChange(services: Lister<Service>, old: Pod | undefined, cur: Pod): Set<string> {
  const keys = new Set<string>();
  for (const svc of servicesForPod(services, cur)) keys.add(`${svc.metadata?.namespace}/${svc.metadata?.name}`);
  if (old && !sameLabels(old.metadata?.labels, cur.metadata?.labels)) {
    for (const svc of servicesForPod(services, old)) keys.add(`${svc.metadata?.namespace}/${svc.metadata?.name}`);
  }
  return keys;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

/** Whether a pod update can change any endpoint (upstream's podEndpointsChanged, without resourceVersion). */
export function podEndpointsChanged(old: Pod, cur: Pod): boolean {
  if ((old.metadata?.deletionTimestamp === undefined) !== (cur.metadata?.deletionTimestamp === undefined)) return true;
  if (isPodReady(old) !== isPodReady(cur)) return true;
  if (!sameLabels(old.metadata?.labels, cur.metadata?.labels)) return true;
  if (old.status?.phase !== cur.status?.phase) return true;
  if (podIPs(old).join(',') !== podIPs(cur).join(',')) return true;
  if (old.spec?.nodeName !== cur.spec?.nodeName || old.spec?.hostname !== cur.spec?.hostname || old.spec?.subdomain !== cur.spec?.subdomain) return true;
  return JSON.stringify(old.spec?.containers?.map((c) => c.ports)) !== JSON.stringify(cur.spec?.containers?.map((c) => c.ports));
}

function readyTransitionMs(pod: Pod): number | undefined {
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'Ready');
  if (!c?.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

interface ServiceTriggerState {
  pods: Map<string, number>;
  service: number;
}

/**
 * Upstream's TriggerTimeTracker: the last-change-trigger-time of a service's endpoints is the earliest change (a
 * pod's Ready transition, or the service's creation) not seen at the previous sync.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceTriggerState>();

  /** The annotation value for this sync ('' when nothing changed), remembering what was seen. */
  compute(svc: Service, pods: readonly Pod[]): string {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const state = this.states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = readyTransitionMs(pod);
      if (t === undefined) continue;
      const name = pod.metadata?.name ?? '';
      podTimes.set(name, t);
      const last = state?.pods.get(name);
      if (last === undefined || t > last) min = min === undefined ? t : Math.min(min, t);
    }
    const created = svc.metadata?.creationTimestamp ? Date.parse(svc.metadata.creationTimestamp) : NaN;
    const svcTime = Number.isNaN(created) ? 0 : created;
    if (svcTime > (state?.service ?? -Infinity) && svcTime > 0) min = min === undefined ? svcTime : Math.min(min, svcTime);
    this.states.set(key, { pods: podTimes, service: svcTime });
    return min === undefined ? '' : formatTime(new Date(min));
  }

  deleteService(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/**
 * What the Endpoints and EndpointSlice controllers both watch: a service's own changes, and pod changes that alter
 * the endpoints of the services selecting the pod; each queues `namespace/name` of the service.
 */
export function enqueueServicesOnChange(services: SharedIndexInformer<Service>, pods: SharedIndexInformer<Pod>, queue: RateLimitingQueue<string>): void {
  const enqueueService = (svc: Service) => {
    if (svc.metadata?.name) queue.add(`${svc.metadata.namespace}/${svc.metadata.name}`);
  };
  services.addEventHandler({
    onAdd: enqueueService,
    onUpdate: (_o, svc) => enqueueService(svc),
    onDelete: (obj) => enqueueService(deletedObject(obj)),
  });
  const lister = services.lister();
  pods.addEventHandler({
    onAdd: (pod) => serviceKeysForPodChange(lister, undefined, pod).forEach((k) => queue.add(k)),
    onUpdate: (old, pod) => {
      if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
      if (!podEndpointsChanged(old, pod)) return;
      serviceKeysForPodChange(lister, old, pod).forEach((k) => queue.add(k));
    },
    onDelete: (obj) => serviceKeysForPodChange(lister, undefined, deletedObject(obj)).forEach((k) => queue.add(k)),
  });
}
