// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy: upstream's v1 defaults (failurePolicy, MatchResources,
// rules) and validateValidatingAdmissionPolicySpec. CEL expressions are checked for presence, not compiled.
import type { MatchResources, NamedRuleWithOperations, ValidatingAdmissionPolicy, Validation } from 'kubernetes-types/admissionregistration/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  invalidEach,
  isCIdentifier,
  isDNS1035Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPathSegmentName,
  validateLabelSelector,
} from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import {
  FAILURE_POLICIES,
  MATCH_POLICIES,
  defaultRules,
  validateMatchConditions,
  validateRuleWithOperations,
  type Rule,
} from '../validatingwebhookconfigurations/strategy.js';

const VALIDATION_REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge', 'Unauthorized'];
const MAX_AUDIT_ANNOTATIONS = 20;
const MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH = 5 * 1024;

type NamedRule = NamedRuleWithOperations & Rule;

/** Upstream's SetDefaults_MatchResources plus the rule scope default. */
export function defaultMatchResources(mr: MatchResources | undefined): void {
  if (!mr) return;
  mr.matchPolicy ??= 'Equivalent';
  mr.namespaceSelector ??= {};
  mr.objectSelector ??= {};
  defaultRules(mr.resourceRules as NamedRule[] | undefined);
  defaultRules(mr.excludeResourceRules as NamedRule[] | undefined);
}

function validateNamedRule(rule: NamedRule, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (rule.resourceNames ?? []).forEach((name, i) => {
    errs.push(...invalidEach(`${path}.resourceNames[${i}]`, name, isValidPathSegmentName(name)));
    if (seen.has(name)) errs.push(fieldErr.duplicate(`${path}.resourceNames[${i}]`, name));
    seen.add(name);
  });
  errs.push(...validateRuleWithOperations(rule, path));
  return errs;
}

/** Upstream's validateMatchResources; defaults have filled the required fields unless a client cleared them. */
export function validateMatchResources(mr: MatchResources | undefined, path: string): FieldError[] {
  if (!mr) return [];
  const errs: FieldError[] = [];
  if (mr.matchPolicy == null) errs.push(fieldErr.required(`${path}.matchPolicy`));
  else if (!MATCH_POLICIES.includes(mr.matchPolicy)) errs.push(fieldErr.notSupported(`${path}.matchPolicy`, mr.matchPolicy, MATCH_POLICIES));
  if (mr.namespaceSelector == null) errs.push(fieldErr.required(`${path}.namespaceSelector`));
  else errs.push(...validateLabelSelector(mr.namespaceSelector, `${path}.namespaceSelector`));
  if (mr.objectSelector == null) errs.push(fieldErr.required(`${path}.objectSelector`));
  else errs.push(...validateLabelSelector(mr.objectSelector, `${path}.objectSelector`));
  (mr.resourceRules ?? []).forEach((r, i) => errs.push(...validateNamedRule(r as NamedRule, `${path}.resourceRules[${i}]`)));
  (mr.excludeResourceRules ?? []).forEach((r, i) => errs.push(...validateNamedRule(r as NamedRule, `${path}.excludeResourceRules[${i}]`)));
  return errs;
}

function validateParamKind(kind: { apiVersion?: string; kind?: string }, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const apiVersion = kind.apiVersion ?? '';
  if (apiVersion === '') errs.push(fieldErr.required(`${path}.apiVersion`));
  else {
    const parts = apiVersion.split('/');
    if (parts.length > 2) errs.push(fieldErr.invalid(`${path}.apiVersion`, apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
    else {
      const [group, version] = parts.length === 2 ? parts : ['', parts[0]];
      const groupErrs = group.length > 0 ? isDNS1123Subdomain(group) : [];
      if (groupErrs.length > 0) errs.push(fieldErr.invalid(`${path}.apiVersion`, group, groupErrs.join(',')));
      const versionErrs = isDNS1035Label(version);
      if (version.length === 0) errs.push(fieldErr.invalid(`${path}.apiVersion`, apiVersion, 'version must be specified'));
      else if (versionErrs.length > 0) errs.push(fieldErr.invalid(`${path}.apiVersion`, version, versionErrs.join(',')));
    }
  }
  const k = kind.kind ?? '';
  if (k === '') errs.push(fieldErr.required(`${path}.kind`));
  else {
    const kindErrs = isDNS1035Label(k.toLowerCase());
    if (kindErrs.length > 0) errs.push(fieldErr.invalid(`${path}.kind`, k, `may have mixed case, but should otherwise match: ${kindErrs.join(',')}`));
  }
  return errs;
}

function validateValidation(v: Validation, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((v.expression ?? '').trim() === '') errs.push(fieldErr.required(`${path}.expression`, 'expression is not specified'));
  const messageExpression = v.messageExpression ?? '';
  if (messageExpression.length > 0 && messageExpression.trim() === '') {
    errs.push(fieldErr.invalid(`${path}.messageExpression`, messageExpression, 'must be non-empty if specified'));
  }
  const message = v.message ?? '';
  if (message.length > 0 && message.trim() === '') errs.push(fieldErr.invalid(`${path}.message`, message, 'message must be non-empty if specified'));
  else if (/[\n\r]/.test(message.trim())) errs.push(fieldErr.invalid(`${path}.message`, message, 'message must not contain line breaks'));
  if (v.reason != null && !VALIDATION_REASONS.includes(v.reason)) errs.push(fieldErr.notSupported(`${path}.reason`, v.reason, VALIDATION_REASONS));
  return errs;
}

function validatePolicy(obj: KubeObject): FieldError[] {
  const policy = obj as unknown as ValidatingAdmissionPolicy;
  const spec = policy.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.failurePolicy == null) errs.push(fieldErr.required('spec.failurePolicy'));
  else if (!FAILURE_POLICIES.includes(spec.failurePolicy)) errs.push(fieldErr.notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
  if (spec.paramKind) errs.push(...validateParamKind(spec.paramKind, 'spec.paramKind'));
  if (spec.matchConstraints == null) errs.push(fieldErr.required('spec.matchConstraints'));
  else {
    errs.push(...validateMatchResources(spec.matchConstraints, 'spec.matchConstraints'));
    // Resource rules give the expressions their type information.
    if (!spec.matchConstraints.resourceRules?.length) errs.push(fieldErr.required('spec.matchConstraints.resourceRules'));
  }
  errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions'));
  const validations = spec.validations ?? [];
  const audits = spec.auditAnnotations ?? [];
  if (validations.length === 0 && audits.length === 0) {
    errs.push(fieldErr.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
    errs.push(fieldErr.required('spec.auditAnnotations', 'validations or auditAnnotations must contain at least one item'));
  } else {
    validations.forEach((v, i) => errs.push(...validateValidation(v, `spec.validations[${i}]`)));
    if (audits.length > MAX_AUDIT_ANNOTATIONS) {
      errs.push(fieldErr.invalid('spec.auditAnnotations', audits, `must not have more than ${MAX_AUDIT_ANNOTATIONS} auditAnnotations`));
    }
    const keys = new Set<string>();
    const name = policy.metadata?.name ?? '';
    audits.forEach((a, i) => {
      const path = `spec.auditAnnotations[${i}]`;
      const key = a.key ?? '';
      if (name) errs.push(...invalidEach(`${path}.key`, `${name}/${key}`, isQualifiedName(`${name}/${key}`)));
      else errs.push(fieldErr.invalid(`${path}.key`, key, 'requires metadata.name be non-empty'));
      const valueExpression = (a.valueExpression ?? '').trim();
      if (valueExpression === '') errs.push(fieldErr.required(`${path}.valueExpression`, 'valueExpression is not specified'));
      else if (valueExpression.length > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH) {
        errs.push(fieldErr.invalid(`${path}.valueExpression`, a.valueExpression, `must not exceed ${MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length`));
      }
      if (keys.has(key)) errs.push(fieldErr.duplicate(`${path}.key`, key));
      keys.add(key);
    });
  }
  (spec.variables ?? []).forEach((v, i) => {
    const path = `spec.variables[${i}]`;
    const name = (v.name ?? '').trim();
    if (name === '') errs.push(fieldErr.required(`${path}.name`, 'name is not specified'));
    else if (isCIdentifier(name).length > 0) errs.push(fieldErr.invalid(`${path}.name`, v.name, 'name is not a valid CEL identifier'));
    if ((v.expression ?? '').trim() === '') errs.push(fieldErr.required(`${path}.expression`, 'expression is not specified'));
  });
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const spec = (obj as unknown as ValidatingAdmissionPolicy).spec;
    if (!spec) return;
    spec.failurePolicy ??= 'Fail';
    defaultMatchResources(spec.matchConstraints);
  },
  validate: validatePolicy,
};
