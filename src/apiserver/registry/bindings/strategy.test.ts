import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const binding = (target: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'default' }, target });

describe('bindings', () => {
  test('target must name a node', () => {
    assert.deepEqual(Strategy.validate(binding({ kind: 'Node', name: 'n1' })), []);
    assert.deepEqual(Strategy.validate(binding({ name: 'n1' })), []);
    assert.deepEqual(
      Strategy.validate(binding({ kind: 'Pod' })).map((e) => [e.type, e.field, e.detail]),
      [
        ['FieldValueNotSupported', 'target.kind', 'supported values: "Node", "<empty>"'],
        ['FieldValueRequired', 'target.name', ''],
      ],
    );
  });
});
