import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function cronJob(spec: Json = {}, name = 'hello'): KubeObject {
  const o: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1' }], restartPolicy: 'OnFailure' } } } },
      ...spec,
    },
  };
  Strategy.defaults!(o);
  return o;
}
/** The detail of the spec.schedule error, i.e. the parser's message. */
const parseError = (schedule: string): string => Strategy.validate(cronJob({ schedule })).find((e) => e.field === 'spec.schedule')?.detail ?? '';

describe('cronjobs', () => {
  test('defaults', () => {
    const s = cronJob().spec as Json;
    assert.equal(s.concurrencyPolicy, 'Allow');
    assert.equal(s.suspend, false);
    assert.equal(s.successfulJobsHistoryLimit, 3);
    assert.equal(s.failedJobsHistoryLimit, 1);
    const podSpec = ((((s.jobTemplate as Json).spec as Json).template as Json).spec as Json);
    assert.equal(podSpec.dnsPolicy, 'ClusterFirst');
    assert.equal(((s.jobTemplate as Json).spec as Json).backoffLimit, undefined, 'job defaults do not apply inside the template');
  });

  test('valid', () => {
    assert.deepEqual(Strategy.validate(cronJob()), []);
    assert.deepEqual(Strategy.validate(cronJob({ schedule: '@hourly', timeZone: 'Europe/Berlin' })), []);
  });

  test('schedule errors carry the parser message', () => {
    const errs = Strategy.validate(cronJob({ schedule: 'not a cron' }));
    assert.deepEqual(brief(errs), ['FieldValueInvalid spec.schedule']);
    assert.equal(errs[0].detail, 'expected exactly 5 fields, found 3: [not a cron]');
    assert.deepEqual(brief(Strategy.validate(cronJob({ schedule: 'TZ=UTC 0 * * * *' }))), ['FieldValueInvalid spec.schedule']);
    assert.deepEqual(brief(Strategy.validate(cronJob({ schedule: '' }))), ['FieldValueRequired spec.schedule']);
  });

  test('schedule messages are robfig/cron ParseStandard messages', () => {
    assert.equal(parseError('60 * * * *'), 'end of range (60) above maximum (59): 60');
    assert.equal(parseError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(parseError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(parseError('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.equal(parseError('@often'), 'unrecognized descriptor: @often');
    assert.equal(parseError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    assert.equal(parseError('-1 * * * *'), 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax');
    assert.equal(parseError('*/-2 * * * *'), 'negative number (-2) not allowed: -2');
    assert.equal(parseError('@every 5 minutes'), 'failed to parse duration @every 5 minutes: time: invalid duration "5 minutes"');
    assert.equal(parseError('0,30 9-17 * JAN-MAR mon-fri'), '');
    assert.equal(parseError('@every 1h30m'), '');
  });

  test('other spec rules', () => {
    assert.deepEqual(brief(Strategy.validate(cronJob({ concurrencyPolicy: 'Sometimes' }))), ['FieldValueNotSupported spec.concurrencyPolicy']);
    assert.deepEqual(brief(Strategy.validate(cronJob({ timeZone: 'Mars/Olympus' }))), ['FieldValueInvalid spec.timeZone']);
    assert.deepEqual(brief(Strategy.validate(cronJob({}, 'x'.repeat(53)))), ['FieldValueInvalid metadata.name']);
    const withSelector = cronJob();
    (((withSelector.spec as Json).jobTemplate as Json).spec as Json).selector = { matchLabels: { a: 'b' } };
    assert.deepEqual(brief(Strategy.validate(withSelector)), ['FieldValueInvalid spec.jobTemplate.spec.selector']);
    const always = cronJob();
    ((((always.spec as Json).jobTemplate as Json).spec as Json).template as Json).spec = { containers: [{ name: 'c', image: 'x:1' }] };
    Strategy.defaults!(always);
    assert.deepEqual(brief(Strategy.validate(always)), ['FieldValueRequired spec.jobTemplate.spec.template.spec.restartPolicy']);
  });
});
