// Endpoints (upstream SetDefaults_Endpoints, ValidateEndpoints).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, isValidIP, isValidPortNum, parseIPSloppy, validateDNS1123Label } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, type Json } from '../group-validation.js';
import { num, validatePortProtocol } from '../validation/pod.js';

function objects(v: unknown): Json[] {
  return asArray(v).map((x) => asObject(x) ?? {});
}

/**
 * Upstream's ValidateNonSpecialIP without its loopback rule: skiff's pods live on loopback addresses (the machines
 * have no other usable network), so their endpoints must be storable.
 */
function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const bytes = parseIPSloppy(ip);
  if (!bytes) return [fieldErr.invalid(path, ip, 'must be a valid IP address')];
  const v4 = bytes.length === 4 ? bytes : bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255 ? bytes.slice(12) : undefined;
  if (bytes.every((b) => b === 0)) return [fieldErr.invalid(path, ip, `may not be unspecified (${ip})`)];
  if ((v4 && v4[0] === 169 && v4[1] === 254) || (!v4 && bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80)) {
    return [fieldErr.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  }
  if ((v4 && v4[0] === 224 && v4[1] === 0 && v4[2] === 0) || (!v4 && bytes[0] === 0xff && (bytes[1] & 0x0f) === 2)) {
    return [fieldErr.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  }
  return [];
}

function validateAddress(addr: Json, path: string): FieldError[] {
  const ip = asString(addr.ip);
  const errs = invalidEach(`${path}.ip`, ip, isValidIP(ip));
  const hostname = asString(addr.hostname);
  if (hostname) errs.push(...validateDNS1123Label(hostname, `${path}.hostname`));
  if (typeof addr.nodeName === 'string') errs.push(...invalidEach(`${path}.nodeName`, addr.nodeName, isDNS1123Subdomain(addr.nodeName)));
  if (errs.length === 0) errs.push(...validateNonSpecialIP(ip, `${path}.ip`));
  return errs;
}

export const endpointsStrategy: Strategy = {
  defaults(obj) {
    for (const subset of objects(obj.subsets)) for (const port of objects(subset.ports)) if (!port.protocol) port.protocol = 'TCP';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    objects(obj.subsets).forEach((ss, i) => {
      const p = `subsets[${i}]`;
      const addresses = objects(ss.addresses);
      const notReady = objects(ss.notReadyAddresses);
      if (addresses.length === 0 && notReady.length === 0) errs.push(fieldErr.required(p, 'must specify `addresses` or `notReadyAddresses`'));
      addresses.forEach((a, j) => errs.push(...validateAddress(a, `${p}.addresses[${j}]`)));
      notReady.forEach((a, j) => errs.push(...validateAddress(a, `${p}.notReadyAddresses[${j}]`)));
      const ports = objects(ss.ports);
      ports.forEach((port, j) => {
        const pp = `${p}.ports[${j}]`;
        const name = asString(port.name);
        if (ports.length > 1 && !name) errs.push(fieldErr.required(`${pp}.name`, ''));
        else if (name) errs.push(...validateDNS1123Label(name, `${pp}.name`));
        errs.push(...invalidEach(`${pp}.port`, num(port.port), isValidPortNum(num(port.port))), ...validatePortProtocol(port.protocol, `${pp}.protocol`));
      });
    });
    return errs;
  },
};

export { endpointsStrategy as Strategy };
