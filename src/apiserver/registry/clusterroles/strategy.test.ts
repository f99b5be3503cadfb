import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const cr = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'admin' }, ...fields });
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('clusterroles strategy', () => {
  test('allows non-resource URLs', () => {
    assert.deepEqual(Strategy.validate(cr({ rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] })), []);
  });
  test('validates aggregationRule', () => {
    const sel = { matchLabels: { 'rbac.example.com/aggregate-to-admin': 'true' } };
    assert.deepEqual(Strategy.validate(cr({ aggregationRule: { clusterRoleSelectors: [sel] } })), []);
    assert.deepEqual(summary(Strategy.validate(cr({ aggregationRule: {} }))), [
      'FieldValueRequired aggregationRule.clusterRoleSelectors: at least one clusterRoleSelector required if aggregationRule is non-nil',
    ]);
    const bad = Strategy.validate(cr({ aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'k', operator: 'In' }] }] } }));
    assert.deepEqual(summary(bad), [
      "FieldValueRequired aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
  });
});
