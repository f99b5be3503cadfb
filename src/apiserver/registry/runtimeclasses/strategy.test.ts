import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const rc = (handler: unknown, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'node.k8s.io/v1',
  kind: 'RuntimeClass',
  metadata: { name: 'gvisor' },
  handler,
  ...extra,
});

describe('runtimeclasses strategy', () => {
  test('accepts DNS-label handlers', () => {
    assert.deepEqual(Strategy.validate(rc('runsc')), []);
    assert.deepEqual(Strategy.validate(rc('a-b-1', { scheduling: { nodeSelector: { 'sandbox.io/ok': 'true' } } })), []);
  });
  test('rejects handlers that are not DNS labels (upstream cases)', () => {
    for (const bad of ['', 'ABC', 'a.b', 'a/b', '-x', 'x'.repeat(64)]) {
      const errs = Strategy.validate(rc(bad));
      assert.ok(errs.length > 0, `handler ${JSON.stringify(bad)}`);
      assert.ok(errs.every((e) => e.field === 'handler' && e.type === 'FieldValueInvalid'));
    }
  });
  test('rejects bad node selectors and duplicate tolerations', () => {
    const errs = Strategy.validate(
      rc('runc', {
        scheduling: {
          nodeSelector: { 'bad key!': 'v' },
          tolerations: [
            { key: 'k', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'k', operator: 'Exists', effect: 'NoSchedule' },
          ],
        },
      }),
    );
    assert.deepEqual(
      errs.map((e) => [e.type, e.field]),
      [
        ['FieldValueInvalid', 'scheduling.nodeSelector'],
        ['FieldValueDuplicate', 'scheduling.tolerations[1]'],
      ],
    );
  });
  test('overhead quantities must be non-negative', () => {
    assert.deepEqual(Strategy.validate(rc('runc', { overhead: { podFixed: { cpu: '250m', memory: '64Mi' } } })), []);
    const errs = Strategy.validate(rc('runc', { overhead: { podFixed: { cpu: '-1' } } }));
    assert.deepEqual(
      errs.map((e) => [e.field, e.detail]),
      [['overhead.limits[cpu]', 'must be greater than or equal to 0']],
    );
  });
  test('handler is immutable', () => {
    assert.deepEqual(Strategy.validateUpdate!(rc('runc'), rc('runc')), []);
    const errs = Strategy.validateUpdate!(rc('runsc'), rc('runc'));
    assert.deepEqual(errs, [{ type: 'FieldValueInvalid', field: 'handler', value: 'runsc', detail: 'field is immutable' }]);
  });
});
