import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/status.js';
import { makePod } from '../../testing/builders.js';
import { SchedulingGates } from './scheduling-gates.js';

// Upstream TestPreEnqueue.
test('pod without scheduling gates is enqueued', () => {
  assert.equal(new SchedulingGates().preEnqueue(makePod()), undefined);
});

test('pod with scheduling gates waits, naming them', () => {
  const s = new SchedulingGates().preEnqueue(makePod({ spec: { schedulingGates: [{ name: 'foo' }, { name: 'bar' }] } }));
  assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
  assert.deepEqual(s?.reasons, ['waiting for scheduling gates: [foo bar]']);
});
