// Upstream's scheduler cache: NodeInfos built from the node and pod informers, plus pods the scheduler assumed onto a
// node before the API confirmed the binding, so the next cycle already counts them.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, newPodInfo, registerAffinityNodeLists } from './framework/node-info.js';
import { podResource, sameRequests, type PodResource } from './framework/resources.js';
import { podKey } from './queue.js';

interface PodState {
  pod: Pod;
  nodeName: string;
  /** Placed by the scheduler, not yet seen bound by the informer. */
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  /**
   * The nodes of the last nodeInfos() call, reused until a node is added or removed: NodeInfos are updated in place
   * and a cycle runs synchronously, so (unlike upstream's generation-based UpdateSnapshot, which copies changed
   * NodeInfos into a snapshot) a cycle needs no copy at all, only the list, which changes with the set of nodes.
   */
  private list: NodeInfo[] | undefined;
  /** NodeInfos holding pods with (anti-)affinity and with required anti-affinity, kept as pods come and go. */
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAntiAffinity = new Set<NodeInfo>();
  /** Those sets as lists of the current node list's members (existing nodes), rebuilt after a change. */
  private affinityLists: { withAffinity: NodeInfo[]; withRequiredAntiAffinity: NodeInfo[] } | undefined;

  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodes.get(name);
    if (info) {
      if (!info.node) this.list = undefined;
      info.setNode(node);
    } else {
      this.nodes.set(name, new NodeInfo(node));
      this.list = undefined;
    }
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  /** The node goes; its pods stay accounted for in case the node comes back (as upstream keeps them). */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodes.get(name);
    if (!info) return;
    if (info.pods.length === 0) this.nodes.delete(name);
    else info.node = undefined;
    this.list = undefined;
  }

  /** The scheduler decided `pod` goes to `nodeName`: count it there at once. */
  assumePod(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    if (this.pods.has(key)) throw new Error(`pod ${key} is in the cache, so can't be assumed`);
    const placed: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    this.pods.set(key, { pod: placed, nodeName, assumed: true });
    const info = this.nodeInfo(nodeName);
    // The requests of the queued pod object, which the cycle has just worked out.
    info.addPodInfo(newPodInfo(placed, podResource(pod)));
    this.podsChanged(info);
  }

  /** Binding failed: undo the assumption. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.pods.get(key);
    if (!state?.assumed) return;
    this.removeFromNode(state);
    this.pods.delete(key);
  }

  isAssumed(pod: Pod): boolean {
    return this.pods.get(podKey(pod))?.assumed ?? false;
  }

  /** An assigned pod seen by the informer; confirms an assumed pod (on whichever node the API says). */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const key = podKey(pod);
    const state = this.pods.get(key);
    const was = state ? this.removeFromNode(state) : undefined;
    this.pods.set(key, { pod, nodeName, assumed: false });
    const info = this.nodeInfo(nodeName);
    // A new version with the same requests (the bound assumed pod, a status update) keeps what was worked out for
    // the old one instead of parsing its quantities again.
    const resource: PodResource | undefined = was && state && sameRequests(state.pod, pod) ? was : undefined;
    info.addPodInfo(newPodInfo(pod, resource ?? podResource(pod)));
    this.podsChanged(info);
  }

  updatePod(pod: Pod): void {
    if (!pod.spec?.nodeName) {
      // Not bound (yet): only an assumption can be in the cache, and it stays until the bind answers.
      return;
    }
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.pods.get(key);
    if (!state) return;
    this.removeFromNode(state);
    this.pods.delete(key);
  }

  /** Nodes that exist, for a scheduling cycle; valid until the cache next changes. */
  nodeInfos(): readonly NodeInfo[] {
    if (this.list) return this.list;
    const out: NodeInfo[] = [];
    for (const info of this.nodes.values()) if (info.node) out.push(info);
    this.affinityLists = undefined;
    registerAffinityNodeLists(out, {
      withAffinity: () => this.currentAffinityLists().withAffinity,
      withRequiredAntiAffinity: () => this.currentAffinityLists().withRequiredAntiAffinity,
    });
    return (this.list = out);
  }

  private currentAffinityLists(): { withAffinity: NodeInfo[]; withRequiredAntiAffinity: NodeInfo[] } {
    if (this.affinityLists) return this.affinityLists;
    // Only nodes that exist, as the node list holds them (the plugins sum per topology domain: order does not matter).
    const existing = (set: Set<NodeInfo>) => [...set].filter((info) => info.node !== undefined);
    return (this.affinityLists = { withAffinity: existing(this.withAffinity), withRequiredAntiAffinity: existing(this.withRequiredAntiAffinity) });
  }

  /** Keeps the affinity node sets current after the pods of `info` changed. */
  private podsChanged(info: NodeInfo): void {
    const track = (set: Set<NodeInfo>, has: boolean) => {
      if (has === set.has(info)) return;
      if (has) set.add(info);
      else set.delete(info);
      this.affinityLists = undefined;
    };
    track(this.withAffinity, info.podsWithAffinity.length > 0);
    track(this.withRequiredAntiAffinity, info.podsWithRequiredAntiAffinity.length > 0);
  }

  get podCount(): number {
    return this.pods.size;
  }

  private nodeInfo(name: string): NodeInfo {
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo()));
    return info;
  }

  /** Takes the pod off its node; answers the PodInfo it had there. */
  private removeFromNode(state: PodState): PodResource | undefined {
    const info = this.nodes.get(state.nodeName);
    if (!info) return undefined;
    const removed = info.removePodInfo(state.pod);
    this.podsChanged(info);
    if (!info.node && info.pods.length === 0) this.nodes.delete(state.nodeName);
    return removed;
  }
}
