// upstream's CronJob controller table cases for missed schedule times and job naming (utils_test.go).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { parseStandard } from '../../machinery/cron.js';
import {
  byJobStartTime,
  formatRFC3339InZone,
  formatSchedule,
  getJobName,
  jobFromTemplate,
  mostRecentScheduleTime,
  nextScheduleTime,
  nextScheduleTimeDuration,
  NEXT_SCHEDULE_DELTA_MS,
} from './cronjob-controller.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const TOP = at('2016-05-19T10:00:00Z');
const after = (ms: number) => TOP + ms;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const cronJob = (schedule: string, opts: { created?: number; last?: number; sds?: number; timeZone?: string; name?: string } = {}): CronJob => ({
  metadata: { name: opts.name ?? 'mycronjob', namespace: 'snazzycats', uid: '1a2b3c', creationTimestamp: new Date(opts.created ?? TOP).toISOString().replace('.000', '') },
  spec: {
    schedule,
    ...(opts.sds !== undefined ? { startingDeadlineSeconds: opts.sds } : {}),
    ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
    jobTemplate: { metadata: { labels: { a: 'b' }, annotations: { x: 'y' } }, spec: { template: { spec: { containers: [] } } } },
  },
  status: opts.last !== undefined ? { lastScheduleTime: new Date(opts.last).toISOString().replace('.000', '') } : {},
});

describe("upstream's TestMostRecentScheduleTime", () => {
  const cases: { name: string; cj: CronJob; includeSDS?: boolean; now: number; earliest?: number; recent?: number; missed?: string; wantErr?: boolean }[] = [
    { name: 'now before next schedule', cj: cronJob('0 * * * *'), now: TOP + 30_000, earliest: TOP, missed: 'none' },
    { name: 'now just after next schedule', cj: cronJob('0 * * * *'), now: after(61 * MIN), earliest: TOP, recent: after(60 * MIN), missed: 'none' },
    { name: 'missed 5 schedules', cj: cronJob('0 * * * *', { created: after(10_000) }), now: after(301 * MIN), earliest: after(10_000), recent: after(300 * MIN), missed: 'few' },
    { name: 'complex schedule', cj: cronJob('30 6-16/4 * * 1-5', { last: after(30 * MIN) }), now: after(DAY + 31 * MIN), earliest: after(30 * MIN), recent: after(DAY + 30 * MIN), missed: 'few' },
    { name: 'another complex schedule', cj: cronJob('30 10,11,12 * * 1-5', { last: after(30 * MIN) }), now: after(30 * HOUR + 30 * MIN), earliest: after(30 * MIN), missed: 'few' },
    {
      name: 'complex schedule with longer diff between executions',
      cj: cronJob('30 6-16/4 * * 1-5', { last: after(30 * MIN) }),
      now: after(96 * HOUR + 31 * MIN),
      earliest: after(30 * MIN),
      recent: after(96 * HOUR + 30 * MIN),
      missed: 'few',
    },
    { name: 'complex schedule with shorter diff between executions', cj: cronJob('30 6-16/4 * * 1-5'), now: after(DAY + 31 * MIN), earliest: TOP, recent: after(DAY + 30 * MIN), missed: 'few' },
    {
      name: '@every schedule',
      cj: cronJob('@every 1h', { created: after(-59 * MIN), last: after(MIN), sds: 10 }),
      now: after(7 * DAY),
      earliest: after(MIN),
      recent: after(6 * DAY + 23 * HOUR + MIN),
      missed: 'many',
    },
    { name: 'rogue cronjob', cj: cronJob('59 23 31 2 *', { created: after(10_000) }), now: after(HOUR), wantErr: true },
    { name: 'earliestTime being CreationTimestamp and LastScheduleTime', cj: cronJob('0 * * * *', { last: TOP }), now: after(30_000), earliest: TOP, missed: 'none' },
    { name: 'earliestTime being LastScheduleTime', cj: cronJob('*/5 * * * *', { last: after(30 * MIN) }), now: after(31 * MIN), earliest: after(30 * MIN), missed: 'none' },
    {
      name: 'earliestTime being LastScheduleTime (within StartingDeadlineSeconds)',
      cj: cronJob('*/5 * * * *', { last: after(30 * MIN), sds: 60 }),
      now: after(31 * MIN),
      earliest: after(30 * MIN),
      missed: 'none',
    },
    {
      name: 'earliestTime being LastScheduleTime (outside StartingDeadlineSeconds)',
      cj: cronJob('*/5 * * * *', { last: after(30 * MIN), sds: 60 }),
      includeSDS: true,
      now: after(32 * MIN),
      earliest: after(31 * MIN),
      missed: 'none',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = mostRecentScheduleTime(c.cj, c.now, parseStandard(c.cj.spec!.schedule, 'UTC'), c.includeSDS ?? false);
      if (c.wantErr) {
        assert.ok(r.error);
        assert.equal(r.mostRecentTime, undefined);
        return;
      }
      assert.equal(r.error, undefined);
      assert.equal(iso(r.earliestTime), iso(c.earliest));
      assert.equal(iso(r.mostRecentTime), iso(c.recent));
      assert.equal(r.missed, c.missed);
    });
  }
});

describe("upstream's TestNextScheduleTimeDuration and job naming", () => {
  test('requeue delays', () => {
    const cases: [string, CronJob, number, number][] = [
      ['complex schedule skipping weekend', cronJob('30 6-16/4 * * 1-5', { last: after(30 * MIN) }), after(DAY + 31 * MIN), 3 * HOUR + 59 * MIN],
      ['another complex schedule skipping weekend', cronJob('30 10,11,12 * * 1-5', { last: after(30 * MIN) }), after(30 * HOUR + 30 * MIN), 66 * HOUR],
      ['once a week cronjob, missed two runs', cronJob('0 12 * * 4', { last: after(2 * HOUR) }), after(19 * DAY + HOUR + 30 * MIN), 48 * HOUR + 30 * MIN],
      ['no previous run of a cronjob', cronJob('0 12 * * 5'), after(6 * HOUR), 20 * HOUR],
    ];
    for (const [name, cj, now, want] of cases) {
      assert.equal(nextScheduleTimeDuration(cj, now, parseStandard(cj.spec!.schedule, 'UTC')), want + NEXT_SCHEDULE_DELTA_MS, name);
    }
  });

  test('nextScheduleTime flags too many missed start times but still returns the latest', () => {
    const cj = cronJob('* * * * *', { last: TOP });
    const r = nextScheduleTime(cj, after(3 * HOUR + 30_000), parseStandard('* * * * *', 'UTC'));
    assert.equal(iso(r.time), iso(after(3 * HOUR)));
    assert.equal(r.tooManyMissed, true);
    const few = nextScheduleTime(cj, after(50 * MIN + 30_000), parseStandard('* * * * *', 'UTC'));
    assert.equal(few.tooManyMissed, false);
  });

  test('job name is "<cronjob>-<minutes since epoch>", annotation in the CronJob zone', () => {
    const cj = cronJob('0 9 * * *', { timeZone: 'Asia/Tokyo' });
    const scheduled = at('2024-01-02T00:00:00Z');
    assert.equal(getJobName(cj, scheduled), `mycronjob-${scheduled / 60_000}`);
    const job = jobFromTemplate(cj, scheduled);
    assert.equal(job.metadata?.name, 'mycronjob-28402560');
    assert.deepEqual(job.metadata?.labels, { a: 'b' });
    assert.equal(job.metadata?.annotations?.x, 'y');
    assert.equal(job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-01-02T09:00:00+09:00');
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'mycronjob', uid: '1a2b3c', controller: true, blockOwnerDeletion: true }]);
    assert.equal(jobFromTemplate(cronJob('* * * * *'), scheduled).metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-01-02T00:00:00Z');
    assert.equal(formatRFC3339InZone(at('2024-07-01T12:00:00Z'), 'America/New_York'), '2024-07-01T08:00:00-04:00');
  });

  test('formatSchedule: timeZone becomes a TZ= prefix; TZ in the schedule is kept and flagged', () => {
    assert.deepEqual(formatSchedule(cronJob('0 9 * * *', { timeZone: 'Asia/Tokyo' })), { schedule: 'TZ=Asia/Tokyo 0 9 * * *', unsupportedTZ: false });
    assert.deepEqual(formatSchedule(cronJob('CRON_TZ=UTC 0 9 * * *')), { schedule: 'CRON_TZ=UTC 0 9 * * *', unsupportedTZ: true });
    assert.deepEqual(formatSchedule(cronJob('0 9 * * *')), { schedule: '0 9 * * *', unsupportedTZ: false });
  });

  test('jobs sort by start time, unstarted last, ties by name (upstream byJobStartTime)', () => {
    const j = (name: string, start?: string) => ({ metadata: { name }, status: start ? { startTime: start } : {} });
    const sorted = [j('c'), j('b', '2016-05-19T10:05:00Z'), j('a', '2016-05-19T10:05:00Z'), j('d', '2016-05-19T10:00:00Z')].sort(byJobStartTime);
    assert.deepEqual(
      sorted.map((x) => x.metadata.name),
      ['d', 'a', 'b', 'c'],
    );
  });
});
