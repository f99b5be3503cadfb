import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { ERR_REASON_UNSCHEDULABLE, NodeUnschedulable } from './node-unschedulable.js';

// Upstream TestNodeUnschedulable.
const cases: { name: string; unschedulable: boolean; tolerations?: Toleration[]; fits: boolean }[] = [
  { name: 'Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)', unschedulable: true, fits: false },
  { name: 'Schedule pod to normal node', unschedulable: false, fits: true },
  { name: 'Schedule pod with toleration to unschedulable node', unschedulable: true, tolerations: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }], fits: true },
  { name: 'an Exists toleration of every taint also tolerates cordoning', unschedulable: true, tolerations: [{ operator: 'Exists' }], fits: true },
  { name: 'a NoExecute toleration does not', unschedulable: true, tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }], fits: false },
];
for (const c of cases) {
  test(c.name, () => {
    const info = new NodeInfo(makeNode('n', {}, { unschedulable: c.unschedulable }));
    const s = new NodeUnschedulable().filter(new CycleState(), makePod({ spec: c.tolerations ? { tolerations: c.tolerations } : {} }), info);
    if (c.fits) assert.equal(s, undefined);
    else assert.deepEqual([s?.code, s?.reasons], [Code.UnschedulableAndUnresolvable, [ERR_REASON_UNSCHEDULABLE]]);
  });
}

test('a NodeInfo without its node is rejected, not a crash', () => {
  const s = new NodeUnschedulable().filter(new CycleState(), makePod(), new NodeInfo());
  assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
});
