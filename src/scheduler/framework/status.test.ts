import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from './cycle-state.js';
import { Code, Status, codeName } from './status.js';

test('Status reports its code, message and plugin', () => {
  const s = Status.unschedulable('Insufficient cpu', 'Insufficient memory').withPlugin('NodeResourcesFit');
  assert.equal(s.message(), 'Insufficient cpu, Insufficient memory');
  assert.equal(s.plugin, 'NodeResourcesFit');
  assert.ok(s.isRejected());
  assert.ok(!s.isSuccess());
  assert.equal(s.asError()?.message, 'Insufficient cpu, Insufficient memory');
  assert.ok(Status.unresolvable('x').isRejected());
  assert.ok(!new Status(Code.Error, ['boom']).isRejected());
  assert.equal(Status.skip().asError(), undefined);
  assert.equal(Status.fromError(new Error('bad')).code, Code.Error);
  assert.equal(codeName(Code.UnschedulableAndUnresolvable), 'UnschedulableAndUnresolvable');
});

test('CycleState reads what was written and names a missing key', () => {
  const state = new CycleState();
  state.write('k', 42);
  assert.equal(state.read<number>('k'), 42);
  assert.throws(() => state.read('missing'), { message: 'error reading "missing" from cycleState: not found' });
});
