// node.k8s.io/v1 RuntimeClass: upstream's ValidateRuntimeClass(Update) (pkg/apis/node/validation).
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Label, validateImmutableField, validateLabels } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateNonnegativeQuantityField } from '../group-validation.js';

function validateRuntimeClass(obj: KubeObject): FieldError[] {
  const rc = obj as unknown as RuntimeClass;
  const handler = rc.handler ?? '';
  const errs = invalidEach('handler', handler, isDNS1123Label(handler));
  // Upstream reuses container resource validation, hence the "limits" in the reported path.
  for (const [resource, quantity] of Object.entries(rc.overhead?.podFixed ?? {})) {
    errs.push(...validateNonnegativeQuantityField(quantity, `overhead.limits[${resource}]`));
  }
  const scheduling = rc.scheduling;
  if (scheduling) {
    errs.push(...validateLabels(scheduling.nodeSelector, 'scheduling.nodeSelector'));
    // Upstream keys tolerations by (key, operator, value, effect); a repeated key is a duplicate.
    const seen = new Set<string>();
    (scheduling.tolerations ?? []).forEach((t, i) => {
      const key = JSON.stringify([t.key ?? '', t.operator ?? '', t.value ?? '', t.effect ?? '']);
      if (seen.has(key)) errs.push(fieldErr.duplicate(`scheduling.tolerations[${i}]`, t));
      seen.add(key);
    });
  }
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validateRuntimeClass,
  validateUpdate(obj, old) {
    return validateImmutableField((obj as unknown as RuntimeClass).handler, (old as unknown as RuntimeClass).handler, 'handler');
  },
};
