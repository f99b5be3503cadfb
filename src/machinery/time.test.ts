import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime } from './time.js';

/** The plain form: RFC 3339 in UTC with whole seconds. */
const plain = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

test('formatTime (cached per second) gives the same text as the plain form, in any order of calls', () => {
  const times = [
    0, -1, -999, -1000, -1001, 999, 1000, 1001, 1_700_000_000_000, 1_700_000_000_999, 1_700_000_001_000, 1_700_000_000_500,
    253_402_300_799_999, 253_402_300_800_000, -62_198_755_200_000, 8_640_000_000_000_000, -8_640_000_000_000_000,
  ];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    times.push(1_800_000_000_000 + (seed % 5000) - 2500);
  }
  for (const t of [...times, ...times.reverse()]) assert.equal(formatTime(new Date(t)), plain(new Date(t)), String(t));
  assert.throws(() => formatTime(new Date(NaN)), RangeError);
});
