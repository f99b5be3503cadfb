import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function rs(spec: Json = {}): KubeObject {
  const o: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-1', namespace: 'default' },
    spec: {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } },
      ...spec,
    },
  };
  Strategy.defaults!(o);
  return o;
}

describe('replicasets', () => {
  test('defaults replicas to 1 and validates', () => {
    assert.equal((rs().spec as Json).replicas, 1);
    assert.deepEqual(Strategy.validate(rs()), []);
  });
  test('selector expressions must match the template', () => {
    const errs = Strategy.validate(rs({ selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }));
    assert.deepEqual(brief(errs), ['FieldValueInvalid spec.template.metadata.labels']);
  });
  test('activeDeadlineSeconds is not supported in templates', () => {
    const o = rs();
    (((o.spec as Json).template as Json).spec as Json).activeDeadlineSeconds = 5;
    assert.deepEqual(brief(Strategy.validate(o)), ['FieldValueForbidden spec.template.spec.activeDeadlineSeconds']);
  });
  test('status replica counts and field selector', () => {
    const o = rs();
    o.status = { replicas: 2, readyReplicas: 3, availableReplicas: 1, fullyLabeledReplicas: 2 };
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(o, rs())), ['FieldValueInvalid status.readyReplicas']);
    assert.deepEqual(Strategy.selectableFields!(o), { 'status.replicas': '2' });
  });
});
