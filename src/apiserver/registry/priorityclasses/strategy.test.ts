import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const pc = (name: string, fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  ...fields,
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('priorityclasses strategy', () => {
  test('defaults preemptionPolicy to PreemptLowerPriority, keeps Never', () => {
    const a = pc('a', { value: 10 });
    Strategy.defaults!(a);
    assert.equal(a.preemptionPolicy, 'PreemptLowerPriority');
    const b = pc('b', { value: 10, preemptionPolicy: 'Never' });
    Strategy.defaults!(b);
    assert.equal(b.preemptionPolicy, 'Never');
  });

  test('accepts user classes up to one billion and the known system classes', () => {
    assert.deepEqual(Strategy.validate(pc('high', { value: 1_000_000_000 })), []);
    assert.deepEqual(Strategy.validate(pc('system-node-critical', { value: 2_000_001_000 })), []);
    assert.deepEqual(Strategy.validate(pc('system-cluster-critical', { value: 2_000_000_000 })), []);
  });

  test('reserves the system- prefix with upstream messages', () => {
    assert.deepEqual(summary(Strategy.validate(pc('system-foo', { value: 1 }))), [
      "FieldValueForbidden metadata.name: priority class names with 'system-' prefix are reserved for system use only. error: system-foo is not a known system priority class",
    ]);
    assert.deepEqual(summary(Strategy.validate(pc('system-node-critical', { value: 5 }))), [
      "FieldValueForbidden metadata.name: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
    ]);
    assert.deepEqual(summary(Strategy.validate(pc('system-cluster-critical', { value: 2_000_000_000, globalDefault: true }))), [
      "FieldValueForbidden metadata.name: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false",
    ]);
  });

  test('rejects too-high user values and unknown preemption policies', () => {
    assert.deepEqual(summary(Strategy.validate(pc('x', { value: 1_000_000_001, preemptionPolicy: 'Sometimes' }))), [
      'FieldValueForbidden value: maximum allowed value of a user defined priority is 1000000000',
      'FieldValueNotSupported preemptionPolicy: supported values: "PreemptLowerPriority", "Never"',
    ]);
  });

  test('value and preemptionPolicy are immutable', () => {
    const old = pc('x', { value: 1, preemptionPolicy: 'Never' });
    assert.deepEqual(Strategy.validateUpdate!(pc('x', { value: 1, preemptionPolicy: 'Never', description: 'd' }), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(pc('x', { value: 2, preemptionPolicy: 'PreemptLowerPriority' }), old)), [
      'FieldValueForbidden value: may not be changed in an update.',
      'FieldValueInvalid preemptionPolicy: field is immutable',
    ]);
  });
});
