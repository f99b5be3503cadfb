// PersistentVolumes (upstream SetDefaults_PersistentVolume, ValidatePersistentVolume[Update]).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, asStrings, decodeQuantity, ensureObject, sameValue, type Json } from '../group-validation.js';
import { VOLUME_MODES, validateAccessModes } from '../persistentvolumeclaims/strategy.js';

const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const PV_SOURCES = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc',
  'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
  'scaleIO', 'local', 'storageos', 'csi',
];
const SPEC_NON_SOURCE = new Set([
  'accessModes', 'capacity', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'mountOptions', 'volumeMode',
  'nodeAffinity', 'volumeAttributesClassName',
]);

function source(spec: Json): Json {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !SPEC_NON_SOURCE.has(k)));
}

function validateSources(spec: Json): FieldError[] {
  const present = PV_SOURCES.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (present.length === 0) return [fieldErr.required('spec', 'must specify a volume type')];
  const errs = present.slice(1).map((k) => fieldErr.forbidden(`spec.${k}`, 'may not specify more than 1 volume type'));
  const src = asObject(spec[present[0]]) ?? {};
  const p = `spec.${present[0]}`;
  switch (present[0]) {
    case 'hostPath': {
      const path = asString(src.path);
      if (!path) errs.push(fieldErr.required(`${p}.path`, ''));
      if (path.split('/').includes('..')) errs.push(fieldErr.invalid(`${p}.path`, path, "must not contain '..'"));
      break;
    }
    case 'local': {
      const path = asString(src.path);
      if (!path) errs.push(fieldErr.required(`${p}.path`, ''));
      if (!asObject(spec.nodeAffinity)) errs.push(fieldErr.required('spec.nodeAffinity', 'Local volume requires node affinity'));
      break;
    }
    case 'nfs': {
      if (!asString(src.server)) errs.push(fieldErr.required(`${p}.server`, ''));
      const path = asString(src.path);
      if (!path) errs.push(fieldErr.required(`${p}.path`, ''));
      else if (!path.startsWith('/')) errs.push(fieldErr.invalid(`${p}.path`, path, 'must be an absolute path'));
      break;
    }
    case 'csi':
      if (!asString(src.driver)) errs.push(fieldErr.required(`${p}.driver`, ''));
      if (!asString(src.volumeHandle)) errs.push(fieldErr.required(`${p}.volumeHandle`, ''));
      break;
  }
  return errs;
}

export const persistentVolumeStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
    if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
    const hostPath = asObject(spec.hostPath);
    if (hostPath && hostPath.type === undefined) hostPath.type = '';
    const status = asObject(obj.status);
    if (status && !status.phase) status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: obj.metadata.creationTimestamp };
  },
  validate(obj) {
    const spec: Json = asObject(obj.spec) ?? {};
    const errs = validateAccessModes(asStrings(spec.accessModes), 'spec.accessModes', '');
    const capacity = asObject(spec.capacity) ?? {};
    const names = Object.keys(capacity);
    if (names.length === 0) errs.push(fieldErr.required('spec.capacity', ''));
    if (!names.includes('storage') || names.length > 1) errs.push(fieldErr.notSupported('spec.capacity', capacity, ['storage']));
    for (const [name, v] of Object.entries(capacity)) {
      const d = decodeQuantity(v, `spec.capacity[${name}]`);
      errs.push(...d.errs);
      if (d.quantity && d.quantity.sign() <= 0) errs.push(fieldErr.invalid(`spec.capacity[${name}]`, d.quantity.toString(), 'must be greater than zero'));
    }
    const reclaim = asString(spec.persistentVolumeReclaimPolicy);
    if (reclaim && !RECLAIM_POLICIES.includes(reclaim)) errs.push(fieldErr.notSupported('spec.persistentVolumeReclaimPolicy', reclaim, RECLAIM_POLICIES));
    const storageClass = asString(spec.storageClassName);
    if (storageClass) errs.push(...invalidEach('spec.storageClassName', storageClass, isDNS1123Subdomain(storageClass)));
    if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(asString(spec.volumeMode))) {
      errs.push(fieldErr.notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
    }
    errs.push(...validateSources(spec));
    const hostPath = asString(asObject(spec.hostPath)?.path);
    if (hostPath && hostPath.replace(/\/+$/, '') === '' && reclaim === 'Recycle') {
      errs.push(fieldErr.forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
    }
    return errs;
  },
  // Upstream keeps a historical "name" field label for volumes.
  selectableFields(obj) {
    return { name: obj.metadata.name ?? '' };
  },
  validateUpdate(obj, old) {
    const spec: Json = asObject(obj.spec) ?? {};
    const oldSpec: Json = asObject(old.spec) ?? {};
    const errs: FieldError[] = [];
    if (!sameValue(source(spec), source(oldSpec))) {
      errs.push(fieldErr.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    }
    errs.push(...validateImmutableField(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
    if (oldSpec.nodeAffinity !== undefined && !sameValue(spec.nodeAffinity, oldSpec.nodeAffinity)) {
      errs.push(fieldErr.forbidden('nodeAffinity', 'field is immutable'));
    }
    return errs;
  },
};

export { persistentVolumeStrategy as Strategy };
