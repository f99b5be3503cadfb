// LimitRanges (upstream SetDefaults_LimitRangeItem, ValidateLimitRange).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isQualifiedName } from '../../../machinery/validation.js';
import { Quantity } from '../../../machinery/quantity.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, ensureObject, type Json } from '../group-validation.js';
import { decodeResourceList, isHugePageResourceName, isNativeResource } from '../validation/pod.js';

const LIMIT_TYPES = ['Container', 'Pod', 'PersistentVolumeClaim'];

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = invalidEach(path, name, isQualifiedName(name));
  if (!name.includes('/') && !['cpu', 'memory', 'ephemeral-storage', 'storage'].includes(name) && !isHugePageResourceName(name)) {
    errs.push(fieldErr.invalid(path, name, 'must be a standard limit type or fully qualified'));
  }
  return errs;
}

function validateItem(item: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = asString(item.type);
  if (!type) errs.push(fieldErr.required(`${path}.type`, ''));
  else if (!LIMIT_TYPES.includes(type) && !type.includes('/')) {
    errs.push(...invalidEach(`${path}.type`, type, ['must be a standard limit type or fully qualified']));
  }
  const lists: Record<string, Map<string, Quantity>> = {};
  for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
    lists[f] = decodeResourceList(item[f], `${path}.${f}`, errs);
    for (const name of lists[f].keys()) errs.push(...validateResourceName(name, `${path}.${f}[${name}]`));
  }
  if (type === 'Pod') {
    if (lists.default.size) errs.push(fieldErr.forbidden(`${path}.default`, "may not be specified when `type` is 'Pod'"));
    if (lists.defaultRequest.size) errs.push(fieldErr.forbidden(`${path}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
  }
  if (type === 'PersistentVolumeClaim' && !lists.min.has('storage') && !lists.max.has('storage')) {
    errs.push(fieldErr.required(`${path}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
  }
  const keys = new Set(Object.values(lists).flatMap((m) => [...m.keys()]));
  for (const k of keys) {
    const min = lists.min.get(k);
    const max = lists.max.get(k);
    const def = lists.default.get(k);
    const defReq = lists.defaultRequest.get(k);
    const ratio = lists.maxLimitRequestRatio.get(k);
    if (min && max && min.cmp(max) > 0) errs.push(fieldErr.invalid(`${path}.min[${k}]`, min.toString(), `min value ${min} is greater than max value ${max}`));
    if (defReq && min && min.cmp(defReq) > 0) {
      errs.push(fieldErr.invalid(`${path}.defaultRequest[${k}]`, defReq.toString(), `min value ${min} is greater than default request value ${defReq}`));
    }
    if (defReq && max && defReq.cmp(max) > 0) {
      errs.push(fieldErr.invalid(`${path}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than max value ${max}`));
    }
    if (defReq && def && defReq.cmp(def) > 0) {
      errs.push(fieldErr.invalid(`${path}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than default limit value ${def}`));
    }
    if (def && min && min.cmp(def) > 0) errs.push(fieldErr.invalid(`${path}.default[${k}]`, min.toString(), `min value ${min} is greater than default value ${def}`));
    if (def && max && def.cmp(max) > 0) errs.push(fieldErr.invalid(`${path}.default[${k}]`, max.toString(), `default value ${def} is greater than max value ${max}`));
    if (ratio && ratio.cmp(Quantity.fromInt(1)) < 0) errs.push(fieldErr.invalid(`${path}.maxLimitRequestRatio[${k}]`, ratio.toString(), `ratio ${ratio} is less than 1`));
    if (ratio && min && max) {
      const limit = max.asApproximateFloat64() / min.asApproximateFloat64();
      if (ratio.asApproximateFloat64() > limit) {
        errs.push(fieldErr.invalid(`${path}.maxLimitRequestRatio[${k}]`, ratio.toString(), `ratio ${ratio} is greater than max/min = ${limit.toFixed(6)}`));
      }
    }
    const overcommit = isNativeResource(k) && !isHugePageResourceName(k);
    if (!overcommit && def && defReq && def.cmp(defReq) !== 0) {
      errs.push(fieldErr.invalid(`${path}.defaultRequest[${k}]`, defReq.toString(), `default value ${def} must equal to defaultRequest value ${defReq} in ${k}`));
    }
  }
  return errs;
}

export const limitRangeStrategy: Strategy = {
  defaults(obj) {
    for (const raw of asArray(asObject(obj.spec)?.limits)) {
      const item = asObject(raw);
      if (!item || item.type !== 'Container') continue;
      // Default limit falls back to max; default request to the default limit, then to min.
      const def = ensureObject(item, 'default');
      const defReq = ensureObject(item, 'defaultRequest');
      for (const [k, v] of Object.entries(asObject(item.max) ?? {})) if (!(k in def)) def[k] = v;
      for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
      for (const [k, v] of Object.entries(asObject(item.min) ?? {})) if (!(k in defReq)) defReq[k] = v;
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const seen = new Set<string>();
    asArray(asObject(obj.spec)?.limits).forEach((raw, i) => {
      const item = asObject(raw) ?? {};
      const path = `spec.limits[${i}]`;
      const type = asString(item.type);
      if (seen.has(type)) errs.push(fieldErr.duplicate(`${path}.type`, type));
      seen.add(type);
      errs.push(...validateItem(item, path));
    });
    return errs;
  },
};

export { limitRangeStrategy as Strategy };
