// ResourceQuotas (upstream ValidateResourceQuota[Update|StatusUpdate]).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isQualifiedName } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, asStrings, type Json } from '../group-validation.js';
import { decodeResourceList, validateResourceQuantityValue } from '../validation/pod.js';

const SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];
const SCOPE_OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

function validateQuotaList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, q] of decodeResourceList(list, path, errs)) {
    const p = `${path}[${name}]`;
    errs.push(...invalidEach(p, name, isQualifiedName(name)), ...validateResourceQuantityValue(name, q, p));
  }
  return errs;
}

function validateScopes(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const scopes = asStrings(spec.scopes);
  for (const s of scopes) if (!SCOPES.includes(s)) errs.push(fieldErr.invalid('spec.scopes', s, 'unsupported scope'));
  const has = (a: string): boolean => scopes.includes(a);
  if ((has('BestEffort') && has('NotBestEffort')) || (has('Terminating') && has('NotTerminating'))) {
    errs.push(fieldErr.invalid('spec.scopes', scopes, 'conflicting scopes'));
  }
  asArray(asObject(spec.scopeSelector)?.matchExpressions).forEach((raw, i) => {
    const r = asObject(raw) ?? {};
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    const scope = asString(r.scopeName);
    if (!SCOPES.includes(scope)) errs.push(fieldErr.invalid(`${p}.scopeName`, scope, 'unsupported scope'));
    const op = asString(r.operator);
    if (!SCOPE_OPERATORS.includes(op)) errs.push(fieldErr.invalid(`${p}.operator`, op, 'not a valid selector operator'));
    const values = asArray(r.values);
    if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      errs.push(fieldErr.required(`${p}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    }
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      errs.push(fieldErr.invalid(`${p}.values`, values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    }
  });
  return errs;
}

export const resourceQuotaStrategy: Strategy = {
  validate(obj) {
    const spec: Json = asObject(obj.spec) ?? {};
    return [...validateQuotaList(spec.hard, 'spec.hard'), ...validateScopes(spec)];
  },
  validateStatusUpdate(obj) {
    const status: Json = asObject(obj.status) ?? {};
    return [...validateQuotaList(status.hard, 'status.hard'), ...validateQuotaList(status.used, 'status.used')];
  },
};

export { resourceQuotaStrategy as Strategy };
