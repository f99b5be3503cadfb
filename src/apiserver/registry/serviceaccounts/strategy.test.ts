import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Strategy } from './strategy.js';

describe('serviceaccounts', () => {
  test('only ObjectMeta is validated (by the store), so any body passes', () => {
    assert.deepEqual(Strategy.validate({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' }, secrets: [{ name: 'x' }] }), []);
  });
});
