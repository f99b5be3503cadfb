// Object builders for scheduler unit tests (like upstream's pkg/scheduler/testing wrappers).
import type { Container, Node, Pod, PodSpec, Taint } from 'kubernetes-types/core/v1.js';
import { NodeInfo } from '../framework/node-info.js';

let seq = 0;

/** A pod whose containers request the given resources, one container per entry (none by default, as upstream's MakePod). */
export function makePod(opts: { name?: string; namespace?: string; requests?: Record<string, string>[]; spec?: Partial<PodSpec> } = {}): Pod {
  const name = opts.name ?? `pod-${++seq}`;
  const containers: Container[] = (opts.requests ?? []).map((r, i) => ({
    name: `c${i}`,
    image: 'pause',
    ...(Object.keys(r).length ? { resources: { requests: r } } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', uid: `uid-${name}` },
    spec: { containers, ...opts.spec },
  };
}

/** A node with the given allocatable (and capacity), labels and taints. */
export function makeNode(name: string, allocatable: Record<string, string> = {}, opts: { labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: allocatable, allocatable },
  };
}

/** NodeInfos with each pod placed on the node its spec.nodeName names (upstream's snapshot in tests). */
export function nodeInfos(nodes: readonly Node[], pods: readonly Pod[] = []): NodeInfo[] {
  return nodes.map((n) => new NodeInfo(n, pods.filter((p) => p.spec?.nodeName === n.metadata?.name)));
}
