// networking.k8s.io/v1 NetworkPolicy: upstream's SetDefaults_NetworkPolicy(Port) and ValidateNetworkPolicy(Update).
import type { IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isValidCIDR, isValidPortName, isValidPortNum, parseCIDRSloppy, validateLabelSelector } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

function validatePort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol != null && !PROTOCOLS.includes(port.protocol)) errs.push(fieldErr.notSupported(`${path}.protocol`, port.protocol, PROTOCOLS));
  const p = port.port;
  const endPort = port.endPort;
  if (p == null) {
    if (endPort != null) errs.push(fieldErr.invalid(`${path}.endPort`, endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof p === 'number') {
    errs.push(...invalidEach(`${path}.port`, p, isValidPortNum(p)));
    if (endPort != null) {
      if (endPort < p) errs.push(fieldErr.invalid(`${path}.endPort`, endPort, 'must be greater than or equal to `port`'));
      errs.push(...invalidEach(`${path}.endPort`, endPort, isValidPortNum(endPort)));
    }
  } else {
    if (endPort != null) errs.push(fieldErr.invalid(`${path}.endPort`, endPort, 'may not be specified when `port` is non-numeric'));
    errs.push(...invalidEach(`${path}.port`, p, isValidPortName(String(p))));
  }
  return errs;
}

/** True when the CIDR `inner` lies strictly inside `outer` (same family, longer prefix, contained address). */
function strictSubset(outer: { ip: number[]; prefixLength: number }, inner: { ip: number[]; prefixLength: number }): boolean {
  if (outer.ip.length !== inner.ip.length || inner.prefixLength <= outer.prefixLength) return false;
  for (let bit = 0; bit < outer.prefixLength; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((outer.ip[byte] & mask) !== (inner.ip[byte] & mask)) return false;
  }
  return true;
}

function validateIPBlock(block: IPBlock, path: string): FieldError[] {
  const cidr = block.cidr ?? '';
  if (cidr === '') return [fieldErr.required(`${path}.cidr`)];
  const errs = invalidEach(`${path}.cidr`, cidr, isValidCIDR(cidr));
  const outer = parseCIDRSloppy(cidr);
  if (!outer) return errs;
  (block.except ?? []).forEach((except, i) => {
    const exceptPath = `${path}.except[${i}]`;
    errs.push(...invalidEach(exceptPath, except, isValidCIDR(except)));
    const inner = parseCIDRSloppy(except);
    if (inner && !strictSubset(outer, inner)) errs.push(fieldErr.invalid(exceptPath, except, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (peer.podSelector != null) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  }
  if (peer.namespaceSelector != null) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (peer.ipBlock != null) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  }
  if (peers === 0) errs.push(fieldErr.required(path, 'must specify a peer'));
  else if (peers > 1 && peer.ipBlock != null) errs.push(fieldErr.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateNetworkPolicy(obj: KubeObject): FieldError[] {
  const spec: Partial<NetworkPolicySpec> = (obj as unknown as NetworkPolicy).spec ?? {};
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  (spec.ingress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `spec.ingress[${i}].ports[${j}]`)));
    (rule.from ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, `spec.ingress[${i}].from[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `spec.egress[${i}].ports[${j}]`)));
    (rule.to ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, `spec.egress[${i}].to[${j}]`)));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > POLICY_TYPES.length) {
    errs.push(fieldErr.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t)) errs.push(fieldErr.notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    const np = obj as unknown as NetworkPolicy;
    const spec: Partial<NetworkPolicySpec> = (np.spec ??= { podSelector: {} });
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
      for (const p of rule.ports ?? []) p.protocol ??= 'TCP';
    }
    // A policy without policyTypes isolates ingress, and egress too when it has egress rules.
    if (!spec.policyTypes?.length) spec.policyTypes = spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  validate: validateNetworkPolicy,
};
