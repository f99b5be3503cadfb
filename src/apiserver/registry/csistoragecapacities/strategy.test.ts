import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const cap = (fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIStorageCapacity',
  metadata: { name: 'c', namespace: 'ns' },
  storageClassName: 'fast',
  ...fields,
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('csistoragecapacities strategy', () => {
  test('accepts a valid capacity', () => {
    assert.deepEqual(Strategy.validate(cap({ capacity: '1Gi', maximumVolumeSize: '500Mi', nodeTopology: { matchLabels: { 'topology.kubernetes.io/zone': 'z1' } } })), []);
  });
  test('rejects bad class names, negative and unparsable quantities, bad selectors', () => {
    assert.deepEqual(summary(Strategy.validate(cap({ capacity: '-1' }))), ['FieldValueInvalid capacity: must be greater than or equal to 0']);
    assert.equal(Strategy.validate(cap({ capacity: 'lots' }))[0]?.field, 'capacity');
    assert.equal(Strategy.validate(cap({ storageClassName: 'Not_Valid' }))[0]?.field, 'storageClassName');
    assert.equal(Strategy.validate(cap({ nodeTopology: { matchLabels: { 'bad key': 'v' } } }))[0]?.field, 'nodeTopology.matchLabels');
  });
  test('nodeTopology and storageClassName are immutable; capacity may change', () => {
    const old = cap({ capacity: '1Gi' });
    assert.deepEqual(Strategy.validateUpdate!(cap({ capacity: '2Gi' }), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(cap({ storageClassName: 'slow', nodeTopology: {} }), old)), [
      'FieldValueInvalid nodeTopology: field is immutable',
      'FieldValueInvalid storageClassName: field is immutable',
    ]);
  });
});
