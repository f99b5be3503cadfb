// Services (upstream SetDefaults_Service, the service strategy's clusterIP normalization and ValidateService[Update]).
// Allocation of clusterIPs, nodePorts and IP families is the ServiceAllocator's (services/allocator.ts).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isValidCIDR, isValidIP, isValidPortNum, parseIPSloppy, validateDNS1123Label, validateDNS1123Subdomain, validateLabels } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, asStrings, ensureObject, isInt, type Json } from '../group-validation.js';
import { asStringMap, num, validateEnum, validatePortNumOrName, validatePortProtocol } from '../validation/pod.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const KUBELET_PORT = 10250;
const DEFAULT_CLIENT_IP_TIMEOUT = 10800;

function specOf(obj: Record<string, unknown>): Json {
  return asObject(obj.spec) ?? {};
}
function objects(v: unknown): Json[] {
  return asArray(v).map((x) => asObject(x) ?? {});
}
function isHeadless(spec: Json): boolean {
  return asString(spec.clusterIP) === 'None';
}
function externallyAccessible(spec: Json): boolean {
  const type = asString(spec.type);
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && asArray(spec.externalIPs).length > 0);
}
function isIPv6(ip: string): boolean {
  return parseIPSloppy(ip)?.length === 16 && !/^::ffff:\d/.test(ip);
}

function validatePorts(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const ports = objects(spec.ports);
  const names = new Set<string>();
  const pairs = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const p = `spec.ports[${i}]`;
    const name = asString(port.name);
    if (ports.length > 1 && !name) errs.push(fieldErr.required(`${p}.name`, ''));
    else if (name) {
      errs.push(...validateDNS1123Label(name, `${p}.name`));
      if (names.has(name)) errs.push(fieldErr.duplicate(`${p}.name`, name));
      names.add(name);
    }
    errs.push(...invalidEach(`${p}.port`, num(port.port), isValidPortNum(num(port.port))));
    errs.push(...validatePortProtocol(port.protocol, `${p}.protocol`));
    errs.push(...validatePortNumOrName(port.targetPort, `${p}.targetPort`));
    if (asString(spec.type) === 'ClusterIP' && num(port.nodePort) !== 0) {
      errs.push(fieldErr.forbidden(`${p}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    }
    if (num(port.nodePort) !== 0) {
      const key = `${asString(port.protocol)}/${num(port.nodePort)}`;
      if (nodePorts.has(key)) errs.push(fieldErr.duplicate(`${p}.nodePort`, num(port.nodePort)));
      nodePorts.add(key);
    }
    const pair = `${asString(port.protocol)}/${num(port.port)}`;
    if (pairs.has(pair)) errs.push(fieldErr.duplicate(p, { protocol: asString(port.protocol), port: num(port.port) }));
    pairs.add(pair);
  });
  return errs;
}

/** Upstream's ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPs(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const clusterIP = asString(spec.clusterIP);
  const clusterIPs = asStrings(spec.clusterIPs);
  const families = asStrings(spec.ipFamilies);
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(fieldErr.required('spec.clusterIPs', ''));
    else if (clusterIPs[0] !== clusterIP) errs.push(fieldErr.invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length) {
    errs.push(fieldErr.invalid('spec.clusterIPs', clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(fieldErr.notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(fieldErr.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null && !IP_FAMILY_POLICIES.includes(asString(spec.ipFamilyPolicy))) {
    errs.push(fieldErr.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let invalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        invalidIPs = true;
        errs.push(fieldErr.invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const msgs = isValidIP(ip);
    if (msgs.length) invalidIPs = true;
    errs.push(...invalidEach(`spec.clusterIPs[${i}]`, ip, msgs));
  });
  if (clusterIPs.length > 2) errs.push(fieldErr.invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values'));
  if (invalidIPs) return errs;
  if (clusterIPs.length > 1 && isIPv6(clusterIPs[0]) === isIPv6(clusterIPs[1])) {
    errs.push(fieldErr.invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec)) {
    clusterIPs.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === 'IPv4' && isIPv6(ip)) errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6(ip)) errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateService(obj: Record<string, unknown>): FieldError[] {
  const spec = specOf(obj);
  const type = asString(spec.type);
  const errs: FieldError[] = [];
  const clusterIPs = asStrings(spec.clusterIPs);
  if (asArray(spec.ports).length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(fieldErr.required('spec.ports', ''));
  switch (type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (isHeadless(spec)) errs.push(fieldErr.invalid('spec.clusterIPs[0]', clusterIPs[0] ?? 'None', `may not be set to 'None' for ${type} services`));
      if (type === 'LoadBalancer') {
        objects(spec.ports).forEach((port, i) => {
          if (num(port.port) === KUBELET_PORT) {
            errs.push(fieldErr.invalid(`spec.ports[${i}]`, KUBELET_PORT, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`));
          }
        });
      }
      break;
    case 'ExternalName': {
      if (clusterIPs.length) errs.push(fieldErr.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (asArray(spec.ipFamilies).length) errs.push(fieldErr.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(fieldErr.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = asString(spec.externalName).replace(/\.$/, '');
      if (cname) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
      else errs.push(fieldErr.required('spec.externalName', ''));
      break;
    }
  }
  errs.push(...validatePorts(spec));
  if (asObject(spec.selector)) errs.push(...validateLabels(asStringMap(spec.selector), 'spec.selector'));
  errs.push(...validateEnum(spec.sessionAffinity, 'spec.sessionAffinity', SESSION_AFFINITIES));
  if (spec.sessionAffinity === 'ClientIP') {
    const config = asObject(asObject(spec.sessionAffinityConfig)?.clientIP);
    const path = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
    if (!config) errs.push(fieldErr.required('spec.sessionAffinityConfig.clientIP', ''));
    else {
      const t = config.timeoutSeconds;
      if (!isInt(t) || t <= 0 || t > 86400) errs.push(fieldErr.invalid(path, t ?? null, 'must be greater than 0 and less than 86400'));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(fieldErr.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPs(spec));
  asStrings(spec.externalIPs).forEach((ip, i) => errs.push(...invalidEach(`spec.externalIPs[${i}]`, ip, isValidIP(ip))));
  errs.push(...validateEnum(spec.type, 'spec.type', SERVICE_TYPES));
  const ranges = asStrings(spec.loadBalancerSourceRanges);
  if (ranges.length) {
    if (type !== 'LoadBalancer') errs.push(fieldErr.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...invalidEach(`spec.LoadBalancerSourceRanges[${i}]`, r.trim(), isValidCIDR(r.trim()))));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(fieldErr.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(fieldErr.required('allocateLoadBalancerNodePorts', ''));
  }
  if (!externallyAccessible(spec)) {
    if (asString(spec.externalTrafficPolicy)) {
      errs.push(fieldErr.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else errs.push(...validateEnum(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', TRAFFIC_POLICIES));
  const needsHealthCheck = type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (!needsHealthCheck && num(spec.healthCheckNodePort) !== 0) {
    errs.push(fieldErr.invalid('spec.healthCheckNodePort', num(spec.healthCheckNodePort), "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  }
  if (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(fieldErr.required('spec.internalTrafficPolicy', ''));
  } else if (!TRAFFIC_POLICIES.includes(asString(spec.internalTrafficPolicy))) {
    errs.push(fieldErr.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(fieldErr.notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** Upstream's validateUpgradeDowngradeClusterIPs / IPFamilies: the primary never changes once set. */
function validateUpgradeDowngrade(spec: Json, oldSpec: Json, field: 'clusterIPs' | 'ipFamilies', noun: string): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  if (isHeadless(spec) && isHeadless(oldSpec)) return [];
  const next = asStrings(spec[field]);
  const prev = asStrings(oldSpec[field]);
  const errs: FieldError[] = [];
  const changed = (): FieldError => fieldErr.invalid(`spec.${field}[0]`, next, 'may not change once set');
  if (next.length === prev.length) {
    prev.forEach((v, i) => {
      if (v !== next[i]) errs.push(field === 'clusterIPs' ? fieldErr.invalid(`spec.clusterIPs[${i}]`, next, 'may not change once set') : changed());
    });
  } else if (prev.length > next.length) {
    if (next.length === 0) errs.push(fieldErr.invalid(`spec.${field}[0]`, next, `primary ${noun} can not be unset`));
    if (next.length > 0 && next[0] !== prev[0]) errs.push(changed());
    if (next.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErr.invalid('spec.clusterIPs[0]', asStrings(spec.clusterIPs), `\`ipFamilyPolicy\` must be set to 'SingleStack' when releasing the secondary ${noun}`));
    }
  } else if (prev.length > 0 && next[0] !== prev[0]) errs.push(changed());
  return errs;
}

/** Upstream's NormalizeClusterIPs: keep clusterIP and clusterIPs in step for clients that set only one. */
function normalizeClusterIPs(spec: Json, oldSpec?: Json): void {
  const clusterIP = asString(spec.clusterIP);
  if (!oldSpec) {
    if (clusterIP && asArray(spec.clusterIPs).length === 0) spec.clusterIPs = [clusterIP];
    return;
  }
  const oldIP = asString(oldSpec.clusterIP);
  const sameIPs = JSON.stringify(asStrings(spec.clusterIPs)) === JSON.stringify(asStrings(oldSpec.clusterIPs));
  if (asArray(oldSpec.clusterIPs).length > 0 && asArray(spec.clusterIPs).length === 0 && oldIP === clusterIP) {
    spec.clusterIPs = oldSpec.clusterIPs;
  }
  if (oldIP !== clusterIP) {
    if (oldIP && !clusterIP) {
      if (sameIPs) delete spec.clusterIPs;
    } else if (sameIPs) spec.clusterIPs = [clusterIP];
  }
}

/** Fields that only some service types may carry are dropped when the type changes (upstream's dropTypeDependentFields). */
function dropTypeDependentFields(spec: Json, oldSpec: Json): void {
  const type = asString(spec.type);
  const oldType = asString(oldSpec.type);
  if (type === oldType) return;
  if (type === 'ExternalName' && oldType !== 'ExternalName') {
    if (JSON.stringify(spec.clusterIPs) === JSON.stringify(oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (JSON.stringify(spec.ipFamilies) === JSON.stringify(oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (type !== 'NodePort' && type !== 'LoadBalancer') {
    const oldPorts = objects(oldSpec.ports);
    for (const p of objects(spec.ports)) {
      if (oldPorts.some((o) => o.nodePort === p.nodePort && num(p.nodePort) !== 0)) delete p.nodePort;
    }
  }
  if (type !== 'LoadBalancer') {
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (!externallyAccessible(spec) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
}

export const serviceStrategy: Strategy = {
  defaults(obj) {
    const spec = ensureObject(obj, 'spec');
    if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
    if (spec.sessionAffinity === 'ClientIP') {
      const config = ensureObject(spec, 'sessionAffinityConfig');
      const clientIP = ensureObject(config, 'clientIP');
      if (clientIP.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) clientIP.timeoutSeconds = DEFAULT_CLIENT_IP_TIMEOUT;
    }
    if (!spec.type) spec.type = 'ClusterIP';
    for (const port of objects(spec.ports)) {
      if (!port.protocol) port.protocol = 'TCP';
      if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
    }
    if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
    if (spec.type !== 'ExternalName' && (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null)) {
      spec.internalTrafficPolicy = 'Cluster';
    }
    if (spec.type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
      spec.allocateLoadBalancerNodePorts = true;
    }
    // Load-balancer ingress IPs default to VIP mode.
    for (const ing of objects(asObject(asObject(obj.status)?.loadBalancer)?.ingress)) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  },
  prepareForCreate(obj) {
    normalizeClusterIPs(specOf(obj));
  },
  prepareForUpdate(obj, old) {
    const spec = specOf(obj);
    normalizeClusterIPs(spec, specOf(old));
    dropTypeDependentFields(spec, specOf(old));
  },
  validate: validateService,
  validateUpdate(obj, old) {
    const spec = specOf(obj);
    const oldSpec = specOf(old);
    return [...validateUpgradeDowngrade(spec, oldSpec, 'clusterIPs', 'clusterIP'), ...validateUpgradeDowngrade(spec, oldSpec, 'ipFamilies', 'ipFamily')];
  },
  validateStatusUpdate(obj) {
    const errs: FieldError[] = [];
    objects(asObject(asObject(obj.status)?.loadBalancer)?.ingress).forEach((ing, i) => {
      const p = `status.loadBalancer.ingress[${i}]`;
      const ip = asString(ing.ip);
      if (ip) errs.push(...invalidEach(`${p}.ip`, ip, isValidIP(ip)));
      if (ing.ipMode !== undefined && ing.ipMode !== null && !ip) errs.push(fieldErr.forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
      else if (ing.ipMode !== undefined && ing.ipMode !== null && !['Proxy', 'VIP'].includes(asString(ing.ipMode))) {
        errs.push(fieldErr.notSupported(`${p}.ipMode`, ing.ipMode, ['Proxy', 'VIP']));
      }
    });
    return errs;
  },
  selectableFields(obj) {
    const spec = specOf(obj);
    return { 'spec.clusterIP': asString(spec.clusterIP), 'spec.type': asString(spec.type) };
  },
};

export { serviceStrategy as Strategy };
