import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const quota = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'q', namespace: 'default' },
  spec,
  ...(status ? { status } : {}),
});

describe('resourcequotas', () => {
  test('hard limits and scopes', () => {
    assert.deepEqual(Strategy.validate(quota({ hard: { pods: '10', 'requests.cpu': '4', 'count/deployments.apps': '2' }, scopes: ['NotTerminating'] })), []);
    assert.deepEqual(brief(Strategy.validate(quota({ hard: { pods: '-1' } }))), ['FieldValueInvalid spec.hard[pods]']);
    assert.deepEqual(brief(Strategy.validate(quota({ hard: { pods: 'many' } }))), ['FieldValueInvalid spec.hard[pods]']);
    assert.deepEqual(brief(Strategy.validate(quota({ scopes: ['BestEffort', 'NotBestEffort'] }))), ['FieldValueInvalid spec.scopes']);
  });
  test('status quantities', () => {
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(quota({}, { hard: { pods: '1' }, used: { pods: '-2' } }), quota({}))), ['FieldValueInvalid status.used[pods]']);
  });
});
