import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const node = (body: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, ...body });

describe('nodes', () => {
  test('allocatable defaults to capacity', () => {
    const o = node({ status: { capacity: { cpu: '2', memory: '4Gi' } } });
    Strategy.defaults!(o);
    assert.deepEqual((o.status as Record<string, unknown>).allocatable, { cpu: '2', memory: '4Gi' });
  });
  test('taints and pod CIDRs', () => {
    assert.deepEqual(Strategy.validate(node({ spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], podCIDRs: ['10.244.0.0/24'] } })), []);
    assert.deepEqual(brief(Strategy.validate(node({ spec: { taints: [{ key: 'a' }] } }))), ['FieldValueRequired spec.taints[0].effect']);
    assert.deepEqual(brief(Strategy.validate(node({ spec: { taints: [{ key: 'a', effect: 'Never' }] } }))), ['FieldValueNotSupported spec.taints[0].effect']);
    assert.deepEqual(
      brief(Strategy.validate(node({ spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', value: 'b', effect: 'NoSchedule' }] } }))),
      ['FieldValueDuplicate spec.taints[1]'],
    );
    assert.deepEqual(brief(Strategy.validate(node({ spec: { podCIDRs: ['10.0.0.0/8', '10.1.0.0/16'] } }))), ['FieldValueInvalid spec.podCIDRs']);
  });
  test('podCIDRs and providerID are set once', () => {
    const old = node({ spec: { podCIDRs: ['10.244.1.0/24'], providerID: 'skiff://n1' } });
    assert.deepEqual(Strategy.validateUpdate!(node({ spec: { podCIDRs: ['10.244.1.0/24'], providerID: 'skiff://n1', unschedulable: true } }), old), []);
    assert.deepEqual(brief(Strategy.validateUpdate!(node({ spec: { podCIDRs: ['10.244.2.0/24'] } }), old)), [
      'FieldValueForbidden spec.podCIDRs',
      'FieldValueForbidden spec.providerID',
    ]);
    assert.deepEqual(Strategy.validateUpdate!(node({ spec: { podCIDRs: ['10.244.2.0/24'] } }), node()), []);
  });
  test('field selector', () => {
    assert.deepEqual(Strategy.selectableFields!(node({ spec: { unschedulable: true } })), { 'spec.unschedulable': 'true' });
    assert.deepEqual(Strategy.selectableFields!(node()), { 'spec.unschedulable': 'false' });
  });
});
