// ConfigMaps (upstream ValidateConfigMap/ValidateConfigMapUpdate).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isConfigMapKey } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, sameValue } from '../group-validation.js';

/** Upstream's MaxSecretSize, which also bounds ConfigMaps. */
export const MAX_DATA_SIZE = 1024 * 1024;
export const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

/** Forbids turning `immutable` off or changing the frozen fields once the old object was immutable. */
export function validateImmutableData(obj: Record<string, unknown>, old: Record<string, unknown>, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(fieldErr.forbidden('immutable', IMMUTABLE_WHEN_SET));
  for (const f of fields) if (!sameValue(obj[f], old[f])) errs.push(fieldErr.forbidden(f, IMMUTABLE_WHEN_SET));
  return errs;
}

export const configMapStrategy: Strategy = {
  validate(obj) {
    const errs: FieldError[] = [];
    const data = asObject(obj.data) ?? {};
    const binaryData = asObject(obj.binaryData) ?? {};
    let total = 0;
    for (const [key, value] of Object.entries(data)) {
      errs.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
      if (key in binaryData) errs.push(fieldErr.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
      total += Buffer.byteLength(asString(value));
    }
    for (const [key, value] of Object.entries(binaryData)) {
      errs.push(...invalidEach(`binaryData[${key}]`, key, isConfigMapKey(key)));
      total += Buffer.from(asString(value), 'base64').length;
    }
    if (total > MAX_DATA_SIZE) errs.push(fieldErr.tooLong('', '', MAX_DATA_SIZE));
    return errs;
  },
  validateUpdate(obj, old) {
    return validateImmutableData(obj, old, ['data', 'binaryData']);
  },
};

export { configMapStrategy as Strategy };
