import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const podTemplate = (template: Json): KubeObject => {
  const o: KubeObject = { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 't', namespace: 'default' }, template };
  Strategy.defaults!(o);
  return o;
};

describe('podtemplates', () => {
  test('the template is defaulted and validated', () => {
    const o = podTemplate({ metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    assert.equal(((o.template as Json).spec as Json).restartPolicy, 'Always');
    assert.deepEqual(Strategy.validate(o), []);
    const bad = podTemplate({ metadata: { labels: { 'a b': 'c' } }, spec: { containers: [], ephemeralContainers: [{ name: 'e', image: 'x' }] } });
    assert.deepEqual(
      Strategy.validate(bad).map((e) => `${e.type} ${e.field}`),
      [
        'FieldValueInvalid template.labels',
        'FieldValueRequired template.spec.containers',
        'FieldValueForbidden template.spec.ephemeralContainers',
      ],
    );
  });
});
