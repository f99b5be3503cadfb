// storage.k8s.io/v1 CSINode: upstream's ValidateCSINode(Update).
import type { CSINode, CSINodeDriver } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isQualifiedName, validateNonnegativeField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateCSIDriverName } from '../csidrivers/strategy.js';
import { sameValue } from '../group-validation.js';

const CSI_NODE_ID_MAX_LENGTH = 192;

function validateDriver(driver: CSINodeDriver, names: Set<string>, path: string): FieldError[] {
  const name = driver.name ?? '';
  const errs = validateCSIDriverName(name, `${path}.name`);
  const nodeID = driver.nodeID ?? '';
  if (nodeID === '') errs.push(fieldErr.required(`${path}.nodeID`, nodeID));
  if (nodeID.length > CSI_NODE_ID_MAX_LENGTH) {
    errs.push(fieldErr.invalid(`${path}.nodeID`, nodeID, `must be ${CSI_NODE_ID_MAX_LENGTH} characters or less`));
  }
  const count = driver.allocatable?.count;
  if (count != null) errs.push(...validateNonnegativeField(count, `${path}.allocatable.count`));
  if (names.has(name)) errs.push(fieldErr.duplicate(`${path}.name`, name));
  names.add(name);
  const keys = new Set<string>();
  for (const key of driver.topologyKeys ?? []) {
    if (key.length === 0) errs.push(fieldErr.required(path, key));
    if (keys.has(key)) errs.push(fieldErr.duplicate(path, key));
    keys.add(key);
    errs.push(...invalidEach(path, driver.topologyKeys, isQualifiedName(key)));
  }
  return errs;
}

export const Strategy: KindStrategy = {
  validate(obj: KubeObject) {
    const names = new Set<string>();
    const drivers = (obj as unknown as CSINode).spec?.drivers ?? [];
    return drivers.flatMap((d, i) => validateDriver(d, names, `spec.drivers[${i}]`));
  },
  validateUpdate(obj, old) {
    // Drivers may be added or removed, but an existing driver's entry never changes.
    const errs: FieldError[] = [];
    const drivers = (obj as unknown as CSINode).spec?.drivers ?? [];
    for (const oldDriver of (old as unknown as CSINode).spec?.drivers ?? []) {
      for (const d of drivers) {
        if (d.name === oldDriver.name && !sameValue(d, oldDriver)) errs.push(fieldErr.invalid('CSINodeDriver', d, 'field is immutable'));
      }
    }
    return errs;
  },
};
