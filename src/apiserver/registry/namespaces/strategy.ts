// Namespaces (upstream pkg/registry/core/namespace/strategy.go, SetDefaults_Namespace, ValidateNamespace*).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { FINALIZER_KUBERNETES, validateFinalizerName, validateKubeFinalizers, validateNamespaceName } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, asStrings, ensureObject } from '../group-validation.js';

/** Label every namespace carries with its own name, so selectors can pick namespaces by name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const namespaceStrategy: Strategy = {
  defaults(obj) {
    if (obj.metadata.name) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name };
    const status = asObject(obj.status);
    if (status && !status.phase) status.phase = 'Active';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
    // The "kubernetes" finalizer is required on create; later updates may remove it (via finalize).
    const spec = ensureObject(obj, 'spec');
    const finalizers = asStrings(spec.finalizers);
    if (!finalizers.includes(FINALIZER_KUBERNETES)) finalizers.push(FINALIZER_KUBERNETES);
    spec.finalizers = finalizers;
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers change only through the finalize subresource.
    const oldSpec = asObject(old.spec);
    if (oldSpec) obj.spec = { ...(asObject(obj.spec) ?? {}), finalizers: oldSpec.finalizers };
  },
  validateName: validateNamespaceName,
  validate(obj) {
    const finalizers = asStrings(asObject(obj.spec)?.finalizers);
    const errs: FieldError[] = [];
    for (const f of finalizers) errs.push(...validateFinalizerName(f, 'spec.finalizers'));
    errs.push(...validateKubeFinalizers(finalizers, 'spec.finalizers'));
    return errs;
  },
  validateStatusUpdate(obj) {
    const phase = asString(asObject(obj.status)?.phase);
    if (!obj.metadata.deletionTimestamp) {
      if (phase !== 'Active') return [fieldErr.invalid('status.Phase', phase, "may only be 'Active' if `deletionTimestamp` is empty")];
    } else if (phase !== 'Terminating') {
      return [fieldErr.invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
    }
    return [];
  },
  selectableFields(obj) {
    return { 'status.phase': asString(asObject(obj.status)?.phase) };
  },
};

export { namespaceStrategy as Strategy };
