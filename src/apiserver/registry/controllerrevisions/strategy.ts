// ControllerRevisions (upstream ValidateControllerRevision[Update]): data is required and frozen.
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { validateImmutableField, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { num } from '../validation/pod.js';

export const controllerRevisionStrategy: Strategy = {
  validate(obj) {
    const errs: FieldError[] = [];
    if (obj.data === undefined || obj.data === null) errs.push(fieldErr.required('data', 'data is mandatory'));
    errs.push(...validateNonnegativeField(num(obj.revision), 'revision'));
    return errs;
  },
  validateUpdate(obj, old) {
    return validateImmutableField(obj.data, old.data, 'data');
  },
};

export { controllerRevisionStrategy as Strategy };
