// rbac.authorization.k8s.io/v1 RoleBinding: upstream's SetDefaults_RoleBinding/Subject and ValidateRoleBinding(Update).
// The roleRef/subject checks are shared with ClusterRoleBinding.
import type { RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, isValidPathSegmentName } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { RBAC_GROUP } from '../roles/strategy.js';
import { sameValue } from '../group-validation.js';

type Binding = { roleRef?: RoleRef; subjects?: Subject[] };

/** roleRef.apiGroup defaults to the RBAC group; subjects get the apiGroup their kind implies. */
export function defaultBinding(obj: KubeObject): void {
  const b = obj as unknown as Binding;
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) {
    if (!s.apiGroup) {
      if (s.kind === 'ServiceAccount') s.apiGroup = '';
      else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    }
  }
}

function validateSubject(subject: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = subject.name ?? '';
  const apiGroup = subject.apiGroup ?? '';
  if (name.length === 0) errs.push(fieldErr.required(`${path}.name`));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name.length > 0) errs.push(...invalidEach(`${path}.name`, name, isDNS1123Subdomain(name)));
      if (apiGroup.length > 0) errs.push(fieldErr.notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(fieldErr.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (name.length === 0) errs.push(fieldErr.invalid(`${path}.name`, name, `${subject.kind === 'User' ? 'user' : 'group'} name cannot be empty`));
      if (apiGroup !== RBAC_GROUP) errs.push(fieldErr.notSupported(`${path}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErr.notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** Upstream's ValidateRoleBinding/ValidateClusterRoleBinding minus ObjectMeta; cluster bindings may only name ClusterRoles. */
export function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const b = obj as unknown as Binding;
  const ref = b.roleRef ?? ({} as Partial<RoleRef>);
  const errs: FieldError[] = [];
  const apiGroup = ref.apiGroup ?? '';
  if (apiGroup !== RBAC_GROUP) errs.push(fieldErr.notSupported('roleRef.apiGroup', apiGroup, [RBAC_GROUP]));
  const roleKinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!roleKinds.includes(ref.kind ?? '')) errs.push(fieldErr.notSupported('roleRef.kind', ref.kind ?? '', roleKinds));
  const name = ref.name ?? '';
  if (name.length === 0) errs.push(fieldErr.required('roleRef.name'));
  else errs.push(...invalidEach('roleRef.name', name, isValidPathSegmentName(name)));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** A binding's roleRef can never change: delete and recreate the binding instead. */
export function validateBindingUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const ref = (obj as unknown as Binding).roleRef;
  return sameValue(ref, (old as unknown as Binding).roleRef) ? [] : [fieldErr.invalid('roleRef', ref, 'cannot change roleRef')];
}

export const Strategy: KindStrategy = {
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: validateBindingUpdate,
  validateName: isValidPathSegmentName,
};
