import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { runPostFilterPlugins } from '../../framework/cycle.js';
import { newPodInfo } from '../../framework/node-info.js';
import { buildProfile } from '../../framework/profile.js';
import { FitError, schedulePod } from '../../framework/schedule.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { newInTreeRegistry, type InTreeOptions } from '../registry.js';
import { moreImportant, selectCandidate, splitByPDBViolation } from './default-preemption.js';

const node = (name: string, cpu = '2', extra: { taints?: Taint[] } = {}): Node => makeNode(name, { cpu, memory: '8Gi', pods: '10' }, extra);
const pod = (name: string, priority: number, cpu: string, nodeName?: string, labels?: Record<string, string>, startTime?: string): Pod => {
  const p = makePod({ name, requests: [{ cpu }], spec: { priority, ...(nodeName ? { nodeName } : {}) } });
  if (labels) p.metadata!.labels = labels;
  return startTime ? { ...p, status: { startTime } } : p;
};

/** Schedules the pod; on FitError runs PostFilter as the scheduler does and returns its outcome. */
function preempt(incoming: Pod, nodes: Node[], existing: Pod[], opts: InTreeOptions = {}) {
  const profile = buildProfile({}, newInTreeRegistry({ defaultPreemption: { random: () => 0 }, ...opts }), { ignoreUnknownPlugins: true });
  const infos = nodeInfos(nodes, existing);
  const state = new CycleState();
  try {
    schedulePod(incoming, infos, profile, { state });
  } catch (err) {
    if (!(err instanceof FitError)) throw err;
    const out = runPostFilterPlugins(profile, state, incoming, err);
    return { ...out, message: err.message };
  }
  assert.fail('expected the pod not to fit');
}

describe('DefaultPreemption', () => {
  test('evicts the lower-priority pod that makes room and nominates its node', () => {
    const out = preempt(pod('high', 100, '2'), [node('n1')], [pod('low', 1, '2', 'n1')]);
    assert.equal(out.status.code, Code.Success);
    assert.equal(out.result?.nominatedNodeName, 'n1');
    assert.deepEqual(out.result?.victims?.map((v) => v.metadata!.name), ['low']);
  });

  test('keeps as many victims as still let the pod fit, reprieving the most important first', () => {
    const existing = [pod('mid', 5, '1', 'n1'), pod('lowest', 1, '1', 'n1')];
    const out = preempt(pod('high', 100, '1'), [node('n1')], existing);
    assert.deepEqual(out.result?.victims?.map((v) => v.metadata!.name), ['lowest']);
  });

  test('picks the node whose most important victim has the lowest priority', () => {
    const existing = [pod('a', 10, '2', 'n1'), pod('b', 2, '2', 'n2')];
    const out = preempt(pod('high', 100, '2'), [node('n1'), node('n2')], existing);
    assert.equal(out.result?.nominatedNodeName, 'n2');
  });

  test('prefers victims whose eviction does not violate a PodDisruptionBudget', () => {
    const existing = [pod('guarded', 1, '2', 'n1', { app: 'db' }), pod('free', 1, '2', 'n2', { app: 'web' })];
    const pdb: PodDisruptionBudget = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } };
    const out = preempt(pod('high', 100, '2'), [node('n1'), node('n2')], existing, { defaultPreemption: { random: () => 0, podDisruptionBudgets: () => [pdb] } });
    assert.equal(out.result?.nominatedNodeName, 'n2');
  });

  test('no lower-priority pods: upstream message, with the double period', () => {
    const out = preempt(pod('p', 0, '3'), [node('n1'), node('n2'), node('n3')], [pod('same', 0, '1', 'n1')]);
    assert.equal(out.status.code, Code.Unschedulable);
    assert.equal(out.result?.nominatedNodeName, '');
    assert.equal(out.message, '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..');
  });

  test('nodes rejected as unresolvable are not helped by preemption', () => {
    const tainted = node('t1', '8', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] });
    const out = preempt(pod('p', 100, '3'), [tainted, node('n1')], [pod('low', 200, '1', 'n1')]);
    assert.equal(
      out.message,
      '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling..',
    );
  });

  test('preemptionPolicy Never is not eligible', () => {
    const high = pod('high', 100, '2');
    high.spec!.preemptionPolicy = 'Never';
    const out = preempt(high, [node('n1')], [pod('low', 1, '2', 'n1')]);
    assert.equal(out.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..');
  });
});

describe('preemption helpers', () => {
  test('moreImportant: priority, then earlier start', () => {
    assert.ok(moreImportant(pod('a', 2, '1'), pod('b', 1, '1')));
    assert.ok(moreImportant(pod('a', 1, '1', undefined, undefined, '2024-01-01T00:00:00Z'), pod('b', 1, '1', undefined, undefined, '2024-01-02T00:00:00Z')));
  });

  test('PDB accounting spends disruptionsAllowed and skips already disrupted pods', () => {
    const pdb: PodDisruptionBudget = {
      metadata: { name: 'x', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'x' } } },
      status: { disruptionsAllowed: 1, disruptedPods: { gone: '2024-01-01T00:00:00Z' }, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
    };
    const infos = ['p1', 'p2', 'gone'].map((n) => newPodInfo(pod(n, 1, '1', 'n', { app: 'x' })));
    const { violating, nonViolating } = splitByPDBViolation(infos, [pdb]);
    assert.deepEqual(violating.map((v) => v.pod.metadata!.name), ['p2']);
    assert.deepEqual(nonViolating.map((v) => v.pod.metadata!.name), ['p1', 'gone']);
  });

  test('candidate choice: fewer PDB violations, then fewer and cheaper victims', () => {
    const v = (name: string, prio: number) => newPodInfo(pod(name, prio, '1'));
    const pick = (cands: { nodeName: string; victims: ReturnType<typeof v>[]; numPDBViolations: number }[]) => selectCandidate(cands).nodeName;
    assert.equal(pick([{ nodeName: 'a', victims: [v('x', 1)], numPDBViolations: 1 }, { nodeName: 'b', victims: [v('y', 50)], numPDBViolations: 0 }]), 'b');
    assert.equal(pick([{ nodeName: 'a', victims: [v('x', 5), v('z', 5)], numPDBViolations: 0 }, { nodeName: 'b', victims: [v('y', 5)], numPDBViolations: 0 }]), 'b');
    assert.equal(pick([{ nodeName: 'a', victims: [v('x', 5), v('z', 1)], numPDBViolations: 0 }, { nodeName: 'b', victims: [v('y', 5), v('w', 2)], numPDBViolations: 0 }]), 'a');
  });
});
