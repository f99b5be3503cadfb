// storage.k8s.io/v1 CSIDriver: upstream's SetDefaults_CSIDriver and ValidateCSIDriver(Update).
import type { CSIDriver, CSIDriverSpec } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

const CSI_DRIVER_NAME_MAX_LENGTH = 63;
const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const VOLUME_LIFECYCLE_MODES = ['Persistent', 'Ephemeral'];
const MIN_TOKEN_AGE_SECONDS = 10 * 60;
const MAX_TOKEN_AGE_SECONDS = 2 ** 32;

/** Upstream's ValidateCSIDriverName, shared by CSINode drivers and VolumeAttachment attachers. */
export function validateCSIDriverName(name: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (name.length === 0) errs.push(fieldErr.required(path));
  if (name.length > CSI_DRIVER_NAME_MAX_LENGTH) errs.push(fieldErr.tooLong(path, name, CSI_DRIVER_NAME_MAX_LENGTH));
  errs.push(...invalidEach(path, name, isDNS1123Subdomain(name.toLowerCase())));
  return errs;
}

function validateSpec(spec: CSIDriverSpec): FieldError[] {
  const errs: FieldError[] = [];
  // Upstream reports attachRequired under the misspelt path "attachedRequired"; kept for identical messages.
  if (spec.attachRequired == null) errs.push(fieldErr.required('spec.attachedRequired'));
  if (spec.podInfoOnMount == null) errs.push(fieldErr.required('spec.podInfoOnMount'));
  if (spec.storageCapacity == null) errs.push(fieldErr.required('spec.storageCapacity'));
  if (spec.fsGroupPolicy != null && !FS_GROUP_POLICIES.includes(spec.fsGroupPolicy)) {
    errs.push(fieldErr.notSupported('spec.fsGroupPolicy', spec.fsGroupPolicy, FS_GROUP_POLICIES));
  }
  const audiences = new Set<string>();
  (spec.tokenRequests ?? []).forEach((tr, i) => {
    const path = `spec.tokenRequests[${i}]`;
    const audience = tr.audience ?? '';
    if (audiences.has(audience)) errs.push(fieldErr.duplicate(`${path}.audience`, audience));
    audiences.add(audience);
    const secs = tr.expirationSeconds;
    if (secs != null) {
      if (secs < MIN_TOKEN_AGE_SECONDS) errs.push(fieldErr.invalid(`${path}.expirationSeconds`, secs, 'may not specify a duration less than 10 minutes'));
      if (secs > MAX_TOKEN_AGE_SECONDS) errs.push(fieldErr.invalid(`${path}.expirationSeconds`, secs, 'may not specify a duration larger than 2^32 seconds'));
    }
  });
  for (const mode of spec.volumeLifecycleModes ?? []) {
    if (!VOLUME_LIFECYCLE_MODES.includes(mode)) errs.push(fieldErr.notSupported('spec.volumeLifecycleModes', mode, VOLUME_LIFECYCLE_MODES));
  }
  if (spec.seLinuxMount === null) errs.push(fieldErr.required('spec.seLinuxMount'));
  return errs;
}

function validateCSIDriver(obj: KubeObject): FieldError[] {
  const d = obj as unknown as CSIDriver;
  return [...validateCSIDriverName(d.metadata?.name ?? '', 'name'), ...validateSpec(d.spec ?? {})];
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const d = obj as unknown as CSIDriver;
    const spec: CSIDriverSpec = (d.spec ??= {});
    spec.attachRequired ??= true;
    spec.podInfoOnMount ??= false;
    spec.storageCapacity ??= false;
    spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    if (!spec.volumeLifecycleModes?.length) spec.volumeLifecycleModes = ['Persistent'];
    spec.requiresRepublish ??= false;
    spec.seLinuxMount ??= false;
  },
  validate: validateCSIDriver,
  validateUpdate(obj, old) {
    const spec = (obj as unknown as CSIDriver).spec ?? {};
    const oldSpec = (old as unknown as CSIDriver).spec ?? {};
    return [
      ...validateImmutableField(spec.attachRequired, oldSpec.attachRequired, 'spec.attachedRequired'),
      ...validateImmutableField(spec.volumeLifecycleModes, oldSpec.volumeLifecycleModes, 'spec.volumeLifecycleModes'),
    ];
  },
};
