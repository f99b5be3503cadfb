// Cron schedules as upstream's CronJob controller reads them (robfig/cron v3 ParseStandard): five fields (minute,
// hour, day of month, month, day of week) with names, ranges, steps and lists; the descriptors @yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly and @every <duration>; an optional "TZ=<zone>" or "CRON_TZ=<zone>"
// prefix. Next() walks wall-clock time in the schedule's IANA zone (through Intl) the way robfig does: month, then day,
// then hour, minute and second, so DST gaps and repeats behave as upstream's.
import { parseGoDuration as parseDuration } from './duration.js';

export interface Schedule {
  /** The first activation strictly after `ms` (epoch milliseconds), or undefined if none within five years. */
  next(ms: number): number | undefined;
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** A field: which values are set, and whether it was written as "*" or "?" (robfig's star bit). */
interface Field {
  bits: boolean[];
  star: boolean;
}

export class CronParseError extends Error {}

/** robfig's mustParseInt: strconv.Atoi's error, and no negative numbers. */
function parseInt10(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CronParseError(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number.parseInt(s, 10);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function parseIntOrName(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  return named !== undefined ? named : parseInt10(s);
}

/** One comma-separated part: "*", "?", "a", "a-b", with an optional "/step" ("a/step" runs to the maximum). */
function parseRange(expr: string, b: Bounds, field: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, b);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1]!);
    if (single) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) field.bits[i] = true;
  if (star) field.star = true;
}

function parseField(text: string, b: Bounds): Field {
  const field: Field = { bits: new Array<boolean>(b.max + 1).fill(false), star: false };
  for (const part of text.split(',')) parseRange(part, b, field);
  return field;
}

// ---- time zones through Intl ----

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether Intl knows the IANA zone (upstream: time.LoadLocation succeeds). */
export function isValidTimeZone(tz: string): boolean {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return true;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone a schedule without TZ= uses: the process's local zone, as upstream's time.Local. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function wallClock(ms: number, tz: string): Wall {
  if (tz === 'UTC') {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatterFor(tz).formatToParts(new Date(ms))) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute' || p.type === 'second') w[p.type] = Number(p.value);
  }
  return w;
}

const wallAsUTC = (w: Wall): number => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** Offset of the zone at `ms` (wall time minus UTC), in milliseconds. */
export function zoneOffset(ms: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUTC(wallClock(whole, tz)) - whole;
}

/**
 * Go's time.Date in a zone: fields may overflow (month 13, day 32) and normalise; a wall time in a DST gap or overlap
 * resolves with the offset in force just before the transition, as Go does.
 */
function fromWall(year: number, month: number, day: number, hour: number, minute: number, second: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (tz === 'UTC') return wall;
  const o1 = zoneOffset(wall, tz);
  const utc = wall - o1;
  const o2 = zoneOffset(utc, tz);
  return o2 === o1 ? utc : wall - o2;
}

const weekday = (w: Wall): number => new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();

// ---- schedules ----

export class SpecSchedule implements Schedule {
  constructor(
    readonly minute: Field,
    readonly hour: Field,
    readonly dom: Field,
    readonly month: Field,
    readonly dow: Field,
    /** IANA zone the fields are read in. */
    readonly timeZone: string,
  ) {}

  /** Both day fields restricted: either may match; otherwise both must (robfig's dayMatches). */
  private dayMatches(w: Wall): boolean {
    const domMatch = this.dom.bits[w.day] === true;
    const dowMatch = this.dow.bits[weekday(w)] === true;
    if (this.dom.star || this.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(fromMs: number): number | undefined {
    const tz = this.timeZone;
    // The upcoming whole second.
    let t = Math.floor(fromMs / 1000) * 1000 + 1000;
    let added = false;
    let w = wallClock(t, tz);
    const yearLimit = w.year + 5;
    wrap: for (;;) {
      w = wallClock(t, tz);
      if (w.year > yearLimit) return undefined;
      while (!this.month.bits[w.month]) {
        if (!added) {
          added = true;
          t = fromWall(w.year, w.month, 1, 0, 0, 0, tz);
          w = wallClock(t, tz);
        }
        t = fromWall(w.year, w.month + 1, w.day, w.hour, w.minute, w.second, tz);
        w = wallClock(t, tz);
        if (w.month === 1) continue wrap;
      }
      while (!this.dayMatches(w)) {
        if (!added) {
          added = true;
          t = fromWall(w.year, w.month, w.day, 0, 0, 0, tz);
          w = wallClock(t, tz);
        }
        t = fromWall(w.year, w.month, w.day + 1, w.hour, w.minute, w.second, tz);
        w = wallClock(t, tz);
        // A DST change moved midnight: step back to it.
        if (w.hour !== 0) {
          t += (w.hour > 12 ? 24 - w.hour : -w.hour) * 3_600_000;
          w = wallClock(t, tz);
        }
        if (w.day === 1) continue wrap;
      }
      while (!this.hour.bits[w.hour]) {
        if (!added) {
          added = true;
          t = fromWall(w.year, w.month, w.day, w.hour, 0, 0, tz);
          w = wallClock(t, tz);
        }
        t += 3_600_000;
        w = wallClock(t, tz);
        if (w.hour === 0) continue wrap;
      }
      while (!this.minute.bits[w.minute]) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
          w = wallClock(t, tz);
        }
        t += 60_000;
        w = wallClock(t, tz);
        if (w.minute === 0) continue wrap;
      }
      // Standard schedules fire at second 0.
      while (w.second !== 0) {
        if (!added) {
          added = true;
          t = Math.floor(t / 1000) * 1000;
        }
        t += 1000;
        w = wallClock(t, tz);
        if (w.second === 0) continue wrap;
      }
      return t;
    }
  }
}

/** "@every <duration>": a fixed delay from the previous activation, whole seconds, at least one. */
export class ConstantDelaySchedule implements Schedule {
  readonly delayMs: number;
  constructor(delayMs: number) {
    this.delayMs = delayMs < 1000 ? 1000 : delayMs - (delayMs % 1000);
  }
  next(fromMs: number): number {
    return Math.floor(fromMs / 1000) * 1000 + this.delayMs;
  }
}

/** Go's time.ParseDuration, in milliseconds; throws CronParseError with Go's message. */
export function parseGoDuration(s: string): number {
  const ms = parseDuration(s);
  if (ms === undefined) throw new CronParseError(`time: invalid duration "${s}"`);
  return ms;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * Parse a standard cron spec. `defaultTimeZone` applies when the spec has no TZ=/CRON_TZ= prefix (upstream: the
 * controller manager's local zone).
 */
export function parseStandard(spec: string, defaultTimeZone: string = localTimeZone()): Schedule {
  let text = spec;
  if (text.length === 0) throw new CronParseError('empty spec string');
  let tz = defaultTimeZone;
  if (text.startsWith('TZ=') || text.startsWith('CRON_TZ=')) {
    const space = text.indexOf(' ');
    const eq = text.indexOf('=');
    const name = space < 0 ? text.slice(eq + 1) : text.slice(eq + 1, space);
    if (!isValidTimeZone(name)) throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    tz = name === '' || name === 'UTC' ? 'UTC' : name === 'Local' ? localTimeZone() : name;
    text = space < 0 ? '' : text.slice(space).trim();
  }
  if (tz === 'Etc/UTC' || tz === 'Etc/GMT' || tz === 'GMT') tz = 'UTC';
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      let d: number;
      try {
        d = parseGoDuration(text.slice('@every '.length).trim());
      } catch (e) {
        throw new CronParseError(`failed to parse duration ${text}: ${(e as Error).message}`);
      }
      return new ConstantDelaySchedule(d);
    }
    const expanded = DESCRIPTORS[text];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${text}`);
    text = expanded;
  }
  const fields = text.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule(
    parseField(fields[0]!, MINUTES),
    parseField(fields[1]!, HOURS),
    parseField(fields[2]!, DOM),
    parseField(fields[3]!, MONTHS),
    parseField(fields[4]!, DOW),
    tz,
  );
}
