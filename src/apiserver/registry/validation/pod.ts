// Pod spec validation shared by pods, pod templates and every workload (upstream's ValidatePodSpec and friends in
// pkg/apis/core/validation/validation.go), with upstream's field paths, error types and messages. Bodies are
// untrusted JSON, so every field is read through the safe accessors and a wrong type reads as Go's zero value.
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  inclusiveRangeError,
  invalidEach,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isHTTPHeaderName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  isValidGroupID,
  validateAnnotations,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabelName,
  validateLabels,
  validateLabelSelector,
  validateNonnegativeField,
} from '../../../machinery/validation.js';
import { labelSelectorMatches } from '../../../machinery/labels.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Quantity } from '../../../machinery/quantity.js';
import { asArray, asObject, asString, asStrings, decodeQuantity, sameValue, type Json } from '../group-validation.js';

const MAX_INT32 = 2147483647;
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** The number at `v`, or 0 (Go's zero value) when absent or not a number. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** String map (labels, selectors) from untrusted JSON; non-string values are dropped. */
export function asStringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObject(v) ?? {})) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Upstream's NotSupported/Required pair for an enum that must be set. */
export function validateEnum(value: unknown, path: string, supported: readonly string[]): FieldError[] {
  const s = asString(value);
  if (s === '') return [fieldErr.required(path, '')];
  return supported.includes(s) ? [] : [fieldErr.notSupported(path, s, [...supported])];
}

function validateOptionalEnum(value: unknown, path: string, supported: readonly string[]): FieldError[] {
  return value === undefined || value === null ? [] : validateEnum(value, path, supported);
}

// ---------------------------------------------------------------------------------------------------------------
// Ports, int-or-string values

const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export function validatePortProtocol(protocol: unknown, path: string): FieldError[] {
  return validateEnum(protocol, path, PORT_PROTOCOLS);
}

/** Upstream's ValidatePortNumOrName for an IntOrString port. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(path, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  return [fieldErr.invalid(path, port ?? null, 'must be an integer or string')];
}

/** The numeric value of an int-or-percent ("25%" -> 25, 3 -> 3); NaN when it is neither. */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && isValidPercent(v).length === 0) return Number(v.slice(0, -1));
  return Number.NaN;
}

/** Upstream's ValidatePositiveIntOrPercent (apps). */
export function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') return invalidEach(path, v, isValidPercent(v));
  if (typeof v === 'number') return validateNonnegativeField(v, path);
  return [fieldErr.invalid(path, v ?? null, "must be an integer or percentage (e.g '5%')")];
}

/** Upstream's IsNotMoreThan100Percent (apps). */
export function validateNotMoreThan100Percent(v: unknown, path: string): FieldError[] {
  if (typeof v !== 'string' || isValidPercent(v).length > 0) return [];
  return intOrPercentValue(v) > 100 ? [fieldErr.invalid(path, v, 'must not be greater than 100%')] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Resources

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** Upstream's IsNativeResource: unprefixed, or in the kubernetes.io domain. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Requests may differ from limits only for native, non-hugepage resources. */
function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = invalidEach(path, name, isQualifiedName(name));
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) {
      errs.push(fieldErr.invalid(path, name, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(name)) {
    if (name.startsWith('requests.') || name.includes('kubernetes.io/')) {
      errs.push(fieldErr.invalid(path, name, "doesn't follow extended resource name standard"));
    }
  }
  return errs;
}

/** Upstream's ValidateResourceQuantityValue: non-negative, and whole for extended resources. */
export function validateResourceQuantityValue(name: string, q: Quantity, path: string): FieldError[] {
  if (q.sign() < 0) return [fieldErr.invalid(path, q.toString(), 'must be greater than or equal to 0')];
  if (!isNativeResource(name) && q.milliValue() % 1000 !== 0) return [fieldErr.invalid(path, q.toString(), 'must be an integer')];
  return [];
}

/** Parses every quantity of a resource list, reporting unparsable ones. */
export function decodeResourceList(list: unknown, path: string, errs: FieldError[]): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [name, v] of Object.entries(asObject(list) ?? {})) {
    const d = decodeQuantity(v, `${path}[${name}]`);
    errs.push(...d.errs);
    if (d.quantity) out.set(name, d.quantity);
  }
  return out;
}

/** Upstream's ValidateResourceRequirements for a container. */
export function validateResourceRequirements(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = asObject(resources) ?? {};
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = decodeResourceList(r.limits, limPath, errs);
  const requests = decodeResourceList(r.requests, reqPath, errs);
  let cpuOrMemory = false;
  let hugePages = false;
  for (const [name, q] of limits) {
    const p = `${limPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  for (const [name, q] of requests) {
    const p = `${reqPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, q, p));
    const limit = limits.get(name);
    if (limit) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(fieldErr.invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      } else if (q.cmp(limit) > 0) {
        errs.push(fieldErr.invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(fieldErr.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  if (hugePages && !cpuOrMemory) errs.push(fieldErr.forbidden(path, 'HugePages require cpu or memory'));
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

function validatePathNoBacksteps(target: string, path: string): FieldError[] {
  return target.split(/[\\/]/).includes('..') ? [fieldErr.invalid(path, target, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(fieldErr.invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

function validateLocalNonReservedPath(target: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(fieldErr.invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  const m = num(mode);
  return m > 0o777 || m < 0 ? [fieldErr.invalid(path, m, FILE_MODE_ERROR)] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Volumes

// In upstream's checking order: the first source present is validated, later ones are reported as extra.
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'downwardAPI', 'fc', 'flexVolume', 'configMap',
  'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'projected', 'scaleIO',
  'storageos', 'csi', 'ephemeral', 'image',
];
const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs',
];
const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const CONTAINER_RESOURCE_FIELDS = [
  'limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory',
];

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asArray(items).forEach((raw, i) => {
    const item = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    if (!asString(item.key)) errs.push(fieldErr.required(`${p}.key`, ''));
    const target = asString(item.path);
    if (!target) errs.push(fieldErr.required(`${p}.path`, ''));
    errs.push(...validateLocalNonReservedPath(target, `${p}.path`), ...validateFileMode(item.mode, `${p}.mode`));
  });
  return errs;
}

/** Upstream's validateObjectFieldSelector for env vars (ENV_FIELD_PATHS) or downward API volumes. */
function validateObjectFieldSelector(ref: Json, allowed: string[], path: string): FieldError[] {
  if (!asString(ref.apiVersion)) return [fieldErr.required(`${path}.apiVersion`, '')];
  const fieldPath = asString(ref.fieldPath);
  if (!fieldPath) return [fieldErr.required(`${path}.fieldPath`, '')];
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    return sub[1] === 'metadata.annotations'
      ? invalidEach(`${path}.fieldPath`, sub[2], isQualifiedName(sub[2].toLowerCase()))
      : invalidEach(`${path}.fieldPath`, sub[2], isQualifiedName(sub[2]));
  }
  return allowed.includes(fieldPath) ? [] : [fieldErr.notSupported(`${path}.fieldPath`, fieldPath, allowed)];
}

function validateResourceFieldSelector(ref: Json, forVolume: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (forVolume && !asString(ref.containerName)) errs.push(fieldErr.required(`${path}.containerName`, ''));
  const resource = asString(ref.resource);
  if (!resource) errs.push(fieldErr.required(`${path}.resource`, ''));
  else if (!CONTAINER_RESOURCE_FIELDS.includes(resource) && !/^(limits|requests)\.hugepages-/.test(resource)) {
    errs.push(fieldErr.notSupported(`${path}.resource`, resource, CONTAINER_RESOURCE_FIELDS));
  }
  return errs;
}

function validateDownwardAPIItems(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asArray(items).forEach((raw, i) => {
    const item = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const target = asString(item.path);
    if (!target) errs.push(fieldErr.required(`${p}.path`, ''));
    errs.push(...validateLocalNonReservedPath(target, `${p}.path`), ...validateFileMode(item.mode, `${p}.mode`));
    const fieldRef = asObject(item.fieldRef);
    const resourceFieldRef = asObject(item.resourceFieldRef);
    if (fieldRef) errs.push(...validateObjectFieldSelector(fieldRef, VOLUME_FIELD_PATHS, `${p}.fieldRef`));
    if (resourceFieldRef) errs.push(...validateResourceFieldSelector(resourceFieldRef, true, `${p}.resourceFieldRef`));
    if (fieldRef && resourceFieldRef) {
      errs.push(fieldErr.invalid(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    } else if (!fieldRef && !resourceFieldRef) {
      errs.push(fieldErr.required(p, 'one of fieldRef and resourceFieldRef is required'));
    }
  });
  return errs;
}

function validateProjected(src: Json, path: string): FieldError[] {
  const errs = validateFileMode(src.defaultMode, `${path}.defaultMode`);
  const allPaths = new Set<string>();
  asArray(src.sources).forEach((raw, i) => {
    const s = asObject(raw) ?? {};
    const p = `${path}.sources[${i}]`;
    const kinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => asObject(s[k]));
    for (const k of kinds.slice(1)) errs.push(fieldErr.forbidden(`${p}.${k}`, 'may not specify more than 1 volume type per source'));
    if (kinds.length === 0) errs.push(fieldErr.required(p, 'must specify exactly 1 volume type'));
    const secret = asObject(s.secret);
    const configMap = asObject(s.configMap);
    const downward = asObject(s.downwardAPI);
    const token = asObject(s.serviceAccountToken);
    for (const [kind, ref] of [['secret', secret], ['configMap', configMap]] as const) {
      if (!ref) continue;
      if (!asString(ref.name)) errs.push(fieldErr.required(`${p}.${kind}.name`, ''));
      errs.push(...validateKeyToPaths(ref.items, `${p}.${kind}.items`));
    }
    if (downward) errs.push(...validateDownwardAPIItems(downward.items, `${p}.downwardAPI.items`));
    if (token) {
      const seconds = num(token.expirationSeconds);
      if (seconds < 600) errs.push(fieldErr.invalid(`${p}.serviceAccountToken.expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds > 2 ** 32) errs.push(fieldErr.invalid(`${p}.serviceAccountToken.expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
      const target = asString(token.path);
      if (!target) errs.push(fieldErr.required(`${p}.serviceAccountToken.path`, ''));
      errs.push(...validateLocalNonReservedPath(target, `${p}.serviceAccountToken.path`));
    }
    // Two sources may not project onto the same file.
    const paths = [
      ...asArray(secret?.items).map((x) => asString(asObject(x)?.path)),
      ...asArray(configMap?.items).map((x) => asString(asObject(x)?.path)),
      ...asArray(downward?.items).map((x) => asString(asObject(x)?.path)),
      ...(token ? [asString(token.path)] : []),
    ].filter((x) => x);
    for (const target of paths) {
      if (allPaths.has(target)) errs.push(fieldErr.invalid(p, target, 'conflicting duplicate paths'));
      allPaths.add(target);
    }
  });
  return errs;
}

/** Upstream's validateVolumeSource: exactly one source, each source's own rules. */
function validateVolumeSource(vol: Json, path: string): FieldError[] {
  const present = VOLUME_SOURCES.filter((k) => vol[k] !== undefined && vol[k] !== null);
  const errs: FieldError[] = [];
  if (present.length === 0) return [fieldErr.required(path, 'must specify a volume type')];
  for (const k of present.slice(1)) errs.push(fieldErr.forbidden(`${path}.${k}`, 'may not specify more than 1 volume type'));
  const kind = present[0];
  const src = asObject(vol[kind]) ?? {};
  const p = `${path}.${kind}`;
  switch (kind) {
    case 'hostPath': {
      const hostPath = asString(src.path);
      if (!hostPath) errs.push(fieldErr.required(`${p}.path`, ''));
      errs.push(...validatePathNoBacksteps(hostPath, `${p}.path`));
      if (src.type !== undefined && src.type !== null && !HOST_PATH_TYPES.includes(asString(src.type))) {
        errs.push(fieldErr.notSupported(`${p}.type`, src.type, HOST_PATH_TYPES));
      }
      break;
    }
    case 'emptyDir':
      if (src.sizeLimit !== undefined) {
        const d = decodeQuantity(src.sizeLimit, `${p}.sizeLimit`);
        errs.push(...d.errs);
        if (d.quantity && d.quantity.sign() < 0) errs.push(fieldErr.forbidden(`${p}.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
      }
      break;
    case 'secret':
      if (!asString(src.secretName)) errs.push(fieldErr.required(`${p}.secretName`, ''));
      errs.push(...validateFileMode(src.defaultMode, `${p}.defaultMode`), ...validateKeyToPaths(src.items, `${p}.items`));
      break;
    case 'configMap':
      if (!asString(src.name)) errs.push(fieldErr.required(`${p}.name`, ''));
      errs.push(...validateFileMode(src.defaultMode, `${p}.defaultMode`), ...validateKeyToPaths(src.items, `${p}.items`));
      break;
    case 'persistentVolumeClaim':
      if (!asString(src.claimName)) errs.push(fieldErr.required(`${p}.claimName`, ''));
      break;
    case 'downwardAPI':
      errs.push(...validateFileMode(src.defaultMode, `${p}.defaultMode`), ...validateDownwardAPIItems(src.items, `${p}.items`));
      break;
    case 'projected':
      errs.push(...validateProjected(src, p));
      break;
    case 'nfs': {
      if (!asString(src.server)) errs.push(fieldErr.required(`${p}.server`, ''));
      const nfsPath = asString(src.path);
      if (!nfsPath) errs.push(fieldErr.required(`${p}.path`, ''));
      else if (!nfsPath.startsWith('/')) errs.push(fieldErr.invalid(`${p}.path`, nfsPath, 'must be an absolute path'));
      break;
    }
    case 'csi':
      if (!asString(src.driver)) errs.push(fieldErr.required(`${p}.driver`, ''));
      break;
    case 'ephemeral':
      if (!asObject(src.volumeClaimTemplate)) errs.push(fieldErr.required(`${p}.volumeClaimTemplate`, ''));
      break;
    case 'image':
      if (!asString(src.reference)) errs.push(fieldErr.required(`${p}.reference`, ''));
      break;
  }
  return errs;
}

/** Upstream's ValidateVolumes; returns the names of the valid volumes for volumeMount checks. */
export function validateVolumes(volumes: unknown, path: string): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  asArray(volumes).forEach((raw, i) => {
    const vol = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = asString(vol.name);
    const el = validateVolumeSource(vol, p);
    if (!name) el.push(fieldErr.required(`${p}.name`, ''));
    else el.push(...validateDNS1123Label(name, `${p}.name`));
    if (names.has(name)) el.push(fieldErr.duplicate(`${p}.name`, name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  });
  return { names, errs };
}

// ---------------------------------------------------------------------------------------------------------------
// Containers

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  asArray(ports).forEach((raw, i) => {
    const port = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = asString(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) errs.push(...invalidEach(`${p}.name`, name, msgs));
      else if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
      else names.add(name);
    }
    const containerPort = num(port.containerPort);
    if (containerPort === 0) errs.push(fieldErr.required(`${p}.containerPort`, ''));
    else errs.push(...invalidEach(`${p}.containerPort`, containerPort, isValidPortNum(containerPort)));
    const hostPort = num(port.hostPort);
    if (hostPort !== 0) errs.push(...invalidEach(`${p}.hostPort`, hostPort, isValidPortNum(hostPort)));
    errs.push(...validatePortProtocol(port.protocol, `${p}.protocol`));
    if (port.hostIP !== undefined && asString(port.hostIP) !== '') errs.push(...invalidEach(`${p}.hostIP`, port.hostIP, isValidIP(asString(port.hostIP))));
  });
  return errs;
}

function validateKeySelector(ref: Json, path: string, nameRequired: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(ref.name);
  if (name || nameRequired) errs.push(...invalidEach(`${path}.name`, name, isDNS1123Subdomain(name)));
  const key = asString(ref.key);
  if (!key) errs.push(fieldErr.required(`${path}.key`, ''));
  else errs.push(...invalidEach(`${path}.key`, key, isConfigMapKey(key)));
  return errs;
}

function validateEnvVarValueFrom(ev: Json, path: string): FieldError[] {
  const from = asObject(ev.valueFrom);
  if (!from) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  const fieldRef = asObject(from.fieldRef);
  const resourceFieldRef = asObject(from.resourceFieldRef);
  const configMapKeyRef = asObject(from.configMapKeyRef);
  const secretKeyRef = asObject(from.secretKeyRef);
  if (fieldRef) {
    sources++;
    errs.push(...validateObjectFieldSelector(fieldRef, ENV_FIELD_PATHS, `${path}.fieldRef`));
  }
  if (resourceFieldRef) {
    sources++;
    errs.push(...validateResourceFieldSelector(resourceFieldRef, false, `${path}.resourceFieldRef`));
  }
  if (configMapKeyRef) {
    sources++;
    errs.push(...validateKeySelector(configMapKeyRef, `${path}.configMapKeyRef`, false));
  }
  if (secretKeyRef) {
    sources++;
    errs.push(...validateKeySelector(secretKeyRef, `${path}.secretKeyRef`, true));
  }
  if (sources === 0) {
    errs.push(fieldErr.invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (asString(ev.value) !== '') {
    errs.push(fieldErr.invalid(path, '', 'may not be specified when `value` is not empty'));
  } else if (sources > 1) {
    errs.push(fieldErr.invalid(path, '', 'may not have more than one field specified at a time'));
  }
  return errs;
}

export function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asArray(env).forEach((raw, i) => {
    const ev = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = asString(ev.name);
    if (!name) errs.push(fieldErr.required(`${p}.name`, ''));
    else errs.push(...invalidEach(`${p}.name`, name, isEnvVarName(name)));
    errs.push(...validateEnvVarValueFrom(ev, `${p}.valueFrom`));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  asArray(envFrom).forEach((raw, i) => {
    const ev = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const prefix = asString(ev.prefix);
    if (prefix) errs.push(...invalidEach(`${p}.prefix`, prefix, isEnvVarName(prefix)));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      const ref = asObject(ev[kind]);
      if (!ref) continue;
      sources++;
      const name = asString(ref.name);
      if (!name) errs.push(fieldErr.required(`${p}.${kind}.name`, ''));
      else errs.push(...invalidEach(`${p}.${kind}.name`, name, isDNS1123Subdomain(name)));
    }
    if (sources === 0) errs.push(fieldErr.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(fieldErr.invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const MOUNT_PROPAGATION = ['Bidirectional', 'HostToContainer', 'None'];

function validateVolumeMounts(mounts: unknown, devices: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPaths = new Set<string>();
  const deviceList = asArray(devices).map((d) => asObject(d) ?? {});
  asArray(mounts).forEach((raw, i) => {
    const m = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = asString(m.name);
    const mountPath = asString(m.mountPath);
    if (!name) errs.push(fieldErr.required(`${p}.name`, ''));
    if (!volumes.has(name)) errs.push(fieldErr.notFound(`${p}.name`, name));
    if (!mountPath) errs.push(fieldErr.required(`${p}.mountPath`, ''));
    if (mountPaths.has(mountPath)) errs.push(fieldErr.invalid(`${p}.mountPath`, mountPath, 'must be unique'));
    mountPaths.add(mountPath);
    if (deviceList.some((d) => asString(d.name) === name)) errs.push(fieldErr.invalid(`${p}.name`, name, 'must not already exist in volumeDevices'));
    if (deviceList.some((d) => asString(d.devicePath) === mountPath)) {
      errs.push(fieldErr.invalid(`${p}.mountPath`, mountPath, 'must not already exist as a path in volumeDevices'));
    }
    // Upstream reports subPath problems at the list path, not the item's.
    const subPath = asString(m.subPath);
    if (subPath) errs.push(...validateLocalDescendingPath(subPath, `${path}.subPath`));
    const subPathExpr = asString(m.subPathExpr);
    if (subPathExpr) {
      if (subPath) errs.push(fieldErr.invalid(`${p}.subPathExpr`, subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(subPathExpr, `${path}.subPathExpr`));
    }
    if (m.mountPropagation !== undefined && m.mountPropagation !== null && !MOUNT_PROPAGATION.includes(asString(m.mountPropagation))) {
      errs.push(fieldErr.notSupported(`${p}.mountPropagation`, m.mountPropagation, MOUNT_PROPAGATION));
    }
  });
  return errs;
}

function validateVolumeDevices(devices: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  asArray(devices).forEach((raw, i) => {
    const d = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = asString(d.name);
    const devicePath = asString(d.devicePath);
    if (!name) errs.push(fieldErr.required(`${p}.name`, ''));
    if (!volumes.has(name)) errs.push(fieldErr.notFound(`${p}.name`, name));
    if (!devicePath) errs.push(fieldErr.required(`${p}.devicePath`, ''));
    if (paths.has(devicePath)) errs.push(fieldErr.invalid(`${p}.devicePath`, devicePath, 'must be unique'));
    if (names.has(name)) errs.push(fieldErr.invalid(`${p}.name`, name, 'must be unique'));
    if (devicePath && !devicePath.startsWith('/')) errs.push(fieldErr.invalid(`${p}.devicePath`, devicePath, 'must be an absolute path'));
    paths.add(devicePath);
    names.add(name);
  });
  return errs;
}

const HTTP_SCHEMES = ['HTTP', 'HTTPS'];

function validateHandler(handler: Json, path: string, forLifecycle: boolean, gracePeriod: number | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const kinds = forLifecycle ? ['exec', 'httpGet', 'tcpSocket', 'sleep'] : ['exec', 'httpGet', 'tcpSocket', 'grpc'];
  let count = 0;
  for (const kind of kinds) {
    const h = asObject(handler[kind]);
    if (!h) continue;
    if (count > 0) {
      errs.push(fieldErr.forbidden(`${path}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const p = `${path}.${kind}`;
    switch (kind) {
      case 'exec':
        if (asArray(h.command).length === 0) errs.push(fieldErr.required(`${p}.command`, ''));
        break;
      case 'httpGet':
        if (!asString(h.path)) errs.push(fieldErr.required(`${p}.path`, ''));
        errs.push(...validatePortNumOrName(h.port, `${p}.port`));
        if (!HTTP_SCHEMES.includes(asString(h.scheme))) errs.push(fieldErr.notSupported(`${p}.scheme`, asString(h.scheme), HTTP_SCHEMES));
        for (const header of asArray(h.httpHeaders)) {
          const headerName = asString(asObject(header)?.name);
          errs.push(...invalidEach(`${p}.httpHeaders`, headerName, isHTTPHeaderName(headerName)));
        }
        break;
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(h.port, `${p}.port`));
        break;
      case 'grpc':
        errs.push(...invalidEach(`${p}.port`, num(h.port), isValidPortNum(num(h.port))));
        break;
      case 'sleep': {
        const seconds = num(h.seconds);
        const limit = gracePeriod ?? 30;
        if (seconds <= 0 || seconds > limit) {
          errs.push(fieldErr.invalid(`${p}.seconds`, seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${limit})`));
        }
        break;
      }
    }
  }
  if (count === 0) errs.push(fieldErr.required(path, 'must specify a handler type'));
  return errs;
}

type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

function validateProbe(probe: unknown, kind: ProbeKind, path: string): FieldError[] {
  const p = asObject(probe);
  if (!p) return [];
  const errs = validateHandler(p, path, false, undefined);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegativeField(num(p[f]), `${path}.${f}`));
  }
  const grace = p.terminationGracePeriodSeconds;
  if (kind === 'readinessProbe') {
    if (grace !== undefined && grace !== null) {
      errs.push(fieldErr.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must not be set for readinessProbes'));
    }
  } else {
    if (typeof grace === 'number' && grace <= 0) errs.push(fieldErr.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than 0'));
    if (num(p.successThreshold) !== 1) errs.push(fieldErr.invalid(`${path}.successThreshold`, num(p.successThreshold), 'must be 1'));
  }
  return errs;
}

function validateLifecycle(lifecycle: unknown, path: string, gracePeriod: number | undefined): FieldError[] {
  const l = asObject(lifecycle);
  if (!l) return [];
  const errs: FieldError[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const h = asObject(l[hook]);
    if (h) errs.push(...validateHandler(h, `${path}.${hook}`, true, gracePeriod));
  }
  return errs;
}

const CAPABILITY_FIELDS = ['runAsUser', 'runAsGroup'];

function validateSecurityContext(sc: unknown, path: string): FieldError[] {
  const s = asObject(sc);
  if (!s) return [];
  const errs: FieldError[] = [];
  for (const f of CAPABILITY_FIELDS) {
    if (typeof s[f] === 'number') errs.push(...invalidEach(`${path}.${f}`, s[f], f === 'runAsUser' ? isValidUserID(s[f]) : isValidGroupID(s[f])));
  }
  if (s.privileged === true && s.allowPrivilegeEscalation === false) {
    errs.push(fieldErr.invalid(path, s, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
  }
  const caps = asObject(s.capabilities);
  if (s.allowPrivilegeEscalation === false && caps && asStrings(caps.add).includes('CAP_SYS_ADMIN')) {
    errs.push(fieldErr.invalid(path, s, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
  }
  return errs;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];

/** What every kind of container shares (upstream's validateContainerCommon). */
function validateContainerCommon(ctr: Json, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asString(ctr.name);
  if (!name) errs.push(fieldErr.required(`${path}.name`, ''));
  else errs.push(...validateDNS1123Label(name, `${path}.name`));
  if (!asString(ctr.image)) errs.push(fieldErr.required(`${path}.image`, ''));
  const tmp = asString(ctr.terminationMessagePolicy);
  if (tmp === '') errs.push(fieldErr.required(`${path}.terminationMessagePolicy`, ''));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) errs.push(fieldErr.notSupported(`${path}.terminationMessagePolicy`, tmp, TERMINATION_MESSAGE_POLICIES));
  errs.push(
    ...validateContainerPorts(ctr.ports, `${path}.ports`),
    ...validateEnv(ctr.env, `${path}.env`),
    ...validateEnvFrom(ctr.envFrom, `${path}.envFrom`),
    ...validateVolumeMounts(ctr.volumeMounts, ctr.volumeDevices, volumes, `${path}.volumeMounts`),
    ...validateVolumeDevices(ctr.volumeDevices, volumes, `${path}.volumeDevices`),
    ...validateEnum(ctr.imagePullPolicy, `${path}.imagePullPolicy`, PULL_POLICIES),
    ...validateResourceRequirements(ctr.resources, `${path}.resources`),
    ...validateSecurityContext(ctr.securityContext, `${path}.securityContext`),
  );
  return errs;
}

/** Host ports must not collide (by protocol, host IP and port) among the given containers. */
function checkHostPortConflicts(containers: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((ctr, ci) => {
    asArray(ctr.ports).forEach((raw, pi) => {
      const port = asObject(raw) ?? {};
      const hostPort = num(port.hostPort);
      if (hostPort === 0) return;
      const key = `${asString(port.protocol)}/${asString(port.hostIP)}/${hostPort}`;
      if (seen.has(key)) errs.push(fieldErr.duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

function objects(v: unknown): Json[] {
  return asArray(v).map((x) => asObject(x) ?? {});
}

function validateContainers(spec: Json, volumes: Set<string>, path: string): FieldError[] {
  const containers = objects(spec.containers);
  if (containers.length === 0) return [fieldErr.required(path, '')];
  const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : undefined;
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((ctr, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(ctr, volumes, p));
    const name = asString(ctr.name);
    if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
    else names.add(name);
    errs.push(
      ...validateLifecycle(ctr.lifecycle, `${p}.lifecycle`, grace),
      ...validateProbe(ctr.livenessProbe, 'livenessProbe', `${p}.livenessProbe`),
      ...validateProbe(ctr.readinessProbe, 'readinessProbe', `${p}.readinessProbe`),
      ...validateProbe(ctr.startupProbe, 'startupProbe', `${p}.startupProbe`),
    );
    if (ctr.restartPolicy !== undefined && ctr.restartPolicy !== null) {
      errs.push(fieldErr.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
    }
  });
  errs.push(...checkHostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(spec: Json, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objects(spec.containers).map((c) => asString(c.name)));
  const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : undefined;
  objects(spec.initContainers).forEach((ctr, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(ctr, volumes, p));
    let restartAlways = false;
    if (ctr.restartPolicy !== undefined && ctr.restartPolicy !== null) {
      errs.push(...validateEnum(ctr.restartPolicy, `${p}.restartPolicy`, ['Always']));
      restartAlways = ctr.restartPolicy === 'Always';
    }
    const name = asString(ctr.name);
    if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
    else if (name) names.add(name);
    // Init containers run one at a time, so only each one's own ports can collide (upstream checks index 0).
    errs.push(...checkHostPortConflicts([ctr], path));
    if (restartAlways) {
      errs.push(
        ...validateLifecycle(ctr.lifecycle, `${p}.lifecycle`, grace),
        ...validateProbe(ctr.livenessProbe, 'livenessProbe', `${p}.livenessProbe`),
        ...validateProbe(ctr.readinessProbe, 'readinessProbe', `${p}.readinessProbe`),
        ...validateProbe(ctr.startupProbe, 'startupProbe', `${p}.startupProbe`),
      );
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (ctr[f] !== undefined && ctr[f] !== null) errs.push(fieldErr.forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

function validateEphemeralContainers(spec: Json, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set([...objects(spec.containers), ...objects(spec.initContainers)].map((c) => asString(c.name)));
  objects(spec.ephemeralContainers).forEach((ctr, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(ctr, volumes, p));
    const name = asString(ctr.name);
    if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
    else names.add(name);
    for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resources', 'restartPolicy']) {
      const v = ctr[f];
      const empty = v === undefined || v === null || (f === 'resources' && Object.keys(asObject(v) ?? {}).length === 0);
      if (!empty) errs.push(fieldErr.forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    }
    for (const [j, raw] of asArray(ctr.ports).entries()) if (raw) errs.push(fieldErr.forbidden(`${p}.ports[${j}]`, 'cannot be set for an Ephemeral Container'));
    const target = asString(ctr.targetContainerName);
    if (target && !objects(spec.containers).concat(objects(spec.initContainers)).some((c) => asString(c.name) === target)) {
      errs.push(fieldErr.notFound(`${p}.targetContainerName`, target));
    }
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Scheduling

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateTaintEffect(effect: unknown, allowEmpty: boolean, path: string): FieldError[] {
  const e = asString(effect);
  if (!allowEmpty && e === '') return [fieldErr.required(path, '')];
  return e === '' || TAINT_EFFECTS.includes(e) ? [] : [fieldErr.notSupported(path, e, TAINT_EFFECTS)];
}

export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objects(tolerations).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const key = asString(t.key);
    const operator = asString(t.operator);
    const value = asString(t.value);
    if (key) errs.push(...validateLabelName(key, `${p}.key`));
    if (!key && operator !== 'Exists') {
      errs.push(fieldErr.invalid(`${p}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && asString(t.effect) !== 'NoExecute') {
      errs.push(fieldErr.invalid(`${p}.effect`, asString(t.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (operator) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(value);
        if (msgs.length) errs.push(fieldErr.invalid(`${p}.operator`, value, msgs.join(';')));
        break;
      }
      case 'Exists':
        if (value) errs.push(fieldErr.invalid(`${p}.operator`, t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(fieldErr.notSupported(`${p}.operator`, operator, ['Equal', 'Exists']));
    }
    if (asString(t.effect)) errs.push(...validateTaintEffect(t.effect, true, `${p}.effect`));
  });
  return errs;
}

/** Upstream's ValidateNodeSelectorRequirement (labels) and validateNodeFieldSelectorRequirement (fields). */
function validateNodeSelectorRequirements(reqs: unknown, path: string, fieldSelector: boolean): FieldError[] {
  const errs: FieldError[] = [];
  objects(reqs).forEach((r, i) => {
    const p = `${path}[${i}]`;
    const op = asString(r.operator);
    const values = asArray(r.values);
    if (fieldSelector) {
      if (op === 'In' || op === 'NotIn') {
        if (values.length !== 1) errs.push(fieldErr.required(`${p}.values`, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
      } else errs.push(fieldErr.invalid(`${p}.operator`, op, 'not a valid selector operator'));
      // metadata.name is the only node field selector; its values are node names.
      if (asString(r.key) !== 'metadata.name') errs.push(fieldErr.invalid(`${p}.key`, asString(r.key), 'not a valid field selector key'));
      else values.forEach((v, j) => errs.push(...invalidEach(`${p}.values[${j}]`, v, isDNS1123Subdomain(asString(v)))));
      return;
    }
    switch (op) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErr.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErr.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (values.length !== 1) errs.push(fieldErr.required(`${p}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      default:
        errs.push(fieldErr.invalid(`${p}.operator`, op, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(asString(r.key), `${p}.key`));
  });
  return errs;
}

function validateNodeSelectorTerm(term: Json, path: string): FieldError[] {
  return [
    ...validateNodeSelectorRequirements(term.matchExpressions, `${path}.matchExpressions`, false),
    ...validateNodeSelectorRequirements(term.matchFields, `${path}.matchFields`, true),
  ];
}

function validatePodAffinityTerm(term: Json, path: string): FieldError[] {
  const errs = validateLabelSelector(asObject(term.labelSelector) as LabelSelector | undefined, `${path}.labelSelector`);
  errs.push(...validateLabelSelector(asObject(term.namespaceSelector) as LabelSelector | undefined, `${path}.namespaceSelector`));
  for (const ns of asStrings(term.namespaces)) errs.push(...invalidEach(`${path}.namespace`, ns, isDNS1123Label(ns)));
  const topologyKey = asString(term.topologyKey);
  if (!topologyKey) errs.push(fieldErr.required(`${path}.topologyKey`, 'can not be empty'));
  else errs.push(...validateLabelName(topologyKey, `${path}.topologyKey`));
  return errs;
}

function validateWeight(w: unknown, path: string): FieldError[] {
  const weight = num(w);
  return weight <= 0 || weight > 100 ? [fieldErr.invalid(path, weight, 'must be in the range 1-100')] : [];
}

function validateAffinity(affinity: unknown, path: string): FieldError[] {
  const a = asObject(affinity);
  if (!a) return [];
  const errs: FieldError[] = [];
  const na = asObject(a.nodeAffinity);
  if (na) {
    const p = `${path}.nodeAffinity`;
    const required = asObject(na.requiredDuringSchedulingIgnoredDuringExecution);
    if (required) {
      const rp = `${p}.requiredDuringSchedulingIgnoredDuringExecution`;
      const terms = objects(required.nodeSelectorTerms);
      if (terms.length === 0) errs.push(fieldErr.required(`${rp}.nodeSelectorTerms`, 'must have at least one node selector term'));
      terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, `${rp}.nodeSelectorTerms[${i}]`)));
    }
    objects(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const tp = `${p}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      errs.push(...validateWeight(t.weight, `${tp}.weight`), ...validateNodeSelectorTerm(asObject(t.preference) ?? {}, `${tp}.preference`));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = asObject(a[kind]);
    if (!pa) continue;
    const p = `${path}.${kind}`;
    objects(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      errs.push(...validatePodAffinityTerm(t, `${p}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`));
    });
    objects(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const tp = `${p}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      errs.push(...validateWeight(t.weight, `${tp}.weight`), ...validatePodAffinityTerm(asObject(t.podAffinityTerm) ?? {}, `${tp}.podAffinityTerm`));
    });
  }
  return errs;
}

function validateTopologySpreadConstraints(constraints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objects(constraints).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const maxSkew = num(c.maxSkew);
    if (maxSkew <= 0) errs.push(fieldErr.invalid(`${p}.maxSkew`, maxSkew, 'must be greater than zero'));
    const key = asString(c.topologyKey);
    if (!key) errs.push(fieldErr.required(`${p}.topologyKey`, 'can not be empty'));
    else errs.push(...validateLabelName(key, `${p}.topologyKey`));
    const when = asString(c.whenUnsatisfiable);
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(when)) {
      errs.push(fieldErr.notSupported(`${p}.whenUnsatisfiable`, when, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    const pair = `${key}/${when}`;
    if (seen.has(pair)) errs.push(fieldErr.duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, pair));
    seen.add(pair);
    if (c.minDomains !== undefined && c.minDomains !== null) {
      if (num(c.minDomains) <= 0) errs.push(fieldErr.invalid(`${p}.minDomains`, c.minDomains, 'must be greater than 0'));
      else if (when !== 'DoNotSchedule') {
        errs.push(fieldErr.invalid(`${p}.minDomains`, c.minDomains, 'can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway'));
      }
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) errs.push(...validateOptionalEnum(c[f], `${p}.${f}`, ['Honor', 'Ignore']));
    errs.push(...validateLabelSelector(asObject(c.labelSelector) as LabelSelector | undefined, `${p}.labelSelector`));
  });
  return errs;
}

function validateDNSConfig(spec: Json, path: string): FieldError[] {
  const config = asObject(spec.dnsConfig);
  const errs: FieldError[] = [];
  if (spec.dnsPolicy === 'None' && !config) return [fieldErr.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
  if (!config) return errs;
  const nameservers = asStrings(config.nameservers);
  if (spec.dnsPolicy === 'None' && nameservers.length === 0) {
    errs.push(fieldErr.required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  if (nameservers.length > 3) errs.push(fieldErr.invalid(`${path}.nameservers`, nameservers, 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => errs.push(...invalidEach(`${path}.nameservers[${i}]`, ns, isValidIP(ns))));
  const searches = asStrings(config.searches);
  if (searches.length > 32) errs.push(fieldErr.invalid(`${path}.searches`, searches, 'must not have more than 32 search paths'));
  searches.forEach((s, i) => {
    if (s !== '.') errs.push(...invalidEach(`${path}.searches[${i}]`, s, isDNS1123Subdomain(s.replace(/\.$/, ''))));
  });
  objects(config.options).forEach((o, i) => {
    if (!asString(o.name)) errs.push(fieldErr.required(`${path}.options[${i}]`, 'Option.Name must not be empty'));
  });
  return errs;
}

function validatePodSecurityContext(spec: Json, path: string): FieldError[] {
  const sc = asObject(spec.securityContext);
  if (!sc) return [];
  const errs: FieldError[] = [];
  if (typeof sc.runAsUser === 'number') errs.push(...invalidEach(`${path}.runAsUser`, sc.runAsUser, isValidUserID(sc.runAsUser)));
  if (typeof sc.runAsGroup === 'number') errs.push(...invalidEach(`${path}.runAsGroup`, sc.runAsGroup, isValidGroupID(sc.runAsGroup)));
  if (typeof sc.fsGroup === 'number') errs.push(...invalidEach(`${path}.fsGroup`, sc.fsGroup, isValidGroupID(sc.fsGroup)));
  asArray(sc.supplementalGroups).forEach((g, i) => errs.push(...invalidEach(`${path}.supplementalGroups[${i}]`, g, isValidGroupID(num(g)))));
  errs.push(...validateOptionalEnum(sc.fsGroupChangePolicy, `${path}.fsGroupChangePolicy`, ['OnRootMismatch', 'Always']));
  return errs;
}

function validateHostNetworkPorts(spec: Json, path: string): FieldError[] {
  if (spec.hostNetwork !== true) return [];
  const errs: FieldError[] = [];
  for (const kind of ['containers', 'initContainers']) {
    objects(spec[kind]).forEach((ctr, i) => {
      objects(ctr.ports).forEach((port, j) => {
        if (num(port.hostPort) !== num(port.containerPort)) {
          errs.push(fieldErr.invalid(`${path}.${kind}[${i}].ports[${j}].containerPort`, num(port.containerPort), 'must match `hostPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  return errs;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

/** Upstream's ValidatePodSpec. `path` is where the spec sits ("spec", "spec.template.spec"). */
export function validatePodSpec(specValue: unknown, path: string): FieldError[] {
  const spec = asObject(specValue) ?? {};
  const { names: volumes, errs } = validateVolumes(spec.volumes, `${path}.volumes`);
  errs.push(
    ...validateContainers(spec, volumes, `${path}.containers`),
    ...validateInitContainers(spec, volumes, `${path}.initContainers`),
    ...validateEphemeralContainers(spec, volumes, `${path}.ephemeralContainers`),
    ...validateHostNetworkPorts(spec, path),
    ...validateEnum(spec.restartPolicy, `${path}.restartPolicy`, RESTART_POLICIES),
    ...validateEnum(spec.dnsPolicy, `${path}.dnsPolicy`, DNS_POLICIES),
    ...validateLabels(asStringMap(spec.nodeSelector), `${path}.nodeSelector`),
    ...validatePodSecurityContext(spec, `${path}.securityContext`),
    ...validateAffinity(spec.affinity, `${path}.affinity`),
    ...validateDNSConfig(spec, `${path}.dnsConfig`),
    ...validateTopologySpreadConstraints(spec.topologySpreadConstraints, `${path}.topologySpreadConstraints`),
  );
  objects(spec.imagePullSecrets).forEach((s, i) => {
    if (Object.keys(s).some((k) => k !== 'name')) errs.push(fieldErr.invalid(`${path}.imagePullSecrets[${i}]`, s, 'only name may be set'));
  });
  objects(spec.readinessGates).forEach((g, i) => {
    errs.push(...invalidEach(`${path}.readinessGates[${i}].conditionType`, asString(g.conditionType), isQualifiedName(asString(g.conditionType))));
  });
  const gateNames = new Set<string>();
  objects(spec.schedulingGates).forEach((g, i) => {
    const name = asString(g.name);
    errs.push(...invalidEach(`${path}.schedulingGates[${i}].name`, name, isQualifiedName(name)));
    if (gateNames.has(name)) errs.push(fieldErr.duplicate(`${path}.schedulingGates[${i}]`, name));
    gateNames.add(name);
  });
  for (const [f, check] of [
    ['serviceAccountName', isDNS1123Subdomain],
    ['nodeName', isDNS1123Subdomain],
    ['hostname', isDNS1123Label],
    ['subdomain', isDNS1123Label],
    ['priorityClassName', isDNS1123Subdomain],
    ['runtimeClassName', isDNS1123Subdomain],
  ] as const) {
    const v = asString(spec[f]);
    if (v) errs.push(...invalidEach(`${path}.${f}`, v, check(v)));
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = num(spec.activeDeadlineSeconds);
    if (v < 1 || v > MAX_INT32) errs.push(fieldErr.invalid(`${path}.activeDeadlineSeconds`, v, inclusiveRangeError(1, MAX_INT32)));
  }
  if (asArray(spec.tolerations).length) errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  objects(spec.hostAliases).forEach((a, i) => {
    errs.push(...invalidEach(`${path}.hostAliases[${i}].ip`, asString(a.ip), isValidIP(asString(a.ip))));
    asStrings(a.hostnames).forEach((h, j) => errs.push(...validateDNS1123Subdomain(h, `${path}.hostAliases[${i}].hostnames[${j}]`)));
  });
  errs.push(...validateOptionalEnum(spec.preemptionPolicy, `${path}.preemptionPolicy`, ['PreemptLowerPriority', 'Never']));
  const os = asObject(spec.os);
  if (os) {
    const osName = asString(os.name);
    if (!osName) errs.push(fieldErr.required(`${path}.os.name`, 'cannot be empty'));
    else if (!['linux', 'windows'].includes(osName)) errs.push(fieldErr.notSupported(`${path}.os`, osName, ['linux', 'windows']));
  }
  if (spec.overhead !== undefined) {
    for (const [name, q] of decodeResourceList(spec.overhead, `${path}.overhead`, errs)) {
      errs.push(...validateResourceQuantityValue(name, q, `${path}.overhead[${name}]`));
    }
  }
  return errs;
}

/** Upstream's ValidatePodTemplateSpec: template labels, annotations, spec; no ephemeral containers. */
export function validatePodTemplateSpec(templateValue: unknown, path: string): FieldError[] {
  const template = asObject(templateValue);
  if (!template) return [fieldErr.required(path, '')];
  const meta = asObject(template.metadata) ?? {};
  const errs = [
    // Upstream reports template metadata at "<path>.labels", without "metadata".
    ...validateLabels(asStringMap(meta.labels), `${path}.labels`),
    ...validateAnnotations(asStringMap(meta.annotations), `${path}.annotations`),
    ...validatePodSpec(template.spec, `${path}.spec`),
  ];
  if (asArray(asObject(template.spec)?.ephemeralContainers).length > 0) {
    errs.push(fieldErr.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

/** Checks a label selector against the template's labels, as every controller kind does. */
export function validateSelectorMatchesTemplate(selector: unknown, templateValue: unknown, labelsPath: string): FieldError[] {
  const labels = asStringMap(asObject(asObject(templateValue)?.metadata)?.labels);
  const sel = asObject(selector) as LabelSelector | undefined;
  if (!sel || labelSelectorMatches(sel, labels)) return [];
  return [fieldErr.invalid(labelsPath, labels, '`selector` does not match template `labels`')];
}

/** A workload's required, non-empty, well-formed spec.selector. `kind` names it in upstream's message. */
export function validateWorkloadSelector(selector: unknown, path: string, kind: string): FieldError[] {
  const sel = asObject(selector);
  if (!sel) return [fieldErr.required(path, '')];
  const errs = validateLabelSelector(sel as LabelSelector, path);
  if (Object.keys(asObject(sel.matchLabels) ?? {}).length + asArray(sel.matchExpressions).length === 0) {
    errs.push(fieldErr.invalid(path, sel, `empty selector is invalid for ${kind}`));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Pods

/** Pod-only checks beyond the spec (upstream's validateContainersOnlyForPod and ValidatePodCreate's node rule). */
export function validatePodOnly(specValue: unknown): FieldError[] {
  const spec = asObject(specValue) ?? {};
  const errs: FieldError[] = [];
  for (const kind of ['containers', 'initContainers']) {
    objects(spec[kind]).forEach((c, i) => {
      const image = asString(c.image);
      if (image !== image.trim()) errs.push(fieldErr.invalid(`spec.${kind}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  if (asString(spec.nodeName) && asArray(spec.schedulingGates).length > 0) {
    errs.push(fieldErr.forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

const UPDATABLE_POD_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function validateContainerUpdates(newList: Json[], oldList: Json[], path: string): { errs: FieldError[]; stop: boolean } {
  if (newList.length !== oldList.length) return { errs: [fieldErr.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  newList.forEach((c, i) => {
    const image = asString(c.image);
    if (!image) errs.push(fieldErr.required(`${path}[${i}].image`, ''));
    if (image.trim() !== image) errs.push(fieldErr.invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validateOnlyAddedTolerations(newList: unknown, oldList: unknown, path: string): FieldError[] {
  const next = objects(newList);
  for (const old of objects(oldList)) {
    const found = next.some((t) => sameValue({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [fieldErr.forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(newList, path);
}

function validateOnlyDeletedSchedulingGates(newList: unknown, oldList: unknown, path: string): FieldError[] {
  const oldNames = new Set(objects(oldList).map((g) => asString(g.name)));
  const errs: FieldError[] = [];
  objects(newList).forEach((g, i) => {
    const name = asString(g.name);
    if (!oldNames.has(name)) errs.push(fieldErr.forbidden(`${path}[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
  });
  return errs;
}

/** The top-level spec fields that differ, laid out like upstream's cmp.Diff (- old, + new). */
function specDiff(oldSpec: Json, newSpec: Json): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines = keys
    .filter((k) => !sameValue(oldSpec[k], newSpec[k]))
    .flatMap((k) => [`- \t${k}: ${JSON.stringify(oldSpec[k] ?? null)},`, `+ \t${k}: ${JSON.stringify(newSpec[k] ?? null)},`]);
  return ['  core.PodSpec{', ...lines, '  }'].join('\n');
}

/** Upstream's ValidatePodUpdate spec rules: only images, activeDeadlineSeconds, tolerations and gates may change. */
export function validatePodSpecUpdate(newSpecValue: unknown, oldSpecValue: unknown): FieldError[] {
  const newSpec = asObject(newSpecValue) ?? {};
  const oldSpec = asObject(oldSpecValue) ?? {};
  const errs: FieldError[] = [];
  for (const kind of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(objects(newSpec[kind]), objects(oldSpec[kind]), `spec.${kind}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const newADS = newSpec.activeDeadlineSeconds;
  const oldADS = oldSpec.activeDeadlineSeconds;
  if (typeof newADS === 'number') {
    if (newADS < 0 || newADS > MAX_INT32) {
      errs.push(fieldErr.invalid('spec.activeDeadlineSeconds', newADS, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (typeof oldADS === 'number' && oldADS < newADS) {
      errs.push(fieldErr.invalid('spec.activeDeadlineSeconds', newADS, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (typeof oldADS === 'number') {
    errs.push(fieldErr.invalid('spec.activeDeadlineSeconds', newADS ?? null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(newSpec.tolerations, oldSpec.tolerations, 'spec.tolerations'));
  errs.push(...validateOnlyDeletedSchedulingGates(newSpec.schedulingGates, oldSpec.schedulingGates, 'spec.schedulingGates'));
  if (sameValue(newSpec, oldSpec)) return errs;

  // Put the old values back into every field that may change; anything still different is forbidden.
  const munged: Json = { ...newSpec };
  for (const kind of ['containers', 'initContainers']) {
    if (Array.isArray(newSpec[kind])) {
      munged[kind] = objects(newSpec[kind]).map((c, i) => ({ ...c, image: objects(oldSpec[kind])[i]?.image }));
    }
  }
  munged.activeDeadlineSeconds = oldADS;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (asArray(oldSpec.schedulingGates).length > 0) {
    // Gated pods may gain node selector entries (never lose or change them).
    const oldSelector = asStringMap(oldSpec.nodeSelector);
    const newSelector = asStringMap(newSpec.nodeSelector);
    if (Object.entries(oldSelector).every(([k, v]) => newSelector[k] === v)) munged.nodeSelector = oldSpec.nodeSelector;
  }
  if (!sameValue(munged, oldSpec)) {
    errs.push(fieldErr.forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS.join(',')}\n${specDiff(oldSpec, munged)}`));
  }
  return errs;
}
