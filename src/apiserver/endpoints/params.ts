// Query parameters shared by the REST verbs, parsed and checked as upstream does: a value that does not parse is
// 400 BadRequest with Go's strconv message; write options (dryRun, fieldValidation, fieldManager, force) that parse
// but are not allowed are 422 Invalid on the options kind ("CreateOptions.meta.k8s.io "" is invalid: ...").
import { ApiError } from '../../machinery/errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Upstream's query-to-bool conversion: a present parameter is true unless it is "0" or "false" (any case). */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return v !== '0' && v.toLowerCase() !== 'false';
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** An int64 parameter, parsed like Go's strconv.ParseInt (so "", "1.5" and "abc" are 400 BadRequest). */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw ApiError.badRequest(`strconv.ParseInt: parsing ${goQuote(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > INT64_MAX || n < INT64_MIN) throw ApiError.badRequest(`strconv.ParseInt: parsing ${goQuote(v)}: value out of range`);
  return Number(n);
}

/** Go's %q for the strings that reach messages here (JSON's escaping agrees for printable text). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions' | 'ListOptions';

/** One field error of an options kind, already rendered as upstream's ErrorBody(). */
interface OptionError {
  type: 'FieldValueNotSupported' | 'FieldValueInvalid' | 'FieldValueTooLong' | 'FieldValueForbidden' | 'FieldValueRequired';
  field: string;
  body: string;
}

function optionsInvalid(kind: OptionsKind, errs: OptionError[]): ApiError {
  const rendered = errs.map((e) => `${e.field}: ${e.body}`);
  const joined = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  return new ApiError({
    message: `${kind}.meta.k8s.io "" is invalid: ${joined}`,
    reason: 'Invalid',
    code: 422,
    details: { group: 'meta.k8s.io', kind, causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })) },
  });
}

function dryRunErrors(values: string[]): OptionError[] {
  if (values.every((v) => v === 'All')) return [];
  // Go prints the rejected []string with %#v.
  const shown = `[]string{${values.map(goQuote).join(', ')}}`;
  return [{ type: 'FieldValueNotSupported', field: 'dryRun', body: `Unsupported value: ${shown}: supported values: "All"` }];
}

function fieldValidationErrors(v: string): OptionError[] {
  if (v === '' || v === 'Strict' || v === 'Warn' || v === 'Ignore') return [];
  return [
    {
      type: 'FieldValueNotSupported',
      field: 'fieldValidation',
      body: `Unsupported value: ${goQuote(v)}: supported values: "", "Ignore", "Strict", "Warn"`,
    },
  ];
}

const FIELD_MANAGER_MAX_LENGTH = 128;

function fieldManagerErrors(v: string): OptionError[] {
  const errs: OptionError[] = [];
  if (Buffer.byteLength(v) > FIELD_MANAGER_MAX_LENGTH) {
    errs.push({ type: 'FieldValueTooLong', field: 'fieldManager', body: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  }
  let position = 0;
  for (const ch of v) {
    const cp = ch.codePointAt(0)!;
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      errs.push({
        type: 'FieldValueInvalid',
        field: 'fieldManager',
        body: `Invalid value: ${goQuote(v)}: invalid character ${code} (at position ${position})`,
      });
    }
    position += Buffer.byteLength(ch);
  }
  return errs;
}

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** The explicit fieldManager, or the one upstream derives from the User-Agent. */
  fieldManager: string;
}

/**
 * Parses and validates the options of a write (upstream's ValidateCreateOptions, ValidateUpdateOptions,
 * ValidatePatchOptions, ValidateDeleteOptions): every problem is reported at once in one 422 Invalid.
 */
export function writeOptions(
  q: URLSearchParams,
  kind: OptionsKind,
  userAgent: string | undefined,
  extra: { applyPatch?: boolean; bodyDryRun?: unknown } = {},
): WriteOptions {
  const errs: OptionError[] = [];
  const manager = q.get('fieldManager') ?? '';
  if (kind === 'PatchOptions') {
    if (!extra.applyPatch && q.has('force')) {
      errs.push({ type: 'FieldValueForbidden', field: 'force', body: 'Forbidden: may not be specified for non-apply patch' });
    }
    if (extra.applyPatch && manager === '') {
      errs.push({ type: 'FieldValueRequired', field: 'fieldManager', body: 'Required value: is required for apply patch' });
    }
  }
  if (kind !== 'DeleteOptions') errs.push(...fieldManagerErrors(manager));
  const dryRun = q.getAll('dryRun');
  if (Array.isArray(extra.bodyDryRun)) dryRun.push(...extra.bodyDryRun.map(String));
  errs.push(...dryRunErrors(dryRun));
  const validation = kind === 'DeleteOptions' ? '' : (q.get('fieldValidation') ?? '');
  errs.push(...fieldValidationErrors(validation));
  if (errs.length) throw optionsInvalid(kind, errs);
  return {
    dryRun: dryRun.length > 0,
    fieldValidation: validation === '' ? 'Warn' : (validation as FieldValidation),
    fieldManager: manager || defaultFieldManager(userAgent),
  };
}

/** Upstream derives a default field manager from the User-Agent's product token, truncated to 128 bytes. */
function defaultFieldManager(userAgent: string | undefined): string {
  const product = (userAgent ?? 'unknown').split('/')[0].trim() || 'unknown';
  return product.slice(0, FIELD_MANAGER_MAX_LENGTH);
}

/** dryRun of a verb without other write options (subresources): only "All" is allowed, as upstream. */
export function dryRunParam(q: URLSearchParams, kind: OptionsKind = 'CreateOptions'): boolean {
  const values = q.getAll('dryRun');
  const errs = dryRunErrors(values);
  if (errs.length) throw optionsInvalid(kind, errs);
  return values.length > 0;
}

/** Upstream's ValidateListOptions for a list (not a watch): resourceVersionMatch rules, no sendInitialEvents. */
export function validateListOptions(q: URLSearchParams): void {
  const errs: OptionError[] = [];
  const forbidden = (field: string, detail: string) => errs.push({ type: 'FieldValueForbidden', field, body: `Forbidden: ${detail}` });
  const match = q.get('resourceVersionMatch') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  if (match) {
    if (!rv) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (q.get('continue')) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      errs.push({
        type: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        body: `Unsupported value: ${goQuote(match)}: supported values: "Exact", "NotOlderThan", ""`,
      });
    }
    if (match === 'Exact' && rv === '0') forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (q.has('sendInitialEvents')) forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  if (errs.length) throw optionsInvalid('ListOptions', errs);
}
