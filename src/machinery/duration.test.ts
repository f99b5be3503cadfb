import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, shortHumanDuration, formatTime, formatMicroTime, humanAgeSince, parseTime, formatGoDuration, parseGoDuration } from './duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe('humanDuration (upstream TestHumanDuration + boundaries)', () => {
  const cases: [number, string][] = [
    [S, '1s'],
    [70 * S, '70s'],
    [190 * S, '3m10s'],
    [70 * M, '70m'],
    [47 * H, '47h'],
    [49 * H, '2d1h'],
    [(8 * 24 + 2) * H, '8d'],
    [367 * D, '367d'],
    [(365 * 2 * 24 + 25) * H, '2y1d'],
    [(365 * 8 * 24 + 2) * H, '8y'],
    [-2 * S, '<invalid>'],
    [-2 * S + 1, '0s'],
    [0, '0s'],
    [S - 1, '0s'],
    [2 * M - 1, '119s'],
    [2 * M, '2m'],
    [2 * M + S, '2m1s'],
    [10 * M - 1, '9m59s'],
    [10 * M, '10m'],
    [10 * M + S, '10m'],
    [3 * H - 1, '179m'],
    [3 * H, '3h'],
    [3 * H + M, '3h1m'],
    [8 * H - 1, '7h59m'],
    [8 * H, '8h'],
    [8 * H + 59 * M, '8h'],
    [2 * D - 1, '47h'],
    [2 * D, '2d'],
    [2 * D + H, '2d1h'],
    [8 * D - 1, '7d23h'],
    [8 * D, '8d'],
    [8 * D + 23 * H, '8d'],
    [2 * Y - 1, '729d'],
    [2 * Y, '2y'],
    [2 * Y + 23 * H, '2y'],
    [2 * Y + 23 * H + 59 * M, '2y'],
    [2 * Y + D - 1, '2y'],
    [2 * Y + D, '2y1d'],
    [3 * Y, '3y'],
    [4 * Y, '4y'],
    [5 * Y, '5y'],
    [6 * Y, '6y'],
    [7 * Y, '7y'],
    [8 * Y - 1, '7y364d'],
    [8 * Y, '8y'],
    [8 * Y + 364 * D, '8y'],
    [9 * Y, '9y'],
  ];
  for (const [ms, want] of cases) test(`${ms}ms -> ${want}`, () => assert.equal(humanDuration(ms), want));
});

describe('shortHumanDuration (upstream boundaries)', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-2 * S + 1, '0s'],
    [0, '0s'],
    [S - 1, '0s'],
    [S, '1s'],
    [2 * S - 1, '1s'],
    [M - 1, '59s'],
    [M, '1m'],
    [2 * M - 1, '1m'],
    [H - 1, '59m'],
    [H, '1h'],
    [2 * H - 1, '1h'],
    [D - 1, '23h'],
    [D, '1d'],
    [2 * D - 1, '1d'],
    [Y - 1, '364d'],
    [Y, '1y'],
    [2 * Y - 1, '1y'],
    [2 * Y, '2y'],
  ];
  for (const [ms, want] of cases) test(`${ms}ms -> ${want}`, () => assert.equal(shortHumanDuration(ms), want));
});

describe('timestamps', () => {
  test('formatTime drops milliseconds and uses Z', () => {
    assert.equal(formatTime(new Date(Date.UTC(2024, 4, 1, 12, 3, 4, 567))), '2024-05-01T12:03:04Z');
  });
  test('formatMicroTime keeps six fractional digits', () => {
    assert.equal(formatMicroTime(new Date(Date.UTC(2024, 4, 1, 12, 3, 4, 567))), '2024-05-01T12:03:04.567000Z');
  });
  test('humanAgeSince', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    assert.equal(humanAgeSince('2024-05-01T11:55:00Z', now), '5m');
    assert.equal(humanAgeSince(undefined, now), '<unknown>');
    assert.equal(humanAgeSince('garbage', now), '<unknown>');
  });
  test('parseTime accepts offsets', () => {
    assert.equal(parseTime('2024-05-01T14:00:00+02:00')?.toISOString(), '2024-05-01T12:00:00.000Z');
  });
});

describe('formatGoDuration / parseGoDuration (Go time.Duration text)', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ns'],
    [1500, '1.5µs'],
    [250e6, '250ms'],
    [15_002_000_000, '15.002s'],
    [60e9, '1m0s'],
    [90.5e9, '1m30.5s'],
    [3_723e9, '1h2m3s'],
    [-2e9, '-2s'],
  ];
  for (const [ns, text] of cases) test(`${ns} ns -> ${text}`, () => assert.equal(formatGoDuration(ns), text));
  test('parses', () => {
    assert.equal(parseGoDuration('15s'), 15_000);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('500ms'), 500);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('15'), undefined);
    assert.equal(parseGoDuration('1x'), undefined);
    assert.equal(parseGoDuration(''), undefined);
  });
});
