import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Binding } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { makePod } from '../../testing/builders.js';
import { DefaultBinder } from './default-binder.js';

test('DefaultBinder posts a Binding to the chosen node and reports API errors', async () => {
  const posted: Binding[] = [];
  const ok = new DefaultBinder(async (b) => void posted.push(b));
  const pod = makePod({ name: 'p', namespace: 'ns' });
  assert.ok((await ok.bind(new CycleState(), pod, 'n1')).isSuccess());
  assert.deepEqual(posted, [{ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'ns', uid: 'uid-p' }, target: { kind: 'Node', name: 'n1' } }]);
  const failing = new DefaultBinder(() => Promise.reject(new Error('pod p is already assigned to node "n2"')));
  const s = await failing.bind(new CycleState(), pod, 'n1');
  assert.equal(s.isSuccess(), false);
  assert.match(s.message(), /already assigned/);
});
