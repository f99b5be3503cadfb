// Upstream's framework.NodeInfo: a node, the pods on it, and their summed requests and host ports.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Resource, podResource, toResourceList, type PodResource } from './resources.js';

const ANY_IP = '0.0.0.0';

/** Host ports in use, keyed by host IP then "protocol/port" (upstream's HostPortInfo). */
export class HostPortInfo {
  private readonly byIP = new Map<string, Map<string, number>>();

  private static sanitize(ip: string | undefined, protocol: string | undefined): [string, string] {
    return [ip || ANY_IP, protocol || 'TCP'];
  }

  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    let set = this.byIP.get(i);
    if (!set) this.byIP.set(i, (set = new Map()));
    const key = `${p}/${port}`;
    set.set(key, (set.get(key) ?? 0) + 1);
  }

  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const set = this.byIP.get(i);
    const key = `${p}/${port}`;
    const n = set?.get(key);
    if (!set || n === undefined) return;
    if (n > 1) set.set(key, n - 1);
    else set.delete(key);
    if (set.size === 0) this.byIP.delete(i);
  }

  /** A wildcard IP conflicts with the port on any IP; a specific IP with itself and the wildcard. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const [i, p] = HostPortInfo.sanitize(ip, protocol);
    const key = `${p}/${port}`;
    if (i === ANY_IP) {
      for (const set of this.byIP.values()) if (set.has(key)) return true;
      return false;
    }
    return (this.byIP.get(i)?.has(key) ?? false) || (this.byIP.get(ANY_IP)?.has(key) ?? false);
  }

  get size(): number {
    let n = 0;
    for (const set of this.byIP.values()) n += set.size;
    return n;
  }
}

/** A pod with the totals computed once when it is added to a node. */
export interface PodInfo {
  readonly pod: Pod;
  readonly requested: Resource;
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
}

export function newPodInfo(pod: Pod, resource: PodResource = podResource(pod)): PodInfo {
  return { pod, requested: resource.requested, nonZeroMilliCPU: resource.nonZeroMilliCPU, nonZeroMemory: resource.nonZeroMemory };
}

const podKey = (pod: Pod): string => pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

export const hasPodAffinity = (pod: Pod): boolean => !!(pod.spec?.affinity?.podAffinity || pod.spec?.affinity?.podAntiAffinity);
const hasRequiredAntiAffinity = (pod: Pod): boolean =>
  (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;

export class NodeInfo {
  node: Node | undefined;
  readonly pods: PodInfo[] = [];
  /** Pods with pod affinity or anti-affinity, so affinity plugins can skip the rest (as upstream keeps them). */
  readonly podsWithAffinity: PodInfo[] = [];
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  readonly requested = new Resource();
  /** Requests with defaults for containers stating none, so empty pods still spread (cpu and memory only). */
  readonly nonZeroRequested = new Resource();
  allocatable = new Resource();
  /** Size in bytes of each image name the node reports holding (status.images). */
  imageSizes: ReadonlyMap<string, number> = new Map();
  readonly usedPorts = new HostPortInfo();
  /** Bumped on every change, so caches built from this node can tell they are stale. */
  generation = 0;

  constructor(node?: Node, pods: readonly Pod[] = []) {
    if (node) this.setNode(node);
    for (const p of pods) this.addPod(p);
  }

  get name(): string {
    return this.node?.metadata?.name ?? '';
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = Resource.fromList(toResourceList(node.status?.allocatable as Record<string, unknown> | undefined));
    const images = new Map<string, number>();
    for (const img of node.status?.images ?? []) for (const name of img.names ?? []) images.set(name, img.sizeBytes ?? 0);
    this.imageSizes = images;
    this.generation++;
  }

  addPod(pod: Pod): void {
    this.addPodInfo(newPodInfo(pod));
  }

  addPodInfo(info: PodInfo): void {
    this.pods.push(info);
    if (hasPodAffinity(info.pod)) this.podsWithAffinity.push(info);
    if (hasRequiredAntiAffinity(info.pod)) this.podsWithRequiredAntiAffinity.push(info);
    this.update(info, 1);
  }

  /** A copy sharing the (immutable) node and pod infos, for what-if changes such as preemption's dry run. */
  clone(): NodeInfo {
    const copy = new NodeInfo(this.node);
    for (const info of this.pods) copy.addPodInfo(info);
    return copy;
  }

  /** Removes the pod with the same uid (or namespace/name); false when it is not on this node. */
  removePod(pod: Pod): boolean {
    return this.removePodInfo(pod) !== undefined;
  }

  /** Removes the pod with the same uid (or namespace/name) and answers its PodInfo; undefined when it is not here. */
  removePodInfo(pod: Pod): PodInfo | undefined {
    const key = podKey(pod);
    const i = this.pods.findIndex((p) => podKey(p.pod) === key);
    if (i < 0) return undefined;
    const [info] = this.pods.splice(i, 1);
    for (const list of [this.podsWithAffinity, this.podsWithRequiredAntiAffinity]) {
      const j = list.indexOf(info!);
      if (j >= 0) list.splice(j, 1);
    }
    this.update(info!, -1);
    return info;
  }

  private update(info: PodInfo, sign: 1 | -1): void {
    this.requested.accumulate(info.requested, sign);
    this.nonZeroRequested.milliCPU += sign * info.nonZeroMilliCPU;
    this.nonZeroRequested.memory += sign * info.nonZeroMemory;
    for (const c of info.pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (sign > 0) this.usedPorts.add(p.hostIP, p.protocol, p.hostPort ?? 0);
        else this.usedPorts.remove(p.hostIP, p.protocol, p.hostPort ?? 0);
      }
    }
    this.generation++;
  }
}

/**
 * Nodes of a node list that hold pods with pod affinity or anti-affinity, and with required anti-affinity (upstream's
 * snapshot HavePodsWithAffinityList / HavePodsWithRequiredAntiAffinityList), so the affinity plugins visit only those
 * instead of every node. Registered for one list by whoever keeps it current (the scheduler cache); any other list
 * (test snapshots, preemption's what-if copies) has none and its nodes are walked.
 */
export interface AffinityNodeLists {
  withAffinity(): readonly NodeInfo[];
  withRequiredAntiAffinity(): readonly NodeInfo[];
}

const affinityNodeLists = new WeakMap<readonly NodeInfo[], AffinityNodeLists>();

export function registerAffinityNodeLists(nodes: readonly NodeInfo[], lists: AffinityNodeLists): void {
  affinityNodeLists.set(nodes, lists);
}

/** The nodes of `nodes` with pods with (anti-)affinity; from the registered lists when there are any. */
export function nodesWithAffinityPods(nodes: readonly NodeInfo[]): readonly NodeInfo[] {
  const lists = affinityNodeLists.get(nodes);
  return lists ? lists.withAffinity() : nodes.filter((n) => n.podsWithAffinity.length > 0);
}

/** The nodes of `nodes` with pods with required anti-affinity; from the registered lists when there are any. */
export function nodesWithRequiredAntiAffinityPods(nodes: readonly NodeInfo[]): readonly NodeInfo[] {
  const lists = affinityNodeLists.get(nodes);
  return lists ? lists.withRequiredAntiAffinity() : nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
}
