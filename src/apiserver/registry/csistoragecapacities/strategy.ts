// storage.k8s.io/v1 CSIStorageCapacity: upstream's ValidateCSIStorageCapacity(Update).
import type { CSIStorageCapacity } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, validateImmutableField, validateLabelSelector } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateNonnegativeQuantityField } from '../group-validation.js';

function validateCapacity(obj: KubeObject): FieldError[] {
  const c = obj as unknown as CSIStorageCapacity;
  const errs = validateLabelSelector(c.nodeTopology, 'nodeTopology');
  const className = c.storageClassName ?? '';
  errs.push(...invalidEach('storageClassName', className, isDNS1123Subdomain(className)));
  if (c.capacity != null) errs.push(...validateNonnegativeQuantityField(c.capacity, 'capacity'));
  if (c.maximumVolumeSize != null) errs.push(...validateNonnegativeQuantityField(c.maximumVolumeSize, 'maximumVolumeSize'));
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validateCapacity,
  validateUpdate(obj, old) {
    // nodeTopology and storageClassName are the inputs of CSI GetCapacity: changing them would make a new object.
    const c = obj as unknown as CSIStorageCapacity;
    const o = old as unknown as CSIStorageCapacity;
    return [
      ...validateImmutableField(c.nodeTopology, o.nodeTopology, 'nodeTopology'),
      ...validateImmutableField(c.storageClassName, o.storageClassName, 'storageClassName'),
    ];
  },
};
