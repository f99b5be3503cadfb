import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { admitUnderPressure } from './admit.js';

const none = { memory: false, disk: false, pid: false };
const memory = { ...none, memory: true };
const disk = { ...none, disk: true };

function pod(opts: { requests?: boolean; tolerations?: Toleration[]; priority?: number; static?: boolean } = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', ...(opts.static ? { annotations: { 'kubernetes.io/config.source': 'file' } } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ...(opts.requests ? { resources: { requests: { memory: '64Mi' } } } : {}) }],
      ...(opts.tolerations ? { tolerations: opts.tolerations } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    },
  };
}

test('no pressure admits every pod', () => {
  assert.deepEqual(admitUnderPressure(pod(), none), { admit: true });
});

test('MemoryPressure alone: BestEffort refused unless it tolerates memory-pressure NoSchedule; Burstable admitted', () => {
  assert.deepEqual(admitUnderPressure(pod(), memory), { admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
  assert.deepEqual(admitUnderPressure(pod({ requests: true }), memory), { admit: true });
  assert.deepEqual(admitUnderPressure(pod({ tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] }), memory), { admit: true });
  assert.deepEqual(admitUnderPressure(pod({ tolerations: [{ operator: 'Exists' }] }), memory), { admit: true });
  // A toleration of another taint (or another effect) does not help.
  assert.equal(admitUnderPressure(pod({ tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }] }), memory).admit, false);
  assert.equal(admitUnderPressure(pod({ tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoExecute' }] }), memory).admit, false);
});

test('DiskPressure (or more than MemoryPressure) refuses every pod but critical ones, listing the conditions', () => {
  assert.deepEqual(admitUnderPressure(pod({ requests: true }), disk), { admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
  const tolerating = pod({ requests: true, tolerations: [{ operator: 'Exists' }] });
  assert.deepEqual(admitUnderPressure(tolerating, { memory: true, disk: true, pid: false }), {
    admit: false,
    reason: 'Evicted',
    message: 'The node had condition: [MemoryPressure DiskPressure]. ',
  });
  assert.equal(admitUnderPressure(pod(), { ...none, pid: true }).admit, false);
  assert.deepEqual(admitUnderPressure(pod({ priority: 2_000_000_000 }), disk), { admit: true });
  assert.deepEqual(admitUnderPressure(pod({ static: true }), disk), { admit: true });
});
