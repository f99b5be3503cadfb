// The cron parser and Next(), with robfig/cron's own cases (TestNext, TestErrors, the New York DST cases) turned into
// five-field specs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseStandard, parseGoDuration, CronParseError, isValidTimeZone } from './cron.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron parsing', () => {
  test('robfig TestNext cases (UTC)', () => {
    const cases: [string, string, string | undefined][] = [
      ['2012-07-09T14:45:00Z', '0/15 * * * *', '2012-07-09T15:00:00Z'],
      ['2012-07-09T14:59:00Z', '0/15 * * * *', '2012-07-09T15:00:00Z'],
      ['2012-07-09T14:59:59Z', '0/15 * * * *', '2012-07-09T15:00:00Z'],
      // Wrap around hours
      ['2012-07-09T15:45:00Z', '20-35/15 * * * *', '2012-07-09T16:20:00Z'],
      // Wrap around days
      ['2012-07-09T23:46:00Z', '*/15 * * * *', '2012-07-10T00:00:00Z'],
      ['2012-07-09T23:45:00Z', '20-35/15 * * * *', '2012-07-10T00:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 * * * *', '2012-07-10T00:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 1/2 * * *', '2012-07-10T01:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 10-12 * * *', '2012-07-10T10:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 1/2 */2 * *', '2012-07-11T01:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 * 9-20 * *', '2012-07-10T00:20:00Z'],
      ['2012-07-09T23:35:00Z', '20-35/15 * 9-20 Jul *', '2012-07-10T00:20:00Z'],
      // Wrap around months
      ['2012-07-09T23:35:00Z', '0 0 9 Apr-Oct ?', '2012-08-09T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '0 0 */5 Apr,Aug,Oct Mon', '2012-08-01T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '0 0 */5 Oct Mon', '2012-10-01T00:00:00Z'],
      // Wrap around years
      ['2012-07-09T23:35:00Z', '0 0 * Feb Mon', '2013-02-04T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '0 0 * Feb Mon/2', '2013-02-01T00:00:00Z'],
      // Wrap around minute, hour, day, month, and year
      ['2012-12-31T23:59:45Z', '* * * * *', '2013-01-01T00:00:00Z'],
      // Leap year
      ['2012-07-09T23:35:00Z', '0 0 29 Feb ?', '2016-02-29T00:00:00Z'],
      // Unsatisfiable
      ['2012-07-09T23:35:00Z', '0 0 30 Feb ?', undefined],
      ['2012-07-09T23:35:00Z', '0 0 31 Apr ?', undefined],
      // Monthly job
      ['2012-11-04T00:00:00Z', '0 3 3 * ?', '2012-12-03T03:00:00Z'],
      // Day of month and day of week both restricted: either matches.
      ['2012-07-09T23:35:00Z', '0 0 15 * Fri', '2012-07-13T00:00:00Z'],
      // Day of week starred: only the day of month counts.
      ['2012-07-09T23:35:00Z', '0 0 15 * *', '2012-07-15T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '0 0 15 * ?', '2012-07-15T00:00:00Z'],
      // Descriptors
      ['2012-07-09T23:35:00Z', '@hourly', '2012-07-10T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@daily', '2012-07-10T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@midnight', '2012-07-10T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@weekly', '2012-07-15T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@monthly', '2012-08-01T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@yearly', '2013-01-01T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@annually', '2013-01-01T00:00:00Z'],
      ['2012-07-09T23:35:00Z', '@every 90m', '2012-07-10T01:05:00Z'],
      ['2012-07-09T23:35:00.500Z', '@every 1s', '2012-07-09T23:35:01Z'],
    ];
    for (const [from, spec, want] of cases) {
      assert.equal(iso(parseStandard(spec, 'UTC').next(at(from))), want && new Date(want).toISOString(), `${spec} after ${from}`);
    }
  });

  test('robfig daylight saving cases in America/New_York (prefix TZ=, CRON_TZ= and a default zone)', () => {
    const cases: [string, string, string][] = [
      // 2am EST (-5) => 3am EDT (-4): the skipped 2:30 waits a year
      ['2012-03-11T00:00:00-05:00', '30 2 11 Mar ?', '2013-03-11T02:30:00-04:00'],
      // hourly job
      ['2012-03-11T00:00:00-05:00', '0 * * * ?', '2012-03-11T01:00:00-05:00'],
      ['2012-03-11T01:00:00-05:00', '0 * * * ?', '2012-03-11T03:00:00-04:00'],
      ['2012-03-11T03:00:00-04:00', '0 * * * ?', '2012-03-11T04:00:00-04:00'],
      // 1am nightly job
      ['2012-03-11T00:00:00-05:00', '0 1 * * ?', '2012-03-11T01:00:00-05:00'],
      ['2012-03-11T01:00:00-05:00', '0 1 * * ?', '2012-03-12T01:00:00-04:00'],
      // 2am nightly job (skipped)
      ['2012-03-11T00:00:00-05:00', '0 2 * * ?', '2012-03-12T02:00:00-04:00'],
      // 2am EDT (-4) => 1am EST (-5)
      ['2012-11-04T00:00:00-04:00', '30 2 04 Nov ?', '2012-11-04T02:30:00-05:00'],
      ['2012-11-04T01:45:00-04:00', '30 1 04 Nov ?', '2012-11-04T01:30:00-05:00'],
      // hourly job
      ['2012-11-04T00:00:00-04:00', '0 * * * ?', '2012-11-04T01:00:00-04:00'],
      ['2012-11-04T01:00:00-04:00', '0 * * * ?', '2012-11-04T01:00:00-05:00'],
      ['2012-11-04T01:00:00-05:00', '0 * * * ?', '2012-11-04T02:00:00-05:00'],
      // 1am nightly job (runs twice)
      ['2012-11-04T00:00:00-04:00', '0 1 * * ?', '2012-11-04T01:00:00-04:00'],
      ['2012-11-04T01:00:00-04:00', '0 1 * * ?', '2012-11-04T01:00:00-05:00'],
      ['2012-11-04T01:00:00-05:00', '0 1 * * ?', '2012-11-05T01:00:00-05:00'],
      // 2am nightly job
      ['2012-11-04T00:00:00-04:00', '0 2 * * ?', '2012-11-04T02:00:00-05:00'],
      ['2012-11-04T02:00:00-05:00', '0 2 * * ?', '2012-11-05T02:00:00-05:00'],
      // 3am nightly job
      ['2012-11-04T00:00:00-04:00', '0 3 * * ?', '2012-11-04T03:00:00-05:00'],
      ['2012-11-04T03:00:00-05:00', '0 3 * * ?', '2012-11-05T03:00:00-05:00'],
    ];
    for (const [from, spec, want] of cases) {
      const wantMs = at(want);
      assert.equal(iso(parseStandard(`TZ=America/New_York ${spec}`, 'UTC').next(at(from))), iso(wantMs), `TZ= ${spec} after ${from}`);
      assert.equal(iso(parseStandard(`CRON_TZ=America/New_York ${spec}`, 'UTC').next(at(from))), iso(wantMs), `CRON_TZ= ${spec}`);
      assert.equal(iso(parseStandard(spec, 'America/New_York').next(at(from))), iso(wantMs), `default zone ${spec}`);
    }
  });

  test('other zones: Asia/Tokyo 9am is midnight UTC; a half-hour zone', () => {
    assert.equal(iso(parseStandard('TZ=Asia/Tokyo 0 9 * * *', 'UTC').next(at('2024-01-01T01:00:00Z'))), '2024-01-02T00:00:00.000Z');
    assert.equal(iso(parseStandard('TZ=Asia/Kolkata 0 9 * * *', 'UTC').next(at('2024-01-01T00:00:00Z'))), '2024-01-01T03:30:00.000Z');
    assert.equal(isValidTimeZone('Europe/Berlin'), true);
    assert.equal(isValidTimeZone('Mars/Olympus_Mons'), false);
  });

  test('robfig TestErrors and the parser messages', () => {
    const bad: [string, RegExp][] = [
      ['', /empty spec string/],
      ['* * * *', /expected exactly 5 fields, found 4/],
      ['* * * * * *', /expected exactly 5 fields, found 6/],
      ['60 * * * *', /end of range \(60\) above maximum \(59\)/],
      ['* 24 * * *', /end of range \(24\) above maximum \(23\)/],
      ['* * 0 * *', /beginning of range \(0\) below minimum \(1\)/],
      ['* * * 13 *', /end of range \(13\) above maximum \(12\)/],
      ['* * * * 7', /end of range \(7\) above maximum \(6\)/],
      ['5-1 * * * *', /beginning of range \(5\) beyond end of range \(1\)/],
      ['*/0 * * * *', /step of range should be a positive number/],
      ['1-2-3 * * * *', /too many hyphens/],
      ['*/2/3 * * * *', /too many slashes/],
      ['xyz * * * *', /failed to parse int from xyz/],
      ['@fortnightly', /unrecognized descriptor/],
      ['TZ=Nowhere/City * * * * *', /provided bad location Nowhere\/City/],
    ];
    for (const [spec, re] of bad) assert.throws(() => parseStandard(spec, 'UTC'), (e: unknown) => e instanceof CronParseError && re.test(e.message), spec);
  });

  test('Go durations for @every', () => {
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.throws(() => parseGoDuration('5 minutes'));
  });
});

