import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { CronParseError, Strategy, parseCronSchedule } from './strategy.js';

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
const parseError = (s: string): string => {
  try {
    parseCronSchedule(s);
    return '';
  } catch (e) {
    assert.ok(e instanceof CronParseError);
    return e.message;
  }
};

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

  test('parser', () => {
    assert.equal(parseError('60 * * * *'), 'end of range (60) above maximum (59): 60');
    assert.equal(parseError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(parseError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(parseError('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.equal(parseError('@often'), 'unrecognized descriptor: @often');
    assert.equal(parseError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    const s = parseCronSchedule('0,30 9-17 * JAN-MAR mon-fri');
    assert.deepEqual([...s.minutes], [0, 30]);
    assert.deepEqual([...s.months], [1, 2, 3]);
    assert.deepEqual([...s.daysOfWeek], [1, 2, 3, 4, 5]);
    assert.equal(s.domStar, true);
    assert.equal(s.dowStar, false);
    assert.deepEqual([...parseCronSchedule('5/20 * * * *').minutes], [5, 25, 45]);
    assert.equal(parseCronSchedule('@every 1h30m').everySeconds, 5400);
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
