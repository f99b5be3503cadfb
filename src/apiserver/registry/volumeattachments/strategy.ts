// storage.k8s.io/v1 VolumeAttachment: upstream's ValidateVolumeAttachment(V1/Update) and strategy (spec read-only).
import type { VolumeAttachment, VolumeError } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateCSIDriverName } from '../csidrivers/strategy.js';
import { sameValue } from '../group-validation.js';

const MAX_ATTACHMENT_METADATA_SIZE = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE = 1024;
const EXACTLY_ONE_SOURCE = 'must specify exactly one of inlineVolumeSpec and persistentVolumeName';

function validateVolumeError(e: VolumeError | undefined, path: string): FieldError[] {
  const message = e?.message ?? '';
  // Upstream reports the metadata limit here, not the 1024-byte message limit it checks against.
  return message.length > MAX_VOLUME_ERROR_MESSAGE_SIZE ? [fieldErr.tooLong(`${path}.message`, message, MAX_ATTACHMENT_METADATA_SIZE)] : [];
}

function validateStatus(va: VolumeAttachment): FieldError[] {
  const status = va.status;
  if (!status) return [];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(status.attachmentMetadata ?? {})) size += k.length + String(v).length;
  if (size > MAX_ATTACHMENT_METADATA_SIZE) {
    errs.push(fieldErr.tooLong('status.attachmentMetadata', status.attachmentMetadata, MAX_ATTACHMENT_METADATA_SIZE));
  }
  errs.push(...validateVolumeError(status.attachError, 'status.attachError'));
  errs.push(...validateVolumeError(status.detachError, 'status.detachError'));
  return errs;
}

function validateVolumeAttachment(obj: KubeObject): FieldError[] {
  const va = obj as unknown as VolumeAttachment;
  const spec = va.spec ?? { attacher: '', nodeName: '', source: {} };
  const errs: FieldError[] = [];
  const attacher = spec.attacher ?? '';
  if (attacher.length === 0) errs.push(fieldErr.required('spec.attacher', attacher));
  const source = spec.source ?? {};
  const pvName = source.persistentVolumeName;
  if (source.inlineVolumeSpec == null && pvName == null) errs.push(fieldErr.required('spec.source', EXACTLY_ONE_SOURCE));
  else if (source.inlineVolumeSpec != null && pvName != null) errs.push(fieldErr.forbidden('spec.source', EXACTLY_ONE_SOURCE));
  else if (pvName != null && pvName.length === 0) {
    errs.push(fieldErr.required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
  }
  const nodeName = spec.nodeName ?? '';
  errs.push(...invalidEach('spec.nodeName', nodeName, isDNS1123Subdomain(nodeName)));
  errs.push(...validateStatus(va));
  // v1 additionally requires a CSI driver name as attacher and a valid PV name (ValidateVolumeAttachmentV1).
  if (attacher.length > 0) errs.push(...validateCSIDriverName(attacher, 'spec.attacher'));
  if (pvName) errs.push(...invalidEach('spec.source.persistentVolumeName', pvName, isDNS1123Subdomain(pvName)));
  return errs;
}

export const Strategy: KindStrategy = {
  validate: validateVolumeAttachment,
  validateUpdate(obj, old) {
    const spec = (obj as unknown as VolumeAttachment).spec;
    return sameValue(spec, (old as unknown as VolumeAttachment).spec) ? [] : [fieldErr.invalid('spec', spec, 'field is immutable')];
  },
  validateStatusUpdate: validateVolumeAttachment,
};
