import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const lease = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'l', namespace: 'kube-node-lease' },
  spec,
});

describe('leases strategy', () => {
  test('accepts a node lease', () => {
    assert.deepEqual(Strategy.validate(lease({ holderIdentity: 'n1', leaseDurationSeconds: 40 })), []);
  });
  test('rejects non-positive duration and negative transitions like upstream', () => {
    const errs = Strategy.validate(lease({ leaseDurationSeconds: 0, leaseTransitions: -1 }));
    assert.deepEqual(
      errs.map((e) => [e.type, e.field, e.detail]),
      [
        ['FieldValueInvalid', 'spec.leaseDurationSeconds', 'must be greater than 0'],
        ['FieldValueInvalid', 'spec.leaseTransitions', 'must be greater than or equal to 0'],
      ],
    );
  });
});
