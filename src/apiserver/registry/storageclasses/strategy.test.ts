import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const sc = (fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'fast' },
  ...fields,
});
const defaulted = (fields: Record<string, unknown>): KubeObject => {
  const o = sc(fields);
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('storageclasses strategy', () => {
  test('defaults reclaimPolicy Delete and volumeBindingMode Immediate', () => {
    const o = defaulted({ provisioner: 'kubernetes.io/no-provisioner' });
    assert.equal(o.reclaimPolicy, 'Delete');
    assert.equal(o.volumeBindingMode, 'Immediate');
    const kept = defaulted({ provisioner: 'x', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    assert.equal(kept.reclaimPolicy, 'Retain');
    assert.equal(kept.volumeBindingMode, 'WaitForFirstConsumer');
  });

  test('accepts upstream success cases', () => {
    assert.deepEqual(Strategy.validate(defaulted({ provisioner: 'kubernetes.io/foo-provisioner', parameters: { foo: 'bar' } })), []);
    assert.deepEqual(Strategy.validate(defaulted({ provisioner: 'foo-provisioner', reclaimPolicy: 'Retain' })), []);
  });

  test('rejects missing/invalid provisioner, bad reclaim policy, bad binding mode, empty parameter key', () => {
    assert.deepEqual(summary(Strategy.validate(defaulted({}))), ['FieldValueRequired provisioner: ']);
    assert.equal(Strategy.validate(defaulted({ provisioner: 'kubernetes.io/invalid/provisioner' }))[0]?.field, 'provisioner');
    assert.deepEqual(summary(Strategy.validate(defaulted({ provisioner: 'p', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later', parameters: { '': 'x' } }))), [
      'FieldValueInvalid parameters: field can not be empty.',
      'FieldValueNotSupported reclaimPolicy: supported values: "Delete", "Retain"',
      'FieldValueNotSupported volumeBindingMode: supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
  });

  test('rejects too many parameters and too-large parameters', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 513; i++) many[`k${i}`] = 'v';
    assert.deepEqual(summary(Strategy.validate(defaulted({ provisioner: 'p', parameters: many }))), ['FieldValueTooLong parameters: must have at most 512 bytes']);
    assert.deepEqual(summary(Strategy.validate(defaulted({ provisioner: 'p', parameters: { big: 'x'.repeat(256 * 1024) } }))), [
      'FieldValueTooLong parameters: must have at most 262144 bytes',
    ]);
  });

  test('validates allowedTopologies like upstream', () => {
    const term = { matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['zone1'] }] };
    assert.deepEqual(Strategy.validate(defaulted({ provisioner: 'p', allowedTopologies: [term] })), []);
    assert.deepEqual(summary(Strategy.validate(defaulted({ provisioner: 'p', allowedTopologies: [term, term] }))), [
      'FieldValueDuplicate allowedTopologies[1].matchLabelExpressions: ',
    ]);
    assert.deepEqual(summary(Strategy.validate(defaulted({ provisioner: 'p', allowedTopologies: [{ matchLabelExpressions: [{ key: 'k', values: [] }] }] }))), [
      'FieldValueRequired allowedTopologies[0].matchLabelExpressions[0].values: must specify as least one value',
    ]);
  });

  test('provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable', () => {
    const old = defaulted({ provisioner: 'p', parameters: { a: 'b' } });
    assert.deepEqual(Strategy.validateUpdate!(defaulted({ provisioner: 'p', parameters: { a: 'b' }, allowVolumeExpansion: true }), old), []);
    const changed = defaulted({ provisioner: 'q', parameters: { a: 'c' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    assert.deepEqual(summary(Strategy.validateUpdate!(changed, old)), [
      'FieldValueForbidden parameters: updates to parameters are forbidden.',
      'FieldValueForbidden provisioner: updates to provisioner are forbidden.',
      'FieldValueForbidden reclaimPolicy: updates to reclaimPolicy are forbidden.',
      'FieldValueInvalid volumeBindingMode: field is immutable',
    ]);
  });
});
