import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { selectorFromSet } from '../../../machinery/labels.js';
import { CycleState } from '../../framework/cycle-state.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, PodTopologySpread } from './pod-topology-spread.js';

const fooExists = { matchExpressions: [{ key: 'foo', operator: 'Exists' }] };
const spread = (maxSkew: number, topologyKey: string, whenUnsatisfiable = 'DoNotSchedule', extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew,
  topologyKey,
  whenUnsatisfiable,
  labelSelector: fooExists,
  ...extra,
});
const incoming = (constraints: TopologySpreadConstraint[], extra: Partial<Pod['spec']> = {}, labels: Record<string, string> = { foo: '' }): Pod => {
  const p = makePod({ name: 'p', spec: { topologySpreadConstraints: constraints, ...extra } });
  p.metadata!.labels = labels;
  return p;
};
const existing = (name: string, node: string, labels: Record<string, string> = { foo: '' }, namespace = 'default'): Pod => {
  const p = makePod({ name, namespace, spec: { nodeName: node } });
  p.metadata!.labels = labels;
  return p;
};
const node = (name: string, labels: Record<string, string>, extra: Partial<Node['spec']> = {}): Node => {
  const n = makeNode(name, {}, { labels });
  n.spec = { ...n.spec, ...extra };
  return n;
};
const fourNodes = () => [
  node('node-a', { zone: 'zone1', node: 'node-a' }),
  node('node-b', { zone: 'zone1', node: 'node-b' }),
  node('node-x', { zone: 'zone2', node: 'node-x' }),
  node('node-y', { zone: 'zone2', node: 'node-y' }),
];

/** Runs PreFilter and Filter on every node; 'S' success, 'U' Unschedulable, 'UU' UnschedulableAndUnresolvable. */
function filterAll(pod: Pod, nodes: Node[], pods: Pod[] = []): Record<string, string> {
  const plugin = new PodTopologySpread();
  const infos = nodeInfos(nodes, pods);
  const state = new CycleState();
  const pre = plugin.preFilter(state, pod, infos);
  assert.equal(pre.status, undefined);
  const code = (c: Code | undefined) => (c === undefined ? 'S' : c === Code.Unschedulable ? 'U' : c === Code.UnschedulableAndUnresolvable ? 'UU' : String(c));
  return Object.fromEntries(infos.map((n) => [n.name, code(plugin.filter(state, pod, n)?.code)]));
}

describe('PodTopologySpread filter (upstream TestSingleConstraint / TestMultipleConstraints)', () => {
  test('no existing pods: all nodes fit', () => {
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), fourNodes()), { 'node-a': 'S', 'node-b': 'S', 'node-x': 'S', 'node-y': 'S' });
  });
  test('no existing pods, incoming pod does not match itself', () => {
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')], {}, {}), fourNodes()), { 'node-a': 'S', 'node-b': 'S', 'node-x': 'S', 'node-y': 'S' });
  });
  test('existing pods in a different namespace do not count', () => {
    const pods = [existing('p-a1', 'node-a', { foo: '' }, 'ns1'), existing('p-a2', 'node-a'), existing('p-x1', 'node-x', { foo: '' }, 'ns2'), existing('p-y1', 'node-y'), existing('p-y2', 'node-y')];
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), fourNodes(), pods), { 'node-a': 'S', 'node-b': 'S', 'node-x': 'U', 'node-y': 'U' });
  });
  test('pods spread across zones as 3/3, all nodes fit', () => {
    const pods = ['a', 'a', 'b', 'x', 'y', 'y'].map((n, i) => existing(`p${i}`, `node-${n}`));
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), fourNodes(), pods), { 'node-a': 'S', 'node-b': 'S', 'node-x': 'S', 'node-y': 'S' });
  });
  test("pods spread across zones as 1/2 due to absence of label 'zone' on node-b", () => {
    const nodes = fourNodes();
    nodes[1]!.metadata!.labels = { zon: 'zone1', node: 'node-b' };
    const pods = ['a', 'b', 'x', 'y'].map((n, i) => existing(`p${i}`, `node-${n}`));
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), nodes, pods), { 'node-a': 'S', 'node-b': 'UU', 'node-x': 'U', 'node-y': 'U' });
  });
  test("all nodes lack label 'rack'", () => {
    const plugin = new PodTopologySpread();
    const infos = nodeInfos(fourNodes().slice(0, 1));
    const state = new CycleState();
    const pod = incoming([spread(1, 'rack')]);
    plugin.preFilter(state, pod, infos);
    assert.deepEqual(plugin.filter(state, pod, infos[0]!)?.reasons, [ERR_REASON_NODE_LABEL_NOT_MATCH]);
  });
  test('pods spread across nodes as 2/1/0/3, only node-x fits', () => {
    const pods = ['a', 'a', 'b', 'y', 'y', 'y'].map((n, i) => existing(`p${i}`, `node-${n}`));
    assert.deepEqual(filterAll(incoming([spread(1, 'node')]), fourNodes(), pods), { 'node-a': 'U', 'node-b': 'U', 'node-x': 'S', 'node-y': 'U' });
  });
  test('pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit', () => {
    const pods = ['a', 'a', 'b', 'y', 'y', 'y'].map((n, i) => existing(`p${i}`, `node-${n}`));
    assert.deepEqual(filterAll(incoming([spread(2, 'node')]), fourNodes(), pods), { 'node-a': 'U', 'node-b': 'S', 'node-x': 'S', 'node-y': 'U' });
  });
  test('terminating pods are not counted', () => {
    const gone = existing('p-y1', 'node-y');
    gone.metadata = { ...gone.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' };
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), fourNodes(), [existing('p-a1', 'node-a'), gone]), { 'node-a': 'U', 'node-b': 'U', 'node-x': 'S', 'node-y': 'S' });
  });
  test('two constraints: zone and node, only node-x fits', () => {
    const pods = ['a', 'y', 'b', 'b', 'y', 'y'].map((n, i) => existing(`p${i}`, `node-${n}`));
    // Zones 3/3 allow any; nodes a1 b2 x0 y3 with maxSkew 1 leave node-x (and node-a: 1+1-0 = 2 > 1, no).
    assert.deepEqual(filterAll(incoming([spread(1, 'zone'), spread(1, 'node')]), fourNodes(), pods), { 'node-a': 'U', 'node-b': 'U', 'node-x': 'S', 'node-y': 'U' });
  });
  test('minDomains: fewer domains than required makes the global minimum 0', () => {
    const nodes = fourNodes().slice(0, 2);
    const pods = [existing('p0', 'node-a')];
    // Two node domains with counts 1 and 0: min 0 either way; with zone (one domain) min would be 1 without minDomains.
    assert.deepEqual(filterAll(incoming([spread(1, 'zone')]), nodes, pods), { 'node-a': 'S', 'node-b': 'S' });
    assert.deepEqual(filterAll(incoming([spread(1, 'zone', 'DoNotSchedule', { minDomains: 2 })]), nodes, pods), { 'node-a': 'U', 'node-b': 'U' });
  });
  test('nodeAffinityPolicy Honor (default) leaves nodes the pod cannot use out of the domains', () => {
    const pods = [existing('p0', 'node-a'), existing('p1', 'node-b')];
    const pod = incoming([spread(1, 'zone')], { nodeSelector: { zone: 'zone1' } });
    // zone2 is not a domain, so zone1's count 2 is the minimum and it still fits.
    assert.equal(filterAll(pod, fourNodes(), pods)['node-a'], 'S');
    const ignore = incoming([spread(1, 'zone', 'DoNotSchedule', { nodeAffinityPolicy: 'Ignore' })], { nodeSelector: { zone: 'zone1' } });
    assert.equal(filterAll(ignore, fourNodes(), pods)['node-a'], 'U');
  });
  test('nodeTaintsPolicy Honor leaves untolerated tainted nodes out of the domains', () => {
    const nodes = fourNodes();
    for (const n of nodes.slice(2)) n.spec = { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] };
    const pods = [existing('p0', 'node-a')];
    assert.equal(filterAll(incoming([spread(1, 'zone')]), nodes, pods)['node-a'], 'U');
    assert.equal(filterAll(incoming([spread(1, 'zone', 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' })]), nodes, pods)['node-a'], 'S');
  });
  test('matchLabelKeys narrow the selector to pods with the same label values', () => {
    const pods = [existing('p0', 'node-a', { foo: '', rev: 'old' }), existing('p1', 'node-a', { foo: '', rev: 'old' })];
    const pod = incoming([spread(1, 'zone', 'DoNotSchedule', { matchLabelKeys: ['rev'] })], {}, { foo: '', rev: 'new' });
    assert.equal(filterAll(pod, fourNodes(), pods)['node-a'], 'S');
    assert.equal(filterAll(incoming([spread(1, 'zone')], {}, { foo: '', rev: 'new' }), fourNodes(), pods)['node-a'], 'U');
  });
  test('pods without DoNotSchedule constraints skip the filter', () => {
    const s = new PodTopologySpread().preFilter(new CycleState(), incoming([spread(1, 'zone', 'ScheduleAnyway')]), []);
    assert.equal(s.status?.code, Code.Skip);
  });
  test('the rejection reason is upstream\'s', () => {
    const plugin = new PodTopologySpread();
    const infos = nodeInfos(fourNodes(), [existing('p0', 'node-a')]);
    const state = new CycleState();
    const pod = incoming([spread(1, 'node')]);
    plugin.preFilter(state, pod, infos);
    assert.deepEqual(plugin.filter(state, pod, infos[0]!)?.reasons, [ERR_REASON_CONSTRAINTS_NOT_MATCH]);
  });
});

function scoreAll(plugin: PodTopologySpread, pod: Pod, nodes: Node[], pods: Pod[] = [], filtered?: string[]): number[] | 'skip' {
  const all = nodeInfos(nodes, pods);
  const candidates = filtered ? all.filter((n) => filtered.includes(n.name)) : all;
  const state = new CycleState();
  state.allNodes = all;
  if (plugin.preScore(state, pod, candidates)?.isSkip()) return 'skip';
  const scores = candidates.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
  plugin.normalizeScore(state, pod, scores);
  return scores.map((s) => s.score);
}

describe('PodTopologySpread score (upstream TestPodTopologySpreadScore)', () => {
  const hostnames = (...names: string[]) => names.map((n) => node(n, { 'kubernetes.io/hostname': n, zone: n < 'node-c' ? 'zone1' : 'zone2' }));
  test('one constraint on node, no existing pods', () => {
    const pod = incoming([spread(1, 'kubernetes.io/hostname', 'ScheduleAnyway')]);
    assert.deepEqual(scoreAll(new PodTopologySpread(), pod, hostnames('node-a', 'node-b')), [100, 100]);
  });
  test('one constraint on node, all 4 nodes are candidates', () => {
    const pods = ['a', 'a', 'b', 'd', 'd', 'd'].map((n, i) => existing(`p${i}`, `node-${n}`));
    const pod = incoming([spread(1, 'kubernetes.io/hostname', 'ScheduleAnyway')]);
    assert.deepEqual(scoreAll(new PodTopologySpread(), pod, hostnames('node-a', 'node-b', 'node-c', 'node-d'), pods), [20, 60, 100, 0]);
  });
  test('one constraint on zone: pods on non-candidate nodes still count for their zone', () => {
    const pods = ['a', 'c', 'd', 'd'].map((n, i) => existing(`p${i}`, `node-${n}`));
    const pod = incoming([spread(1, 'zone', 'ScheduleAnyway')]);
    // zone1 holds 1 pod, zone2 3: weights log(2 + 2); scores 1 and 4 → 100 and 25.
    assert.deepEqual(scoreAll(new PodTopologySpread(), pod, hostnames('node-a', 'node-b', 'node-c', 'node-d'), pods, ['node-b', 'node-c']), [100, 25]);
  });
  test('nodes missing a topology key are ignored and score 0', () => {
    const nodes = hostnames('node-a', 'node-b');
    delete nodes[1]!.metadata!.labels!.zone;
    const pod = incoming([spread(1, 'zone', 'ScheduleAnyway')]);
    assert.deepEqual(scoreAll(new PodTopologySpread(), pod, nodes), [100, 0]);
  });
  test('no soft constraints and no default selector: PreScore skips', () => {
    assert.equal(scoreAll(new PodTopologySpread(), incoming([]), hostnames('node-a')), 'skip');
  });
  test('system default constraints spread pods of the same owner by hostname and zone', () => {
    const plugin = new PodTopologySpread({}, { defaultSelector: () => selectorFromSet({ app: 'web' }) });
    const pods = ['a', 'a', 'b'].map((n, i) => existing(`p${i}`, `node-${n}`, { app: 'web' }));
    const pod = incoming([], {}, { app: 'web' });
    const got = scoreAll(plugin, pod, hostnames('node-a', 'node-b', 'node-c', 'node-d'), pods) as number[];
    // The empty zone2 nodes win; node-a, with two of the pods, loses.
    assert.ok(got[2]! > got[1]! && got[1]! > got[0]!);
    assert.equal(got[2], got[3]);
  });
  test('args are validated as upstream', () => {
    assert.throws(() => new PodTopologySpread({ defaultingType: 'System', defaultConstraints: [spread(1, 'zone', 'ScheduleAnyway')] }), /must be empty/);
    assert.throws(() => new PodTopologySpread({ defaultingType: 'Other' as 'List' }), /Unsupported value/);
  });
});
