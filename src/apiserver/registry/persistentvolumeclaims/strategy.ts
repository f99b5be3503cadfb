// PersistentVolumeClaims (upstream SetDefaults_PersistentVolumeClaim, ValidatePersistentVolumeClaim[Update]).
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, validateImmutableField, validateLabelSelector } from '../../../machinery/validation.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, asStrings, decodeQuantity, sameValue, type Json } from '../group-validation.js';
import { defaultPersistentVolumeClaim } from '../defaults/pod.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const VOLUME_MODES = ['Block', 'Filesystem'];

/** Access modes: known values, and ReadWriteOncePod only on its own. */
export function validateAccessModes(modes: string[], path: string, requiredDetail: string): FieldError[] {
  const errs: FieldError[] = [];
  if (modes.length === 0) errs.push(fieldErr.required(path, requiredDetail));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(fieldErr.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(fieldErr.notSupported(path, m, ACCESS_MODES));
  return errs;
}

/** Upstream's ValidatePersistentVolumeClaimSpec; also used for StatefulSet volumeClaimTemplates. */
export function validatePersistentVolumeClaimSpec(specValue: unknown, path: string): FieldError[] {
  const spec: Json = asObject(specValue) ?? {};
  const errs = validateAccessModes(asStrings(spec.accessModes), `${path}.accessModes`, 'at least 1 access mode is required');
  errs.push(...validateLabelSelector(asObject(spec.selector) as LabelSelector | undefined, `${path}.selector`));
  const storagePath = `${path}.resources[storage]`;
  const requests = asObject(asObject(spec.resources)?.requests) ?? {};
  if (requests.storage === undefined) errs.push(fieldErr.required(storagePath, ''));
  else {
    const d = decodeQuantity(requests.storage, storagePath);
    errs.push(...d.errs);
    if (d.quantity && d.quantity.sign() <= 0) errs.push(fieldErr.invalid(storagePath, d.quantity.toString(), 'must be greater than zero'));
  }
  const storageClass = asString(spec.storageClassName);
  if (storageClass) errs.push(...invalidEach(`${path}.storageClassName`, storageClass, isDNS1123Subdomain(storageClass)));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(asString(spec.volumeMode))) {
    errs.push(fieldErr.notSupported(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  }
  return errs;
}

function storageRequest(obj: Record<string, unknown>): unknown {
  return asObject(asObject(asObject(obj.spec)?.resources)?.requests)?.storage;
}

export const persistentVolumeClaimStrategy: Strategy = {
  defaults(obj) {
    defaultPersistentVolumeClaim(obj as unknown as PersistentVolumeClaim);
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate(obj) {
    return validatePersistentVolumeClaimSpec(obj.spec, 'spec');
  },
  validateUpdate(obj, old) {
    const spec: Json = { ...(asObject(obj.spec) ?? {}) };
    const oldSpec: Json = { ...(asObject(old.spec) ?? {}) };
    // The binder fills volumeName once.
    if (!asString(oldSpec.volumeName)) oldSpec.volumeName = spec.volumeName;
    // A bound claim may change its storage request (expansion); nothing else in spec.
    if (asString(asObject(obj.status)?.phase) === 'Bound') {
      const resources = asObject(spec.resources) ?? {};
      spec.resources = { ...resources, requests: { ...(asObject(resources.requests) ?? {}), storage: storageRequest(old) } };
    }
    const errs: FieldError[] = [];
    if (!sameValue(spec, oldSpec)) {
      errs.push(fieldErr.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
    const newSize = decodeQuantity(storageRequest(obj), '').quantity;
    const oldSize = decodeQuantity(storageRequest(old), '').quantity;
    if (newSize && oldSize && newSize.cmp(oldSize) < 0) {
      errs.push(fieldErr.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
    }
    errs.push(...validateImmutableField(asObject(obj.spec)?.volumeMode, asObject(old.spec)?.volumeMode, 'volumeMode'));
    return errs;
  },
  validateStatusUpdate(obj) {
    const errs: FieldError[] = [];
    for (const [name, v] of Object.entries(asObject(asObject(obj.status)?.capacity) ?? {})) errs.push(...decodeQuantity(v, `status.capacity[${name}]`).errs);
    return errs;
  },
  // Upstream keeps a historical "name" field label for claims and volumes.
  selectableFields(obj) {
    return { name: obj.metadata.name ?? '' };
  },
};

export { persistentVolumeClaimStrategy as Strategy };
