// Upstream's nominator: pods that preemption nominated to a node (status.nominatedNodeName) wait there, and the
// filters count them on that node for pods of lower or equal priority so the freed room is not taken by others.
import type { Pod } from 'kubernetes-types/core/v1.js';

const keyOf = (pod: Pod): string => pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

const NONE: readonly Pod[] = Object.freeze([]);

export class Nominator {
  /** node name -> pods nominated to it, by key. */
  private readonly byNode = new Map<string, Map<string, Pod>>();
  /** pod key -> the node it is nominated to. */
  private readonly nodeOf = new Map<string, string>();

  /**
   * Records `pod` as nominated to `nodeName`, or to its status.nominatedNodeName when no node is given (an empty
   * nodeName with no status nomination records nothing). A nomination replaces any earlier one of the same pod.
   */
  add(pod: Pod, nodeName?: string): void {
    this.delete(pod);
    const node = nodeName || pod.status?.nominatedNodeName || '';
    if (!node) return;
    const key = keyOf(pod);
    this.nodeOf.set(key, node);
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    pods.set(key, pod);
  }

  /**
   * A pending pod changed. Upstream keeps a nomination the scheduler made (and the status did not catch up with yet)
   * unless the new object states a different one or clears it as the old one had it.
   */
  update(oldPod: Pod | undefined, pod: Pod): void {
    const oldStatusNode = oldPod?.status?.nominatedNodeName ?? '';
    const newStatusNode = pod.status?.nominatedNodeName ?? '';
    let node = newStatusNode;
    if (!node && oldStatusNode === '') node = this.nodeOf.get(keyOf(pod)) ?? '';
    this.add(pod, node);
  }

  delete(pod: Pod): void {
    const key = keyOf(pod);
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const pods = this.byNode.get(node);
    pods?.delete(key);
    if (pods?.size === 0) this.byNode.delete(node);
  }

  nominatedNodeFor(pod: Pod): string | undefined {
    return this.nodeOf.get(keyOf(pod));
  }

  /** Pods nominated to the node (a fresh array, or a shared empty one: most nodes have none). */
  podsForNode(nodeName: string): readonly Pod[] {
    const pods = this.byNode.get(nodeName);
    return pods ? [...pods.values()] : NONE;
  }

  get size(): number {
    return this.nodeOf.size;
  }
}
