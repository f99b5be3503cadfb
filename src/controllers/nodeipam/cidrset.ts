// Upstream's cidrset: the cluster CIDR cut into equal subnets of the node mask size, kept as a set of used indexes;
// allocation takes the next free subnet after the last one handed out (wrapping), release frees it again.
import { formatCidr, parseCidr, type Cidr } from '../../apiserver/pki/cidr.js';

/** Upstream refuses more than 16 bits of difference between the cluster and node masks. */
const MAX_PREFIX_DIFFERENCE = 16;

export class CidrExhaustedError extends Error {
  constructor() {
    super('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  }
}

export class CidrSet {
  readonly cluster: Cidr;
  readonly maxCidrs: number;
  private readonly used = new Set<number>();
  private nextCandidate = 0;

  constructor(clusterCidr: string, readonly nodeMaskSize: number) {
    this.cluster = parseCidr(clusterCidr);
    const bits = this.cluster.family === 6 ? 128 : 32;
    if (nodeMaskSize < this.cluster.prefix || nodeMaskSize > bits) {
      throw new Error(`invalid --node-cidr-mask-size ${nodeMaskSize}: must be between the cluster CIDR's prefix (${this.cluster.prefix}) and ${bits}`);
    }
    if (nodeMaskSize - this.cluster.prefix > MAX_PREFIX_DIFFERENCE) {
      throw new Error('New CIDR set failed; the node CIDR size is too big');
    }
    this.maxCidrs = 2 ** (nodeMaskSize - this.cluster.prefix);
  }

  get allocatedCount(): number {
    return this.used.size;
  }

  private bits(): number {
    return this.cluster.family === 6 ? 128 : 32;
  }

  private cidrAt(index: number): string {
    const network = this.cluster.network + (BigInt(index) << BigInt(this.bits() - this.nodeMaskSize));
    return formatCidr({ family: this.cluster.family, network, prefix: this.nodeMaskSize });
  }

  /** The subnet index of a CIDR inside the cluster range, or undefined when it is not one of its subnets. */
  indexOf(cidr: string): number | undefined {
    let c: Cidr;
    try {
      c = parseCidr(cidr);
    } catch {
      return undefined;
    }
    if (c.family !== this.cluster.family || c.prefix !== this.nodeMaskSize) return undefined;
    const shift = BigInt(this.bits() - this.cluster.prefix);
    if (c.network >> shift !== this.cluster.network >> shift) return undefined;
    return Number((c.network - this.cluster.network) >> BigInt(this.bits() - this.nodeMaskSize));
  }

  allocateNext(): string {
    for (let i = 0; i < this.maxCidrs; i++) {
      const candidate = (this.nextCandidate + i) % this.maxCidrs;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        this.nextCandidate = (candidate + 1) % this.maxCidrs;
        return this.cidrAt(candidate);
      }
    }
    throw new CidrExhaustedError();
  }

  /** Mark a CIDR (e.g. a node's existing podCIDR) as used; false when it is not a subnet of this set. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  isAllocated(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used.has(i);
  }
}
