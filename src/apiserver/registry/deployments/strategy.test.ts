import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function deployment(spec: Json = {}): KubeObject {
  const d: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } },
      ...spec,
    },
  };
  Strategy.defaults!(d);
  return d;
}
const spec = (o: KubeObject): Json => o.spec as Json;

describe('deployments', () => {
  test('defaults: replicas, strategy, history, deadline and the pod template', () => {
    const s = spec(deployment());
    assert.equal(s.replicas, 1);
    assert.deepEqual(s.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(s.revisionHistoryLimit, 10);
    assert.equal(s.progressDeadlineSeconds, 600);
    const pod = (s.template as Json).spec as Json;
    assert.equal(pod.restartPolicy, 'Always');
    assert.equal(pod.enableServiceLinks, undefined, 'enableServiceLinks is a Pod default, not a template one');
    assert.equal(((pod.containers as Json[])[0] as Json).imagePullPolicy, 'IfNotPresent');
    const recreate = spec(deployment({ strategy: { type: 'Recreate' } }));
    assert.deepEqual(recreate.strategy, { type: 'Recreate' });
  });

  test('a defaulted deployment is valid', () => {
    assert.deepEqual(Strategy.validate(deployment()), []);
  });

  const cases: [string, Json, string[]][] = [
    ['missing selector (a nil selector also matches nothing)', { selector: undefined }, ['FieldValueRequired spec.selector', 'FieldValueInvalid spec.template.metadata.labels']],
    ['empty selector', { selector: {} }, ['FieldValueInvalid spec.selector']],
    [
      'selector does not match',
      { selector: { matchLabels: { app: 'other' } } },
      ['FieldValueInvalid spec.template.metadata.labels'],
    ],
    ['negative replicas', { replicas: -1 }, ['FieldValueInvalid spec.replicas']],
    [
      'rollingUpdate with Recreate',
      { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } },
      ['FieldValueForbidden spec.strategy.rollingUpdate'],
    ],
    [
      'both zero',
      { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      ['FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable'],
    ],
    [
      'over 100% unavailable and a bad percent',
      { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '1x', maxUnavailable: '150%' } } },
      ['FieldValueInvalid spec.strategy.rollingUpdate.maxSurge', 'FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable'],
    ],
    ['unknown strategy', { strategy: { type: 'Blue' } }, ['FieldValueNotSupported spec.strategy']],
    ['deadline not above minReadySeconds', { progressDeadlineSeconds: 5, minReadySeconds: 5 }, ['FieldValueInvalid spec.progressDeadlineSeconds']],
  ];
  for (const [name, s, expected] of cases) {
    test(name, () => assert.deepEqual(brief(Strategy.validate(deployment(s))), expected));
  }

  test('template restartPolicy must be Always', () => {
    const d = deployment();
    ((spec(d).template as Json).spec as Json).restartPolicy = 'Never';
    const errs = Strategy.validate(d);
    assert.deepEqual(brief(errs), ['FieldValueNotSupported spec.template.spec.restartPolicy']);
    assert.equal(errs[0].detail, 'supported values: "Always"');
  });

  test('selector mismatch message is upstream', () => {
    const [e] = Strategy.validate(deployment({ selector: { matchLabels: { app: 'other' } } }));
    assert.equal(e.detail, '`selector` does not match template `labels`');
  });

  test('selector is immutable; template may change', () => {
    const old = deployment();
    const next = deployment({
      selector: { matchLabels: { app: 'web', tier: 'x' } },
      template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } },
    });
    assert.deepEqual(brief(Strategy.validateUpdate!(next, old)), ['FieldValueInvalid spec.selector']);
    const newImage = deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } });
    assert.deepEqual(Strategy.validateUpdate!(newImage, old), []);
  });

  test('status counters', () => {
    const old = deployment();
    old.status = { collisionCount: 2 };
    const next = deployment();
    next.status = { replicas: 1, readyReplicas: 2, availableReplicas: 1, collisionCount: 1 };
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(next, old)), ['FieldValueInvalid status.readyReplicas', 'FieldValueInvalid status.collisionCount']);
  });
});
