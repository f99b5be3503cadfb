// Bindings (the pods/binding body and the legacy bindings resource): upstream's ValidatePodBinding.
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString } from '../group-validation.js';

export const bindingStrategy: Strategy = {
  validate(obj) {
    const target = asObject(obj.target) ?? {};
    const errs: FieldError[] = [];
    const kind = asString(target.kind);
    if (kind && kind !== 'Node') errs.push(fieldErr.notSupported('target.kind', kind, ['Node', '<empty>']));
    if (!asString(target.name)) errs.push(fieldErr.required('target.name', ''));
    return errs;
  },
};

export { bindingStrategy as Strategy };
