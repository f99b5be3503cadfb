import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const node = (drivers: unknown[]): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: 'n1' }, spec: { drivers } });
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);
const good = { name: 'io.kubernetes.storage.csi.driver', nodeID: 'node1', topologyKeys: ['company.com/zone1'], allocatable: { count: 10 } };

describe('csinodes strategy', () => {
  test('accepts valid drivers', () => {
    assert.deepEqual(Strategy.validate(node([good, { name: 'driverB', nodeID: 'n' }])), []);
  });
  test('rejects duplicates, missing nodeID, long nodeID, negative count, bad topology keys', () => {
    const errs = Strategy.validate(
      node([
        good,
        { ...good },
        { name: 'd2', nodeID: '' },
        { name: 'd3', nodeID: 'x'.repeat(193), allocatable: { count: -1 } },
        { name: 'd4', nodeID: 'n', topologyKeys: ['a', 'a', 'bad key'] },
      ]),
    );
    assert.deepEqual(summary(errs), [
      'FieldValueDuplicate spec.drivers[1].name: ',
      'FieldValueRequired spec.drivers[2].nodeID: ',
      'FieldValueInvalid spec.drivers[3].nodeID: must be 192 characters or less',
      'FieldValueInvalid spec.drivers[3].allocatable.count: must be greater than or equal to 0',
      'FieldValueDuplicate spec.drivers[4]: ',
      ...errs.slice(5).map((e) => `FieldValueInvalid spec.drivers[4]: ${e.detail}`),
    ]);
    assert.ok(errs.length > 5);
  });
  test('existing driver entries are immutable; adding drivers is allowed', () => {
    const old = node([good]);
    assert.deepEqual(Strategy.validateUpdate!(node([good, { name: 'new', nodeID: 'n' }]), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(node([{ ...good, nodeID: 'other' }]), old)), ['FieldValueInvalid CSINodeDriver: field is immutable']);
  });
});
