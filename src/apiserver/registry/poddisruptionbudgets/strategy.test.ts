import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'p', namespace: 'ns' },
  spec,
  ...(status ? { status } : {}),
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('poddisruptionbudgets strategy', () => {
  test('accepts upstream success cases', () => {
    for (const v of [0, 10, '0%', '50%', '100%']) {
      assert.deepEqual(Strategy.validate(pdb({ minAvailable: v, selector: { matchLabels: { app: 'a' } } })), [], String(v));
      assert.deepEqual(Strategy.validate(pdb({ maxUnavailable: v })), [], String(v));
    }
    assert.deepEqual(Strategy.validate(pdb({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' })), []);
  });
  test('rejects upstream failure cases', () => {
    for (const v of [-1, '-1%', '10', '101%', 'ab%']) {
      const errs = Strategy.validate(pdb({ minAvailable: v }));
      assert.ok(errs.length > 0 && errs.every((e) => e.field === 'spec.minAvailable'), String(v));
    }
    assert.deepEqual(summary(Strategy.validate(pdb({ minAvailable: '101%' }))), ['FieldValueInvalid spec.minAvailable: must not be greater than 100%']);
    assert.deepEqual(summary(Strategy.validate(pdb({ minAvailable: 1, maxUnavailable: 1 }))), ['FieldValueInvalid spec: minAvailable and maxUnavailable cannot be both set']);
    assert.deepEqual(summary(Strategy.validate(pdb({ unhealthyPodEvictionPolicy: 'Invalid' }))), [
      'FieldValueNotSupported spec.unhealthyPodEvictionPolicy: supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
  });
  test('status counters must be non-negative', () => {
    assert.deepEqual(Strategy.validateStatusUpdate!(pdb({}, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }), pdb({})), []);
    assert.deepEqual(summary(Strategy.validateStatusUpdate!(pdb({}, { disruptionsAllowed: -1, expectedPods: -2 }), pdb({}))), [
      'FieldValueInvalid status.disruptionsAllowed: must be greater than or equal to 0',
      'FieldValueInvalid status.expectedPods: must be greater than or equal to 0',
    ]);
  });
});
