import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const event = (body: Record<string, unknown>, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.17a', namespace },
  ...body,
});

describe('events', () => {
  test('old-style events: namespaces must agree', () => {
    assert.deepEqual(Strategy.validate(event({ involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' }, reason: 'Started' })), []);
    assert.deepEqual(Strategy.validate(event({ involvedObject: { kind: 'Node', name: 'n1' } })), []);
    assert.deepEqual(brief(Strategy.validate(event({ involvedObject: { kind: 'Pod', namespace: 'other', name: 'web' } }))), [
      'FieldValueInvalid involvedObject.namespace',
    ]);
  });
  test('new-style events need reporting fields', () => {
    const errs = Strategy.validate(event({ eventTime: '2024-01-01T00:00:00.000000Z', involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' } }));
    assert.deepEqual(brief(errs), [
      'FieldValueRequired reportingComponent',
      'FieldValueInvalid reportingComponent',
      'FieldValueInvalid reportingComponent',
      'FieldValueRequired reportingInstance',
      'FieldValueRequired action',
      'FieldValueRequired reason',
    ]);
  });
  test('field selectors', () => {
    const o = event({
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1', resourceVersion: '5', fieldPath: 'spec.containers{web}' },
      reason: 'Pulled',
      type: 'Normal',
      source: { component: 'kubelet' },
      reportingComponent: 'kubelet',
    });
    assert.deepEqual(Strategy.selectableFields!(o), {
      'involvedObject.kind': 'Pod',
      'involvedObject.namespace': 'default',
      'involvedObject.name': 'web',
      'involvedObject.uid': 'u1',
      'involvedObject.apiVersion': 'v1',
      'involvedObject.resourceVersion': '5',
      'involvedObject.fieldPath': 'spec.containers{web}',
      reason: 'Pulled',
      reportingComponent: 'kubelet',
      source: 'kubelet',
      type: 'Normal',
    });
  });
});
