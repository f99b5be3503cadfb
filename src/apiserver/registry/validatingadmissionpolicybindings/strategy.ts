// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding: upstream's v1 defaults (ParamRef,
// MatchResources) and validateValidatingAdmissionPolicyBindingSpec.
import type { ParamRef, ValidatingAdmissionPolicyBinding } from 'kubernetes-types/admissionregistration/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Label, isDNS1123Subdomain, isValidPathSegmentName, validateLabelSelector } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { defaultMatchResources, validateMatchResources } from '../validatingadmissionpolicies/strategy.js';

const VALIDATION_ACTIONS = ['Audit', 'Deny', 'Warn'];
const PARAMETER_NOT_FOUND_ACTIONS = ['Deny', 'Allow'];
const MUTUALLY_EXCLUSIVE = 'name and selector are mutually exclusive';

function validateParamRef(ref: ParamRef | undefined, path: string): FieldError[] {
  if (!ref) return [];
  const errs: FieldError[] = [];
  const name = ref.name ?? '';
  if (name.length > 0) {
    errs.push(...invalidEach(`${path}.name`, name, isValidPathSegmentName(name)));
    if (ref.selector != null) errs.push(fieldErr.forbidden(`${path}.name`, MUTUALLY_EXCLUSIVE));
  }
  if (ref.selector != null) {
    errs.push(...validateLabelSelector(ref.selector, `${path}.selector`));
    if (name.length > 0) errs.push(fieldErr.forbidden(`${path}.selector`, MUTUALLY_EXCLUSIVE));
  }
  if (name.length === 0 && ref.selector == null) errs.push(fieldErr.required(path, 'one of name or selector must be specified'));
  const action = ref.parameterNotFoundAction ?? '';
  if (action === '') errs.push(fieldErr.required(`${path}.parameterNotFoundAction`));
  else if (!PARAMETER_NOT_FOUND_ACTIONS.includes(action)) {
    errs.push(fieldErr.notSupported(`${path}.parameterNotFoundAction`, action, PARAMETER_NOT_FOUND_ACTIONS));
  }
  if (ref.namespace) errs.push(...invalidEach(`${path}.namespace`, ref.namespace, isDNS1123Label(ref.namespace)));
  return errs;
}

function validateValidationActions(actions: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (actions ?? []).forEach((a, i) => {
    if (!VALIDATION_ACTIONS.includes(a)) errs.push(fieldErr.notSupported(`${path}[${i}]`, a, VALIDATION_ACTIONS));
    if (seen.has(a)) errs.push(fieldErr.duplicate(`${path}[${i}]`, a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) {
    errs.push(
      fieldErr.invalid(
        path,
        actions,
        'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
      ),
    );
  }
  if (seen.size === 0) errs.push(fieldErr.required(path, 'at least one validation action is required'));
  return errs;
}

function validateBinding(obj: KubeObject): FieldError[] {
  const spec = (obj as unknown as ValidatingAdmissionPolicyBinding).spec ?? {};
  const errs: FieldError[] = [];
  const policyName = spec.policyName ?? '';
  if (policyName === '') errs.push(fieldErr.required('spec.policyName'));
  else errs.push(...invalidEach('spec.policyName', policyName, isDNS1123Subdomain(policyName)));
  errs.push(...validateParamRef(spec.paramRef, 'spec.paramRef'));
  // Upstream misspells this path ("matchResouces"); kept so messages match.
  errs.push(...validateMatchResources(spec.matchResources, 'spec.matchResouces'));
  errs.push(...validateValidationActions(spec.validationActions, 'spec.validationActions'));
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const spec = (obj as unknown as ValidatingAdmissionPolicyBinding).spec;
    if (!spec) return;
    if (spec.paramRef) spec.paramRef.parameterNotFoundAction ??= 'Deny';
    defaultMatchResources(spec.matchResources);
  },
  validate: validateBinding,
};
