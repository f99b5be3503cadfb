// CronJobs (upstream batch/v1 SetDefaults_CronJob, ValidateCronJob[Create|Update]); schedules are checked with the
// same parser the CronJob controller runs (robfig/cron's ParseStandard, with its error messages).
import { CronParseError, isValidTimeZone, parseStandard } from '../../../machinery/cron.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, ensureObject, type Json } from '../group-validation.js';
import { defaultTemplate, specOf } from '../replicasets/strategy.js';
import { validateJobSpec } from '../jobs/strategy.js';

function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown): FieldError[] {
  const path = 'spec.schedule';
  const errs: FieldError[] = [];
  try {
    parseStandard(schedule, 'UTC');
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
  return isValidTimeZone(s) ? [] : [fieldErr.invalid(path, tz, `unknown time zone ${s}`)];
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
