import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { onlyStatusChanged } from './kubelet.js';

const base: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '1', labels: { a: 'b' } },
  spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }] },
  status: { phase: 'Pending' },
};

test('onlyStatusChanged: status and resourceVersion changes need no pod sync; spec and metadata changes do', () => {
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, resourceVersion: '2' }, status: { phase: 'Running' } }), true);
  const withEphemeral: Pod = { ...base, spec: { ...base.spec!, ephemeralContainers: [{ name: 'debug', image: 'busybox' }] } };
  assert.equal(onlyStatusChanged(base, withEphemeral), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } }), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, labels: { a: 'c' } } }), false);
  assert.equal(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, annotations: { x: 'y' } } }), false);
});
