import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { TaintToleration } from './taint-toleration.js';

const taint = (key: string, value: string, effect: Taint['effect']): Taint => ({ key, value, effect });
const tol = (key: string, operator: string, value: string, effect?: string): Toleration => ({ key, operator, value, ...(effect ? { effect } : {}) });
const podTolerating = (tolerations: Toleration[]) => makePod({ spec: { tolerations } });

describe('TaintToleration filter (upstream TestTaintTolerationFilter)', () => {
  const cases: { name: string; tolerations: Toleration[]; taints: Taint[]; reason?: string }[] = [
    { name: 'no tolerations cannot go on a tainted node', tolerations: [], taints: [taint('dedicated', 'user1', 'NoSchedule')], reason: 'node(s) had untolerated taint {dedicated: user1}' },
    { name: 'toleration for user1 fits the user1 node', tolerations: [tol('dedicated', 'Equal', 'user1', 'NoSchedule')], taints: [taint('dedicated', 'user1', 'NoSchedule')] },
    { name: 'toleration for user2 does not fit the user1 node', tolerations: [tol('dedicated', 'Equal', 'user2', 'NoSchedule')], taints: [taint('dedicated', 'user1', 'NoSchedule')], reason: 'node(s) had untolerated taint {dedicated: user1}' },
    { name: 'operator Exists tolerates any value', tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }], taints: [taint('foo', 'bar', 'NoSchedule')] },
    {
      name: 'multiple tolerations tolerate all taints',
      tolerations: [tol('dedicated', 'Equal', 'user2', 'NoSchedule'), { key: 'foo', operator: 'Exists', effect: 'NoSchedule' }],
      taints: [taint('dedicated', 'user2', 'NoSchedule'), taint('foo', 'bar', 'NoSchedule')],
    },
    { name: 'matching key and value but another effect', tolerations: [tol('foo', 'Equal', 'bar', 'PreferNoSchedule')], taints: [taint('foo', 'bar', 'NoSchedule')], reason: 'node(s) had untolerated taint {foo: bar}' },
    { name: 'an empty toleration effect matches every effect', tolerations: [tol('foo', 'Equal', 'bar')], taints: [taint('foo', 'bar', 'NoSchedule')] },
    { name: 'PreferNoSchedule taints never filter', tolerations: [tol('dedicated', 'Equal', 'user2', 'NoSchedule')], taints: [taint('dedicated', 'user1', 'PreferNoSchedule')] },
    { name: 'no tolerations and only a PreferNoSchedule taint', tolerations: [], taints: [taint('dedicated', 'user1', 'PreferNoSchedule')] },
    { name: 'NoExecute taints filter too', tolerations: [], taints: [taint('k', 'v', 'NoExecute')], reason: 'node(s) had untolerated taint {k: v}' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const [info] = nodeInfos([makeNode('nodeA', {}, { taints: c.taints })]);
      const s = new TaintToleration().filter(new CycleState(), podTolerating(c.tolerations), info!);
      if (c.reason) {
        assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(s?.reasons, [c.reason]);
      } else {
        assert.equal(s, undefined);
      }
    });
  }
});

describe('TaintToleration score (upstream TestTaintTolerationScore)', () => {
  const prefer = (key: string, value: string) => taint(key, value, 'PreferNoSchedule');
  const cases: { name: string; tolerations: Toleration[]; taints: Taint[][]; want: number[] }[] = [
    {
      name: 'nodes with tolerated taints score higher than those with intolerable ones',
      tolerations: [tol('foo', 'Equal', 'bar', 'PreferNoSchedule')],
      taints: [[prefer('foo', 'bar')], [prefer('foo', 'blah')]],
      want: [100, 0],
    },
    {
      name: 'all tolerated: same score however many taints',
      tolerations: [tol('cpu-type', 'Equal', 'arm64', 'PreferNoSchedule'), tol('disk-type', 'Equal', 'ssd', 'PreferNoSchedule')],
      taints: [[], [prefer('cpu-type', 'arm64')], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]],
      want: [100, 100, 100],
    },
    {
      name: 'the more intolerable taints, the lower the score',
      tolerations: [tol('foo', 'Equal', 'bar', 'PreferNoSchedule')],
      taints: [[], [prefer('cpu-type', 'arm64')], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]],
      want: [100, 50, 0],
    },
    {
      name: 'only PreferNoSchedule taints and tolerations count',
      tolerations: [tol('cpu-type', 'Equal', 'arm64', 'NoSchedule'), tol('disk-type', 'Equal', 'ssd', 'NoSchedule')],
      taints: [[], [taint('cpu-type', 'arm64', 'NoSchedule')], [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')]],
      want: [100, 100, 0],
    },
    {
      name: 'default behaviour: lands on the node without taints',
      tolerations: [tol('foo', 'Equal', 'bar', 'NoSchedule')],
      taints: [[], [prefer('cpu-type', 'arm64')]],
      want: [100, 0],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plugin = new TaintToleration();
      const pod = podTolerating(c.tolerations);
      const infos = nodeInfos(c.taints.map((t, i) => makeNode(`node${i}`, {}, { taints: t })));
      const state = new CycleState();
      assert.equal(plugin.preScore(state, pod, infos), undefined);
      const scores = infos.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
      plugin.normalizeScore(state, pod, scores);
      assert.deepEqual(scores.map((s) => s.score), c.want);
    });
  }
});
