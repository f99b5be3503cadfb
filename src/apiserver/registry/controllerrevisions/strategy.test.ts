import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const revision = (body: Record<string, unknown>): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r', namespace: 'default' }, ...body });

describe('controllerrevisions', () => {
  test('data is required, revision non-negative, data immutable', () => {
    assert.deepEqual(Strategy.validate(revision({ data: { spec: {} }, revision: 1 })), []);
    assert.deepEqual(Strategy.validate(revision({ revision: -1 })).map((e) => `${e.type} ${e.field}`), ['FieldValueRequired data', 'FieldValueInvalid revision']);
    assert.deepEqual(Strategy.validateUpdate!(revision({ data: { a: 1 }, revision: 1 }), revision({ data: { a: 1 }, revision: 1 })), []);
    assert.deepEqual(Strategy.validateUpdate!(revision({ data: { a: 2 } }), revision({ data: { a: 1 } })).map((e) => e.field), ['data']);
  });
});
