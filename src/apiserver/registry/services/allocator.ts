// ClusterIP and NodePort allocation for Services, done where upstream's service REST layer does it: before
// validation on create, and carried over from the old object on update (PatchAllocatedValues). The set of used
// values is read from storage on each allocation, so restarts need no extra state; writes in this process are
// serialized so two creates never pick the same value.
import type { KubeObject } from '../../../api/object.js';
import { ApiError, fieldErr } from '../../../machinery/errors.js';
import type { AdmissionAttributes, MutatingAdmission } from '../../admission/types.js';
import { formatCidr, ipToBigInt, nthAddress, type Cidr } from '../../pki/cidr.js';
import { isIP } from 'node:net';

interface ServicePort {
  name?: string;
  port?: number;
  nodePort?: number;
}
interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePort[];
}

export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

/** The first usable address of the range: the `kubernetes` service's ClusterIP. */
export function firstServiceIP(cidr: Cidr): string {
  return nthAddress(cidr, 1);
}

export class ServiceAllocator implements MutatingAdmission {
  readonly name = 'ServiceAllocator';
  private queue: Promise<void> = Promise.resolve();
  /** Values handed out recently whose Service may not be stored yet. */
  private readonly pendingIPs = new Set<string>();
  private readonly pendingPorts = new Set<number>();

  constructor(
    private readonly cidr: Cidr,
    private readonly listServices: () => Promise<KubeObject[]>,
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.group !== '' || a.resource !== 'services' || a.subresource !== '' || !a.object) return;
    if (a.operation === 'UPDATE' && a.oldObject) carryOverAllocations(a.object, a.oldObject);
    // Serialize allocation in this process: each allocation sees the previous one's result.
    const run = this.queue.then(() => this.allocate(a.object!, a.oldObject, a.dryRun));
    this.queue = run.catch(() => undefined);
    await run;
  }

  private async allocate(svc: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void> {
    const spec = (svc.spec ?? {}) as ServiceSpec;
    svc.spec = spec;
    const type = spec.type ?? 'ClusterIP';
    const needsIP = type !== 'ExternalName' && spec.clusterIP !== 'None';
    const needsNodePorts = type === 'NodePort' || type === 'LoadBalancer';
    const wantsIP = needsIP && !spec.clusterIP;
    const requestedIP = needsIP && spec.clusterIP && spec.clusterIP !== (old?.spec as ServiceSpec | undefined)?.clusterIP ? spec.clusterIP : undefined;
    const portsMissing = needsNodePorts && (spec.ports ?? []).some((p) => !p.nodePort);
    if (!wantsIP && !requestedIP && !portsMissing && !needsNodePorts) {
      if (type === 'ExternalName' || spec.clusterIP === 'None') setFamilies(spec);
      return;
    }
    const others = (await this.listServices()).filter((s) => s.metadata.uid !== svc.metadata.uid || !svc.metadata.uid);
    const usedIPs = new Set<string>(this.pendingIPs);
    const usedPorts = new Set<number>(this.pendingPorts);
    for (const s of others) {
      const os = (s.spec ?? {}) as ServiceSpec;
      if (s.metadata.namespace === svc.metadata.namespace && s.metadata.name === svc.metadata.name) continue;
      for (const ip of os.clusterIPs ?? (os.clusterIP ? [os.clusterIP] : [])) usedIPs.add(ip);
      for (const p of os.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
    }
    if (requestedIP) {
      if (!this.inRange(requestedIP)) {
        throw invalidIP(svc, requestedIP, `provided IP is not in the valid range. The range of valid IPs is ${formatCidr(this.cidr)}`);
      }
      if (usedIPs.has(requestedIP)) throw invalidIP(svc, requestedIP, 'provided IP is already allocated');
      spec.clusterIPs = [requestedIP];
      this.hold(this.pendingIPs, requestedIP, dryRun);
    } else if (wantsIP) {
      const ip = this.pickIP(usedIPs);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      this.hold(this.pendingIPs, ip, dryRun);
    }
    if (needsNodePorts) {
      const mine = new Set<number>();
      for (const p of spec.ports ?? []) {
        if (p.nodePort) {
          if (p.nodePort < NODE_PORT_RANGE.min || p.nodePort > NODE_PORT_RANGE.max) {
            throw ApiError.invalid('', 'Service', svc.metadata.name ?? '', [
              fieldErr.invalid('spec.ports[0].nodePort', p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`),
            ]);
          }
          const oldHas = ((old?.spec as ServiceSpec | undefined)?.ports ?? []).some((op) => op.nodePort === p.nodePort);
          if (!oldHas && usedPorts.has(p.nodePort)) {
            throw ApiError.invalid('', 'Service', svc.metadata.name ?? '', [
              fieldErr.invalid('spec.ports[0].nodePort', p.nodePort, 'provided port is already allocated'),
            ]);
          }
          mine.add(p.nodePort);
          continue;
        }
        const port = this.pickPort(new Set([...usedPorts, ...mine]));
        p.nodePort = port;
        mine.add(port);
        this.hold(this.pendingPorts, port, dryRun);
      }
    }
    setFamilies(spec);
  }

  /** Keeps a value reserved until the write that uses it has surely landed in storage. */
  private hold<T>(set: Set<T>, value: T, dryRun: boolean): void {
    if (dryRun) return;
    set.add(value);
    setTimeout(() => set.delete(value), 5000).unref();
  }

  private get size(): number {
    return 2 ** ((this.cidr.family === 6 ? 128 : 32) - this.cidr.prefix);
  }

  /** Usable addresses exclude the network and broadcast addresses. */
  private inRange(ip: string): boolean {
    if (isIP(ip) !== this.cidr.family) return false;
    const offset = ipToBigInt(ip) - this.cidr.network;
    return offset > 0n && offset < BigInt(this.size - 1);
  }

  private pickIP(used: Set<string>): string {
    const usable = Math.min(this.size - 2, 2 ** 24);
    // Upstream picks at random; the first address is reserved for the `kubernetes` service.
    const start = Math.floor(Math.random() * usable);
    for (let i = 0; i < usable; i++) {
      const candidate = nthAddress(this.cidr, 1 + ((start + i) % usable));
      if (candidate !== firstServiceIP(this.cidr) && !used.has(candidate)) return candidate;
    }
    throw ApiError.internal(`failed to allocate a serviceIP: range is full`);
  }

  private pickPort(used: Set<number>): number {
    const size = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const p = NODE_PORT_RANGE.min + ((start + i) % size);
      if (!used.has(p)) return p;
    }
    throw ApiError.internal('failed to allocate a nodePort: range is full');
  }
}

function setFamilies(spec: ServiceSpec): void {
  if (spec.type === 'ExternalName') return;
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  if (spec.clusterIP === 'None') spec.clusterIPs ??= ['None'];
}

function invalidIP(svc: KubeObject, ip: string, why: string): ApiError {
  return ApiError.invalid('', 'Service', svc.metadata.name ?? '', [
    fieldErr.invalid('spec.clusterIPs', [ip], `failed to allocate IP ${ip}: ${why}`),
  ]);
}

/** An update that leaves allocated values out keeps the old ones (upstream's PatchAllocatedValues). */
function carryOverAllocations(svc: KubeObject, old: KubeObject): void {
  const spec = (svc.spec ?? {}) as ServiceSpec;
  const oldSpec = (old.spec ?? {}) as ServiceSpec;
  const type = spec.type ?? 'ClusterIP';
  if (type !== 'ExternalName' && (oldSpec.type ?? 'ClusterIP') !== 'ExternalName') {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!spec.clusterIPs?.length && oldSpec.clusterIPs) spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  if (type === 'NodePort' || type === 'LoadBalancer') {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const match = (oldSpec.ports ?? []).find((op) => op.port === p.port && (op.name ?? '') === (p.name ?? ''));
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
  svc.spec = spec;
}
