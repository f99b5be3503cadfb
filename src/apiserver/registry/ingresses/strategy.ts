// networking.k8s.io/v1 Ingress: upstream's ValidateIngressCreate/Update/StatusUpdate.
import type { HTTPIngressPath, Ingress, IngressBackend, IngressSpec } from 'kubernetes-types/networking/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  invalidEach,
  isDNS1035Label,
  isDNS1123Subdomain,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  parseIPSloppy,
  isValidIP,
} from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateHost(host: string, path: string): FieldError[] {
  const checks = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return invalidEach(path, host, checks);
}

function validateBackend(backend: IngressBackend, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const { resource, service } = backend;
  if (resource && service) return [fieldErr.invalid(path, '', 'cannot set both resource and service backends')];
  if (resource) {
    if (resource.apiGroup != null) errs.push(...invalidEach(`${path}.resource.apiGroup`, resource.apiGroup, isDNS1123Subdomain(resource.apiGroup)));
    for (const key of ['kind', 'name'] as const) {
      const v = resource[key] ?? '';
      if (v === '') errs.push(fieldErr.required(`${path}.resource.${key}`));
      else errs.push(...invalidEach(`${path}.resource.${key}`, v, isValidPathSegmentName(v)));
    }
    return errs;
  }
  if (!service) return [fieldErr.invalid(path, '', 'resource or service backend is required')];
  const name = service.name ?? '';
  if (name === '') errs.push(fieldErr.required(`${path}.service.name`));
  else errs.push(...invalidEach(`${path}.service.name`, name, isDNS1035Label(name)));
  const portName = service.port?.name ?? '';
  const portNumber = service.port?.number ?? 0;
  if (portName && portNumber) errs.push(fieldErr.invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) errs.push(...invalidEach(`${path}.service.port.name`, portName, isValidPortName(portName)));
  else if (portNumber) errs.push(...invalidEach(`${path}.service.port.number`, portNumber, isValidPortNum(portNumber)));
  else errs.push(fieldErr.required(path, 'port name or number is required'));
  return errs;
}

function validateHTTPPath(p: HTTPIngressPath, path: string): FieldError[] {
  if (p.pathType == null) return [fieldErr.required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = p.path ?? '';
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(fieldErr.invalid(`${path}.path`, value, 'must be an absolute path'));
      for (const seq of INVALID_PATH_SEQUENCES) {
        if (value.includes(seq)) errs.push(fieldErr.invalid(`${path}.path`, value, `must not contain '${seq}'`));
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (value.endsWith(suffix)) errs.push(fieldErr.invalid(`${path}.path`, value, `cannot end with '${suffix}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(fieldErr.invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(fieldErr.notSupported(`${path}.pathType`, p.pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(p.backend ?? {}, `${path}.backend`));
  return errs;
}

function validateSpec(spec: IngressSpec): FieldError[] {
  const errs: FieldError[] = [];
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) errs.push(fieldErr.invalid('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    const host = rule.host ?? '';
    if (host) {
      if (parseIPSloppy(host)) errs.push(fieldErr.invalid(`${path}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${path}.host`));
    }
    if (rule.http) {
      const paths = rule.http.paths ?? [];
      if (paths.length === 0) errs.push(fieldErr.required(`${path}.http.paths`));
      paths.forEach((p, j) => errs.push(...validateHTTPPath(p, `${path}.http.paths[${j}]`)));
    }
  });
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((host, j) => errs.push(...validateHost(host, `spec.tls[${i}].hosts[${j}]`)));
    if (tls.secretName) errs.push(...invalidEach(`spec.tls[${i}].secretName`, tls.secretName, isDNS1123Subdomain(tls.secretName)));
  });
  if (spec.ingressClassName != null) errs.push(...invalidEach('spec.ingressClassName', spec.ingressClassName, isDNS1123Subdomain(spec.ingressClassName)));
  return errs;
}

function validateIngress(obj: KubeObject): FieldError[] {
  const ing = obj as unknown as Ingress;
  const spec = ing.spec ?? {};
  const errs = validateSpec(spec);
  const annotation = ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (annotation !== undefined && spec.ingressClassName != null && annotation !== spec.ingressClassName) {
    errs.push(fieldErr.invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

function validateStatus(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  ((obj as unknown as Ingress).status?.loadBalancer?.ingress ?? []).forEach((lb, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (lb.ip) errs.push(...invalidEach(`${path}.ip`, lb.ip, isValidIP(lb.ip)));
    if (lb.hostname) {
      errs.push(...invalidEach(`${path}.hostname`, lb.hostname, isDNS1123Subdomain(lb.hostname)));
      if (parseIPSloppy(lb.hostname)) errs.push(fieldErr.invalid(`${path}.hostname`, lb.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// Paths an Exact/Prefix match can mean literally; anything else (regex syntax, typically) earns a warning.
const LITERAL_PATH = /^\/[A-Za-z0-9/_.~-]*$/;

function ingressWarnings(obj: KubeObject): string[] {
  const ing = obj as unknown as Ingress;
  const warnings: string[] = [];
  if (ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined) {
    warnings.push(`annotation "${INGRESS_CLASS_ANNOTATION}" is deprecated, please use 'spec.ingressClassName' instead`);
  }
  for (const rule of ing.spec?.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      if ((p.pathType === 'Exact' || p.pathType === 'Prefix') && p.path && !LITERAL_PATH.test(p.path)) {
        warnings.push(`path ${p.path} cannot be used with pathType ${p.pathType}`);
      }
    }
  }
  return warnings;
}

export const Strategy: KindStrategy = {
  validate: validateIngress,
  warnings: ingressWarnings,
  validateStatusUpdate: validateStatus,
};
