import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Affinity, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { NodeInfo } from '../../framework/node-info.js';
import { ERR_REASON_CONFLICT, ERR_REASON_ENFORCED, ERR_REASON_POD, NodeAffinity, type NodeAffinityArgs } from './node-affinity.js';

const req = (key: string, operator: string, values?: string[]): NodeSelectorRequirement => ({ key, operator, ...(values ? { values } : {}) });
const required = (...terms: NodeSelectorTerm[]): Affinity => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const exprs = (...e: NodeSelectorRequirement[]): NodeSelectorTerm => ({ matchExpressions: e });
const fields = (...f: NodeSelectorRequirement[]): NodeSelectorTerm => ({ matchFields: f });
const byName = (...names: string[]) => req('metadata.name', 'In', names);

interface Case {
  name: string;
  pod: Pod;
  labels?: Record<string, string>;
  nodeName?: string;
  /** The filter's reason, or undefined when the pod fits. */
  reason?: string;
  /** The PreFilter's node names; absent means all nodes. */
  preFilterNodes?: string[];
  preFilterReason?: string;
  args?: NodeAffinityArgs;
}

const withSelector = (nodeSelector: Record<string, string>, affinity?: Affinity) => makePod({ spec: { nodeSelector, ...(affinity ? { affinity } : {}) } });
const withAffinity = (affinity: Affinity) => makePod({ spec: { affinity } });

// Re-expressed from upstream's TestNodeAffinity.
const cases: Case[] = [
  { name: 'missing labels', pod: withSelector({ foo: 'bar' }), reason: ERR_REASON_POD },
  { name: 'same labels', pod: withSelector({ foo: 'bar' }), labels: { foo: 'bar' } },
  { name: 'node labels are superset', pod: withSelector({ foo: 'bar' }), labels: { foo: 'bar', baz: 'blah' } },
  { name: 'node labels are subset', pod: withSelector({ foo: 'bar', baz: 'blah' }), labels: { foo: 'bar' }, reason: ERR_REASON_POD },
  { name: 'In operator that matches the existing node', pod: withAffinity(required(exprs(req('foo', 'In', ['bar', 'value2'])))), labels: { foo: 'bar' } },
  { name: 'Gt operator that matches the existing node', pod: withAffinity(required(exprs(req('kernel-version', 'Gt', ['0204'])))), labels: { 'kernel-version': '0206' } },
  { name: 'NotIn operator that matches the existing node', pod: withAffinity(required(exprs(req('mem-type', 'NotIn', ['DDR', 'DDR2'])))), labels: { 'mem-type': 'DDR3' } },
  { name: 'Exists operator that matches the existing node', pod: withAffinity(required(exprs(req('GPU', 'Exists')))), labels: { GPU: 'NVIDIA-GRID-K1' } },
  { name: 'affinity that does not match node labels', pod: withAffinity(required(exprs(req('foo', 'In', ['value1', 'value2'])))), labels: { foo: 'bar' }, reason: ERR_REASON_POD },
  { name: 'a nil []NodeSelectorTerm matches nothing', pod: withAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} as { nodeSelectorTerms: NodeSelectorTerm[] } } }), labels: { foo: 'bar' }, reason: ERR_REASON_POD },
  { name: 'an empty []NodeSelectorTerm matches nothing', pod: withAffinity(required()), labels: { foo: 'bar' }, reason: ERR_REASON_POD },
  { name: 'an empty MatchExpressions term matches nothing', pod: withAffinity(required({ matchExpressions: [] })), labels: { foo: 'bar' }, reason: ERR_REASON_POD },
  { name: 'no Affinity schedules onto any node', pod: makePod(), labels: { foo: 'bar' } },
  { name: 'Affinity but nil NodeSelector schedules onto any node', pod: withAffinity({ nodeAffinity: {} }), labels: { foo: 'bar' } },
  {
    name: 'multiple matchExpressions ANDed that matches the existing node',
    pod: withAffinity(required(exprs(req('GPU', 'Exists'), req('GPU', 'NotIn', ['AMD', 'INTER'])))),
    labels: { GPU: 'NVIDIA-GRID-K1' },
  },
  {
    name: 'multiple matchExpressions ANDed that does not match the existing node',
    pod: withAffinity(required(exprs(req('GPU', 'Exists'), req('GPU', 'In', ['AMD', 'INTER'])))),
    labels: { GPU: 'NVIDIA-GRID-K1' },
    reason: ERR_REASON_POD,
  },
  {
    name: 'multiple NodeSelectorTerms ORed, one matches',
    pod: withAffinity(required(exprs(req('foo', 'In', ['bar', 'value2'])), exprs(req('diffkey', 'In', ['wrong', 'value2'])))),
    labels: { foo: 'bar' },
  },
  { name: 'an Affinity and a nodeSelector both satisfied', pod: withSelector({ foo: 'bar' }, required(exprs(req('foo', 'Exists')))), labels: { foo: 'bar' } },
  { name: 'an Affinity matches but the nodeSelector does not', pod: withSelector({ foo: 'bar' }, required(exprs(req('foo', 'Exists')))), labels: { foo: 'barrrrrr' }, reason: ERR_REASON_POD },
  { name: 'an invalid expression matches nothing', pod: withAffinity(required(exprs(req('foo', 'Gt', ['not-a-number'])))), labels: { foo: '5' }, reason: ERR_REASON_POD },
  { name: 'matchFields In that matches the existing node', pod: withAffinity(required(fields(byName('node1')))), nodeName: 'node1', preFilterNodes: ['node1'] },
  { name: 'matchFields In that does not match the existing node', pod: withAffinity(required(fields(byName('node1')))), nodeName: 'node2', reason: ERR_REASON_POD, preFilterNodes: ['node1'] },
  {
    name: 'two terms: matchFields does not match, but matchExpressions matches',
    pod: withAffinity(required(fields(byName('node1')), exprs(req('foo', 'In', ['bar'])))),
    nodeName: 'node2',
    labels: { foo: 'bar' },
  },
  {
    name: 'one term: matchFields does not match, but matchExpressions matches',
    pod: withAffinity(required({ matchFields: [byName('node1')], matchExpressions: [req('foo', 'In', ['bar'])] })),
    nodeName: 'node2',
    labels: { foo: 'bar' },
    reason: ERR_REASON_POD,
    preFilterNodes: ['node1'],
  },
  {
    name: 'one term: both matchFields and matchExpressions match',
    pod: withAffinity(required({ matchFields: [byName('node1')], matchExpressions: [req('foo', 'In', ['bar'])] })),
    nodeName: 'node1',
    labels: { foo: 'bar' },
    preFilterNodes: ['node1'],
  },
  {
    name: 'two terms: both matchFields and matchExpressions do not match',
    pod: withAffinity(required(fields(byName('node1')), exprs(req('foo', 'In', ['not-match-to-bar'])))),
    nodeName: 'node2',
    labels: { foo: 'bar' },
    reason: ERR_REASON_POD,
  },
  {
    name: 'two terms of node.Name affinity',
    pod: withAffinity(required(fields(byName('node1')), fields(byName('node2')))),
    nodeName: 'node2',
    preFilterNodes: ['node1', 'node2'],
  },
  {
    name: 'two conflicting matchFields requirements',
    pod: withAffinity(required(fields(byName('node1'), byName('node2')))),
    nodeName: 'node2',
    preFilterReason: ERR_REASON_CONFLICT,
  },
  {
    name: 'matches added affinity and the pod node affinity',
    pod: withAffinity(required(exprs(req('zone', 'In', ['foo'])))),
    labels: { zone: 'foo' },
    args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [exprs(req('zone', 'In', ['foo']))] } } },
  },
  {
    name: 'matches added affinity but not the pod node affinity',
    pod: withAffinity(required(exprs(req('zone', 'In', ['bar'])))),
    labels: { zone: 'foo' },
    reason: ERR_REASON_POD,
    args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [exprs(req('zone', 'In', ['foo']))] } } },
  },
  {
    name: 'does not match added affinity',
    pod: makePod(),
    labels: { zone: 'foo' },
    reason: ERR_REASON_ENFORCED,
    args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [exprs(req('zone', 'In', ['bar']))] } } },
  },
];

describe('NodeAffinity filter (upstream TestNodeAffinity)', () => {
  for (const c of cases) {
    test(c.name, () => {
      const plugin = new NodeAffinity(c.args);
      const state = new CycleState();
      const pre = plugin.preFilter(state, c.pod);
      if (c.preFilterReason) {
        assert.deepEqual([pre.status?.code, pre.status?.reasons], [Code.UnschedulableAndUnresolvable, [c.preFilterReason]]);
        return;
      }
      assert.deepEqual(pre.result?.nodeNames ? [...pre.result.nodeNames].sort() : undefined, c.preFilterNodes);
      const [info] = nodeInfos([makeNode(c.nodeName ?? 'node1', {}, c.labels ? { labels: c.labels } : {})]);
      const s = plugin.filter(state, c.pod, info!);
      if (c.reason) assert.deepEqual([s?.code, s?.reasons], [Code.UnschedulableAndUnresolvable, [c.reason]]);
      else assert.equal(s, undefined);
      // Without PreFilter (disabled) the filter decides the same.
      const again = plugin.filter(new CycleState(), c.pod, info!);
      assert.deepEqual(again?.reasons, s?.reasons);
    });
  }
});

describe('NodeAffinity score (upstream TestNodeAffinityPriority)', () => {
  const label1 = { foo: 'bar' };
  const label2 = { key: 'value' };
  const label3 = { az: 'az1' };
  const label4 = { abc: 'az11', def: 'az22' };
  const label5 = { foo: 'bar', key: 'value', az: 'az1' };
  const preferred = (...terms: PreferredSchedulingTerm[]) => withAffinity({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms } });
  const affinity1 = preferred({ weight: 2, preference: exprs(req('foo', 'In', ['bar'])) });
  const affinity2 = preferred(
    { weight: 2, preference: exprs(req('foo', 'In', ['bar'])) },
    { weight: 4, preference: exprs(req('key', 'In', ['value'])) },
    { weight: 5, preference: exprs(req('foo', 'In', ['bar']), req('key', 'In', ['value']), req('az', 'In', ['az1'])) },
  );

  function scores(plugin: NodeAffinity, pod: Pod, labels: Record<string, string>[]): number[] | 'skip' {
    const infos = nodeInfos(labels.map((l, i) => makeNode(`node${i}`, {}, { labels: l })));
    const state = new CycleState();
    if (plugin.preScore(state, pod)?.isSkip()) return 'skip';
    const list = infos.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
    plugin.normalizeScore(state, pod, list);
    return list.map((s) => s.score);
  }

  test('a node missing from its NodeInfo is a Score error (thrown), not a zero score', () => {
    const plugin = new NodeAffinity();
    const pod = affinity1;
    const state = new CycleState();
    plugin.preScore(state, pod);
    assert.throws(() => plugin.score(state, pod, new NodeInfo()), { message: 'node not found' });
  });

  test('all nodes are the same priority as NodeAffinity is nil (PreScore skips)', () => {
    assert.equal(scores(new NodeAffinity(), makePod(), [label1, label2, label3]), 'skip');
  });
  test('no node matches the preferred terms', () => {
    assert.deepEqual(scores(new NodeAffinity(), affinity1, [label4, label2, label3]), [0, 0, 0]);
  });
  test('only node1 matches the preferred terms', () => {
    assert.deepEqual(scores(new NodeAffinity(), affinity1, [label1, label2, label3]), [100, 0, 0]);
  });
  test('all nodes match the preferred terms with different priorities', () => {
    assert.deepEqual(scores(new NodeAffinity(), affinity2, [label1, label5, label2]), [18, 100, 36]);
  });
  test('added preferred affinity counts with the pod\'s', () => {
    const plugin = new NodeAffinity({ addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, preference: exprs(req('key', 'In', ['value'])) }] } });
    // node0 (foo=bar): 2; node1 (all): 2+4+5+3 = 14; node2 (key=value): 4+3 = 7.
    assert.deepEqual(scores(plugin, affinity2, [label1, label5, label2]), [14, 100, 50]);
    assert.deepEqual(scores(plugin, makePod(), [label1, label2]), [0, 100]);
  });
  test('an unparsable preferred term is a PreScore error', () => {
    const bad = preferred({ weight: 1, preference: exprs(req('foo', 'Bogus', ['x'])) });
    assert.equal(new NodeAffinity().preScore(new CycleState(), bad)?.code, Code.Error);
  });
});
