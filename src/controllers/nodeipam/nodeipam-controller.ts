// Upstream's node IPAM controller with the RangeAllocator: every Node gets spec.podCIDR/podCIDRs cut from
// --cluster-cidr at --node-cidr-mask-size. The allocation map is rebuilt from the nodes' existing podCIDRs at start,
// a deleted node's CIDRs are released, and an exhausted range records CIDRNotAvailable on the node. Keys are node names.
import type { Node } from 'kubernetes-types/core/v1.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import { CoreEventRecorder, RateLimitingQueue, deletedObject, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';
import { CidrExhaustedError, CidrSet } from './cidrset.js';

/** kube-controller-manager's --cluster-cidr has no default; skiff server's is 198.18.0.0/16. */
export const DEFAULT_CLUSTER_CIDR = '198.18.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV4 = 24;
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 = 64;
/** Upstream's cidrUpdateRetries. */
const CIDR_UPDATE_RETRIES = 3;

export class NodeIpamController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly cidrSets: CidrSet[];
  private readonly nodes: SharedIndexInformer<Node>;
  private readonly client: ResourceClient<Node>;
  private readonly recorder: CoreEventRecorder;
  private rebuilt = false;
  /** CIDRs patched onto a node that the cache does not show yet (a sync of an older copy must not allocate again). */
  private readonly patched = new Map<string, string[]>();

  constructor(private readonly ctx: ControllerContext) {
    const cidrs = (ctx.options?.clusterCidr ?? DEFAULT_CLUSTER_CIDR).split(',').map((c) => c.trim()).filter(Boolean);
    try {
      this.cidrSets = cidrs.map((c) => {
        const v6 = c.includes(':');
        const mask = v6 ? DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 : (ctx.options?.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE_IPV4);
        return new CidrSet(c, mask);
      });
    } catch (err) {
      // Upstream refuses to start the controller; the others keep running here.
      ctx.log.error('nodeipam: invalid --cluster-cidr / --node-cidr-mask-size, not allocating pod CIDRs', { err });
      this.cidrSets = [];
    }
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    this.recorder = new CoreEventRecorder(ctx.client, { component: 'cidrAllocator', clock: ctx.clock, onError: () => undefined });
    this.nodes = ctx.informers.informerFor<Node>({ group: '', version: 'v1', resource: 'nodes' });
    const enqueue = (n: Node) => {
      if (n.metadata?.name) this.queue.add(n.metadata.name);
    };
    this.nodes.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_o, n) => enqueue(n),
      onDelete: (obj) => {
        const n = deletedObject(obj);
        this.releaseCidrs(n);
        const pending = this.patched.get(n.metadata?.name ?? '');
        if (pending && this.nodeCidrs(n).length === 0) pending.forEach((c, i) => this.cidrSets[i]?.release(c));
        this.patched.delete(n.metadata?.name ?? '');
        enqueue(n);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.cidrSets.length === 0) return;
    const waitForSync = () => this.nodes.waitForCacheSync();
    while (!(await waitForSync())) if (signal.aborted) return;
    this.rebuild();
    await runQueueController({ name: 'nodeipam', waitForSync, queue: this.queue, workers: 1, sync: (k) => this.sync(k), log: this.ctx.log }, signal);
  }

  /** Mark every CIDR that existing nodes hold as used (upstream does it before handling any node). */
  rebuild(): void {
    if (this.rebuilt) return;
    this.rebuilt = true;
    for (const node of this.nodes.lister().list()) this.occupy(node);
  }

  private nodeCidrs(node: Node): string[] {
    const cidrs = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
    return cidrs;
  }

  private occupy(node: Node): void {
    const cidrs = this.nodeCidrs(node);
    cidrs.forEach((cidr, i) => {
      const set = this.cidrSets[i];
      if (!set?.occupy(cidr)) this.ctx.log.warn('node podCIDR is outside the cluster CIDR', { node: node.metadata?.name, podCIDR: cidr });
    });
  }

  private releaseCidrs(node: Node): void {
    this.nodeCidrs(node).forEach((cidr, i) => this.cidrSets[i]?.release(cidr));
  }

  private nodeEvent(node: Node, status: string): void {
    const name = node.metadata?.name ?? '';
    this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata?.uid } }, 'Normal', status, `Node ${name} status is now: ${status}`);
  }

  async sync(name: string): Promise<void> {
    this.rebuild();
    const node = this.nodes.lister().get(name);
    if (!node || node.metadata?.deletionTimestamp) return;
    if (this.nodeCidrs(node).length > 0) {
      this.patched.delete(name);
      this.occupy(node);
      return;
    }
    if (this.patched.has(name)) return;
    const allocated: string[] = [];
    for (const set of this.cidrSets) {
      try {
        allocated.push(set.allocateNext());
      } catch (err) {
        allocated.forEach((c, i) => this.cidrSets[i].release(c));
        if (err instanceof CidrExhaustedError) this.nodeEvent(node, 'CIDRNotAvailable');
        throw new Error(`failed to allocate cidr from cluster cidr at idx:${allocated.length}: ${(err as Error).message}`, { cause: err });
      }
    }
    let lastErr: unknown;
    for (let i = 0; i < CIDR_UPDATE_RETRIES; i++) {
      try {
        await this.client.patch(name, { spec: { podCIDR: allocated[0], podCIDRs: allocated } }, { type: 'strategic' });
        this.patched.set(name, allocated);
        this.ctx.log.info('set node PodCIDR', { node: name, podCIDRs: allocated.join(',') });
        return;
      } catch (err) {
        lastErr = err;
        if (isNotFound(err)) break;
      }
    }
    this.nodeEvent(node, 'CIDRAssignmentFailed');
    // A timeout may have gone through: keep the CIDRs then (a restart rebuilds the map from the nodes).
    if (!(isApiError(lastErr) && lastErr.reason === 'Timeout')) allocated.forEach((c, i) => this.cidrSets[i].release(c));
    if (isNotFound(lastErr)) return;
    throw lastErr;
  }
}

export const nodeIpamControllerDescriptor: ControllerDescriptor = {
  name: 'nodeipam',
  create: (ctx) => new NodeIpamController(ctx),
};
