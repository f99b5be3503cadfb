import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Affinity, Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY, InterPodAffinity, type InterPodAffinityOptions } from './inter-pod-affinity.js';

const sel = (key: string, operator: string, values?: string[]): LabelSelector => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
const term = (selector: LabelSelector, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: selector, topologyKey, ...extra });
const podOf = (name: string, labels: Record<string, string>, affinity?: Affinity, nodeName?: string, namespace = 'default'): Pod => {
  const p = makePod({ name, namespace, spec: { ...(affinity ? { affinity } : {}), ...(nodeName ? { nodeName } : {}) } });
  p.metadata!.labels = labels;
  return p;
};
const requiredAffinity = (...terms: PodAffinityTerm[]): Affinity => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const requiredAnti = (...terms: PodAffinityTerm[]): Affinity => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const both = (a: Affinity, b: Affinity): Affinity => ({ ...a, ...b });

const node1 = (): Node => makeNode('node1', {}, { labels: { region: 'r1', zone: 'z11', 'kubernetes.io/hostname': 'node1' } });

/** PreFilter then Filter on each node: 'S', 'U', 'UU' or 'skip' when PreFilter skips. */
function run(pod: Pod, nodes: Node[], existing: Pod[], opts?: InterPodAffinityOptions): { codes: string[]; reasons: (readonly string[])[] } | 'skip' {
  const plugin = new InterPodAffinity({}, opts);
  const infos = nodeInfos(nodes, existing);
  const state = new CycleState();
  const pre = plugin.preFilter(state, pod, infos);
  if (pre.status?.isSkip()) return 'skip';
  assert.equal(pre.status, undefined);
  const out = infos.map((n) => plugin.filter(state, pod, n));
  const code = (c: Code | undefined) => (c === undefined ? 'S' : c === Code.Unschedulable ? 'U' : 'UU');
  return { codes: out.map((s) => code(s?.code)), reasons: out.map((s) => s?.reasons ?? []) };
}

describe('InterPodAffinity filter (upstream TestRequiredAffinitySingleNode)', () => {
  const securityscan = () => podOf('existing', { service: 'securityscan' }, undefined, 'node1');

  test('no required pod affinity and no existing pods: PreFilter skips', () => {
    assert.equal(run(podOf('p', {}), [node1()], []), 'skip');
  });
  test('In operator that matches the existing pod', () => {
    const pod = podOf('p', {}, requiredAffinity(term(sel('service', 'In', ['securityscan', 'value2']), 'region')));
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['S'], reasons: [[]] });
  });
  test('NotIn operator in labelSelector that matches the existing pod', () => {
    const pod = podOf('p', {}, requiredAffinity(term(sel('service', 'NotIn', ['securityscan3', 'value3']), 'region')));
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['S'], reasons: [[]] });
  });
  test('does not satisfy the PodAffinity because of a different namespace', () => {
    const pod = podOf('p', {}, requiredAffinity(term(sel('service', 'In', ['securityscan', 'value2']), 'region', { namespaces: ['DiffNameSpace'] })));
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
  });
  test("doesn't satisfy the PodAffinity because of an unmatching labelSelector", () => {
    const pod = podOf('p', {}, requiredAffinity(term(sel('service', 'In', ['antivirusscan', 'value2']), 'region')));
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
  });
  test('different label operators in multiple required terms', () => {
    const pod = podOf(
      'p',
      {},
      requiredAffinity(
        term({ matchExpressions: [{ key: 'service', operator: 'Exists' }, { key: 'wrongkey', operator: 'DoesNotExist' }] }, 'region'),
        term({ matchExpressions: [{ key: 'service', operator: 'In', values: ['securityscan'] }, { key: 'service', operator: 'NotIn', values: ['WrongValue'] }] }, 'region'),
      ),
    );
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['S'], reasons: [[]] });
  });
  test('multiple required terms must all match the same existing pod', () => {
    const pod = podOf(
      'p',
      {},
      requiredAffinity(term(sel('service', 'Exists'), 'region'), term(sel('service', 'In', ['securityscan2']), 'region')),
    );
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
  });
  test('satisfies PodAffinity and PodAntiAffinity with the existing pod', () => {
    const pod = podOf(
      'p',
      {},
      both(requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region')), requiredAnti(term(sel('service', 'In', ['antivirusscan']), 'node'))),
    );
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['S'], reasons: [[]] });
  });
  test("satisfies PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod", () => {
    const pod = podOf(
      'p',
      {},
      both(requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region')), requiredAnti(term(sel('service', 'In', ['securityscan']), 'zone'))),
    );
    assert.deepEqual(run(pod, [node1()], [securityscan()]), { codes: ['U'], reasons: [[ERR_REASON_ANTI_AFFINITY]] });
  });
  test("doesn't satisfy PodAntiAffinity symmetry with the existing pod", () => {
    const existing = podOf('existing', { service: 'securityscan' }, requiredAnti(term(sel('security', 'In', ['S1']), 'zone')), 'node1');
    const pod = podOf('p', { security: 'S1' }, requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region')));
    assert.deepEqual(run(pod, [node1()], [existing]), { codes: ['U'], reasons: [[ERR_REASON_EXISTING_ANTI_AFFINITY]] });
  });
  test('existing pod anti-affinity is respected when the pod has no affinity of its own', () => {
    const existing = podOf('existing', { service: 'securityscan' }, requiredAnti(term(sel('service', 'In', ['securityscan']), 'zone')), 'node1');
    assert.deepEqual(run(podOf('p', { service: 'securityscan' }), [node1()], [existing]), { codes: ['U'], reasons: [[ERR_REASON_EXISTING_ANTI_AFFINITY]] });
    assert.deepEqual(run(podOf('p', { service: 'other' }), [node1()], [existing]), 'skip');
  });
  test('a pod matching its own affinity terms may be the first of its group', () => {
    const pod = podOf('p', { service: 'securityscan' }, requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region')));
    assert.deepEqual(run(pod, [node1()], []), { codes: ['S'], reasons: [[]] });
    // ...but not on a node without the topology key.
    assert.deepEqual(run(pod, [makeNode('bare')], []), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
  });
  test("affinity is not self-satisfied when the pod doesn't match its own labels", () => {
    const pod = podOf('p', { service: 'other' }, requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region')));
    assert.deepEqual(run(pod, [node1()], []), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
  });
  test('anti-affinity one per node: a second replica goes to another node', () => {
    const anti = requiredAnti(term({ matchLabels: { app: 'web' } }, 'kubernetes.io/hostname'));
    const nodes = [node1(), makeNode('node2', {}, { labels: { region: 'r1', 'kubernetes.io/hostname': 'node2' } })];
    const first = podOf('web-0', { app: 'web' }, anti, 'node1');
    assert.deepEqual(run(podOf('web-1', { app: 'web' }, anti), nodes, [first]), { codes: ['U', 'S'], reasons: [[ERR_REASON_ANTI_AFFINITY], []] });
  });
  test('namespaceSelector picks namespaces by their labels', () => {
    const opts: InterPodAffinityOptions = { namespaceLabels: (ns): Record<string, string> => (ns === 'team-a' ? { team: 'a' } : {}) };
    const existing = podOf('existing', { service: 'securityscan' }, undefined, 'node1', 'team-a');
    const byTeam = (team: string) =>
      podOf('p', {}, requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region', { namespaceSelector: { matchLabels: { team } } })));
    assert.deepEqual(run(byTeam('a'), [node1()], [existing], opts), { codes: ['S'], reasons: [[]] });
    assert.deepEqual(run(byTeam('b'), [node1()], [existing], opts), { codes: ['UU'], reasons: [[ERR_REASON_AFFINITY]] });
    // An empty namespaceSelector selects every namespace.
    const any = podOf('p', {}, requiredAffinity(term(sel('service', 'In', ['securityscan']), 'region', { namespaceSelector: {} })));
    assert.deepEqual(run(any, [node1()], [existing]), { codes: ['S'], reasons: [[]] });
  });
});

test('PreFilter counts only nodes holding pods: an empty node\'s labels are not read', () => {
  const labelReads = new Map<string, number>();
  const watched = (name: string): Node => {
    const n = makeNode(name, {}, { labels: { 'kubernetes.io/hostname': name } });
    const metadata = n.metadata!;
    n.metadata = new Proxy(metadata, {
      get: (target, prop, receiver) => {
        if (prop === 'labels') labelReads.set(name, (labelReads.get(name) ?? 0) + 1);
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    return n;
  };
  const anti = requiredAnti(term(sel('app', 'In', ['web']), 'kubernetes.io/hostname'));
  const plugin = new InterPodAffinity();
  const infos = nodeInfos([watched('busy'), watched('empty')], [podOf('existing', { app: 'web' }, anti, 'busy')]);
  labelReads.clear();
  const state = new CycleState();
  const pod = podOf('incoming', { app: 'web' }, anti);
  assert.equal(plugin.preFilter(state, pod, infos).status, undefined);
  assert.equal(labelReads.get('empty'), undefined);
  assert.ok((labelReads.get('busy') ?? 0) > 0);
  // The answer is unchanged: the busy node is out, the empty one fits.
  assert.equal(plugin.filter(state, pod, infos[0]!)?.code, Code.Unschedulable);
  assert.equal(plugin.filter(state, pod, infos[1]!), undefined);
});

describe('InterPodAffinity score (upstream TestPreferredAffinity)', () => {
  const china = { region: 'China' };
  const chinaAz1 = { region: 'China', az: 'az1' };
  const india = { region: 'India' };
  const preferred = (kind: 'podAffinity' | 'podAntiAffinity', weight: number, selector: LabelSelector, topologyKey: string): Affinity => ({
    [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight, podAffinityTerm: term(selector, topologyKey) }] },
  });
  const stayWithS1InRegion = preferred('podAffinity', 5, sel('security', 'In', ['S1']), 'region');
  const antiS1InRegion = preferred('podAntiAffinity', 5, sel('security', 'In', ['S1']), 'region');

  function scores(pod: Pod, nodes: [string, Record<string, string>][], existing: Pod[], args = {}): number[] | 'skip' {
    const plugin = new InterPodAffinity(args);
    const infos = nodeInfos(nodes.map(([n, l]) => makeNode(n, {}, { labels: l })), existing);
    const state = new CycleState();
    state.allNodes = infos;
    if (plugin.preScore(state, pod, infos)?.isSkip()) return 'skip';
    const list = infos.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
    plugin.normalizeScore(state, pod, list);
    return list.map((s) => s.score);
  }
  const threeNodes: [string, Record<string, string>][] = [
    ['machine1', china],
    ['machine2', chinaAz1],
    ['machine3', india],
  ];

  test('all nodes have the same priority as the pod has no inter-pod affinity', () => {
    assert.equal(scores(podOf('p', { security: 'S1' }), threeNodes, []), 'skip');
  });
  test('affinity: nodes in the topology of matching pods score high', () => {
    const existing = [podOf('e1', { security: 'S1' }, undefined, 'machine1'), podOf('e2', { security: 'S2' }, undefined, 'machine2')];
    assert.deepEqual(scores(podOf('p', { security: 'S1' }, stayWithS1InRegion), threeNodes, existing), [100, 100, 0]);
  });
  test('anti-affinity: nodes away from matching pods score high', () => {
    const existing = [podOf('e1', { security: 'S1' }, undefined, 'machine1'), podOf('e2', { security: 'S2' }, undefined, 'machine2')];
    assert.deepEqual(scores(podOf('p', { security: 'S1' }, antiS1InRegion), [['machine1', china], ['machine2', india]], existing), [0, 100]);
  });
  test("existing pod's hard affinity to the incoming pod counts with hardPodAffinityWeight", () => {
    const existing = [podOf('e1', { security: 'S2' }, requiredAffinity(term(sel('security', 'In', ['S1']), 'region')), 'machine1')];
    assert.deepEqual(scores(podOf('p', { security: 'S1' }), threeNodes, existing), [100, 100, 0]);
    assert.equal(scores(podOf('p', { security: 'S1' }), threeNodes, existing, { hardPodAffinityWeight: 0 }), 'skip');
  });
  test("existing pods' preferred terms are ignored when asked to", () => {
    const existing = [podOf('e1', { security: 'S2' }, preferred('podAffinity', 5, sel('security', 'In', ['S1']), 'region'), 'machine1')];
    assert.deepEqual(scores(podOf('p', { security: 'S1' }), threeNodes, existing), [100, 100, 0]);
    assert.equal(scores(podOf('p', { security: 'S1' }), threeNodes, existing, { ignorePreferredTermsOfExistingPods: true }), 'skip');
  });
  test('hardPodAffinityWeight is validated', () => {
    assert.throws(() => new InterPodAffinity({ hardPodAffinityWeight: 101 }), /not in valid range \[0-100\]/);
  });
});
