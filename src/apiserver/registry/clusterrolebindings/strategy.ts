// rbac.authorization.k8s.io/v1 ClusterRoleBinding: upstream's ValidateClusterRoleBinding(Update).
import { isValidPathSegmentName } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { defaultBinding, validateBinding, validateBindingUpdate } from '../rolebindings/strategy.js';

export const Strategy: KindStrategy = {
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: validateBindingUpdate,
  validateName: isValidPathSegmentName,
};
