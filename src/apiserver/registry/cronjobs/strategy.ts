// CronJobs (upstream batch/v1 SetDefaults_CronJob, ValidateCronJob[Create|Update]) and the standard cron schedule
// parser upstream validates with (robfig/cron's ParseStandard), with its error messages.
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, ensureObject, type Json } from '../group-validation.js';
import { defaultTemplate, specOf } from '../replicasets/strategy.js';
import { validateJobSpec } from '../jobs/strategy.js';

interface FieldBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOW_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const BOUNDS: FieldBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DOW_NAMES },
];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A parsed standard schedule: the allowed values of each field; `*` day fields are flagged as upstream does. */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Day-of-month or day-of-week was `*`/`?`: then only the other one restricts days. */
  domStar: boolean;
  dowStar: boolean;
  /** For "@every <duration>" schedules, the interval in seconds. */
  everySeconds?: number;
  timeZone?: string;
}

export class CronParseError extends Error {}

function parseInt10(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CronParseError(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function parseIntOrName(s: string, names?: Record<string, number>): number {
  const named = names?.[s.toLowerCase()];
  return named ?? parseInt10(s);
}

function parseField(field: string, b: FieldBounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const expr of field.split(',')) {
    const rangeAndStep = expr.split('/');
    const lowAndHigh = rangeAndStep[0].split('-');
    const single = lowAndHigh.length === 1;
    let start: number;
    let end: number;
    let isStar = false;
    if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
      start = b.min;
      end = b.max;
      isStar = true;
    } else {
      start = parseIntOrName(lowAndHigh[0], b.names);
      if (lowAndHigh.length === 1) end = start;
      else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1], b.names);
      else throw new CronParseError(`too many hyphens: ${expr}`);
    }
    let step = 1;
    if (rangeAndStep.length === 2) {
      step = parseInt10(rangeAndStep[1]);
      if (single) end = b.max;
      if (step > 1) isStar = false;
    } else if (rangeAndStep.length > 2) throw new CronParseError(`too many slashes: ${expr}`);
    if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
    if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
    if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
    if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
    for (let v = start; v <= end; v += step) values.add(v);
    if (isStar) star = true;
  }
  return { values, star };
}

/** Go's time.ParseDuration for the "@every" descriptor (units h, m, s, ms, us, ns), in seconds. */
function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) throw new CronParseError(`failed to parse duration ${s}: time: invalid duration ${JSON.stringify(s)}`);
  return total;
}

function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses a standard 5-field schedule (or a descriptor), throwing CronParseError with upstream's message. */
export function parseCronSchedule(input: string): CronSchedule {
  let spec = input.trim();
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let timeZone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const tz = spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space);
    if (!isKnownTimeZone(tz)) throw new CronParseError(`provided bad location ${tz}: unknown time zone ${tz}`);
    timeZone = tz;
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (spec.startsWith('@every ')) {
      const everySeconds = parseDuration(spec.slice('@every '.length));
      const all = (b: FieldBounds): Set<number> => new Set(Array.from({ length: b.max - b.min + 1 }, (_, i) => b.min + i));
      return {
        minutes: all(BOUNDS[0]),
        hours: all(BOUNDS[1]),
        daysOfMonth: all(BOUNDS[2]),
        months: all(BOUNDS[3]),
        daysOfWeek: all(BOUNDS[4]),
        domStar: true,
        dowStar: true,
        everySeconds: Math.max(1, Math.floor(everySeconds)),
        timeZone,
      };
    }
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${spec}`);
    spec = expanded;
  }
  const fields = spec.split(/\s+/).filter((f) => f);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const parsed = fields.map((f, i) => parseField(f, BOUNDS[i]));
  return {
    minutes: parsed[0].values,
    hours: parsed[1].values,
    daysOfMonth: parsed[2].values,
    months: parsed[3].values,
    daysOfWeek: parsed[4].values,
    domStar: parsed[2].star,
    dowStar: parsed[4].star,
    timeZone,
  };
}

function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown): FieldError[] {
  const path = 'spec.schedule';
  const errs: FieldError[] = [];
  try {
    parseCronSchedule(schedule);
  } catch (e) {
    if (!(e instanceof CronParseError)) throw e;
    errs.push(fieldErr.invalid(path, schedule, e.message));
  }
  if (allowTZ && schedule.includes('TZ') && timeZone !== undefined && timeZone !== null) {
    errs.push(fieldErr.invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  } else if (!allowTZ && schedule.includes('TZ')) {
    errs.push(fieldErr.invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  return errs;
}

function validateTimeZone(tz: unknown): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const path = 'spec.timeZone';
  const s = asString(tz);
  if (s === '') return [fieldErr.invalid(path, tz, 'timeZone must be nil or non-empty string')];
  if (s.toLowerCase() === 'local') return [fieldErr.invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  return isKnownTimeZone(s) ? [] : [fieldErr.invalid(path, tz, `unknown time zone ${s}`)];
}

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

function validateCronJobSpec(spec: Json, oldSpec?: Json): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = asString(spec.schedule);
  if (!schedule) errs.push(fieldErr.required('spec.schedule', ''));
  else errs.push(...validateSchedule(schedule, oldSpec ? asString(oldSpec.schedule).includes('TZ') : false, spec.timeZone));
  if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null) {
    errs.push(...validateNonnegativeField(Number(spec.startingDeadlineSeconds), 'spec.startingDeadlineSeconds'));
  }
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone));
  const policy = asString(spec.concurrencyPolicy);
  if (!policy) errs.push(fieldErr.required('spec.concurrencyPolicy', ''));
  else if (!CONCURRENCY_POLICIES.includes(policy)) errs.push(fieldErr.notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  const jobSpec = asObject(asObject(spec.jobTemplate)?.spec) ?? {};
  errs.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector !== undefined && jobSpec.selector !== null) {
    errs.push(fieldErr.invalid('spec.jobTemplate.spec.selector', jobSpec.selector, '`selector` will be auto-generated'));
  }
  if (jobSpec.manualSelector === true) errs.push(fieldErr.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  for (const f of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    if (spec[f] !== undefined && spec[f] !== null) errs.push(...validateNonnegativeField(Number(spec[f]), `spec.${f}`));
  }
  return errs;
}

/** Job names are "<cronjob>-<11-digit timestamp>", so cronjob names are limited to 63-11 characters. */
const MAX_NAME_LENGTH = 52;

export const cronJobStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
    if (spec.suspend === undefined || spec.suspend === null) spec.suspend = false;
    if (spec.successfulJobsHistoryLimit === undefined || spec.successfulJobsHistoryLimit === null) spec.successfulJobsHistoryLimit = 3;
    if (spec.failedJobsHistoryLimit === undefined || spec.failedJobsHistoryLimit === null) spec.failedJobsHistoryLimit = 1;
    const jobTemplate = asObject(spec.jobTemplate);
    const jobSpec = asObject(jobTemplate?.spec);
    if (jobSpec) defaultTemplate(jobSpec);
  },
  validate(obj) {
    const errs = validateCronJobSpec(specOf(obj));
    const name = obj.metadata.name ?? '';
    if (name.length > MAX_NAME_LENGTH) errs.push(fieldErr.invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH} characters`));
    return errs;
  },
};

export { cronJobStrategy as Strategy };
