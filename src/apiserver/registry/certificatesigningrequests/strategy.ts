// certificates.k8s.io/v1 CertificateSigningRequest: upstream's strategies for the main resource, /status and
// /approval (pkg/registry/certificates/certificates/strategy.go) and ValidateCertificateSigningRequest*.
// The main resource changes only metadata; /status may set the certificate and non-approval conditions;
// /approval changes only the Approved/Denied conditions.
import type { MutatingAdmission } from '../../admission/types.js';
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, DNS1123_LABEL_MAX_LENGTH, DNS1123_SUBDOMAIN_MAX_LENGTH } from '../../../machinery/validation.js';
import { formatTime } from '../../../machinery/time.js';
import type { UserInfo } from '../../auth/user.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { sameValue } from '../group-validation.js';
import { checkCertificateChain, checkCSR } from './csr-parse.js';

export const KEY_USAGES = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];
const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
const APPROVAL_TYPES = ['Approved', 'Denied'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
const MIN_EXPIRATION_SECONDS = 600;
const CERTIFICATE_DATA = '<certificate data>';

const csrOf = (obj: KubeObject) => obj as unknown as CertificateSigningRequest;

/** Decodes a JSON []byte field (base64); undefined when it is not valid base64. */
function decodeBytes(v: string | undefined): string | undefined {
  if (!v) return '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s+/g, ''))) return undefined;
  return Buffer.from(v, 'base64').toString('latin1');
}

/** Upstream's ValidateSignerName: "<domain>/<path>" with DNS-label domain parts and a bounded path. */
export function validateSignerName(signerName: string, path: string): FieldError[] {
  if (signerName.length === 0) return [fieldErr.required(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [fieldErr.invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, rest] = segments;
  const errs: FieldError[] = [];
  if (domain.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(fieldErr.tooLong(path, domain, DNS1123_SUBDOMAIN_MAX_LENGTH));
  const domainLabels = domain.split('.');
  for (const label of domainLabels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length > 0) {
      for (const msg of labelErrs) errs.push(fieldErr.invalid(path, domain, `validating label "${label}": ${msg}`));
      break;
    }
  }
  if (domainLabels.length < 2) errs.push(fieldErr.invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const label of rest.split('.')) {
    const labelErrs = isDNS1123Subdomain(label);
    if (labelErrs.length > 0) {
      for (const msg of labelErrs) errs.push(fieldErr.invalid(path, rest, `validating label "${label}": ${msg}`));
      break;
    }
  }
  const maxPath = DNS1123_SUBDOMAIN_MAX_LENGTH - DNS1123_LABEL_MAX_LENGTH - 1;
  if (rest.length > maxPath) errs.push(fieldErr.tooLong(path, rest, maxPath));
  return errs;
}

/**
 * Leniency for objects already stored with data today's rules reject (upstream's getValidationOptions), plus what
 * the subresource being written may change.
 */
interface CSRValidationOptions {
  allowBothApprovedAndDenied?: boolean;
  allowLegacySignerName?: boolean;
  allowDuplicateConditionTypes?: boolean;
  allowEmptyConditionType?: boolean;
  allowArbitraryCertificate?: boolean;
  allowDuplicateUsages?: boolean;
  allowUnknownUsages?: boolean;
  allowSettingCertificate?: boolean;
  allowSettingApprovalConditions?: boolean;
}

const TRUE_ONLY_CONDITIONS = ['Approved', 'Denied', 'Failed'];
const hasDuplicates = (xs: string[]) => new Set(xs).size !== xs.length;

function optionsFor(csr: CertificateSigningRequest, old: CertificateSigningRequest): CSRValidationOptions {
  const conditions = old.status?.conditions ?? [];
  const types = conditions.map((c) => c.type);
  const usages = old.spec?.usages ?? [];
  const certificate = decodeBytes(old.status?.certificate);
  return {
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowLegacySignerName: old.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: hasDuplicates(types),
    allowEmptyConditionType: types.some((t) => !t),
    allowArbitraryCertificate:
      (csr.status?.certificate ?? '') === (old.status?.certificate ?? '') || certificate === undefined || checkCertificateChain(certificate) !== undefined,
    allowDuplicateUsages: hasDuplicates(usages),
    allowUnknownUsages: usages.some((u) => !KEY_USAGES.includes(u)),
  };
}

function validateConditions(conditions: CertificateSigningRequestCondition[], opts: CSRValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c, i) => {
    const path = `status.conditions[${i}]`;
    if (!opts.allowEmptyConditionType && !c.type) errs.push(fieldErr.required(`${path}.type`));
    const allowed = TRUE_ONLY_CONDITIONS.includes(c.type) ? ['True'] : CONDITION_STATUSES;
    if (!c.status) errs.push(fieldErr.required(`${path}.status`));
    else if (!allowed.includes(c.status)) errs.push(fieldErr.notSupported(`${path}.status`, c.status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (c.type === 'Approved') {
        approved = true;
        if (denied) errs.push(fieldErr.invalid(`${path}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === 'Denied') {
        denied = true;
        if (approved) errs.push(fieldErr.invalid(`${path}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(fieldErr.duplicate(`${path}.type`, c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

/** Upstream's validateCertificateSigningRequest. */
function validateCSR(obj: KubeObject, opts: CSRValidationOptions = {}): FieldError[] {
  const csr = csrOf(obj);
  const spec: Partial<CertificateSigningRequest['spec']> = csr.spec ?? {};
  const errs: FieldError[] = [];
  const request = decodeBytes(spec.request);
  const problem = request === undefined ? 'illegal base64 data' : checkCSR(request);
  if (problem) errs.push(fieldErr.invalid('spec.request', spec.request ?? '', problem));
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(fieldErr.required('spec.usages'));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!KEY_USAGES.includes(u)) errs.push(fieldErr.notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    });
  }
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(fieldErr.duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  const signerName = spec.signerName ?? '';
  if (!opts.allowLegacySignerName && signerName === LEGACY_UNKNOWN_SIGNER) {
    errs.push(fieldErr.invalid('spec.signerName', signerName, 'the legacy signerName is not allowed via this API version'));
  } else errs.push(...validateSignerName(signerName, 'spec.signerName'));
  if (spec.expirationSeconds != null && spec.expirationSeconds < MIN_EXPIRATION_SECONDS) {
    errs.push(fieldErr.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr.status?.conditions ?? [], opts));
  if (!opts.allowArbitraryCertificate) {
    const certificate = decodeBytes(csr.status?.certificate);
    const certProblem = certificate === undefined ? 'illegal base64 data' : checkCertificateChain(certificate);
    if (certProblem) errs.push(fieldErr.invalid('status.certificate', CERTIFICATE_DATA, certProblem));
  }
  return errs;
}

type CSRWrite = 'main' | 'status' | 'approval';

function updateOptions(obj: KubeObject, old: KubeObject, write: CSRWrite): CSRValidationOptions {
  return { ...optionsFor(csrOf(obj), csrOf(old)), allowSettingCertificate: write === 'status', allowSettingApprovalConditions: write === 'approval' };
}

/** Upstream's validateCertificateSigningRequestUpdate for the main resource, /status or /approval. */
function validateCSRUpdate(obj: KubeObject, old: KubeObject, write: CSRWrite): FieldError[] {
  return [...validateCSR(obj, updateOptions(obj, old, write)), ...transitionErrors(obj, old, write)];
}

/** What an update may not change: existing approval/failure conditions and an issued certificate. */
function transitionErrors(obj: KubeObject, old: KubeObject, write: CSRWrite): FieldError[] {
  const csr = csrOf(obj);
  const prev = csrOf(old);
  const opts = updateOptions(obj, old, write);
  const errs: FieldError[] = [];
  const ofType = (c: CertificateSigningRequest, t: string) => (c.status?.conditions ?? []).filter((x) => x.type === t);
  for (const t of [...APPROVAL_TYPES, 'Failed']) {
    if (ofType(csr, t).length < ofType(prev, t).length) errs.push(fieldErr.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const t of APPROVAL_TYPES) {
      const before = ofType(prev, t);
      const after = ofType(csr, t);
      if (after.length > before.length) errs.push(fieldErr.forbidden('status.conditions', `updates may not add a condition of type "${t}"`));
      else if (after.length === before.length && !sameValue(after, before)) {
        errs.push(fieldErr.forbidden('status.conditions', `updates may not modify a condition of type "${t}"`));
      }
    }
  }
  const certificate = csr.status?.certificate ?? '';
  const oldCertificate = prev.status?.certificate ?? '';
  if (certificate !== oldCertificate) {
    if (!opts.allowSettingCertificate) errs.push(fieldErr.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCertificate.length > 0) errs.push(fieldErr.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

/** Upstream's populateConditionTimestamps: missing times become now, a same-status condition keeps its transition. */
function populateConditionTimestamps(csr: CertificateSigningRequest, old: CertificateSigningRequest, now: Date): void {
  const nowText = formatTime(now);
  for (const c of csr.status?.conditions ?? []) {
    c.status ||= 'True';
    c.lastUpdateTime ||= nowText;
    if (!c.lastTransitionTime) {
      const prev = (old.status?.conditions ?? []).find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime);
      c.lastTransitionTime = prev?.lastTransitionTime ?? nowText;
    }
  }
}

/** The requester's identity, which only the API server may fill (upstream's PrepareForCreate). Call on create. */
export function setRequester(obj: KubeObject, user: UserInfo): void {
  const spec = (csrOf(obj).spec ??= { request: '', signerName: '' });
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid;
  else delete spec.uid;
  if (user.groups.length > 0) spec.groups = [...user.groups];
  else delete spec.groups;
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = structuredClone(user.extra);
  else delete spec.extra;
}

/** /approval: only the Approved/Denied conditions may change (upstream's csrApprovalStrategy.PrepareForUpdate). */
export function prepareApprovalUpdate(obj: KubeObject, old: KubeObject, now = new Date()): void {
  const csr = csrOf(obj);
  const prev = csrOf(old);
  const conditions = csr.status?.conditions ?? [];
  csr.spec = structuredClone(prev.spec);
  csr.status = { ...structuredClone(prev.status ?? {}), conditions };
  if (conditions.length === 0) delete csr.status.conditions;
  populateConditionTimestamps(csr, prev, now);
}

/** /approval validation: the whole object, plus approval conditions that may be added but never removed. */
export function validateApprovalUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return validateCSRUpdate(obj, old, 'approval');
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    for (const c of csrOf(obj).status?.conditions ?? []) c.status ||= 'True';
  },
  prepareForCreate(obj) {
    const csr = csrOf(obj);
    // Identity comes from the authenticated request (setRequester), never from the body; requests start unapproved.
    if (csr.spec) {
      delete csr.spec.username;
      delete csr.spec.uid;
      delete csr.spec.groups;
      delete csr.spec.extra;
    }
    csr.status = {};
  },
  prepareForUpdate(obj, old) {
    // The main resource only updates metadata.
    const csr = csrOf(obj);
    csr.spec = structuredClone(csrOf(old).spec);
    const status = csrOf(old).status;
    if (status) csr.status = structuredClone(status);
    else delete csr.status;
  },
  validate: (obj) => validateCSR(obj),
  // The store also runs validate(); these add what depends on the old object and on the subresource written.
  validateUpdate: (obj, old) => transitionErrors(obj, old, 'main'),
  validateStatusUpdate: (obj, old) => validateCSRUpdate(obj, old, 'status'),
  prepareForSubresourceUpdate(subresource, obj, old) {
    if (subresource === 'approval') prepareApprovalUpdate(obj, old);
  },
  validateSubresourceUpdate: (subresource, obj, old) => (subresource === 'approval' ? validateApprovalUpdate(obj, old) : []),
  selectableFields: (obj) => ({ 'spec.signerName': csrOf(obj).spec?.signerName ?? '' }),
};

/** Records the requesting user in spec.username/uid/groups/extra on create (upstream does it in PrepareForCreate). */
export const csrRequester: MutatingAdmission = {
  name: 'CertificateSigningRequestRequester',
  async admit(a) {
    if (a.operation === 'CREATE' && a.group === 'certificates.k8s.io' && a.resource === 'certificatesigningrequests' && a.object) {
      setRequester(a.object, a.user);
    }
  },
};
