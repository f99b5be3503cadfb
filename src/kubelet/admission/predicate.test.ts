import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { PredicateAdmitHandler } from './predicate.js';

const node = (opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; extra?: Record<string, string>; taints?: Node['spec'] } = {}): Node => ({
  metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux', ...opts.labels } },
  ...(opts.taints ? { spec: opts.taints } : {}),
  status: { allocatable: { cpu: opts.cpu ?? '10m', memory: opts.memory ?? '20', pods: opts.pods ?? '32', ...opts.extra } },
});

let seq = 0;
function pod(opts: { cpu?: string; memory?: string; extra?: Record<string, string>; nodeName?: string; hostPort?: number; spec?: Partial<Pod['spec']>; labels?: Record<string, string>; priority?: number; static?: boolean } = {}): Pod {
  const requests = { ...(opts.cpu ? { cpu: opts.cpu } : {}), ...(opts.memory ? { memory: opts.memory } : {}), ...opts.extra };
  const c: Container = { name: 'c', image: 'busybox', ...(Object.keys(requests).length ? { resources: { requests } } : {}), ...(opts.hostPort ? { ports: [{ containerPort: 80, hostPort: opts.hostPort }] } : {}) };
  seq++;
  return {
    metadata: { name: `p${seq}`, namespace: 'default', uid: `u${seq}`, ...(opts.labels ? { labels: opts.labels } : {}), ...(opts.static ? { annotations: { 'kubernetes.io/config.source': 'file' } } : {}) },
    spec: { nodeName: opts.nodeName ?? 'n1', containers: [c], ...(opts.priority !== undefined ? { priority: opts.priority } : {}), ...opts.spec },
  };
}

function handler(n: Node | undefined, fresh?: Node) {
  const preempted: Pod[][] = [];
  let reads = 0;
  const h = new PredicateAdmitHandler({
    node: async (f) => (f ? (reads++, fresh ?? n) : n),
    preempt: async (pods) => void preempted.push(pods),
  });
  return { h, preempted, reads: () => reads };
}

test('upstream GeneralPredicates: a pod without requests, ports or node constraints always fits', async () => {
  const { h } = handler(node());
  assert.deepEqual(await h.admit(pod(), []), { admit: true });
});

test('not enough cpu and memory: the first shortage (cpu) with upstream message; the used amount is the admitted pods’ requests', async () => {
  const { h } = handler(node());
  const existing = pod({ cpu: '5m', memory: '19' });
  assert.deepEqual(await h.admit(pod({ cpu: '8m', memory: '10' }), [existing]), {
    admit: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 8, used: 5, capacity: 10",
  });
  assert.deepEqual(await h.admit(pod({ cpu: '1m', memory: '10' }), [existing]), {
    admit: false,
    reason: 'OutOfmemory',
    message: "Node didn't have enough resource: memory, requested: 10, used: 19, capacity: 20",
  });
  assert.deepEqual(await h.admit(pod({ cpu: '5m', memory: '1' }), [existing]), { admit: true });
});

test('too many pods: OutOfpods; an extended resource: OutOf<name>; one the node does not know is not checked', async () => {
  const { h } = handler(node({ pods: '1', extra: { 'example.com/gpu': '1' } }));
  assert.deepEqual(await h.admit(pod(), [pod()]), { admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1" });
  const { h: h2 } = handler(node({ extra: { 'example.com/gpu': '1' } }));
  assert.deepEqual(await h2.admit(pod({ extra: { 'example.com/gpu': '2' } }), []), {
    admit: false,
    reason: 'OutOfexample.com/gpu',
    message: "Node didn't have enough resource: example.com/gpu, requested: 2, used: 0, capacity: 1",
  });
  assert.deepEqual(await h2.admit(pod({ extra: { 'other.io/fpga': '3' } }), []), { admit: true });
  assert.deepEqual(await h2.admit(pod({ memory: '21' }), []), { admit: false, reason: 'OutOfmemory', message: "Node didn't have enough resource: memory, requested: 21, used: 0, capacity: 20" });
});

test('node name, node selector / required affinity and host ports: Predicate <Plugin> failed: <reason>', async () => {
  const { h } = handler(node({ labels: { zone: 'a' } }));
  assert.deepEqual(await h.admit(pod({ nodeName: 'n2' }), []), { admit: false, reason: 'NodeName', message: "Predicate NodeName failed: node(s) didn't match the requested node name" });
  assert.deepEqual(await h.admit(pod({ hostPort: 8080 }), [pod({ hostPort: 8080 })]), {
    admit: false,
    reason: 'NodePorts',
    message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
  });
  assert.deepEqual(await h.admit(pod({ hostPort: 8080 }), [pod({ hostPort: 8081 })]), { admit: true });
  assert.deepEqual(await h.admit(pod({ spec: { nodeSelector: { zone: 'a' } } }), []), { admit: true });
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }] } } };
  assert.deepEqual(await h.admit(pod({ spec: { affinity } }), []), {
    admit: false,
    reason: 'NodeAffinity',
    message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
  });
  // Resources come first, as upstream's reasons[0].
  const first = await h.admit(pod({ cpu: '11m', nodeName: 'n2' }), []);
  assert.equal(first.admit === false ? first.reason : '', 'OutOfcpu');
});

test('only node affinity failed: the Node is read again and the pod admitted when the fresh copy matches', async () => {
  const stale = node();
  const fresh = node({ labels: { zone: 'b' } });
  const { h, reads } = handler(stale, fresh);
  assert.deepEqual(await h.admit(pod({ spec: { nodeSelector: { zone: 'b' } } }), []), { admit: true });
  assert.equal(reads(), 1);
  const { h: h2, reads: reads2 } = handler(stale, fresh);
  assert.equal((await h2.admit(pod({ nodeName: 'n2' }), [])).admit, false);
  assert.equal(reads2(), 0);
});

test('NoExecute taints only: untolerated → TaintToleration; NoSchedule ignored; static pods exempt', async () => {
  const { h } = handler(node({ taints: { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }, { key: 'x', effect: 'NoSchedule' }] } }));
  assert.deepEqual(await h.admit(pod(), []), { admit: false, reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" });
  assert.deepEqual(await h.admit(pod({ spec: { tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }] } }), []), { admit: true });
  assert.deepEqual(await h.admit(pod({ static: true }), []), { admit: true });
});

test('OS checks, and no Node', async () => {
  const { h } = handler(node());
  assert.deepEqual(await h.admit(pod({ labels: { 'kubernetes.io/os': 'windows' } }), []), {
    admit: false,
    reason: 'PodOSSelectorNodeLabelDoesNotMatch',
    message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
  });
  assert.deepEqual(await h.admit(pod({ spec: { os: { name: 'windows' } } }), []), { admit: false, reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" });
  assert.deepEqual(await h.admit(pod({ spec: { os: { name: 'linux' } } }), []), { admit: true });
  const { h: none } = handler(undefined);
  assert.deepEqual(await none.admit(pod(), []), { admit: false, reason: 'InvalidNodeInfo', message: 'Kubelet cannot get node info.' });
});

test('a critical pod short of resources preempts lower pods (BestEffort first) and is admitted; other failures still refuse it', async () => {
  const { h, preempted } = handler(node({ cpu: '10m', memory: '100' }));
  const bestEffort = pod();
  const burstable = pod({ cpu: '6m' });
  const critical = pod({ cpu: '5m', priority: 2_000_000_000 });
  assert.deepEqual(await h.admit(critical, [bestEffort, burstable]), { admit: true });
  assert.deepEqual(preempted, [[burstable]]);
  // A static pod is critical too; nothing lower to free enough: upstream's UnexpectedAdmissionError.
  const staticPod = pod({ cpu: '20m', static: true });
  assert.deepEqual(await h.admit(staticPod, [burstable]), {
    admit: false,
    reason: 'UnexpectedAdmissionError',
    message: 'Unexpected error while attempting to recover from admission failure: preemption: error finding a set of pods to preempt: no set of running pods found to reclaim resources: [(res: cpu, q: 10), ]',
  });
  assert.deepEqual((await h.admit(pod({ cpu: '5m', priority: 2_000_000_000, nodeName: 'n2' }), [burstable])).admit, false);
  // Not critical: refused.
  assert.equal((await h.admit(pod({ cpu: '5m' }), [burstable])).admit, false);
});
