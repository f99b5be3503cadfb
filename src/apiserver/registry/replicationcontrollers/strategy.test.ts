import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
function rc(spec: Json): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'default' }, spec };
  Strategy.defaults!(o);
  return o;
}
const template = (labels: Record<string, string>): Json => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });

describe('replicationcontrollers', () => {
  test('selector, labels and replicas default from the template', () => {
    const o = rc({ template: template({ app: 'web' }) });
    assert.deepEqual((o.spec as Json).selector, { app: 'web' });
    assert.deepEqual(o.metadata.labels, { app: 'web' });
    assert.equal((o.spec as Json).replicas, 1);
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('invalid specs', () => {
    assert.deepEqual(brief(Strategy.validate(rc({ selector: { app: 'x' }, template: template({ app: 'web' }) }))), ['FieldValueInvalid spec.template.metadata.labels']);
    assert.deepEqual(brief(Strategy.validate(rc({ selector: { app: 'x' } }))), ['FieldValueRequired spec.template']);
    assert.deepEqual(brief(Strategy.validate(rc({ template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } }))).slice(0, 1), ['FieldValueRequired spec.selector']);
  });
  test('status and field selector', () => {
    const o = rc({ template: template({ app: 'web' }) });
    o.status = { replicas: 1, availableReplicas: 2, readyReplicas: 2 };
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(o, o)), ['FieldValueInvalid status.readyReplicas', 'FieldValueInvalid status.availableReplicas']);
    assert.deepEqual(Strategy.selectableFields!(o), { 'status.replicas': '1' });
  });
});
