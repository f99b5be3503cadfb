// Pod addresses of simulated nodes: each node hands out IPs from its spec.podCIDR (set by a node IPAM controller) or,
// until it has one, from a fallback range carved deterministically out of --cluster-cidr (IPv4 only).
import { createHash } from 'node:crypto';
import { formatCidr, ipToBigInt, parseCidr, type Cidr } from '../../apiserver/pki/cidr.js';

export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/**
 * Hands out per-node subnets of a cluster CIDR: the subnet a node's name hashes to, or the next one not yet given
 * to another node of this allocator. With more nodes than subnets, subnets are shared.
 */
export class FallbackCidrs {
  private readonly cluster: Cidr;
  private readonly count: number;
  private readonly taken = new Map<number, string>();
  private readonly byNode = new Map<string, string>();

  constructor(
    clusterCidr: string,
    private readonly maskSize = DEFAULT_NODE_CIDR_MASK_SIZE,
  ) {
    this.cluster = parseCidr(clusterCidr);
    if (this.cluster.family !== 4) throw new Error(`simulated nodes: --cluster-cidr ${clusterCidr}: only IPv4 is supported`);
    const bits = Math.max(0, maskSize - this.cluster.prefix);
    this.count = 2 ** Math.min(bits, 24);
    if (maskSize < this.cluster.prefix) this.maskSize = this.cluster.prefix;
  }

  /** The node's subnet, e.g. "198.18.7.0/24"; the same name always gets the same one from the same allocator. */
  forNode(name: string): string {
    const known = this.byNode.get(name);
    if (known) return known;
    const start = hash32(name) % this.count;
    let index = start;
    if (this.taken.size < this.count) {
      while (this.taken.has(index)) index = (index + 1) % this.count;
    }
    this.taken.set(index, name);
    const size = 2n ** BigInt(32 - this.maskSize);
    const cidr = formatCidr({ family: 4, network: this.cluster.network + BigInt(index) * size, prefix: this.maskSize });
    this.byNode.set(name, cidr);
    return cidr;
  }
}

/**
 * One node's pod IPs: the lowest free address from .2 up (.0 is the network, .1 the bridge), released when the pod
 * goes. A full range hands out addresses again (a simulation may run more pods than its range holds).
 */
export class PodIPs {
  private readonly first: bigint;
  private readonly size: bigint;
  private readonly used = new Map<string, string>();
  private readonly owners = new Map<string, string>();
  private next = 0n;

  constructor(readonly cidr: string) {
    const c = parseCidr(cidr);
    if (c.family !== 4) throw new Error(`pod CIDR ${cidr}: only IPv4 is supported`);
    const total = 2n ** BigInt(32 - c.prefix);
    // /31 and /32 have no room for network and bridge addresses.
    this.first = total > 4n ? c.network + 2n : c.network;
    this.size = total > 4n ? total - 3n : total;
  }

  contains(ip: string): boolean {
    const v = ipToBigInt(ip);
    return v >= this.first && v < this.first + this.size;
  }

  /** Records an address a pod already has (after a restart of the simulator). */
  claim(podKey: string, ip: string): void {
    if (!this.contains(ip)) return;
    this.release(podKey);
    this.used.set(ip, podKey);
    this.owners.set(podKey, ip);
  }

  /** The pod's address: the one it has, or the lowest free one. */
  allocate(podKey: string): string {
    const own = this.owners.get(podKey);
    if (own) return own;
    let ip: string | undefined;
    if (BigInt(this.used.size) < this.size) {
      for (let i = 0n; i < this.size; i++) {
        const candidate = bigToIp(this.first + i);
        if (!this.used.has(candidate)) {
          ip = candidate;
          break;
        }
      }
    }
    // Full: reuse addresses round-robin (documented: IPs repeat once a node runs more pods than its range holds).
    ip ??= bigToIp(this.first + (this.next++ % this.size));
    this.used.set(ip, podKey);
    this.owners.set(podKey, ip);
    return ip;
  }

  release(podKey: string): void {
    const ip = this.owners.get(podKey);
    if (ip === undefined) return;
    this.owners.delete(podKey);
    if (this.used.get(ip) === podKey) this.used.delete(ip);
  }

  /** Pods holding addresses (tests). */
  allocated(): number {
    return this.owners.size;
  }
}

function bigToIp(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
}

/** A loopback address per node for its InternalIP (and pods' hostIP): 127.x.y.z from the name, never 127.0.0.1. */
export function nodeAddress(name: string): string {
  const h = hash32(`node-ip/${name}`) & 0xffffff;
  const v = h < 2 ? h + 2 : h;
  return `127.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`;
}
