import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
function limitRange(limits: unknown[]): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits } };
  Strategy.defaults!(o);
  return o;
}

describe('limitranges', () => {
  test('container defaults: default <- max, defaultRequest <- default, then min', () => {
    const o = limitRange([{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }]);
    assert.deepEqual(o.spec, {
      limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } }],
    });
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('ordering of min, defaults and max', () => {
    const errs = Strategy.validate(limitRange([{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }]));
    assert.deepEqual(brief(errs).slice(0, 1), ['FieldValueInvalid spec.limits[0].min[cpu]']);
    assert.equal(errs[0].detail, 'min value 2 is greater than max value 1');
    assert.deepEqual(brief(Strategy.validate(limitRange([{ type: 'Pod', max: { cpu: '1' }, default: { cpu: '1' } }]))), ['FieldValueForbidden spec.limits[0].default']);
    assert.deepEqual(brief(Strategy.validate(limitRange([{ type: 'PersistentVolumeClaim', max: { cpu: '1' } }]))), ['FieldValueRequired spec.limits[0].limits']);
    assert.deepEqual(brief(Strategy.validate(limitRange([{ type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }]))), [
      'FieldValueInvalid spec.limits[0].maxLimitRequestRatio[cpu]',
    ]);
    assert.deepEqual(brief(Strategy.validate(limitRange([{ type: 'Pod' }, { type: 'Pod' }]))), ['FieldValueDuplicate spec.limits[1].type']);
  });
});
