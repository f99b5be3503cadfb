// storage.k8s.io/v1 StorageClass: upstream's SetDefaults_StorageClass and ValidateStorageClass(Update).
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { TopologySelectorTerm } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isQualifiedName, isValidLabelValue, validateImmutableField, validateLabelName } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { sameValue } from '../group-validation.js';

const MAX_PROVISIONER_PARAMETER_SIZE = 256 * 1024;
const MAX_PROVISIONER_PARAMETER_LEN = 512;
const RECLAIM_POLICIES = ['Delete', 'Retain'];
const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

function validateProvisioner(provisioner: string): FieldError[] {
  if (provisioner.length === 0) return [fieldErr.required('provisioner', provisioner)];
  return invalidEach('provisioner', provisioner, isQualifiedName(provisioner.toLowerCase()));
}

/** Keys must be non-empty and all parameters together at most 256 KiB (upstream's validateParameters). */
export function validateParameters(params: Record<string, string> | undefined, path: string): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PROVISIONER_PARAMETER_LEN) {
    return [fieldErr.tooLong(path, 'Provisioner Parameters exceeded max allowed', MAX_PROVISIONER_PARAMETER_LEN)];
  }
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(fieldErr.invalid(path, k, 'field can not be empty.'));
    total += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (total > MAX_PROVISIONER_PARAMETER_SIZE) errs.push(fieldErr.tooLong(path, '', MAX_PROVISIONER_PARAMETER_SIZE));
  return errs;
}

/** Upstream's ValidateTopologySelectorTerm; returns the term's key → values map for duplicate detection. */
function validateTopologySelectorTerm(term: TopologySelectorTerm, path: string): { errs: FieldError[]; exprs: Map<string, string[]> } {
  const errs: FieldError[] = [];
  const exprs = new Map<string, string[]>();
  (term.matchLabelExpressions ?? []).forEach((req, j) => {
    const reqPath = `${path}.matchLabelExpressions[${j}]`;
    const key = req.key ?? '';
    errs.push(...validateLabelName(key, `${reqPath}.key`));
    const values = req.values ?? [];
    if (values.length === 0) errs.push(fieldErr.required(`${reqPath}.values`, 'must specify as least one value'));
    const seen = new Set<string>();
    values.forEach((v, k) => {
      errs.push(...invalidEach(`${reqPath}.values[${k}]`, v, isValidLabelValue(v)));
      if (seen.has(v)) errs.push(fieldErr.duplicate(`${reqPath}.values[${k}]`, v));
      seen.add(v);
    });
    if (exprs.has(key)) errs.push(fieldErr.duplicate(`${reqPath}.key`, key));
    exprs.set(key, [...seen].sort());
  });
  return { errs, exprs };
}

function validateAllowedTopologies(terms: TopologySelectorTerm[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen: Map<string, string[]>[] = [];
  (terms ?? []).forEach((term, i) => {
    const path = `allowedTopologies[${i}]`;
    const { errs: termErrs, exprs } = validateTopologySelectorTerm(term, path);
    errs.push(...termErrs);
    const asObj = Object.fromEntries(exprs);
    if (seen.some((m) => sameValue(Object.fromEntries(m), asObj))) errs.push(fieldErr.duplicate(`${path}.matchLabelExpressions`, ''));
    seen.push(exprs);
  });
  return errs;
}

function validateStorageClass(obj: KubeObject): FieldError[] {
  const sc = obj as unknown as StorageClass;
  const errs = validateProvisioner(sc.provisioner ?? '');
  errs.push(...validateParameters(sc.parameters, 'parameters'));
  if (sc.reclaimPolicy && !RECLAIM_POLICIES.includes(sc.reclaimPolicy)) {
    errs.push(fieldErr.notSupported('reclaimPolicy', sc.reclaimPolicy, RECLAIM_POLICIES));
  }
  if (sc.volumeBindingMode == null) errs.push(fieldErr.required('volumeBindingMode'));
  else if (!VOLUME_BINDING_MODES.includes(sc.volumeBindingMode)) {
    errs.push(fieldErr.notSupported('volumeBindingMode', sc.volumeBindingMode, VOLUME_BINDING_MODES));
  }
  errs.push(...validateAllowedTopologies(sc.allowedTopologies));
  return errs;
}

function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const sc = obj as unknown as StorageClass;
  const oldSc = old as unknown as StorageClass;
  const errs: FieldError[] = [];
  if (!sameValue(sc.parameters ?? {}, oldSc.parameters ?? {})) errs.push(fieldErr.forbidden('parameters', 'updates to parameters are forbidden.'));
  if ((sc.provisioner ?? '') !== (oldSc.provisioner ?? '')) errs.push(fieldErr.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if ((sc.reclaimPolicy ?? '') !== (oldSc.reclaimPolicy ?? '')) errs.push(fieldErr.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutableField(sc.volumeBindingMode, oldSc.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const sc = obj as unknown as StorageClass;
    if (!sc.reclaimPolicy) sc.reclaimPolicy = 'Delete';
    if (!sc.volumeBindingMode) sc.volumeBindingMode = 'Immediate';
  },
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
};
