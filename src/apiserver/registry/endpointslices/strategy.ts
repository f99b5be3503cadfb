// discovery.k8s.io/v1 EndpointSlice: upstream's SetDefaults_EndpointPort and ValidateEndpointSlice(Create/Update).
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import {
  invalidEach,
  isFullyQualifiedDomainName,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  parseIPSloppy,
  validateImmutableField,
  validateLabels,
} from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 100;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;

/**
 * Upstream's ValidateNonSpecialIP without its loopback rule: skiff's pods live on loopback addresses (the machines
 * have no other usable network), so their endpoints must be storable. Shared with core Endpoints.
 */
export function validateNonSpecialIP(address: string, path: string): FieldError[] {
  const ip = parseIPSloppy(address);
  if (!ip) return [fieldErr.invalid(path, address, 'must be a valid IP address')];
  const mappedV4 = ip.length === 16 && ip.slice(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  const v4 = ip.length === 4 ? ip : mappedV4 ? ip.slice(12) : undefined;
  const errs: FieldError[] = [];
  if ((v4 ?? ip).every((b) => b === 0)) errs.push(fieldErr.invalid(path, address, `may not be unspecified (${address})`));
  const linkLocal = v4 ? v4[0] === 169 && v4[1] === 254 : ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80;
  if (linkLocal) errs.push(fieldErr.invalid(path, address, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  const linkLocalMulticast = v4 ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : ip[0] === 0xff && (ip[1] & 0x0f) === 0x02;
  if (linkLocalMulticast) errs.push(fieldErr.invalid(path, address, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateAddress(address: string, addressType: string, path: string): FieldError[] {
  switch (addressType) {
    case 'IPv4':
      return [...invalidEach(path, address, isValidIPv4Address(address)), ...validateNonSpecialIP(address, path)];
    case 'IPv6':
      return [...invalidEach(path, address, isValidIPv6Address(address)), ...validateNonSpecialIP(address, path)];
    case 'FQDN':
      return isFullyQualifiedDomainName(path, address);
    default:
      // Unknown address types are reported once, by validateAddressType.
      return [];
  }
}

function validateEndpoint(ep: Endpoint, addressType: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const addresses = ep.addresses ?? [];
  if (addresses.length === 0) errs.push(fieldErr.required(`${path}.addresses`, 'must contain at least 1 address'));
  else if (addresses.length > MAX_ADDRESSES) errs.push(fieldErr.tooMany(`${path}.addresses`, addresses.length, MAX_ADDRESSES));
  addresses.forEach((a, i) => errs.push(...validateAddress(a, addressType, `${path}.addresses[${i}]`)));
  if (ep.nodeName != null) errs.push(...invalidEach(`${path}.nodeName`, ep.nodeName, isDNS1123Subdomain(ep.nodeName)));
  const topology = ep.deprecatedTopology ?? {};
  if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) {
    errs.push(fieldErr.tooMany(`${path}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
  }
  errs.push(...validateLabels(topology, `${path}.deprecatedTopology`));
  if (ep.zone != null) errs.push(...validateLabels({ 'topology.kubernetes.io/zone': ep.zone }, `${path}.zone`));
  if (ep.hostname != null) errs.push(...invalidEach(`${path}.hostname`, ep.hostname, isDNS1123Label(ep.hostname)));
  const forZones = ep.hints?.forZones ?? [];
  if (forZones.length > MAX_ZONE_HINTS) errs.push(fieldErr.tooMany(`${path}.hints.forZones`, forZones.length, MAX_ZONE_HINTS));
  else {
    const zones = new Set<string>();
    forZones.forEach((z, i) => {
      const zpath = `${path}.hints.forZones[${i}].name`;
      if (zones.has(z.name)) errs.push(fieldErr.duplicate(zpath, z.name));
      zones.add(z.name);
      errs.push(...invalidEach(zpath, z.name, isValidLabelValue(z.name ?? '')));
    });
  }
  return errs;
}

function validatePorts(ports: EndpointPort[]): FieldError[] {
  if (ports.length > MAX_PORTS) return [fieldErr.tooMany('ports', ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `ports[${i}]`;
    const name = p.name ?? '';
    if (name.length > 0) errs.push(...invalidEach(`${path}.name`, name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(fieldErr.duplicate(`${path}.name`, name));
    names.add(name);
    if (p.protocol == null) errs.push(fieldErr.required(`${path}.protocol`));
    else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(fieldErr.notSupported(`${path}.protocol`, p.protocol, PORT_PROTOCOLS));
    if (p.appProtocol != null) errs.push(...invalidEach(`${path}.appProtocol`, p.appProtocol, isQualifiedName(p.appProtocol)));
  });
  return errs;
}

function validateEndpointSlice(obj: KubeObject, addressTypes: string[]): FieldError[] {
  const slice = obj as unknown as EndpointSlice;
  const errs: FieldError[] = [];
  const addressType = slice.addressType ?? '';
  if (addressType === '') errs.push(fieldErr.required('addressType'));
  else if (!addressTypes.includes(addressType)) errs.push(fieldErr.notSupported('addressType', addressType, addressTypes));
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(fieldErr.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((ep, i) => errs.push(...validateEndpoint(ep, addressType, `endpoints[${i}]`)));
  errs.push(...validatePorts(slice.ports ?? []));
  return errs;
}

export const Strategy: KindStrategy = {
  defaults(obj) {
    for (const p of (obj as unknown as EndpointSlice).ports ?? []) {
      p.name ??= '';
      p.protocol ??= 'TCP';
    }
  },
  validate: (obj) => validateEndpointSlice(obj, ADDRESS_TYPES),
  validateUpdate(obj, old) {
    // validate() already ran with the create-time address types; objects stored with the deprecated "IP" type
    // stay updatable as upstream allows, so only immutability is checked here.
    return validateImmutableField((obj as unknown as EndpointSlice).addressType, (old as unknown as EndpointSlice).addressType, 'addressType');
  },
};
