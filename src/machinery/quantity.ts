// resource.Quantity as upstream's k8s.io/apimachinery/pkg/api/resource: fixed-point values (bigint mantissa and a
// base-10 exponent, never floats), the same parser, rounding (up, to nano), caps and canonical string form.

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

/** Base-10 exponents with names, as upstream's resource.Scale constants. */
export const Scale = { Nano: -9, Micro: -6, Milli: -3, Base: 0, Kilo: 3, Mega: 6, Giga: 9, Tera: 12, Peta: 15, Exa: 18 } as const;

const SPLIT_RE_STRING = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE_STRING}'`;
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
export const ERR_SUFFIX = "unable to parse quantity's suffix";

/** A parse failure; the message is upstream's (ErrFormatWrong, ErrNumeric or ErrSuffix). */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
}

const NANO = -9;
const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT32 = 2147483647;
/** Arithmetic refuses to align exponents further apart than this (upstream would build a gigantic big.Int). */
const MAX_ALIGN_DIGITS = 100_000;

const DECIMAL_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);
const DECIMAL_SUFFIX_BY_EXPONENT: ReadonlyMap<number, string> = new Map([...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]));
const BINARY_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const pow10 = (n: number): bigint => 10n ** BigInt(n);
const digitCount = (v: bigint): number => (v === 0n ? 0 : abs(v).toString().length);

interface Scanned {
  positive: boolean;
  /** The numeric text (sign and leading zeros included), for the exact slow path. */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Upstream's parseQuantityString: a hand-written scanner that is deliberately permissive ("1.", ".5", "-"). */
function scanQuantity(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (end > 0) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };

  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';

  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);

  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityParseError(ERR_FORMAT_WRONG);
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

/** Upstream's suffixer.interpret: decimal SI, binary SI, or an e/E exponent within int32. */
function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = DECIMAL_SUFFIXES.get(suffix);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES.get(suffix);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(digits)) return undefined;
    const n = Number(digits);
    if (!Number.isSafeInteger(n) || n > MAX_INT32 || n < -MAX_INT32) return undefined;
    return { base: 10, exponent: n, format: 'DecimalExponent' };
  }
  return undefined;
}

/** Rounds |unscaled| × 10^scale up (away from zero) to `target` exponent; returns the new unscaled and exactness. */
function roundAwayFromZero(unscaled: bigint, scale: number, target: number): { unscaled: bigint; exact: boolean } {
  if (scale >= target || unscaled === 0n) return { unscaled: scale >= target ? unscaled : 0n, exact: true };
  const drop = target - scale;
  const sign = unscaled < 0n ? -1n : 1n;
  const mag = abs(unscaled);
  // Dropping more digits than the value has leaves a non-zero remainder below one unit: the result is ±1.
  if (drop > digitCount(mag)) return { unscaled: sign, exact: false };
  const divisor = pow10(drop);
  const q = mag / divisor;
  const exact = q * divisor === mag;
  return { unscaled: sign * (exact ? q : q + 1n), exact };
}

/** Splits off trailing decimal zeros without repeated bigint division. */
function stripTens(v: bigint): { mantissa: bigint; zeros: number } {
  const s = abs(v).toString();
  let zeros = 0;
  while (zeros < s.length - 1 && s[s.length - 1 - zeros] === '0') zeros++;
  if (zeros === 0) return { mantissa: v, zeros: 0 };
  const m = BigInt(s.slice(0, s.length - zeros));
  return { mantissa: v < 0n ? -m : m, zeros };
}

export class Quantity {
  /** value = unscaled × 10^scale */
  private constructor(
    private readonly unscaled: bigint,
    private readonly scale: number,
    readonly format: QuantityFormat,
    /** The parsed text when upstream keeps it verbatim (already canonical by its rule). */
    private cached?: string,
  ) {}

  /** Upstream's ParseQuantity. Throws QuantityParseError with upstream's message. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityParseError(ERR_FORMAT_WRONG);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', str);
    const { positive, value, num, denom, suffix } = scanQuantity(str);
    const interpreted = interpretSuffix(suffix);
    if (!interpreted) throw new QuantityParseError(ERR_SUFFIX);
    const { base, exponent } = interpreted;
    let format = interpreted.format;

    // Upstream's int64 fast path; it also decides when the input string is reused as the canonical form.
    let precision: number;
    let scale = 0;
    let mantissa = 1n;
    if (format === 'BinarySI') {
      if (exponent >= 0 && denom.length === 0) {
        mantissa = 1n << BigInt(exponent);
        precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
      } else {
        precision = -1;
      }
    } else {
      scale = exponent;
      precision = 18 - (num.length + denom.length);
    }
    if (precision >= 0) {
      scale -= denom.length;
      if (scale >= NANO) {
        const shifted = num + denom;
        const parsed = BigInt(shifted);
        const product = parsed * mantissa;
        if (product <= MAX_INT64) {
          const result = positive ? product : -product;
          const canonical =
            format === 'BinarySI'
              ? exponent % 10 === 0 && (parsed & 7n) !== 0n
              : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
          return new Quantity(result, scale, format, canonical ? str : undefined);
        }
      }
    }

    // Exact path for everything else: many digits, fractions of binary units, sub-nano values.
    if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/.test(value)) throw new QuantityParseError(ERR_NUMERIC);
    const unsigned = value.replace(/^[+-]/, '');
    const dot = unsigned.indexOf('.');
    const fraction = dot < 0 ? '' : unsigned.slice(dot + 1);
    let mag = BigInt((dot < 0 ? unsigned : unsigned.slice(0, dot) + fraction) || '0');
    let exp10 = -fraction.length;
    if (base === 10) exp10 += exponent;
    else mag *= 1n << BigInt(exponent);
    if (mag !== 0n) {
      // Non-zero values round up to the smallest representable amount: asking for some resource yields some.
      mag = roundAwayFromZero(mag, exp10, NANO).unscaled;
      exp10 = Math.max(exp10, NANO);
    }
    if (format === 'BinarySI') {
      if (new Quantity(mag, exp10, format).cmp(new Quantity(MAX_INT64, 0, format)) > 0) {
        mag = MAX_INT64;
        exp10 = 0;
      }
      if (mag !== 0n && new Quantity(mag, exp10, format).cmp(new Quantity(1n, 0, format)) < 0) format = 'DecimalSI';
    }
    const negative = value.startsWith('-');
    return new Quantity(negative ? -mag : mag, exp10, format);
  }

  /** Upstream's NewQuantity: an integer value. */
  static fromInt(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value), 0, format);
  }

  /** Upstream's NewMilliQuantity: value / 1000. */
  static fromMilli(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value), Scale.Milli, format);
  }

  /** Upstream's NewScaledQuantity: value × 10^scale, DecimalSI. */
  static fromScaled(value: number | bigint, scale: number): Quantity {
    return new Quantity(toBigInt(value), scale, 'DecimalSI');
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than y. */
  cmp(y: Quantity): -1 | 0 | 1 {
    const sa = this.sign();
    const sb = y.sign();
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    // Same sign: order of magnitude first, so wildly different exponents never need aligning.
    const ea = digitCount(this.unscaled) + this.scale;
    const eb = digitCount(y.unscaled) + y.scale;
    if (ea !== eb) {
      const biggerMagnitude = ea > eb;
      return biggerMagnitude === sa > 0 ? 1 : -1;
    }
    const [a, b] = Quantity.align(this, y);
    return a === b ? 0 : a < b ? -1 : 1;
  }

  equals(y: Quantity): boolean {
    return this.cmp(y) === 0;
  }

  /** Sum; a zero receiver takes y's format, as upstream's Add. */
  add(y: Quantity): Quantity {
    const [a, b, scale] = Quantity.align(this, y);
    return new Quantity(a + b, scale, this.isZero() ? y.format : this.format);
  }

  /** Difference; a zero receiver takes y's format, as upstream's Sub. */
  sub(y: Quantity): Quantity {
    const [a, b, scale] = Quantity.align(this, y);
    return new Quantity(a - b, scale, this.isZero() ? y.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.scale, this.format);
  }

  /** Product with an integer. */
  mul(factor: number | bigint): Quantity {
    return new Quantity(this.unscaled * toBigInt(factor), this.scale, this.format);
  }

  /** Rounds up (away from zero) to the given exponent; `exact` is false when precision was lost. */
  roundUp(scale: number): { quantity: Quantity; exact: boolean } {
    if (this.scale >= scale) return { quantity: this, exact: true };
    const r = roundAwayFromZero(this.unscaled, this.scale, scale);
    return { quantity: new Quantity(r.unscaled, scale, this.format), exact: r.exact };
  }

  /** ceil(q / 10^scale) away from zero, as a bigint (upstream's ScaledValue, without int64 overflow). */
  scaledValueBig(scale: number): bigint {
    if (this.scale >= scale) {
      const shift = this.scale - scale;
      if (shift + digitCount(this.unscaled) > MAX_ALIGN_DIGITS) throw new RangeError('quantity is too large to convert');
      return this.unscaled * pow10(shift);
    }
    return roundAwayFromZero(this.unscaled, this.scale, scale).unscaled;
  }

  /** ceil(q / 10^scale) as a number (upstream's ScaledValue); ±Infinity beyond range. */
  scaledValue(scale: number): number {
    if (digitCount(this.unscaled) + this.scale - scale > 400) return this.unscaled < 0n ? -Infinity : Infinity;
    return Number(this.scaledValueBig(scale));
  }

  /** The value rounded up to an integer, away from zero (upstream's Value). */
  value(): number {
    return this.scaledValue(0);
  }

  /** ceil(q × 1000) (upstream's MilliValue). */
  milliValue(): number {
    return this.scaledValue(Scale.Milli);
  }

  /** A float approximation (upstream's AsApproximateFloat64). */
  asApproximateFloat64(): number {
    return Number(`${this.unscaled}e${this.scale}`);
  }

  /** The value as an int64, when it is an integer that fits (upstream's AsInt64). */
  asInt64(): bigint | undefined {
    if (this.scale < 0) {
      const r = roundAwayFromZero(this.unscaled, this.scale, 0);
      if (!r.exact) return undefined;
      return r.unscaled >= MIN_INT64 && r.unscaled <= MAX_INT64 ? r.unscaled : undefined;
    }
    if (digitCount(this.unscaled) + this.scale > 19) return undefined;
    const v = this.unscaled * pow10(this.scale);
    return v >= MIN_INT64 && v <= MAX_INT64 ? v : undefined;
  }

  /** Same value in another format (how it is printed). */
  withFormat(format: QuantityFormat): Quantity {
    return format === this.format ? this : new Quantity(this.unscaled, this.scale, format);
  }

  /** Upstream's canonical String(). */
  toString(): string {
    this.cached ??= this.canonicalize();
    return this.cached;
  }

  toJSON(): string {
    return this.toString();
  }

  /** Unscaled values of a and b at their common (smaller) exponent. */
  private static align(a: Quantity, b: Quantity): [bigint, bigint, number] {
    if (a.scale === b.scale) return [a.unscaled, b.unscaled, a.scale];
    const diff = Math.abs(a.scale - b.scale);
    if (diff > MAX_ALIGN_DIGITS) throw new RangeError('quantities differ too much in magnitude to combine');
    return a.scale > b.scale ? [a.unscaled * pow10(diff), b.unscaled, b.scale] : [a.unscaled, b.unscaled * pow10(diff), a.scale];
  }

  private canonicalize(): string {
    if (this.unscaled === 0n) return '0';
    if (this.format === 'BinarySI') {
      const binary = this.binaryForm();
      if (binary !== undefined) return binary;
    }
    return this.decimalForm(this.format === 'DecimalExponent' ? 'DecimalExponent' : 'DecimalSI');
  }

  /** BinarySI text, or undefined when decimal must be used (|q| < 1024, fractional, or beyond "Ei"). */
  private binaryForm(): string | undefined {
    const lim = new Quantity(1024n, 0, 'DecimalSI');
    if (this.cmp(lim.neg()) > 0 && this.cmp(lim) < 0) return undefined;
    const r = this.roundUp(0);
    if (!r.exact) return undefined;
    let n = r.quantity.scaledValueBig(0);
    let power = 0;
    while (n % 1024n === 0n) {
      n /= 1024n;
      power++;
    }
    // Past "Ei" there is no binary suffix: fall back to an exact decimal form instead of losing magnitude.
    if (power >= BINARY_SUFFIX_BY_POWER.length) return undefined;
    return `${n}${BINARY_SUFFIX_BY_POWER[power]}`;
  }

  private decimalForm(format: 'DecimalSI' | 'DecimalExponent'): string {
    const { mantissa, zeros } = stripTens(this.unscaled);
    let m = mantissa;
    let exponent = this.scale + zeros;
    // Exponents are multiples of 3 so that they map onto SI suffixes.
    const rem = ((exponent % 3) + 3) % 3;
    if (rem !== 0) {
      m *= pow10(rem);
      exponent -= rem;
    }
    if (format === 'DecimalSI') {
      const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent);
      if (suffix !== undefined) return `${m}${suffix}`;
    }
    return exponent === 0 ? `${m}` : `${m}e${exponent}`;
  }
}

function toBigInt(v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
  return BigInt(v);
}

/** Upstream's ParseQuantity (throws QuantityParseError). */
export function parseQuantity(str: string): Quantity {
  return Quantity.parse(str);
}

/** The parse error message for str, or undefined when it is a valid quantity. */
export function quantityError(str: string): string | undefined {
  try {
    Quantity.parse(str);
    return undefined;
  } catch (e) {
    if (e instanceof QuantityParseError) return e.message;
    throw e;
  }
}

/**
 * Decodes a quantity as upstream's UnmarshalJSON: a JSON string (surrounding whitespace trimmed) or a JSON number.
 * Throws QuantityParseError for anything else.
 */
export function quantityFromJSON(v: unknown): Quantity {
  if (typeof v === 'string') return Quantity.parse(v.trim());
  if (typeof v === 'number' && Number.isFinite(v)) return Quantity.parse(String(v));
  throw new QuantityParseError(ERR_FORMAT_WRONG);
}
