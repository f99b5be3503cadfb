// Query parameters shared by the REST verbs, parsed and checked as upstream does (bad values are 400 BadRequest).
import { ApiError } from '../../machinery/errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw ApiError.badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

/** dryRun accepts only "All" (repeated values allowed); anything else is 400 as upstream. */
export function dryRunParam(q: URLSearchParams, bodyDryRun?: unknown): boolean {
  const values = q.getAll('dryRun');
  if (Array.isArray(bodyDryRun)) values.push(...bodyDryRun.map(String));
  for (const v of values) {
    if (v !== 'All') throw ApiError.badRequest(`Invalid dry run value: ${v}`);
  }
  return values.length > 0;
}

export function fieldValidationParam(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw ApiError.badRequest(`fieldValidation parameter unsupported: ${v}`);
}

/** Upstream derives a default field manager from the User-Agent's product token, truncated to 128 bytes. */
export function fieldManagerParam(q: URLSearchParams, userAgent: string | undefined, required: boolean): string {
  const v = q.get('fieldManager');
  if (v !== null && v !== '') {
    if (v.length > 128) throw ApiError.badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    if (/[^\x20-\x7e]/.test(v)) throw ApiError.badRequest(`fieldManager: Invalid value: "${v}": may only contain printable characters`);
    return v;
  }
  if (required) throw ApiError.badRequest('PATCH with apply content type requires the fieldManager parameter');
  const product = (userAgent ?? 'unknown').split('/')[0].trim() || 'unknown';
  return product.slice(0, 128);
}
