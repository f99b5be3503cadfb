// The in-tree plugins' registrations and queueing hints, with upstream's cases (each plugin's
// Test*isSchedulableAfter* tables), and the node/pod update classification the informer handlers use.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSIDriver, CSINode, CSIStorageCapacity, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import { ActionType, QueueingHint, eventMatches, nodeUpdateEvents, podUpdateEvents, type ClusterEvent } from '../framework/events.js';
import { buildQueueingHints } from '../framework/profile.js';
import { makeNode, makePod } from '../testing/builders.js';
import { buildProfiles } from '../scheduler.js';
import { InterPodAffinity } from './interpodaffinity/inter-pod-affinity.js';
import { NodeAffinity } from './nodeaffinity/node-affinity.js';
import { NodeName } from './nodename/node-name.js';
import { NodePorts } from './nodeports/node-ports.js';
import { NodeResourcesFit } from './noderesources/fit.js';
import { NodeUnschedulable } from './nodeunschedulable/node-unschedulable.js';
import { PodTopologySpread } from './podtopologyspread/pod-topology-spread.js';
import { SchedulingGates } from './schedulinggates/scheduling-gates.js';
import { TaintToleration } from './tainttoleration/taint-toleration.js';
import { VolumeRestrictions } from './volumerestrictions/volume-restrictions.js';
import { NodeVolumeLimits } from './nodevolumelimits/csi.js';
import { VolumeBinding } from './volumebinding/volume-binding.js';
import { VolumeZone } from './volumezone/volume-zone.js';

const { Queue, QueueSkip } = QueueingHint;

const assigned = (pod: Pod, node = 'node-a'): Pod => ({ ...pod, spec: { ...pod.spec!, nodeName: node } });
const labelled = (pod: Pod, labels: Record<string, string>): Pod => ({ ...pod, metadata: { ...pod.metadata, labels } });
const withLabels = (node: Node, labels: Record<string, string>): Node => ({ ...node, metadata: { ...node.metadata, labels } });

/** Which registered events of `plugin` match `event`. */
function registered(plugin: { eventsToRegister(): { event: ClusterEvent }[] }, event: ClusterEvent): boolean {
  return plugin.eventsToRegister().some((r) => eventMatches(r.event, event));
}

describe('event classification', () => {
  test('a node heartbeat is no event; each kind of change is its own', () => {
    const base: Node = {
      ...makeNode('n', { cpu: '4' }, { labels: { a: '1' } }),
      status: { allocatable: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z' }] },
    };
    const beat: Node = { ...base, status: { ...base.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:10Z' }] } };
    assert.deepEqual(nodeUpdateEvents(base, beat), []);
    const labels = (n: Node) => nodeUpdateEvents(base, n).map((e) => e.label);
    assert.deepEqual(labels(withLabels(base, { a: '2' })), ['NodeLabelChange']);
    assert.deepEqual(labels({ ...base, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }), ['NodeTaintChange']);
    assert.deepEqual(labels({ ...base, spec: { unschedulable: true } }), ['NodeSpecUnschedulableChange']);
    assert.deepEqual(labels({ ...base, status: { ...base.status, allocatable: { cpu: '8' } } }), ['NodeAllocatableChange']);
    assert.deepEqual(labels({ ...base, status: { ...base.status, conditions: [{ type: 'Ready', status: 'False' }] } }), ['NodeConditionChange']);
    assert.deepEqual(labels({ ...base, metadata: { ...base.metadata, annotations: { x: 'y' } } }), ['NodeAnnotationChange']);
    const both = nodeUpdateEvents(base, { ...withLabels(base, { a: '2' }), status: { ...base.status, allocatable: { cpu: '8' } } });
    assert.deepEqual(both.map((e) => e.actionType).sort(), [ActionType.UpdateNodeAllocatable, ActionType.UpdateNodeLabel].sort());
  });

  test('pod updates: labels, scale-down, tolerations, gates removed, else other', () => {
    const p = makePod({ name: 'p', requests: [{ cpu: '2' }] });
    const kinds = (n: Pod) => podUpdateEvents(p, n, 'AssignedPod').map((e) => e.actionType);
    assert.deepEqual(kinds(labelled(p, { a: 'b' })), [ActionType.UpdatePodLabel]);
    const smaller = makePod({ name: 'p', requests: [{ cpu: '1' }] });
    assert.deepEqual(kinds(smaller), [ActionType.UpdatePodScaleDown]);
    assert.deepEqual(podUpdateEvents(smaller, p, 'AssignedPod').map((e) => e.actionType), [ActionType.UpdateOther], 'growing is not a scale-down');
    assert.deepEqual(kinds({ ...p, spec: { ...p.spec!, tolerations: [{ operator: 'Exists' }] } }), [ActionType.UpdatePodTolerations]);
    const gated = { ...p, spec: { ...p.spec!, schedulingGates: [{ name: 'g' }] } };
    assert.deepEqual(podUpdateEvents(gated, p, 'UnschedulablePod').map((e) => e.actionType), [ActionType.UpdatePodSchedulingGatesEliminated]);
    assert.deepEqual(kinds({ ...p, status: { phase: 'Running' } }), [ActionType.UpdateOther]);
  });

  test('the default profile registers every rejecting plugin, with fine-grained events', () => {
    const profile = buildProfiles([{}]).get('default-scheduler')!;
    const hints = profile.queueingHints;
    for (const name of ['SchedulingGates', 'NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeRestrictions', 'NodeVolumeLimits', 'VolumeBinding', 'VolumeZone', 'PodTopologySpread', 'InterPodAffinity']) {
      const regs = hints.get(name);
      assert.ok(regs && regs.length > 0, `${name} registers events`);
      assert.ok(regs.every((r) => r.event.resource !== '*'), `${name} does not fall back to every event`);
    }
    // Score-only plugins never reject, so they are not asked.
    assert.equal(hints.has('ImageLocality'), false);
    // A plugin that declares nothing is moved by every event, as upstream.
    const bare = buildQueueingHints({
      preEnqueue: [],
      queueSort: [],
      preFilter: [],
      filter: [{ name: 'Custom', filter: () => undefined } as never],
      postFilter: [],
      preScore: [],
      score: [],
      reserve: [],
      permit: [],
      preBind: [],
      bind: [],
      postBind: [],
    });
    assert.equal(bare.get('Custom')?.[0]?.event.resource, '*');
  });
});

describe('NodeResourcesFit hints', () => {
  const fit = new NodeResourcesFit();
  const pod = makePod({ name: 'p', requests: [{ cpu: '2', memory: '1Gi' }] });
  const nodeAllocChange: ClusterEvent = { resource: 'Node', actionType: ActionType.UpdateNodeAllocatable, label: 'x' };
  const nodeLabelChange: ClusterEvent = { resource: 'Node', actionType: ActionType.UpdateNodeLabel, label: 'x' };
  test('registers pod delete/scale-down and node add/allocatable', () => {
    assert.ok(registered(fit, { resource: 'AssignedPod', actionType: ActionType.Delete, label: 'x' }));
    assert.ok(registered(fit, nodeAllocChange));
    assert.ok(!registered(fit, { resource: 'Node', actionType: ActionType.UpdateNodeCondition, label: 'x' }));
    assert.ok(!registered(fit, { resource: 'AssignedPod', actionType: ActionType.Add, label: 'x' }));
  });
  const podCases: [string, Pod | undefined, Pod | undefined, QueueingHint][] = [
    ['a scheduled pod deleted', assigned(makePod({ name: 'x', requests: [{ cpu: '1' }] })), undefined, Queue],
    ['an unscheduled pod deleted', makePod({ name: 'x', requests: [{ cpu: '1' }] }), undefined, QueueSkip],
    ['a scheduled pod scaled down in cpu', assigned(makePod({ name: 'x', requests: [{ cpu: '2' }] })), assigned(makePod({ name: 'x', requests: [{ cpu: '1' }] })), Queue],
    [
      'a scheduled pod scaled down in a resource the pod does not request',
      assigned(makePod({ name: 'x', requests: [{ 'example.com/gpu': '2' }] })),
      assigned(makePod({ name: 'x', requests: [{ 'example.com/gpu': '1' }] })),
      QueueSkip,
    ],
    ['an unscheduled pod scaled down', makePod({ name: 'x', requests: [{ cpu: '2' }] }), makePod({ name: 'x', requests: [{ cpu: '1' }] }), QueueSkip],
    ['the pod itself scaled down', pod, makePod({ name: 'p', requests: [{ cpu: '1', memory: '1Gi' }] }), Queue],
  ];
  for (const [name, oldObj, newObj, want] of podCases) {
    test(`pod event: ${name}`, () => assert.equal(fit.isSchedulableAfterPodEvent(pod, oldObj, newObj), want));
  }
  const small = makeNode('n', { cpu: '1', memory: '4Gi', pods: '110' });
  const big = makeNode('n', { cpu: '4', memory: '4Gi', pods: '110' });
  const nodeCases: [string, Node | undefined, Node, QueueingHint][] = [
    ['a node added that fits', undefined, big, Queue],
    ['a node added that does not fit', undefined, small, QueueSkip],
    ['allocatable grew so the pod fits', small, big, Queue],
    ['allocatable grew but still too small', small, makeNode('n', { cpu: '1500m', memory: '4Gi', pods: '110' }), QueueSkip],
    ['only labels changed on a node that fits', big, withLabels(big, { a: 'b' }), QueueSkip],
    ['a resource the pod does not request grew', big, makeNode('n', { cpu: '4', memory: '4Gi', pods: '110', 'example.com/gpu': '1' }), QueueSkip],
  ];
  for (const [name, oldObj, newObj, want] of nodeCases) {
    test(`node event: ${name}`, () => assert.equal(fit.isSchedulableAfterNodeChange(pod, oldObj, newObj), want));
  }
  test('a hint given something that is not an object throws (the queue then queues the pod)', () => {
    assert.throws(() => fit.isSchedulableAfterNodeChange(pod, undefined, 'node'));
  });
  test('registration excludes condition updates; a label update is registered but the hint skips it', () => {
    assert.ok(registered(fit, nodeLabelChange));
    assert.equal(fit.isSchedulableAfterNodeChange(pod, big, withLabels(big, { zone: 'z' })), QueueSkip);
  });
});

describe('TaintToleration hints', () => {
  const tt = new TaintToleration();
  const pod = makePod({ name: 'p', spec: { tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'NoSchedule' }] } });
  const taint = (key: string, value: string, effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' = 'NoSchedule') => ({ key, value, effect });
  const cases: [string, Node | undefined, Node | undefined, QueueingHint][] = [
    ['a node added with a tolerated taint', undefined, makeNode('n', {}, { taints: [taint('foo', 'bar')] }), Queue],
    ['a node added with an untolerated taint', undefined, makeNode('n', {}, { taints: [taint('baz', 'x')] }), QueueSkip],
    ['an untolerated taint removed', makeNode('n', {}, { taints: [taint('baz', 'x')] }), makeNode('n', {}), Queue],
    ['an untolerated taint replaced by a tolerated one', makeNode('n', {}, { taints: [taint('baz', 'x')] }), makeNode('n', {}, { taints: [taint('foo', 'bar')] }), Queue],
    ['a tolerated taint added to a node already tolerated', makeNode('n', {}), makeNode('n', {}, { taints: [taint('foo', 'bar')] }), QueueSkip],
    ['another untolerated taint stays', makeNode('n', {}, { taints: [taint('baz', 'x'), taint('qux', 'y')] }), makeNode('n', {}, { taints: [taint('qux', 'y')] }), QueueSkip],
    ['a PreferNoSchedule taint never blocks', makeNode('n', {}, { taints: [taint('baz', 'x')] }), makeNode('n', {}, { taints: [taint('baz', 'x', 'PreferNoSchedule')] }), Queue],
    ['a deleted node', makeNode('n', {}), undefined, QueueSkip],
  ];
  for (const [name, oldObj, newObj, want] of cases) {
    test(name, () => assert.equal(tt.isSchedulableAfterNodeChange(pod, oldObj, newObj), want));
  }
  test('the pod\'s own toleration change queues it; another pod\'s does not', () => {
    assert.equal(tt.isSchedulableAfterPodTolerationChange(pod, pod, { ...pod, spec: { ...pod.spec!, tolerations: [] } }), Queue);
    const other = makePod({ name: 'other' });
    assert.equal(tt.isSchedulableAfterPodTolerationChange(pod, other, other), QueueSkip);
  });
});

describe('NodeAffinity hints', () => {
  const na = new NodeAffinity();
  const pod = makePod({ name: 'p', spec: { nodeSelector: { foo: 'bar' } } });
  const cases: [string, Node | undefined, Node, QueueingHint][] = [
    ['a node added that matches', undefined, makeNode('n', {}, { labels: { foo: 'bar' } }), Queue],
    ['a node added that does not match', undefined, makeNode('n', {}, { labels: { foo: 'baz' } }), QueueSkip],
    ['labels changed so the node now matches', makeNode('n', {}, { labels: { foo: 'baz' } }), makeNode('n', {}, { labels: { foo: 'bar' } }), Queue],
    ['labels changed, still no match', makeNode('n', {}, { labels: { foo: 'baz' } }), makeNode('n', {}, { labels: { foo: 'qux' } }), QueueSkip],
    ['labels changed, matched before too', makeNode('n', {}, { labels: { foo: 'bar' } }), makeNode('n', {}, { labels: { foo: 'bar', x: 'y' } }), QueueSkip],
  ];
  for (const [name, oldObj, newObj, want] of cases) {
    test(name, () => assert.equal(na.isSchedulableAfterNodeChange(pod, oldObj, newObj), want));
  }
  test('the scheduler-enforced affinity must match too', () => {
    const enforced = new NodeAffinity({
      addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } },
    });
    assert.equal(enforced.isSchedulableAfterNodeChange(pod, undefined, makeNode('n', {}, { labels: { foo: 'bar' } })), QueueSkip);
    assert.equal(enforced.isSchedulableAfterNodeChange(pod, undefined, makeNode('n', {}, { labels: { foo: 'bar', zone: 'z1' } })), Queue);
  });
});

describe('NodeUnschedulable, NodeName, NodePorts, SchedulingGates hints', () => {
  const nu = new NodeUnschedulable();
  const pod = makePod({ name: 'p' });
  test('NodeUnschedulable: queued when a node becomes schedulable', () => {
    assert.equal(nu.isSchedulableAfterNodeChange(pod, undefined, makeNode('n', {})), Queue);
    assert.equal(nu.isSchedulableAfterNodeChange(pod, undefined, makeNode('n', {}, { unschedulable: true })), QueueSkip);
    assert.equal(nu.isSchedulableAfterNodeChange(pod, makeNode('n', {}, { unschedulable: true }), makeNode('n', {})), Queue);
    assert.equal(nu.isSchedulableAfterNodeChange(pod, makeNode('n', {}), makeNode('n', {}, { taints: [{ key: 'k', effect: 'NoSchedule' }] })), QueueSkip);
    const tolerating = { ...pod, spec: { ...pod.spec!, tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } };
    assert.equal(nu.isSchedulableAfterPodTolerationChange(pod, pod, tolerating), Queue);
    assert.equal(nu.isSchedulableAfterPodTolerationChange(pod, pod, pod), QueueSkip);
  });
  test('NodeName: only the named node appearing', () => {
    const named = { ...pod, spec: { ...pod.spec!, nodeName: 'want' } };
    const nn = new NodeName();
    assert.equal(nn.isSchedulableAfterNodeAdd(named, undefined, makeNode('want', {})), Queue);
    assert.equal(nn.isSchedulableAfterNodeAdd(named, undefined, makeNode('other', {})), QueueSkip);
  });
  test('NodePorts: a deleted scheduled pod that held a wanted host port', () => {
    const np = new NodePorts();
    const withPort = (name: string, hostPort: number, hostIP?: string): Pod => {
      const p = makePod({ name });
      return { ...p, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, ...(hostIP ? { hostIP } : {}) }] }] } };
    };
    const wants = withPort('p', 8080);
    assert.equal(np.isSchedulableAfterPodDeleted(wants, assigned(withPort('x', 8080)), undefined), Queue);
    assert.equal(np.isSchedulableAfterPodDeleted(wants, assigned(withPort('x', 9090)), undefined), QueueSkip);
    assert.equal(np.isSchedulableAfterPodDeleted(wants, withPort('x', 8080), undefined), QueueSkip, 'an unscheduled pod held nothing');
    assert.equal(np.isSchedulableAfterPodDeleted(withPort('p', 8080, '127.0.0.1'), assigned(withPort('x', 8080, '127.0.0.2')), undefined), QueueSkip);
  });
  test('SchedulingGates: the pod\'s own gates removed', () => {
    const sg = new SchedulingGates();
    assert.ok(registered(sg, podUpdateEvents({ ...pod, spec: { ...pod.spec!, schedulingGates: [{ name: 'g' }] } }, pod, 'UnschedulablePod')[0]!));
    assert.equal(sg.isSchedulableAfterUpdatePodSchedulingGatesEliminated(pod, pod, pod), Queue);
    assert.equal(sg.isSchedulableAfterUpdatePodSchedulingGatesEliminated(pod, undefined, makePod({ name: 'other' })), QueueSkip);
  });
});

describe('PodTopologySpread hints', () => {
  const pts = new PodTopologySpread({ defaultingType: 'List' });
  const pod = labelled(
    makePod({
      name: 'p',
      spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { foo: 'a' } } }] },
    }),
    { foo: 'a' },
  );
  const podCases: [string, Pod | undefined, Pod | undefined, QueueingHint][] = [
    ['a matching scheduled pod added', undefined, assigned(labelled(makePod({ name: 'x' }), { foo: 'a' })), Queue],
    ['an unscheduled matching pod added', undefined, labelled(makePod({ name: 'x' }), { foo: 'a' }), QueueSkip],
    ['a non-matching scheduled pod added', undefined, assigned(labelled(makePod({ name: 'x' }), { foo: 'b' })), QueueSkip],
    ['a matching scheduled pod in another namespace', undefined, assigned(labelled(makePod({ name: 'x', namespace: 'other' }), { foo: 'a' })), QueueSkip],
    ['a matching scheduled pod deleted', assigned(labelled(makePod({ name: 'x' }), { foo: 'a' })), undefined, Queue],
    ['labels changed so it stops matching', assigned(labelled(makePod({ name: 'x' }), { foo: 'a' })), assigned(labelled(makePod({ name: 'x' }), { foo: 'b' })), Queue],
    ['labels changed, matching neither before nor after', assigned(labelled(makePod({ name: 'x' }), { foo: 'b' })), assigned(labelled(makePod({ name: 'x' }), { foo: 'c' })), QueueSkip],
  ];
  for (const [name, oldObj, newObj, want] of podCases) {
    test(`pod event: ${name}`, () => assert.equal(pts.isSchedulableAfterPodChange(pod, oldObj, newObj), want));
  }
  const nodeCases: [string, Node | undefined, Node | undefined, QueueingHint][] = [
    ['a node with the topology key added', undefined, makeNode('n', {}, { labels: { zone: 'z1' } }), Queue],
    ['a node without the key added', undefined, makeNode('n', {}, { labels: { foo: 'x' } }), QueueSkip],
    ['a node with the key deleted', makeNode('n', {}, { labels: { zone: 'z1' } }), undefined, Queue],
    ['the topology value changed', makeNode('n', {}, { labels: { zone: 'z1' } }), makeNode('n', {}, { labels: { zone: 'z2' } }), Queue],
    ['an unrelated label changed', makeNode('n', {}, { labels: { zone: 'z1' } }), makeNode('n', {}, { labels: { zone: 'z1', x: 'y' } }), QueueSkip],
    ['the key added to a node', makeNode('n', {}), makeNode('n', {}, { labels: { zone: 'z1' } }), Queue],
  ];
  for (const [name, oldObj, newObj, want] of nodeCases) {
    test(`node event: ${name}`, () => assert.equal(pts.isSchedulableAfterNodeChange(pod, oldObj, newObj), want));
  }
});

describe('InterPodAffinity hints', () => {
  const ipa = new InterPodAffinity();
  const term = { topologyKey: 'zone', labelSelector: { matchLabels: { app: 'db' } } };
  const affinityPod = makePod({ name: 'p', spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } });
  const antiPod = labelled(makePod({ name: 'q', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } }), { app: 'web' });
  const db = assigned(labelled(makePod({ name: 'db' }), { app: 'db' }));
  const other = assigned(labelled(makePod({ name: 'o' }), { app: 'other' }));
  test('pod events for required affinity', () => {
    assert.equal(ipa.isSchedulableAfterPodChange(affinityPod, undefined, db), Queue, 'a matching pod added');
    assert.equal(ipa.isSchedulableAfterPodChange(affinityPod, undefined, other), QueueSkip);
    assert.equal(ipa.isSchedulableAfterPodChange(affinityPod, other, labelled(other, { app: 'db' })), Queue, 'labels now match');
    assert.equal(ipa.isSchedulableAfterPodChange(affinityPod, db, undefined), QueueSkip, 'a matching pod leaving does not help affinity');
    assert.equal(ipa.isSchedulableAfterPodChange(affinityPod, undefined, labelled(makePod({ name: 'u' }), { app: 'db' })), QueueSkip, 'unscheduled pods do not count');
  });
  test('pod events for anti-affinity', () => {
    assert.equal(ipa.isSchedulableAfterPodChange(antiPod, db, undefined), Queue, 'a pod it avoids deleted');
    assert.equal(ipa.isSchedulableAfterPodChange(antiPod, other, undefined), QueueSkip);
    assert.equal(ipa.isSchedulableAfterPodChange(antiPod, db, labelled(db, { app: 'x' })), Queue, 'a pod it avoids stops matching');
    assert.equal(ipa.isSchedulableAfterPodChange(antiPod, undefined, db), QueueSkip, 'another avoided pod added');
    // An existing pod whose own anti-affinity kept the pod out goes away.
    const avoider = assigned(makePod({ name: 'a', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchLabels: { app: 'web' } } }] } } } }));
    assert.equal(ipa.isSchedulableAfterPodChange(antiPod, avoider, undefined), Queue);
  });
  test('node events', () => {
    assert.equal(ipa.isSchedulableAfterNodeChange(affinityPod, undefined, makeNode('n', {}, { labels: { zone: 'z' } })), Queue);
    assert.equal(ipa.isSchedulableAfterNodeChange(affinityPod, undefined, makeNode('n', {}, { labels: { x: 'y' } })), QueueSkip);
    assert.equal(ipa.isSchedulableAfterNodeChange(antiPod, makeNode('n', {}, { labels: { zone: 'z1' } }), makeNode('n', {}, { labels: { zone: 'z2' } })), Queue);
    assert.equal(ipa.isSchedulableAfterNodeChange(antiPod, makeNode('n', {}, { labels: { zone: 'z1' } }), makeNode('n', {}, { labels: { zone: 'z1', x: 'y' } })), QueueSkip);
  });
});

describe('volume plugin hints', () => {
  const claimPod = (name: string, claim: string): Pod => ({ ...makePod({ name }), spec: { containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }] } });
  const pvc = (name: string, namespace = 'default'): PersistentVolumeClaim => ({ metadata: { name, namespace } });
  test('claim events queue only pods using the claim', () => {
    const vr = new VolumeRestrictions();
    const reg = vr.eventsToRegister().find((r) => r.event.resource === 'PersistentVolumeClaim')!;
    const pod = claimPod('p', 'data');
    assert.equal(reg.queueingHintFn!(pod, undefined, pvc('data')), Queue);
    assert.equal(reg.queueingHintFn!(pod, undefined, pvc('other')), QueueSkip);
    assert.equal(reg.queueingHintFn!(pod, undefined, pvc('data', 'elsewhere')), QueueSkip);
  });
  test('VolumeRestrictions: a deleted scheduled pod sharing the claim', () => {
    const vr = new VolumeRestrictions();
    assert.equal(vr.isSchedulableAfterPodDeleted(claimPod('p', 'data'), assigned(claimPod('x', 'data')), undefined), Queue);
    assert.equal(vr.isSchedulableAfterPodDeleted(claimPod('p', 'data'), assigned(claimPod('x', 'other')), undefined), QueueSkip);
  });
  test('NodeVolumeLimits: a deleted scheduled pod with claim volumes', () => {
    const nvl = new NodeVolumeLimits();
    assert.equal(nvl.isSchedulableAfterPodDeleted(claimPod('p', 'data'), assigned(claimPod('x', 'other')), undefined), Queue);
    assert.equal(nvl.isSchedulableAfterPodDeleted(claimPod('p', 'data'), assigned(makePod({ name: 'x' })), undefined), QueueSkip);
  });
  test('VolumeZone: a new class only if it waits for the first consumer; volumes that appear or change zone labels', () => {
    const vz = new VolumeZone();
    const pod = claimPod('p', 'data');
    const hintFor = (resource: string) => vz.eventsToRegister().find((r) => r.event.resource === resource)!.queueingHintFn!;
    const sc = (mode?: string) => ({ metadata: { name: 'c' }, provisioner: 'x', ...(mode ? { volumeBindingMode: mode } : {}) });
    assert.equal(hintFor('StorageClass')(pod, undefined, sc('WaitForFirstConsumer')), Queue);
    assert.equal(hintFor('StorageClass')(pod, undefined, sc('Immediate')), QueueSkip);
    assert.equal(hintFor('StorageClass')(pod, undefined, sc()), QueueSkip);
    const pv = (labels: Record<string, string>): PersistentVolume => ({ metadata: { name: 'pv', labels }, spec: {} });
    const zoneA = pv({ 'topology.kubernetes.io/zone': 'a', other: '1' });
    assert.equal(hintFor('PersistentVolume')(pod, undefined, zoneA), Queue);
    assert.equal(hintFor('PersistentVolume')(pod, zoneA, pv({ 'topology.kubernetes.io/zone': 'b', other: '1' })), Queue);
    assert.equal(hintFor('PersistentVolume')(pod, pv({ 'topology.kubernetes.io/zone': 'a__b' }), pv({ 'topology.kubernetes.io/zone': 'b__a' })), QueueSkip, 'same zone set');
    assert.equal(hintFor('PersistentVolume')(pod, zoneA, pv({ 'topology.kubernetes.io/zone': 'a', 'topology.kubernetes.io/region': 'r' })), Queue, 'region added');
    assert.equal(hintFor('PersistentVolume')(pod, zoneA, pv({ 'topology.kubernetes.io/zone': 'a', other: '2' })), QueueSkip, 'other labels only');
    // Claim events: only the pod's own claims.
    assert.equal(hintFor('PersistentVolumeClaim')(pod, undefined, pvc('data')), Queue);
    assert.equal(hintFor('PersistentVolumeClaim')(pod, undefined, pvc('other')), QueueSkip);
  });
  test('NodeVolumeLimits: CSINode add always; an update only when a driver appears or its limit grows', () => {
    const nvl = new NodeVolumeLimits();
    const pod = claimPod('p', 'data');
    const csi = (drivers: { name: string; count?: number }[]): CSINode => ({
      metadata: { name: 'n' },
      spec: { drivers: drivers.map((d) => ({ name: d.name, nodeID: 'n', ...(d.count !== undefined ? { allocatable: { count: d.count } } : {}) })) },
    });
    const regs = nvl.eventsToRegister().filter((r) => r.event.resource === 'CSINode');
    assert.ok(regs.some((r) => r.event.actionType === ActionType.Add && !r.queueingHintFn));
    const update = regs.find((r) => r.event.actionType !== ActionType.Add)!.queueingHintFn!;
    const two = csi([{ name: 'd1', count: 2 }]);
    assert.equal(update(pod, two, csi([{ name: 'd1', count: 3 }])), Queue, 'limit grew');
    assert.equal(update(pod, two, csi([{ name: 'd1', count: 2 }, { name: 'd2', count: 1 }])), Queue, 'driver added');
    assert.equal(update(pod, two, csi([{ name: 'd1' }])), Queue, 'limit removed');
    assert.equal(update(pod, two, csi([{ name: 'd1', count: 1 }])), QueueSkip, 'limit shrank');
    assert.equal(update(pod, two, { ...two, metadata: { name: 'n', labels: { a: 'b' } } }), QueueSkip, 'labels only');
    assert.equal(update(pod, two, csi([])), QueueSkip, 'driver gone');
  });
  test('VolumeBinding: class updates only through allowed topologies; CSINode add or migrated plugins', () => {
    const vb = new VolumeBinding();
    const pod = claimPod('p', 'data');
    const sc = { metadata: { name: 'fast' }, provisioner: 'x' };
    const zoned = { ...sc, allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['z1'] }] }] };
    assert.equal(vb.isSchedulableAfterStorageClassChange(pod, undefined, sc), Queue);
    assert.equal(vb.isSchedulableAfterStorageClassChange(pod, sc, zoned), Queue);
    assert.equal(vb.isSchedulableAfterStorageClassChange(pod, sc, { ...sc, metadata: { name: 'fast', labels: { a: 'b' } } }), QueueSkip);
    const csi = { metadata: { name: 'n' }, spec: { drivers: [] } };
    assert.equal(vb.isSchedulableAfterCSINodeChange(pod, undefined, csi), Queue);
    assert.equal(vb.isSchedulableAfterCSINodeChange(pod, csi, { ...csi, metadata: { name: 'n', annotations: { 'storage.alpha.kubernetes.io/migrated-plugins': 'kubernetes.io/gce-pd' } } }), Queue);
    assert.equal(vb.isSchedulableAfterCSINodeChange(pod, csi, { ...csi, metadata: { name: 'n', labels: { a: 'b' } } }), QueueSkip);
    // Add is registered without a hint; an update goes through the hint.
    assert.ok(vb.eventsToRegister().some((r) => r.event.resource === 'StorageClass' && r.event.actionType === ActionType.Add && !r.queueingHintFn));
  });
  // Upstream's TestIsSchedulableAfterCSIStorageCapacityChange.
  test('VolumeBinding: a CSIStorageCapacity of one of the pod\'s claim classes, new or with a larger volume limit', () => {
    const claims: PersistentVolumeClaim[] = [
      { metadata: { name: 'pvc-a', namespace: 'default' }, spec: { storageClassName: 'sc-a' } },
      { metadata: { name: 'pvc-b', namespace: 'default' }, spec: { storageClassName: 'sc-b' } },
      { metadata: { name: 'pod-e-eph', namespace: 'default' }, spec: { storageClassName: 'sc-a' } },
    ];
    const vb = new VolumeBinding({}, { getPVC: (ns, n) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === n) });
    const two: Pod = { ...makePod({ name: 'p' }), spec: { containers: [], volumes: [{ name: 'a', persistentVolumeClaim: { claimName: 'pvc-a' } }, { name: 'b', persistentVolumeClaim: { claimName: 'pvc-b' } }] } };
    const ephemeral: Pod = { ...makePod({ name: 'pod-e' }), spec: { containers: [], volumes: [{ name: 'eph', ephemeral: { volumeClaimTemplate: { spec: {} } } }] } };
    const none: Pod = { ...makePod({ name: 'p' }), spec: { containers: [], volumes: [{ name: 'e', emptyDir: {} }] } };
    const missing = claimPod('p', 'nope');
    const cap = (cls: string, o: { capacity?: string; maximumVolumeSize?: string } = {}): CSIStorageCapacity => ({ metadata: { name: 'cap', namespace: 'default' }, storageClassName: cls, ...o });
    const hint = (pod: Pod, o: CSIStorageCapacity | undefined, n: CSIStorageCapacity) => vb.isSchedulableAfterCSIStorageCapacityChange(pod, o, n);
    assert.equal(hint(none, cap('sc-a'), cap('sc-a')), QueueSkip, 'no claims');
    assert.equal(hint(two, cap('sc-b'), cap('sc-b')), QueueSkip, 'unchanged');
    assert.equal(hint(two, undefined, cap('sc-b')), Queue, 'new capacity for a claim class');
    assert.equal(hint(two, undefined, cap('sc-other')), QueueSkip, 'new capacity for another class');
    assert.equal(hint(ephemeral, cap('sc-a', { capacity: '1Gi' }), cap('sc-a', { capacity: '2Gi' })), Queue, 'capacity grew (ephemeral claim)');
    assert.equal(hint(two, cap('sc-b', { maximumVolumeSize: '1Gi' }), cap('sc-b', { maximumVolumeSize: '2Gi' })), Queue, 'maximumVolumeSize grew');
    assert.equal(hint(two, cap('sc-b', { capacity: '2Gi' }), cap('sc-b', { capacity: '1Gi' })), QueueSkip, 'shrank');
    assert.equal(hint(two, cap('sc-b', { capacity: '5Gi', maximumVolumeSize: '1Gi' }), cap('sc-b', { capacity: '9Gi', maximumVolumeSize: '1Gi' })), QueueSkip, 'maximumVolumeSize decides');
    assert.equal(hint(two, cap('sc-b'), cap('sc-b', { capacity: '1Gi' })), Queue, 'capacity appeared');
    assert.throws(() => hint(missing, cap('sc-a'), cap('sc-a')), /not found/, 'a missing claim throws (the queue then queues the pod)');
    assert.ok(vb.eventsToRegister().some((r) => r.event.resource === 'CSIStorageCapacity' && (r.event.actionType & ActionType.Add) !== 0 && r.queueingHintFn));
  });
  test('VolumeBinding: a CSIDriver update queues only when capacity tracking is turned off for an inline CSI volume of it', () => {
    const vb = new VolumeBinding();
    const inline: Pod = { ...makePod({ name: 'p' }), spec: { containers: [], volumes: [{ name: 'v', csi: { driver: 'd.example.com' } }] } };
    const driver = (storageCapacity?: boolean, name = 'd.example.com'): CSIDriver => ({ metadata: { name }, spec: { ...(storageCapacity !== undefined ? { storageCapacity } : {}) } });
    assert.equal(vb.isSchedulableAfterCSIDriverChange(inline, driver(true), driver(false)), Queue);
    assert.equal(vb.isSchedulableAfterCSIDriverChange(inline, driver(true), driver()), Queue);
    assert.equal(vb.isSchedulableAfterCSIDriverChange(inline, driver(false), driver(true)), QueueSkip);
    assert.equal(vb.isSchedulableAfterCSIDriverChange(inline, driver(true, 'other'), driver(false, 'other')), QueueSkip);
    assert.equal(vb.isSchedulableAfterCSIDriverChange(claimPod('p', 'data'), driver(true), driver(false)), QueueSkip);
    const regs = vb.eventsToRegister().filter((r) => r.event.resource === 'CSIDriver');
    assert.equal(regs.length, 1);
    assert.equal(regs[0]!.event.actionType & (ActionType.Add | ActionType.Delete), 0, 'updates only, as upstream');
  });
  // Upstream's TestCSILimitsDeletedVolumeAttachmentQHint (without in-tree migration, which skiff does not translate).
  test('NodeVolumeLimits: a deleted VolumeAttachment queues pods with claim volumes', () => {
    const nvl = new NodeVolumeLimits();
    const va: VolumeAttachment = { metadata: { name: 'va-1' }, spec: { nodeName: 'n', attacher: 'test.storage.gke.io', source: { persistentVolumeName: 'pv1' } } };
    assert.equal(nvl.isSchedulableAfterVolumeAttachmentDeleted(claimPod('p', 'pvc1'), va, undefined), Queue);
    assert.equal(nvl.isSchedulableAfterVolumeAttachmentDeleted(makePod({ name: 'p' }), va, undefined), QueueSkip);
    const reg = nvl.eventsToRegister().find((r) => r.event.resource === 'VolumeAttachment')!;
    assert.equal(reg.event.actionType, ActionType.Delete);
  });
});
