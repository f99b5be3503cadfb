// networking.k8s.io/v1 IngressClass: upstream's SetDefaults_IngressClass and ValidateIngressClass(Update).
import type { IngressClass, IngressClassParametersReference } from 'kubernetes-types/networking/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  invalidEach,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isValidPathSegmentName,
  validateImmutableField,
} from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

const MAX_CONTROLLER_LENGTH = 250;
const SCOPES = ['Cluster', 'Namespace'];

function validateParameters(params: IngressClassParametersReference | undefined, path: string): FieldError[] {
  if (!params) return [];
  const errs: FieldError[] = [];
  if (params.apiGroup != null) errs.push(...invalidEach(`${path}.apiGroup`, params.apiGroup, isDNS1123Subdomain(params.apiGroup)));
  for (const key of ['kind', 'name'] as const) {
    const v = params[key] ?? '';
    if (v === '') errs.push(fieldErr.required(`${path}.${key}`));
    else errs.push(...invalidEach(`${path}.${key}`, v, isValidPathSegmentName(v)));
  }
  if (params.scope == null) {
    errs.push(fieldErr.required(`${path}.scope`));
    return errs;
  }
  if (!SCOPES.includes(params.scope)) {
    errs.push(fieldErr.notSupported(`${path}.scope`, params.scope, SCOPES));
    return errs;
  }
  if (params.scope === 'Namespace') {
    if (params.namespace == null) errs.push(fieldErr.required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else errs.push(...invalidEach(`${path}.namespace`, params.namespace, isDNS1123Label(params.namespace)));
  }
  if (params.scope === 'Cluster' && params.namespace != null) errs.push(fieldErr.forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

function validateIngressClass(obj: KubeObject): FieldError[] {
  const spec = (obj as unknown as IngressClass).spec ?? {};
  const errs: FieldError[] = [];
  const controller = spec.controller ?? '';
  if (controller === '') errs.push(fieldErr.required('spec.controller'));
  else {
    if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(fieldErr.tooLong('spec.controller', '', MAX_CONTROLLER_LENGTH));
    errs.push(...isDomainPrefixedPath('spec.controller', controller));
  }
  errs.push(...validateParameters(spec.parameters, 'spec.parameters'));
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const params = (obj as unknown as IngressClass).spec?.parameters;
    if (params && params.scope == null) params.scope = 'Cluster';
  },
  validate: validateIngressClass,
  validateUpdate(obj, old) {
    return validateImmutableField((obj as unknown as IngressClass).spec?.controller, (old as unknown as IngressClass).spec?.controller, 'spec.controller');
  },
};
