// Simulated nodes (what kwok does upstream): N Nodes run inside one process over one shared pair of informers (nodes
// and pods). Each node registers itself, renews its Lease in kube-node-lease, reports Ready with heartbeats, and moves
// the pods bound to it through their lifecycle by the stages (stages.ts): Running and Ready with container statuses
// and a pod IP from its podCIDR, Job-style pods completing, deletions confirmed once the grace period is over.
import { createHash } from 'node:crypto';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../apiserver/log.js';
import {
  CoreEventRecorder,
  RateLimitingQueue,
  SharedInformerFactory,
  deletedObject,
  metaNamespaceKey,
  realClock,
  runWorkers,
  type Clock,
  type RestClient,
  type HandlerRegistration,
  type SharedIndexInformer,
  type TimerHandle,
} from '../../client/index.js';
import { ApiError } from '../../machinery/errors.js';
import { formatMicroTime, formatTime } from '../../machinery/time.js';
import { render, type Scope } from './expr.js';
import { DEFAULT_CAPACITY, type NodeCapacity } from './defaults.js';
import { FallbackCidrs, PodIPs, nodeAddress } from './ipam.js';
import { defaultStages, firstMatch, stageDelay, withVars, type Stage } from './stages.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Node annotation: "true" makes a simulated node stop renewing its Lease and reporting status (a failed node). */
export const STOP_HEARTBEAT_ANNOTATION = 'skiff.dev/stop-heartbeat';
/** Node annotation: the pod range a simulated node uses while it has no spec.podCIDR. */
export const FALLBACK_POD_CIDR_ANNOTATION = 'skiff.dev/simulated-pod-cidr';
/** Label every simulated node carries (kwok's marker), and skiff's own. */
export const SIMULATED_LABELS: Readonly<Record<string, string>> = { type: 'kwok', 'skiff.dev/simulated': 'true' };
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const SIMULATED_KUBELET_VERSION = 'v1.31.0-skiff-sim';


export interface SimulatedNodesOptions {
  /** Node names; see simulatedNodeNames. */
  names: readonly string[];
  capacity?: Partial<NodeCapacity>;
  /** Zones the nodes are spread over round-robin (topology.kubernetes.io/zone = zone-0, zone-1, ...); 0: no zone label. */
  zones?: number;
  labels?: Readonly<Record<string, string>>;
  taints?: readonly Taint[];
  stages?: readonly Stage[];
  /** Where nodes without spec.podCIDR take their pod range from. */
  clusterCidr?: string;
  /** Nodes that register but never heartbeat (as if their annotation said skiff.dev/stop-heartbeat). */
  stopHeartbeat?: readonly string[];
  leaseDurationSeconds?: number;
  /** Lease renewal period (kubelet: a quarter of the lease duration, 10 s). */
  renewIntervalMs?: number;
  /** How often Ready is reported even when nothing changed (kubelet's nodeStatusReportFrequency, 5 min). */
  statusReportIntervalMs?: number;
  /** Concurrent API calls for pod stages. */
  workers?: number;
  /** Concurrent API calls for registration, Leases and node status (each call may need a connection of its own). */
  heartbeatConcurrency?: number;
  clock?: Clock;
  random?: () => number;
  log?: Logger;
  /**
   * Informers shared with other in-process components (the scheduler inside `skiff server`): one cache and one watch
   * of pods and nodes for all of them. Its owner shuts it down; stop() only removes this simulator's handlers.
   */
  informers?: SharedInformerFactory;
}


const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** docker.io/library/busybox:latest from "busybox", as the kubelet reports images. */
export function normalizeImage(image: string): string {
  let name = image;
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  if (firstSlash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    name = `docker.io/${firstSlash < 0 ? `library/${name}` : name}`;
  }
  const lastSlash = name.lastIndexOf('/');
  if (!name.includes('@') && !name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name;
}

/** At most `max` calls in flight; the rest wait their turn in order. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface Pending {
  stage: string;
  uid: string;
  dueAt: number;
}

interface NodeState {
  name: string;
  index: number;
  address: string;
  fallbackCidr: string;
  ips?: PodIPs;
  lease?: Lease;
  timer?: TimerHandle;
  lastStatusAt: number;
}

const nodeIndexName = 'nodeName';

/** What a pod's stage expressions learn from their node. */
export interface PodEnvironment {
  now: () => Date;
  nodeName: string;
  hostIP: string;
  /** Allocates (or returns) the pod's address. */
  podIP: () => string;
}

/** The scope stage expressions see for a pod: the pod as `.`, and the functions default.yaml documents. */
export function podScope(pod: Pod, env: PodEnvironment): Scope {
  const uid = pod.metadata?.uid ?? metaNamespaceKey(pod);
  return {
    root: pod,
    vars: new Map(),
    funcs: {
      now: () => formatTime(env.now()),
      nodeName: () => env.nodeName,
      hostIP: () => env.hostIP,
      podIP: () => env.podIP(),
      containerID: (name) => `containerd://${sha256(`${uid}/${String(name)}`)}`,
      image: (image) => normalizeImage(String(image ?? '')),
      imageID: (image) => imageID(String(image ?? '')),
      default: (def, v) => (v === undefined || v === null || v === '' ? def : v),
      int: (v) => {
        const i = typeof v === 'number' ? Math.trunc(v) : parseInt(String(v), 10);
        return Number.isNaN(i) ? 0 : i;
      },
      eq: (a, b) => String(a) === String(b),
      ne: (a, b) => String(a) !== String(b),
      ternary: (a, b, cond) => (cond === true || cond === 'true' ? a : b),
      names: (list) => `[${(Array.isArray(list) ? list : []).map((c) => String((c as { name?: string }).name ?? '')).join(' ')}]`,
    },
  };
}

/** The image's repository pinned to a digest made from its name ("docker.io/library/nginx@sha256:..."). */
export function imageID(image: string): string {
  const full = normalizeImage(image);
  if (full.includes('@')) return full;
  const tag = full.lastIndexOf(':');
  const repo = tag > full.lastIndexOf('/') ? full.slice(0, tag) : full;
  return `${repo}@sha256:${sha256(`image/${full}`)}`;
}

export class SimulatedNodes {
  private readonly factory: SharedInformerFactory;
  readonly nodeInformer: SharedIndexInformer<Node>;
  readonly podInformer: SharedIndexInformer<Pod>;
  private readonly nodes = new Map<string, NodeState>();
  private readonly queue: RateLimitingQueue<string>;
  private readonly pending = new Map<string, Pending>();
  /** The stage a pod last went through and the resourceVersion that produced: a stage never re-applies to its own output. */
  private readonly applied = new Map<string, { stage: string; resourceVersion: string }>();
  private readonly podNodes = new Map<string, string>();
  private readonly stages: readonly Stage[];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger | undefined;
  private readonly recorders = new Map<string, CoreEventRecorder>();
  private readonly fallback: FallbackCidrs;
  private readonly stopped = new Set<string>();
  private workers?: Promise<void>;
  private running = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly limiter: Limiter;
  private readonly registrations: HandlerRegistration[] = [];

  constructor(
    private readonly client: RestClient,
    private readonly opts: SimulatedNodesOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.log;
    this.stages = opts.stages ?? defaultStages();
    this.fallback = new FallbackCidrs(opts.clusterCidr ?? '198.18.0.0/16');
    for (const n of opts.stopHeartbeat ?? []) this.stopped.add(n);
    opts.names.forEach((name, index) => {
      this.nodes.set(name, { name, index, address: nodeAddress(name), fallbackCidr: this.fallback.forNode(name), lastStatusAt: -Infinity });
    });
    this.limiter = new Limiter(opts.heartbeatConcurrency ?? 16);
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.factory = opts.informers ?? new SharedInformerFactory(client, { clock: this.clock });
    this.nodeInformer = this.factory.informerFor<Node>(NODES);
    this.podInformer = this.factory.informerFor<Pod>(PODS);
    this.podInformer.addIndexers({ [nodeIndexName]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    this.addHandlers();
  }

  /** The names of the nodes this simulator runs. */
  names(): string[] {
    return [...this.nodes.keys()];
  }

  /** Registers the nodes, then runs leases, heartbeats and pod stages until stop(). */
  async start(syncTimeoutMs = 60_000): Promise<void> {
    this.running = true;
    this.factory.start();
    if (!(await this.factory.waitForCacheSync(syncTimeoutMs))) throw new Error('simulated nodes: timed out waiting for the informers to sync');
    await Promise.all([...this.nodes.values()].map((n) => this.limiter.run(() => this.register(n))));
    const renew = this.opts.renewIntervalMs ?? 10_000;
    const count = this.nodes.size;
    for (const n of this.nodes.values()) {
      // Spread the first renewals over one period so N nodes do not all write at once.
      this.scheduleTick(n, count > 1 ? Math.floor((n.index / count) * renew) : 0);
    }
    this.workers = runWorkers(this.queue, this.opts.workers ?? 16, (key) => this.syncPod(key), {
      onError: (key, err) => this.log?.debug('simulated pod stage failed, will retry', { pod: key, err: String(err) }),
    });
    for (const n of this.nodes.values()) for (const p of this.podInformer.indexer.byIndex(nodeIndexName, n.name)) this.queue.add(metaNamespaceKey(p));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const n of this.nodes.values()) n.timer?.cancel();
    this.queue.shutDown();
    await this.workers;
    await Promise.allSettled([...this.inflight]);
    if (this.opts.informers) for (const r of this.registrations.splice(0)) r.remove();
    else await this.factory.shutdown();
    await Promise.allSettled([...this.recorders.values()].map((r) => r.flush()));
  }

  /** The stage a pod waits for and when it is due (tests and diagnostics). */
  pendingFor(podKey: string): { stage: string; dueAt: number } | undefined {
    const p = this.pending.get(podKey);
    return p ? { stage: p.stage, dueAt: p.dueAt } : undefined;
  }

  /** Whether the node currently heartbeats (not stopped by flag or annotation). */
  heartbeating(name: string): boolean {
    if (this.stopped.has(name)) return false;
    return this.nodeInformer.indexer.getByKey(name)?.metadata?.annotations?.[STOP_HEARTBEAT_ANNOTATION] !== 'true';
  }

  // ---- nodes

  private nodeLabels(n: NodeState): Record<string, string> {
    const zones = this.opts.zones ?? 3;
    return {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': n.name,
      'kubernetes.io/os': 'linux',
      'node.kubernetes.io/instance-type': 'skiff-simulated',
      ...SIMULATED_LABELS,
      ...(zones > 0 ? { [ZONE_LABEL]: `zone-${n.index % zones}`, [REGION_LABEL]: 'simulated' } : {}),
      ...this.opts.labels,
    };
  }

  private capacity(): NodeCapacity {
    return { ...DEFAULT_CAPACITY, ...this.opts.capacity };
  }

  private conditions(existing: readonly NodeCondition[] | undefined): NodeCondition[] {
    const now = formatTime(new Date(this.clock.now()));
    const make = (type: string, status: string, reason: string, message: string): NodeCondition => {
      const old = existing?.find((c) => c.type === type);
      return {
        type,
        status,
        reason,
        message,
        lastHeartbeatTime: now,
        lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
      };
    };
    return [
      make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      make('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ];
  }

  private nodeStatus(n: NodeState, existing: Node | undefined): NonNullable<Node['status']> {
    const capacity = this.capacity();
    const id = sha256(`machine/${n.name}`).slice(0, 32);
    return {
      capacity: { ...capacity },
      allocatable: { ...capacity },
      conditions: this.conditions(existing?.status?.conditions),
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id,
        systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        bootID: sha256(`boot/${n.name}`).slice(0, 32),
        kernelVersion: '6.1.0-skiff-sim',
        osImage: 'skiff simulated node',
        containerRuntimeVersion: 'skiff-sim://0.1.0',
        kubeletVersion: SIMULATED_KUBELET_VERSION,
        kubeProxyVersion: SIMULATED_KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
  }

  /** Creates the Node, or brings an existing one (a restarted simulator) up to date. */
  private async register(n: NodeState): Promise<void> {
    const nodes = this.client.resource<Node>(NODES);
    const labels = this.nodeLabels(n);
    const existing = this.nodeInformer.indexer.getByKey(n.name);
    if (!existing) {
      const node: Node = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: n.name,
          labels,
          annotations: { 'node.alpha.kubernetes.io/ttl': '0', [FALLBACK_POD_CIDR_ANNOTATION]: n.fallbackCidr },
        },
        spec: this.opts.taints?.length ? { taints: this.opts.taints.map((t) => ({ ...t })) } : {},
        status: this.nodeStatus(n, undefined),
      };
      try {
        await nodes.create(node);
        n.lastStatusAt = this.clock.now();
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      }
    }
    await nodes.patch(n.name, { metadata: { labels, annotations: { [FALLBACK_POD_CIDR_ANNOTATION]: n.fallbackCidr } } }, { type: 'merge' });
    await this.postStatus(n);
  }

  private async postStatus(n: NodeState): Promise<void> {
    const current = this.nodeInformer.indexer.getByKey(n.name);
    await this.client
      .resource<Node>(NODES)
      .patch(n.name, { status: this.nodeStatus(n, current) }, { type: 'merge', subresource: 'status' });
    n.lastStatusAt = this.clock.now();
  }

  private scheduleTick(n: NodeState, delayMs: number): void {
    if (!this.running) return;
    n.timer = this.clock.setTimer(() => {
      const done = this.limiter
        .run(() => this.tick(n))
        .catch((err: unknown) => this.log?.warn('simulated node heartbeat failed', { node: n.name, err: String(err) }))
        .finally(() => {
          this.inflight.delete(done);
          this.scheduleTick(n, this.opts.renewIntervalMs ?? 10_000);
        });
      this.inflight.add(done);
    }, delayMs);
  }

  /** One heartbeat: renew the Lease; report status when due or when someone else marked the node not Ready. */
  private async tick(n: NodeState): Promise<void> {
    if (!this.heartbeating(n.name)) return;
    await this.renewLease(n);
    const node = this.nodeInformer.indexer.getByKey(n.name);
    if (!node) {
      // Deleted by someone: register again, as a kubelet does after a restart.
      await this.register(n);
      return;
    }
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const due = this.clock.now() - n.lastStatusAt >= (this.opts.statusReportIntervalMs ?? 300_000);
    if (due || ready?.status !== 'True') await this.postStatus(n);
  }

  private async renewLease(n: NodeState): Promise<void> {
    const leases = this.client.resource<Lease>(LEASES);
    const renewTime = formatMicroTime(new Date(this.clock.now()));
    const spec = { holderIdentity: n.name, leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40, renewTime };
    if (n.lease) {
      try {
        n.lease = await leases.update({ ...n.lease, spec: { ...n.lease.spec, ...spec } });
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.reason !== 'Conflict' && err.reason !== 'NotFound')) throw err;
        n.lease = undefined;
      }
    }
    // No Lease known (first start, or it changed under us): create it, or take the stored one over.
    const uid = this.nodeInformer.indexer.getByKey(n.name)?.metadata?.uid;
    try {
      n.lease = await leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: n.name,
          namespace: NODE_LEASE_NAMESPACE,
          ...(uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid }] } : {}),
        },
        spec,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      const current = await leases.get(n.name, { namespace: NODE_LEASE_NAMESPACE });
      n.lease = await leases.update({ ...current, spec: { ...current.spec, ...spec } });
    }
  }

  // ---- pods

  private addHandlers(): void {
    this.registrations.push(this.podInformer.addEventHandler({
      onAdd: (pod) => this.onPod(pod),
      onUpdate: (_old, pod) => this.onPod(pod),
      onDelete: (obj) => {
        const pod = deletedObject(obj);
        const key = metaNamespaceKey(pod);
        this.forgetPod(key);
      },
    }));
    this.registrations.push(this.nodeInformer.addEventHandler({
      onUpdate: (oldNode, node) => {
        const name = node.metadata?.name ?? '';
        if (!this.nodes.has(name)) return;
        const was = oldNode.metadata?.annotations?.[STOP_HEARTBEAT_ANNOTATION] === 'true';
        const is = node.metadata?.annotations?.[STOP_HEARTBEAT_ANNOTATION] === 'true';
        if (was && !is && this.running) for (const p of this.podInformer.indexer.byIndex(nodeIndexName, name)) this.queue.add(metaNamespaceKey(p));
      },
    }));
  }

  private onPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    const key = metaNamespaceKey(pod);
    if (!nodeName) return;
    const n = this.nodes.get(nodeName);
    if (!n) return;
    this.podNodes.set(key, nodeName);
    const ip = pod.status?.podIP;
    if (ip && !pod.spec?.hostNetwork) {
      const ips = this.podIPs(n);
      if (!ips.contains(ip) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') ips.release(key);
      else ips.claim(key, ip);
    }
    if (this.running) this.queue.add(key);
  }

  private forgetPod(key: string): void {
    const nodeName = this.podNodes.get(key);
    if (nodeName) this.nodes.get(nodeName)?.ips?.release(key);
    this.podNodes.delete(key);
    this.pending.delete(key);
    this.applied.delete(key);
  }

  /** The node's pod range: spec.podCIDR once set, the fallback range until then. */
  private podIPs(n: NodeState): PodIPs {
    const cidr = this.nodeInformer.indexer.getByKey(n.name)?.spec?.podCIDR || n.fallbackCidr;
    if (!n.ips || n.ips.cidr !== cidr) n.ips = new PodIPs(cidr);
    return n.ips;
  }

  private podScope(pod: Pod, n: NodeState): Scope {
    const key = metaNamespaceKey(pod);
    return podScope(pod, {
      now: () => new Date(this.clock.now()),
      nodeName: n.name,
      hostIP: n.address,
      podIP: () => (pod.spec?.hostNetwork ? n.address : this.podIPs(n).allocate(key)),
    });
  }

  private async syncPod(key: string): Promise<void> {
    const pod = this.podInformer.indexer.getByKey(key);
    if (!pod) return this.forgetPod(key);
    const n = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!n || !this.heartbeating(n.name)) return;
    const scope = this.podScope(pod, n);
    const stage = firstMatch(this.stages, pod, scope);
    const uid = pod.metadata?.uid ?? '';
    if (!stage) {
      this.pending.delete(key);
      return;
    }
    const last = this.applied.get(key);
    if (last && last.stage === stage.name && last.resourceVersion === pod.metadata?.resourceVersion) {
      // The stage's own output matches it again: it would loop. Wait for something else to change the pod.
      return;
    }
    let p = this.pending.get(key);
    if (!p || p.stage !== stage.name || p.uid !== uid) {
      p = { stage: stage.name, uid, dueAt: this.clock.now() + stageDelay(stage.delay, scope, this.clock.now(), this.random) };
      this.pending.set(key, p);
    }
    const wait = p.dueAt - this.clock.now();
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return;
    }
    await this.apply(stage, pod, withVars(stage, scope));
    this.pending.delete(key);
  }

  private async apply(stage: Stage, pod: Pod, scope: Scope): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace;
    const pods = this.client.resource<Pod>(PODS);
    if (stage.next.event) this.recorder(pod.spec?.nodeName ?? '').event(pod, stage.next.event.type, stage.next.event.reason, stage.next.event.message);
    if (stage.next.delete) {
      try {
        const left = await pods.delete(name, { namespace, gracePeriodSeconds: 0, ...(pod.metadata?.uid ? { preconditions: { uid: pod.metadata.uid } } : {}) });
        // Still there (finalizers): do not delete it again until something else changes it.
        const kept = (left as Pod).kind === 'Pod' && ((left as Pod).metadata?.finalizers?.length ?? 0) > 0;
        const rv = kept ? (left as Pod).metadata?.resourceVersion : undefined;
        if (rv) this.applied.set(metaNamespaceKey(pod), { stage: stage.name, resourceVersion: rv });
      } catch (err) {
        if (!(err instanceof ApiError && (err.reason === 'NotFound' || err.reason === 'Conflict'))) throw err;
      }
      return;
    }
    if (stage.next.statusTemplate === undefined) return;
    const status = render(stage.next.statusTemplate, scope);
    try {
      const updated = await pods.patch(
        name,
        { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status },
        { namespace, type: 'merge', subresource: 'status' },
      );
      this.applied.set(metaNamespaceKey(pod), { stage: stage.name, resourceVersion: updated.metadata?.resourceVersion ?? '' });
    } catch (err) {
      // A newer version of the pod is on its way through the informer and will be synced again.
      if (err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'NotFound')) return;
      throw err;
    }
  }

  private recorder(node: string): CoreEventRecorder {
    let r = this.recorders.get(node);
    if (!r) {
      r = new CoreEventRecorder(this.client, {
        component: 'kubelet',
        host: node,
        clock: this.clock,
        onError: (err) => this.log?.debug('simulated node: event recording failed', { err: String(err) }),
      });
      this.recorders.set(node, r);
    }
    return r;
  }
}
