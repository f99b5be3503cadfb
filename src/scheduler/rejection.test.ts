// A Reserve/Permit/PreBind rejection records its plugin on the pod's queue entry: Pending statuses also as pending
// (upstream's Diagnosis.AddPluginStatus in the scheduling cycle), so the queue can move the pod at once on its events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueuedPodInfo } from './framework/interfaces.js';
import { Code, Status } from './framework/status.js';
import { rejectionError } from './scheduler.js';
import { makePod } from './testing/builders.js';

const entry = (): QueuedPodInfo => ({ pod: makePod({ name: 'p' }), timestamp: 0, unschedulablePlugins: new Set(['Old']), pendingPlugins: new Set(['Old']) });

test('a Pending rejection records the plugin as unschedulable and pending', () => {
  const info = entry();
  const err = rejectionError(info, info.pod, 'n1', Status.pending('waiting for the claim').withPlugin('DynamicResources'));
  assert.ok(err);
  assert.deepEqual([...info.unschedulablePlugins!], ['DynamicResources']);
  assert.deepEqual([...info.pendingPlugins!], ['DynamicResources']);
  assert.equal(err.diagnosis.nodeToStatus.get('n1')?.code, Code.Pending);
});

test('an Unschedulable rejection records the plugin and clears an earlier attempt\'s pending plugins; other statuses are no rejection', () => {
  const info = entry();
  assert.ok(rejectionError(info, info.pod, 'n1', Status.unschedulable('no').withPlugin('VolumeBinding')));
  assert.deepEqual([...info.unschedulablePlugins!], ['VolumeBinding']);
  assert.equal(info.pendingPlugins, undefined);
  assert.equal(rejectionError(entry(), info.pod, 'n1', new Status(Code.Error, ['boom'])), undefined);
});
