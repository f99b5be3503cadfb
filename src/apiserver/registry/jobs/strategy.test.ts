import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const UID = '8f0c5d7e-1111-4222-8333-944455556666';

/** A job as the store prepares it for create: defaults, uid, then the strategy's prepareForCreate. */
function created(spec: Json = {}, labels?: Record<string, string>): KubeObject {
  const o: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', ...(labels ? { labels } : {}) },
    spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5' }], restartPolicy: 'Never' } }, ...spec },
  };
  Strategy.defaults!(o);
  o.metadata.uid = UID;
  Strategy.prepareForCreate!(o);
  return o;
}
const spec = (o: KubeObject): Json => o.spec as Json;

describe('jobs', () => {
  test('defaults', () => {
    const s = spec(created());
    assert.equal(s.completions, 1);
    assert.equal(s.parallelism, 1);
    assert.equal(s.backoffLimit, 6);
    assert.equal(s.completionMode, 'NonIndexed');
    assert.equal(s.suspend, false);
    assert.equal(s.podReplacementPolicy, 'TerminatingOrFailed');
    const parallelOnly = spec(created({ parallelism: 3 }));
    assert.equal(parallelOnly.completions, undefined);
    assert.equal(spec(created({ backoffLimitPerIndex: 1, completionMode: 'Indexed', completions: 2 })).backoffLimit, 2147483647);
  });

  test('create generates the selector and pod labels from name and uid', () => {
    const o = created();
    assert.deepEqual(spec(o).selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
    const expectedLabels = {
      'batch.kubernetes.io/controller-uid': UID,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': UID,
      'job-name': 'pi',
    };
    assert.deepEqual(((spec(o).template as Json).metadata as Json).labels, expectedLabels);
    assert.deepEqual(o.metadata.labels, expectedLabels);
    assert.deepEqual(created({}, { team: 'a' }).metadata.labels, { team: 'a' });
    assert.deepEqual(Strategy.validate(o), []);
  });

  test('a user selector without manualSelector is rejected', () => {
    const errs = Strategy.validate(created({ selector: { matchLabels: { app: 'x' } } }));
    assert.ok(brief(errs).includes('FieldValueInvalid spec.selector'), brief(errs).join());
    assert.equal(errs.find((e) => e.field === 'spec.selector')?.detail, '`selector` not auto-generated');
  });

  test('manual selectors must still match the template', () => {
    const ok = created({
      manualSelector: true,
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x:1' }], restartPolicy: 'OnFailure' } },
    });
    assert.deepEqual(Strategy.validate(ok), []);
    const bad = created({
      manualSelector: true,
      selector: { matchLabels: { app: 'y' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x:1' }], restartPolicy: 'OnFailure' } },
    });
    assert.deepEqual(brief(Strategy.validate(bad)), ['FieldValueInvalid spec.template.metadata.labels']);
  });

  test('restartPolicy must be OnFailure or Never', () => {
    const o = created({ template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } });
    const errs = Strategy.validate(o);
    assert.deepEqual(brief(errs), ['FieldValueRequired spec.template.spec.restartPolicy']);
    assert.equal(errs[0].detail, 'valid values: "OnFailure", "Never"');
  });

  test('spec checks', () => {
    assert.deepEqual(brief(Strategy.validate(created({ parallelism: -1 }))), ['FieldValueInvalid spec.parallelism']);
    assert.deepEqual(brief(Strategy.validate(created({ completionMode: 'Indexed', parallelism: 2 }))).slice(0, 1), ['FieldValueRequired spec.completions']);
    assert.deepEqual(brief(Strategy.validate(created({ completionMode: 'Sometimes' }))), ['FieldValueNotSupported spec.completionMode']);
    assert.deepEqual(brief(Strategy.validate(created({ podReplacementPolicy: 'Always' }))), ['FieldValueNotSupported spec.podReplacementPolicy']);
  });

  test('update: selector and template immutable, scheduling directives mutable while suspended', () => {
    const old = created();
    const next = structuredClone(old);
    ((spec(next).template as Json).spec as Json).containers = [{ name: 'pi', image: 'perl:6' }];
    assert.deepEqual(brief(Strategy.validateUpdate!(next, old)), ['FieldValueInvalid spec.template']);

    const suspended = created({ suspend: true });
    const moved = structuredClone(suspended);
    ((spec(moved).template as Json).spec as Json).nodeSelector = { zone: 'a' };
    assert.deepEqual(Strategy.validateUpdate!(moved, suspended), []);
    const started = structuredClone(suspended);
    started.status = { startTime: '2024-01-01T00:00:00Z' };
    assert.deepEqual(brief(Strategy.validateUpdate!(moved, started)), ['FieldValueInvalid spec.template']);

    const reselected = structuredClone(old);
    spec(reselected).selector = { matchLabels: { other: 'x' } };
    assert.ok(brief(Strategy.validateUpdate!(reselected, old)).includes('FieldValueInvalid spec.selector'));
    const moreCompletions = structuredClone(old);
    spec(moreCompletions).completions = 3;
    assert.deepEqual(brief(Strategy.validateUpdate!(moreCompletions, old)), ['FieldValueInvalid spec.completions']);
  });

  test('pod failure policy rules', () => {
    const policy = (rules: unknown[]): Json => ({ podFailurePolicy: { rules } });
    assert.deepEqual(
      Strategy.validate(created(policy([{ action: 'FailJob', onExitCodes: { containerName: 'pi', operator: 'In', values: [1, 42] } }, { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }]))),
      [],
    );
    assert.equal((((spec(created(policy([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }]))).podFailurePolicy as Json).rules as Json[])[0].onPodConditions as Json[])[0].status, 'True');
    assert.equal(spec(created(policy([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }]))).podReplacementPolicy, 'Failed');
    assert.deepEqual(
      brief(Strategy.validate(created(policy([{ action: 'Explode', onExitCodes: { containerName: 'nope', operator: 'In', values: [0, 3, 2] } }, { action: 'Count' }])))),
      [
        'FieldValueNotSupported spec.podFailurePolicy.rules[0].action',
        'FieldValueInvalid spec.podFailurePolicy.rules[0].onExitCodes.containerName',
        'FieldValueInvalid spec.podFailurePolicy.rules[0].onExitCodes.values[0]',
        'FieldValueInvalid spec.podFailurePolicy.rules[0].onExitCodes.values[2]',
        'FieldValueInvalid spec.podFailurePolicy.rules[1]',
      ],
    );
  });

  test('field selector', () => {
    const o = created();
    o.status = { succeeded: 1 };
    assert.deepEqual(Strategy.selectableFields!(o), { 'status.successful': '1' });
  });
});
