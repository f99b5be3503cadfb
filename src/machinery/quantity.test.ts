import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERR_FORMAT_WRONG,
  ERR_SUFFIX,
  Quantity,
  QuantityParseError,
  Scale,
  parseQuantity,
  quantityError,
  quantityFromJSON,
  type QuantityFormat,
} from './quantity.js';

/** upstream's decQuantity(i, exponent, format): i × 10^exponent. */
const dec = (i: number | bigint, exponent: number, format: QuantityFormat): Quantity => Quantity.fromScaled(i, exponent).withFormat(format);
const MAX_INT64 = 2n ** 63n - 1n;

describe('parse (upstream TestQuantityParse)', () => {
  const table: [string, Quantity][] = [
    ['0', dec(0, 0, 'DecimalSI')],
    ['0n', dec(0, 0, 'DecimalSI')],
    ['0u', dec(0, 0, 'DecimalSI')],
    ['0m', dec(0, 0, 'DecimalSI')],
    ['0Ki', dec(0, 0, 'BinarySI')],
    ['0k', dec(0, 0, 'DecimalSI')],
    ['0Mi', dec(0, 0, 'BinarySI')],
    ['0M', dec(0, 0, 'DecimalSI')],
    ['0Gi', dec(0, 0, 'BinarySI')],
    ['0G', dec(0, 0, 'DecimalSI')],
    ['0Ti', dec(0, 0, 'BinarySI')],
    ['0T', dec(0, 0, 'DecimalSI')],
    ['1', dec(1, 0, 'DecimalSI')],
    ['1Ki', dec(1024, 0, 'BinarySI')],
    ['8Ki', dec(8 * 1024, 0, 'BinarySI')],
    ['7Mi', dec(7 * 1024 ** 2, 0, 'BinarySI')],
    ['6Gi', dec(6 * 1024 ** 3, 0, 'BinarySI')],
    ['5Ti', dec(5 * 1024 ** 4, 0, 'BinarySI')],
    ['4Pi', dec(4n * 1024n ** 5n, 0, 'BinarySI')],
    ['3Ei', dec(3n * 1024n ** 6n, 0, 'BinarySI')],
    ['10Ti', dec(10 * 1024 ** 4, 0, 'BinarySI')],
    ['100Ti', dec(100 * 1024 ** 4, 0, 'BinarySI')],
    ['5n', dec(5, -9, 'DecimalSI')],
    ['4u', dec(4, -6, 'DecimalSI')],
    ['3m', dec(3, -3, 'DecimalSI')],
    ['9', dec(9, 0, 'DecimalSI')],
    ['8k', dec(8, 3, 'DecimalSI')],
    ['50k', dec(5, 4, 'DecimalSI')],
    ['7M', dec(7, 6, 'DecimalSI')],
    ['6G', dec(6, 9, 'DecimalSI')],
    ['5T', dec(5, 12, 'DecimalSI')],
    ['40T', dec(4, 13, 'DecimalSI')],
    ['300T', dec(3, 14, 'DecimalSI')],
    ['2P', dec(2, 15, 'DecimalSI')],
    ['1E', dec(1, 18, 'DecimalSI')],
    ['1E-3', dec(1, -3, 'DecimalExponent')],
    ['1e3', dec(1, 3, 'DecimalExponent')],
    ['1E6', dec(1, 6, 'DecimalExponent')],
    ['1e9', dec(1, 9, 'DecimalExponent')],
    ['1E12', dec(1, 12, 'DecimalExponent')],
    ['1e15', dec(1, 15, 'DecimalExponent')],
    ['1E18', dec(1, 18, 'DecimalExponent')],
    ['1e14', dec(1, 14, 'DecimalExponent')],
    ['1e13', dec(1, 13, 'DecimalExponent')],
    ['100.035k', dec(100035, 0, 'DecimalSI')],
    ['0.001', dec(1, -3, 'DecimalSI')],
    ['0.0005k', dec(5, -1, 'DecimalSI')],
    ['0.005', dec(5, -3, 'DecimalSI')],
    ['0.05', dec(5, -2, 'DecimalSI')],
    ['0.5', dec(5, -1, 'DecimalSI')],
    ['0.00050k', dec(5, -1, 'DecimalSI')],
    ['0.00500', dec(5, -3, 'DecimalSI')],
    ['0.05000', dec(5, -2, 'DecimalSI')],
    ['0.50000', dec(5, -1, 'DecimalSI')],
    ['0.5e0', dec(5, -1, 'DecimalExponent')],
    ['0.5e-1', dec(5, -2, 'DecimalExponent')],
    ['0.5e-2', dec(5, -3, 'DecimalExponent')],
    ['10.035M', dec(10035, 3, 'DecimalSI')],
    ['1.2e3', dec(12, 2, 'DecimalExponent')],
    ['1.3E+6', dec(13, 5, 'DecimalExponent')],
    ['1.40e9', dec(14, 8, 'DecimalExponent')],
    ['1.53E12', dec(153, 10, 'DecimalExponent')],
    ['1.6e15', dec(16, 14, 'DecimalExponent')],
    ['1.7E18', dec(17, 17, 'DecimalExponent')],
    ['9.01', dec(901, -2, 'DecimalSI')],
    ['8.1k', dec(81, 2, 'DecimalSI')],
    ['7.123456M', dec(7123456, 0, 'DecimalSI')],
    ['6.987654321G', dec(6987654321, 0, 'DecimalSI')],
    ['5.444T', dec(5444, 9, 'DecimalSI')],
    ['40.1T', dec(401, 11, 'DecimalSI')],
    ['300.2T', dec(3002, 11, 'DecimalSI')],
    ['2.5P', dec(25, 14, 'DecimalSI')],
    ['1.01E', dec(101, 16, 'DecimalSI')],
    // Values that round up to the nearest nano or saturate.
    ['3.001n', dec(4, -9, 'DecimalSI')],
    ['1.1E-9', dec(2, -9, 'DecimalExponent')],
    ['0.0000000001', dec(1, -9, 'DecimalSI')],
    ['0.0000000005', dec(1, -9, 'DecimalSI')],
    ['0.00000000050', dec(1, -9, 'DecimalSI')],
    ['0.5e-9', dec(1, -9, 'DecimalExponent')],
    ['0.9n', dec(1, -9, 'DecimalSI')],
    ['0.00000012345', dec(124, -9, 'DecimalSI')],
    ['0.00000012354', dec(124, -9, 'DecimalSI')],
    ['9Ei', dec(MAX_INT64, 0, 'BinarySI')],
    ['9223372036854775807Ki', dec(MAX_INT64, 0, 'BinarySI')],
    ['12E', dec(12, 18, 'DecimalSI')],
    // Fractional binary amounts.
    ['100.035Ki', dec(10243584, -2, 'BinarySI')],
    ['0.5Mi', dec(0.5 * 1024 * 1024, 0, 'BinarySI')],
    ['0.05Gi', dec(536870912, -1, 'BinarySI')],
    ['0.025Ti', dec(274877906944, -1, 'BinarySI')],
    // Odd but accepted spellings.
    ['0.000000000001Ki', dec(2, -9, 'DecimalSI')],
    ['.001', dec(1, -3, 'DecimalSI')],
    ['.0001k', dec(100, -3, 'DecimalSI')],
    ['1.', dec(1, 0, 'DecimalSI')],
    ['1.G', dec(1, 9, 'DecimalSI')],
  ];

  test('values and formats', () => {
    for (const [input, want] of table) {
      const got = parseQuantity(input);
      assert.equal(got.cmp(want), 0, `${input}: got ${got.toString()}, want ${want.toString()}`);
      assert.equal(got.format, want.format, input);
    }
  });

  test('negative and explicitly positive spellings', () => {
    for (const [input, want] of table) {
      const neg = parseQuantity(`-${input}`);
      assert.equal(neg.cmp(want.neg()), 0, `-${input}`);
      assert.equal(neg.format, want.format, `-${input}`);
      const pos = parseQuantity(`+${input}`);
      assert.equal(pos.cmp(want), 0, `+${input}`);
      assert.equal(pos.format, want.format, `+${input}`);
    }
  });

  test('invalid inputs', () => {
    for (const input of ['', '1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', '1e4294967297', ' 1', '1 ', 'Non-Numeric']) {
      assert.throws(() => parseQuantity(input), QuantityParseError, JSON.stringify(input));
    }
    assert.equal(ERR_FORMAT_WRONG, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.equal(quantityError('aoeu'), ERR_FORMAT_WRONG);
    assert.equal(quantityError('1i'), ERR_SUFFIX);
    assert.equal(quantityError('1Gi'), undefined);
    assert.equal(quantityError('1e2147483647'), undefined);
    assert.equal(quantityError('1e2147483648'), ERR_SUFFIX);
  });
});

describe('canonical string (upstream TestQuantityString, TestQuantityParseEmit)', () => {
  const table: [Quantity, string, string][] = [
    [dec(1024 ** 3, 0, 'BinarySI'), '1Gi', '1024Mi'],
    [dec(300 * 1024 ** 2, 0, 'BinarySI'), '300Mi', '307200Ki'],
    [dec(6 * 1024, 0, 'BinarySI'), '6Ki', ''],
    [dec(1001 * 1024 ** 3, 0, 'BinarySI'), '1001Gi', '1025024Mi'],
    [dec(1024 ** 4, 0, 'BinarySI'), '1Ti', '1024Gi'],
    [dec(5, 0, 'BinarySI'), '5', '5000m'],
    [dec(500, -3, 'BinarySI'), '500m', '0.5'],
    [dec(1, 9, 'DecimalSI'), '1G', '1000M'],
    [dec(1000, 6, 'DecimalSI'), '1G', '0.001T'],
    [dec(1000000, 3, 'DecimalSI'), '1G', ''],
    [dec(1000000000, 0, 'DecimalSI'), '1G', ''],
    [dec(1, -3, 'DecimalSI'), '1m', '1000u'],
    [dec(80, -3, 'DecimalSI'), '80m', ''],
    [dec(1080, -3, 'DecimalSI'), '1080m', '1.08'],
    [dec(108, -2, 'DecimalSI'), '1080m', '1080000000n'],
    [dec(10800, -4, 'DecimalSI'), '1080m', ''],
    [dec(300, 6, 'DecimalSI'), '300M', ''],
    [dec(1, 12, 'DecimalSI'), '1T', ''],
    [dec(1, 18, 'DecimalSI'), '1E', ''],
    [dec(1, 21, 'DecimalSI'), '1e21', '1000E'],
    [dec(5, 21, 'DecimalSI'), '5e21', '5000E'],
    [dec(1, 24, 'DecimalSI'), '1e24', '1000000E'],
    [dec(1, 70, 'BinarySI'), '10e69', ''],
    [dec(2, 70, 'BinarySI'), '20e69', ''],
    [dec(1, 72, 'BinarySI'), '1e72', ''],
    [dec(1234567, 6, 'DecimalSI'), '1234567M', ''],
    [dec(1234567, -3, 'BinarySI'), '1234567m', ''],
    [dec(3, 3, 'DecimalSI'), '3k', ''],
    [dec(1025, 0, 'BinarySI'), '1025', ''],
    [dec(0, 0, 'DecimalSI'), '0', ''],
    [dec(0, 0, 'BinarySI'), '0', ''],
    [dec(1, 9, 'DecimalExponent'), '1e9', '.001e12'],
    [dec(1, -3, 'DecimalExponent'), '1e-3', '0.001e0'],
    [dec(1, -9, 'DecimalExponent'), '1e-9', '1000e-12'],
    [dec(80, -3, 'DecimalExponent'), '80e-3', ''],
    [dec(300, 6, 'DecimalExponent'), '300e6', ''],
    [dec(1, 12, 'DecimalExponent'), '1e12', ''],
    [dec(1, 3, 'DecimalExponent'), '1e3', ''],
    [dec(3, 3, 'DecimalExponent'), '3e3', ''],
    [dec(0, 0, 'DecimalExponent'), '0', '00'],
    [dec(1, -9, 'DecimalSI'), '1n', ''],
    [dec(80, -9, 'DecimalSI'), '80n', ''],
    [dec(1080, -9, 'DecimalSI'), '1080n', ''],
    [dec(108, -8, 'DecimalSI'), '1080n', ''],
    [dec(1, -6, 'DecimalSI'), '1u', ''],
    [dec(80, -6, 'DecimalSI'), '80u', ''],
    [dec(1080, -6, 'DecimalSI'), '1080u', ''],
  ];

  test('canonical forms, their parse, and alternates', () => {
    for (const [q, want, alternate] of table) {
      assert.equal(q.toString(), want);
      assert.equal(parseQuantity(want).toString(), want, `reparse ${want}`);
      assert.equal(parseQuantity(want).cmp(q), 0, `reparse value ${want}`);
      if (alternate) assert.equal(parseQuantity(alternate).toString(), want, `alternate ${alternate}`);
      if (!q.isZero()) assert.equal(q.neg().toString(), `-${want}`);
    }
  });

  test('below nano and past Ei fall back to exponents or plain digits', () => {
    assert.equal(dec(1, -12, 'DecimalSI').toString(), '1e-12');
    assert.equal(dec(1, -10, 'DecimalSI').toString(), '100e-12');
    const twoTo70 = parseQuantity('1Ei').mul(1024);
    assert.equal(twoTo70.toString(), '1180591620717411303424');
    assert.equal(parseQuantity(twoTo70.toString()).cmp(twoTo70), 0);
    assert.equal(Quantity.fromInt(2000, 'BinarySI').toString(), '2000');
    assert.equal(Quantity.fromInt(-2000, 'BinarySI').toString(), '-2000');
  });

  test('parse then emit', () => {
    const cases: [string, string][] = [
      ['1Ki', '1Ki'],
      ['1Mi', '1Mi'],
      ['1Gi', '1Gi'],
      ['1024Mi', '1Gi'],
      ['1000M', '1G'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['.000000000001Ki', '2n'],
      ['1000m', '1'],
      ['0.5', '500m'],
      ['1e3', '1e3'],
      ['100M', '100M'],
      ['1.5Gi', '1536Mi'],
      ['1.5', '1500m'],
      ['1000E', '1e21'],
    ];
    for (const [input, want] of cases) {
      assert.equal(parseQuantity(input).toString(), want, input);
      assert.equal(parseQuantity(`-${input}`).toString(), `-${want}`, `-${input}`);
    }
  });

  test('inputs already canonical by upstream rule are kept verbatim', () => {
    // Upstream reuses the input text when its int64 fast path deems it canonical.
    assert.equal(parseQuantity('100.035k').toString(), '100.035k');
    assert.equal(parseQuantity('+1').toString(), '+1');
    assert.equal(parseQuantity('1.G').toString(), '1.G');
    assert.equal(JSON.stringify({ cpu: parseQuantity('250m') }), '{"cpu":"250m"}');
  });
});

describe('arithmetic and comparison', () => {
  test('cmp (upstream TestQuantityCmp and TestQuantityCmpInt64AndDec)', () => {
    const parsed: [string, string, number][] = [
      ['0', '0', 0],
      ['100m', '50m', 1],
      ['50m', '100m', -1],
      ['10000T', '100Gi', 1],
    ];
    for (const [x, y, want] of parsed) assert.equal(parseQuantity(x).cmp(parseQuantity(y)), want, `${x} vs ${y}`);
    const mostPositive = MAX_INT64;
    const mostNegative = -(2n ** 63n);
    const e18 = 10n ** 18n;
    const scaled: [bigint, number, bigint, number, number][] = [
      [901n, -2, 901n, -2, 0],
      [90n, -1, 901n, -2, -1],
      [901n, -2, 900n, -2, 1],
      [0n, 1, 0n, -1, 0],
      [800n, -3, 1n, 0, -1],
      [800n, -3, 79n, -2, 1],
      [mostPositive, 0, 1n, -1, 1],
      [mostPositive, 1, 1n, 0, 1],
      [mostPositive, -16, 1n, 3, -1],
      [mostNegative, 0, 0n, 0, -1],
      [mostNegative, -18, -1n, 0, -1],
      [mostNegative, -19, -1n, 0, 1],
      [e18, -17, 1n, 1, 0],
      [e18, -17, -10n, 0, 1],
      [-e18, -17, -10n, 0, 0],
      [e18, -17, 1n, 0, 1],
      [e18 + 1n, -17, 1n, 1, 1],
      [e18 - 1n, -17, 1n, 1, -1],
    ];
    for (const [a, sa, b, sb, want] of scaled) {
      const qa = Quantity.fromScaled(a, sa);
      const qb = Quantity.fromScaled(b, sb);
      assert.equal(qa.cmp(qb), want, `${a}e${sa} vs ${b}e${sb}`);
      assert.equal(qb.cmp(qa), -want || 0, `${b}e${sb} vs ${a}e${sa}`);
    }
  });

  test('add and sub keep the receiver format unless it is zero', () => {
    const zero = Quantity.fromInt(0);
    const add: [Quantity, Quantity, Quantity][] = [
      [dec(10, 0, 'DecimalSI'), dec(1, 1, 'DecimalSI'), dec(20, 0, 'DecimalSI')],
      [dec(10, 0, 'DecimalSI'), dec(1, 0, 'BinarySI'), dec(11, 0, 'DecimalSI')],
      [dec(10, 0, 'BinarySI'), dec(1, 0, 'DecimalSI'), dec(11, 0, 'BinarySI')],
      [zero, dec(50, 0, 'DecimalSI'), dec(50, 0, 'DecimalSI')],
      [dec(50, 0, 'DecimalSI'), zero, dec(50, 0, 'DecimalSI')],
      [zero, zero, zero],
    ];
    for (const [a, b, want] of add) {
      const got = a.add(b);
      assert.equal(got.cmp(want), 0);
      assert.equal(got.format, want.format);
    }
    const sub: [Quantity, Quantity, Quantity][] = [
      [dec(10, 0, 'DecimalSI'), dec(1, 1, 'DecimalSI'), dec(0, 0, 'DecimalSI')],
      [dec(10, 0, 'DecimalSI'), dec(1, 0, 'BinarySI'), dec(9, 0, 'DecimalSI')],
      [dec(10, 0, 'BinarySI'), dec(1, 0, 'DecimalSI'), dec(9, 0, 'BinarySI')],
      [zero, dec(50, 0, 'DecimalSI'), dec(-50, 0, 'DecimalSI')],
      [dec(50, 0, 'DecimalSI'), zero, dec(50, 0, 'DecimalSI')],
    ];
    for (const [a, b, want] of sub) {
      const got = a.sub(b);
      assert.equal(got.cmp(want), 0);
      assert.equal(got.format, want.format);
    }
    for (const v of ['100m', '1Gi']) {
      const q = parseQuantity(v);
      assert.equal(q.add(zero).toString(), v);
      assert.equal(zero.add(q).toString(), v);
      assert.equal(q.sub(zero).toString(), v);
      assert.equal(zero.sub(q).toString(), q.neg().toString());
    }
  });

  test('past int64 without wrapping', () => {
    const mostNegative = Quantity.fromInt(-(2n ** 63n));
    assert.equal(mostNegative.neg().toString(), '9223372036854775808');
    assert.equal(Quantity.fromInt(0).sub(mostNegative).toString(), '9223372036854775808');
    assert.equal(Quantity.fromInt(1).sub(mostNegative).toString(), '9223372036854775809');
    assert.equal(Quantity.fromScaled(-(2n ** 63n), Scale.Milli).neg().toString(), '9223372036854775808m');
    assert.equal(Quantity.fromInt(0).sub(Quantity.fromInt(-(2n ** 63n), 'BinarySI')).toString(), '8Ei');
    assert.equal(mostNegative.neg().asInt64(), undefined);
    assert.equal(Quantity.fromInt(MAX_INT64).asInt64(), MAX_INT64);
  });

  test('mul and neg', () => {
    assert.equal(dec(10, 0, 'DecimalSI').mul(10).cmp(dec(100, 0, 'DecimalSI')), 0);
    assert.equal(dec(-50, 0, 'DecimalSI').mul(-50).cmp(dec(2500, 0, 'DecimalSI')), 0);
    assert.equal(dec(10, 0, 'BinarySI').mul(-1).format, 'BinarySI');
    assert.equal(dec(901, -2, 'DecimalSI').neg().toString(), '-9010m');
    assert.equal(dec(0, 0, 'DecimalSI').neg().toString(), '0');
  });

  test('add/sub round trip across scales', () => {
    let q = Quantity.fromInt(0);
    const order: [bigint, number][] = [];
    for (let i = 0; i < 100; i++) {
      const v = BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
      const s = Math.floor(Math.random() * 20) - 10;
      order.push([v, s]);
      q = q.add(Quantity.fromScaled(v, s));
    }
    for (const [v, s] of order) q = q.sub(Quantity.fromScaled(v, s));
    assert.ok(q.isZero());
  });

  test('huge exponents never expand into huge numbers', () => {
    const huge = parseQuantity('1e2147483647');
    assert.equal(huge.toString(), '10e2147483646');
    assert.equal(huge.cmp(parseQuantity('1Ei')), 1);
    assert.equal(parseQuantity('-1e2147483647').cmp(parseQuantity('1n')), -1);
    assert.equal(huge.value(), Infinity);
    assert.throws(() => huge.add(Quantity.fromInt(1)), RangeError);
    assert.equal(parseQuantity('1e-2147483647').toString(), '1e-9');
    assert.equal(parseQuantity('1e-2147483647').format, 'DecimalExponent');
  });
});

describe('values and rounding', () => {
  test('roundUp (upstream TestQuantityRoundUp)', () => {
    const cases: [string, number, Quantity, boolean][] = [
      ['9.01', -3, dec(901, -2, 'DecimalSI'), true],
      ['9.01', -2, dec(901, -2, 'DecimalSI'), true],
      ['9.01', -1, dec(91, -1, 'DecimalSI'), false],
      ['9.01', 0, dec(10, 0, 'DecimalSI'), false],
      ['9.01', 1, dec(10, 0, 'DecimalSI'), false],
      ['9.01', 2, dec(100, 0, 'DecimalSI'), false],
      ['-9.01', -3, dec(-901, -2, 'DecimalSI'), true],
      ['-9.01', -2, dec(-901, -2, 'DecimalSI'), true],
      ['-9.01', -1, dec(-91, -1, 'DecimalSI'), false],
      ['-9.01', 0, dec(-10, 0, 'DecimalSI'), false],
      ['-9.01', 1, dec(-10, 0, 'DecimalSI'), false],
      ['-9.01', 2, dec(-100, 0, 'DecimalSI'), false],
    ];
    for (const [input, scale, want, exact] of cases) {
      const r = parseQuantity(input).roundUp(scale);
      assert.equal(r.exact, exact, `${input} @${scale}`);
      assert.equal(r.quantity.cmp(want), 0, `${input} @${scale}: ${r.quantity.toString()}`);
    }
  });

  test('value, milliValue, scaledValue round up away from zero', () => {
    const cases: [string, number, number][] = [
      ['1', 1, 1000],
      ['1.5', 2, 1500],
      ['100m', 1, 100],
      ['1n', 1, 1],
      ['1Gi', 1073741824, 1073741824000],
      ['-1.5', -2, -1500],
      ['0', 0, 0],
      ['2.5k', 2500, 2500000],
    ];
    for (const [input, value, milli] of cases) {
      assert.equal(parseQuantity(input).value(), value, input);
      assert.equal(parseQuantity(input).milliValue(), milli, input);
    }
    assert.equal(parseQuantity('1G').scaledValue(Scale.Mega), 1000);
    assert.equal(parseQuantity('1500k').scaledValue(Scale.Mega), 2);
    assert.equal(parseQuantity('9Ei').scaledValueBig(0), MAX_INT64);
    assert.equal(parseQuantity('1.5').asApproximateFloat64(), 1.5);
    assert.equal(parseQuantity('1Mi').asApproximateFloat64(), 1048576);
  });

  test('constructors', () => {
    assert.equal(Quantity.fromInt(5).toString(), '5');
    assert.equal(Quantity.fromMilli(1500).toString(), '1500m');
    assert.equal(Quantity.fromMilli(2000).toString(), '2');
    assert.equal(Quantity.fromScaled(5, Scale.Giga).toString(), '5G');
    assert.equal(Quantity.fromInt(1024 * 1024, 'BinarySI').toString(), '1Mi');
    assert.throws(() => Quantity.fromInt(1.5), RangeError);
  });

  test('quantityFromJSON accepts strings and numbers', () => {
    assert.equal(quantityFromJSON(' 2Gi ').toString(), '2Gi');
    assert.equal(quantityFromJSON(0.5).toString(), '500m');
    assert.equal(quantityFromJSON(3).toString(), '3');
    assert.throws(() => quantityFromJSON(true), QuantityParseError);
    assert.throws(() => quantityFromJSON('x'), { message: ERR_FORMAT_WRONG });
  });
});
