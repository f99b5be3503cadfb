import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function ds(spec: Json = {}): KubeObject {
  const o: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } },
      ...spec,
    },
  };
  Strategy.defaults!(o);
  return o;
}

describe('daemonsets', () => {
  test('defaults', () => {
    const s = ds().spec as Json;
    assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(s.revisionHistoryLimit, 10);
  });
  test('valid', () => assert.deepEqual(Strategy.validate(ds()), []));
  test('rolling update rules', () => {
    assert.deepEqual(
      brief(Strategy.validate(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } }))),
      ['FieldValueInvalid spec.updateStrategy.rollingUpdate.maxSurge'],
    );
    assert.deepEqual(
      brief(Strategy.validate(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }))),
      ['FieldValueRequired spec.updateStrategy.rollingUpdate.maxUnavailable'],
    );
    assert.deepEqual(brief(Strategy.validate(ds({ updateStrategy: { type: 'Fast' } }))), ['FieldValueNotSupported spec.updateStrategy']);
  });
  test('selector must match and is immutable', () => {
    assert.deepEqual(brief(Strategy.validate(ds({ selector: { matchLabels: { app: 'x' } } }))), ['FieldValueInvalid spec.template.metadata.labels']);
    const errs = Strategy.validateUpdate!(ds({ selector: { matchLabels: { app: 'agent', v: '2' } } }), ds());
    assert.deepEqual(brief(errs), ['FieldValueInvalid spec.selector']);
    assert.equal(errs[0].detail, 'field is immutable');
  });
});
