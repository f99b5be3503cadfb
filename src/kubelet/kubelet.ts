// The kubelet: registers the Node, renews its Lease, reports node status, and runs the pods bound to it through a
// CRI runtime (containerd, supervised here unless an endpoint is given). Each pod has its own serialized worker;
// informer events, a one-second relist of the runtime (upstream's PLEG), changes to the ConfigMaps and Secrets its
// volumes use, and a per-pod resync (--sync-frequency, with upstream's jitter) all trigger syncs.
import { existsSync } from 'node:fs';
import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeStatus, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { GIT_VERSION } from '../apiserver/version.js';
import {
  CoreEventRecorder,
  deletedObject,
  listWatcherFor,
  realClock,
  SharedIndexInformer,
  type Clock,
  type ResourceClient,
  type RestClient,
  type TimerHandle,
} from '../client/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/errors.js';
import { parseGoDuration } from '../machinery/duration.js';
import { formatMicroTime } from '../machinery/time.js';
import { startContainerd, useExistingRuntime, containerdPaths, type Containerd } from './containerd/supervisor.js';
import { CriClient } from './cri/client.js';
import { buildBusyboxImage, PAUSE_IMAGE } from './images/build.js';
import { DEFAULT_IMAGE_GC_POLICY, IMAGE_GC_PERIOD_MS, ImageGC, statfsUsage, type ImageGCPolicy } from './images/gc.js';
import { importImageArchive, importImagesDir, readImportedImages } from './images/import.js';
import { loadRegistries } from './images/registries.js';
import { bridgeName, ensureMasquerade, writeCniConfig } from './network/cni.js';
import { machineInfo, pressureSignals, type MachineInfo } from './node/machine.js';
import { computeNodeStatus, initialNode, KUBELET_PORT, nodeStatusChanged, type NodeIdentity, type RuntimeHealth } from './node/status.js';
import { PodCgroups } from './pods/cgroups.js';
import { EvictionManager } from './eviction/manager.js';
import { admitUnderPressure } from './eviction/admit.js';
import { PodAdmitter } from './admission/admitter.js';
import { PredicateAdmitHandler } from './admission/predicate.js';
import { PREEMPTED_CONDITION_MESSAGE, PREEMPTED_MESSAGE, PREEMPTING_REASON } from './admission/preemption.js';
import { sysctlAllowlist, type SysctlAllowlist } from './admission/sysctl.js';
import { DEFAULT_EVICTION_CONFIG, type EvictionConfig } from './eviction/thresholds.js';
import { observeNode, podUsageFromRuntime } from './eviction/signals.js';
import { hasLocalStorageLimits, isCriticalPod, localStorageViolation, podStorageUsage } from './pods/eviction.js';
import { parseResolvConf, type DnsSettings } from './pods/config.js';
import { listRuntimePods } from './pods/runtime-state.js';
import { Pleg, RuntimePodCache } from './pods/pod-cache.js';
import { podObjectRefs, WatchingObjectSource, type ObjectKey } from './pods/objects.js';
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_MIRROR, isMirrorPod, mirrorPodFor, readStaticPods } from './pods/static.js';
import { PodSyncer, type Logger } from './pods/sync.js';
import { VolumeManager } from './pods/volumes.js';
import { trace } from './pods/trace.js';
import { DEFAULT_SYNC_FREQUENCY_MS, resyncDelayMs } from './pods/resync.js';
import { startKubeletServer, type KubeletServer } from './server/server.js';
import { collectResourceUsage } from './metrics/collector.js';
import { nodeBootTime, readNodeUsage } from './metrics/node-usage.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;
export const NODE_STATUS_UPDATE_MS = 10_000;
/** Upstream posts an unchanged node status at least this often (nodeStatusReportFrequency). */
export const NODE_STATUS_REPORT_MS = 300_000;
export const RELIST_MS = 1000;
/** Upstream's housekeeping (pod directories, back-off and watch clean-up, QoS cgroups); upstream runs it every 2 s. */
export const HOUSEKEEPING_MS = 10_000;
/** How often the eviction manager measures local storage (upstream: its 10 s monitoring interval). */
export const EVICTION_MONITORING_MS = 10_000;
/** How often the static pod folder is read (upstream: inotify plus a 20 s --file-check-frequency). */
export const STATIC_POD_CHECK_MS = 2000;
/** A ConfigMap/Secret watch no pod sync read for this long is stopped. */
export const OBJECT_WATCH_IDLE_MS = 60_000;

/** Whether `next` differs from `prev` in its status (and resourceVersion, managedFields) only. */
export function onlyStatusChanged(prev: Pod, next: Pod): boolean {
  const a = prev.metadata ?? {};
  const b = next.metadata ?? {};
  if (a.uid !== b.uid || a.deletionTimestamp !== b.deletionTimestamp || a.deletionGracePeriodSeconds !== b.deletionGracePeriodSeconds) return false;
  const same = (x: unknown, y: unknown) => x === y || JSON.stringify(x) === JSON.stringify(y);
  return same(a.labels, b.labels) && same(a.annotations, b.annotations) && same(a.ownerReferences, b.ownerReferences) && same(prev.spec, next.spec);
}

export interface KubeletOptions {
  client: RestClient;
  nodeName: string;
  nodeIP: string;
  hostname?: string;
  /** Servers: node-role.kubernetes.io/control-plane. */
  controlPlane: boolean;
  /** Extra labels to register with. */
  labels?: Record<string, string>;
  /** <data-dir>/agent: containerd, CNI, images, pod logs. */
  agentDir: string;
  /** Used when the Node has no spec.podCIDR (no IPAM controller assigned one). */
  podCIDR?: string;
  clusterDNS: string[];
  clusterDomain?: string;
  /** A CRI socket already running: use it instead of starting containerd. */
  containerRuntimeEndpoint?: string;
  /** Static pod manifests (default <agentDir>/pod-manifests). */
  podManifestPath?: string;
  /** The kubelet's HTTPS port (default 10250; taken: any free port, reported in the Node's daemonEndpoints). */
  port?: number;
  /** PEM of the CA whose client certificates may call the kubelet's API (the API server's). */
  clientCA?: string;
  /** The kubelet's serving certificate and key, signed by the cluster CA. */
  serving?: { cert: string; key: string };
  /** Taints the Node is registered with (--node-taint; as upstream, only at registration). */
  taints?: Taint[];
  log: Logger & { error(msg: string, fields?: Record<string, unknown>): void };
  clock?: Clock;
  /** Private registries: k3s's registries.yaml (default <agentDir>/etc/registries.yaml; a missing file: none). */
  privateRegistry?: string;
  /** Image garbage collection thresholds (--kubelet-arg image-gc-*; default 85/80 %, 2 min). */
  imageGC?: ImageGCPolicy;
  /** Node-pressure eviction thresholds (--kubelet-arg eviction-*; default upstream's hard thresholds). */
  eviction?: EvictionConfig;
  /** --kubelet-arg sync-frequency: the per-pod resync period (default 1 min). */
  syncFrequencyMs?: number;
  /** Picks the resync jitter (tests; default Math.random). */
  random?: () => number;
  /** --kubelet-arg allowed-unsafe-sysctls: allowed beyond the safe sysctls (names, or prefixes ending in *). */
  allowedUnsafeSysctls?: string[];
}

interface PodWorker {
  running: boolean;
  pending: boolean;
  /** The PLEG saw the pod change while its sync ran: sync again unless that sync already saw the same state. */
  plegPending?: boolean;
  timer?: TimerHandle;
  /** When its last sync ended: the next sync reads the pod cache once it is newer than this (upstream's lastSyncTime). */
  lastSyncEnd?: number;
}

export class Kubelet {
  private readonly clock: Clock;
  private readonly nodes: ResourceClient<Node>;
  private readonly leases: ResourceClient<Lease>;
  /** The lease as the last successful write returned it (upstream's latestLease). */
  private latestLease: Lease | undefined;
  private readonly podsClient: ResourceClient<Pod>;
  private runtime: Containerd | undefined;
  private cri: CriClient | undefined;
  private syncer: PodSyncer | undefined;
  private informer: SharedIndexInformer<Pod> | undefined;
  private readonly workers = new Map<string, PodWorker>();
  private readonly uidToKey = new Map<string, string>();
  /** Each pod's runtime state as the relist (and the syncs) last read it (upstream's PLEG pod cache). */
  private readonly podCache = new RuntimePodCache();
  private pleg: Pleg | undefined;
  private readonly timers: TimerHandle[] = [];
  private stopped = false;
  private machine: MachineInfo | undefined;
  private nodeUid = '';
  private lastPostedStatus: NodeStatus | undefined;
  private lastPostedAt = 0;
  private podCIDR = '';
  private runtimeVersion = '';
  private readonly events: CoreEventRecorder;
  private server: KubeletServer | undefined;
  private pressureEviction: EvictionManager | undefined;
  private imageGC: ImageGC | undefined;
  private volumes: VolumeManager | undefined;
  private cgroups: PodCgroups | undefined;
  private objects: WatchingObjectSource | undefined;
  /** Image names image GC never removes (the sandbox image and the airgap folder's archives). */
  private pinnedImages: ReadonlySet<string> = new Set();
  /** Static pods from the manifests folder, by UID. */
  private staticPods = new Map<string, Pod>();
  /** The Node as last read, with the status last computed (what admission checks pods against). */
  private node: Node | undefined;
  private readonly sysctls: SysctlAllowlist;
  private readonly admitter: PodAdmitter;

  constructor(private readonly o: KubeletOptions) {
    this.clock = o.clock ?? realClock;
    this.nodes = o.client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    this.leases = o.client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
    this.podsClient = o.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    this.events = new CoreEventRecorder(o.client, { component: 'kubelet', host: o.nodeName, onError: () => undefined });
    this.sysctls = sysctlAllowlist(o.allowedUnsafeSysctls ?? []);
    const predicates = new PredicateAdmitHandler({
      node: async (fresh) => {
        if (fresh || !this.node) this.node = this.withLastStatus(await this.nodes.get(o.nodeName));
        return this.node;
      },
      preempt: (pods) => this.preempt(pods),
    });
    // Upstream's admit handlers in its order: the eviction manager's (node pressure), sysctls, predicates.
    this.admitter = new PodAdmitter({
      handlers: [
        (pod) => (this.pressureEviction ? admitUnderPressure(pod, this.pressureEviction.pressure()) : { admit: true }),
        (pod) => this.sysctls.admit(pod),
        (pod, others) => predicates.admit(pod, others),
      ],
      current: (uid) => {
        const pod = this.podFor(uid);
        return pod && this.syncer ? this.syncer.withOwnStatus(pod) : pod;
      },
    });
  }

  /** `node` with the status this kubelet computed last (the API's copy may lag behind it). */
  private withLastStatus(node: Node): Node {
    return this.lastPostedStatus ? { ...node, status: { ...node.status, ...this.lastPostedStatus } } : node;
  }

  /**
   * Upstream's kubelet preemption (killPodNow): one pod after the other is killed within its grace period and ends
   * Failed, reason Preempting; each kill is waited for (at most 1.5 times the grace, at least 10 s, as upstream).
   */
  private async preempt(pods: readonly Pod[]): Promise<void> {
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.o.log.info('preempting pod to admit a critical pod', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, gracePeriodSeconds: grace });
      this.admitter.release(uid);
      this.syncer?.requestEviction(uid, PREEMPTED_MESSAGE, { reason: PREEMPTING_REASON, gracePeriodSeconds: grace, disruptionTarget: true, conditionMessage: PREEMPTED_CONDITION_MESSAGE });
      this.enqueue(uid);
      const deadline = this.clock.now() + Math.max(10, grace * 1.5) * 1000;
      const killed = () => {
        const current = this.podFor(uid);
        return !current || this.syncer?.withOwnStatus(current).status?.phase === 'Failed';
      };
      while (!killed() && !this.stopped && this.clock.now() < deadline) await new Promise<void>((resolve) => this.clock.setTimer(resolve, 100));
      if (!killed()) this.o.log.warn('preemption: the pod was not killed in time', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
    }
  }

  private identity(): NodeIdentity {
    return { name: this.o.nodeName, addresses: [this.o.nodeIP], hostname: this.o.hostname ?? this.o.nodeName, controlPlane: this.o.controlPlane, ...(this.o.labels ? { extraLabels: this.o.labels } : {}) };
  }

  get criSocket(): string | undefined {
    return this.runtime?.socket;
  }

  /** The port the kubelet's HTTPS API listens on (after start). */
  get kubeletPort(): number | undefined {
    return this.server?.port;
  }

  /** Starts the runtime, imports images, registers the node, then runs the loops. Resolves once pods can run. */
  async start(): Promise<void> {
    const { agentDir, log } = this.o;
    await mkdir(agentDir, { recursive: true });
    this.machine = machineInfo(agentDir);

    // 1. The runtime and images.
    if (this.o.containerRuntimeEndpoint) this.runtime = await useExistingRuntime(this.o.containerRuntimeEndpoint);
    else {
      const registries = await loadRegistries(this.o.privateRegistry ?? join(agentDir, 'etc', 'registries.yaml'));
      this.runtime = await startContainerd({ agentDir, sandboxImage: PAUSE_IMAGE, registries, log: (m, f) => log.info(m, f), warn: (m, f) => log.warn(m, f) });
    }
    this.cri = new CriClient(this.runtime.socket);
    this.runtimeVersion = (await this.cri.version()).runtimeVersion;
    if (!(await this.cri.imageStatus({ image: PAUSE_IMAGE }))) {
      // Built in the agent dir (an outside runtime leaves no containerd dir) and removed once imported.
      const file = join(agentDir, 'pause.oci.tar');
      try {
        await buildBusyboxImage({ name: PAUSE_IMAGE, entrypoint: ['/bin/sleep', '2147483647'] }, file);
        await importImageArchive(this.runtime.socket, file);
      } finally {
        await rm(file, { force: true });
      }
    }
    // The airgap folder's images are pinned (never garbage-collected), as k3s pins them.
    const imported = await importImagesDir(this.runtime.socket, join(agentDir, 'images'), (m, f) => log.info(m, f));
    this.pinnedImages = new Set([PAUSE_IMAGE, ...imported]);

    // 2. Pods' DNS and the pod syncer.
    let host: DnsSettings['host'] = { servers: [], searches: [], options: [] };
    if (existsSync('/etc/resolv.conf')) host = parseResolvConf(await readFile('/etc/resolv.conf', 'utf8'));
    const dns: DnsSettings = { clusterDNS: this.o.clusterDNS, clusterDomain: this.o.clusterDomain ?? 'cluster.local', host };
    // Pod cgroups nest under the runtime's own cgroup (only when we run containerd: its cgroup is ours to use).
    const cgroups = (this.cgroups = this.runtime.process?.pid ? await PodCgroups.detect(this.runtime.process.pid, agentDir) : undefined);
    if (!cgroups) log.info('pod cgroups: not managed here (no cgroup v1 cpu and memory controllers, or an external runtime)');
    this.volumes = new VolumeManager(join(agentDir, 'pods'), dns.clusterDomain);
    this.syncer = new PodSyncer({
      cri: this.cri,
      pods: this.podsClient,
      events: this.events,
      clock: this.clock,
      hostIPs: () => [this.o.nodeIP],
      logRoot: join(agentDir, 'logs', 'pods'),
      dns,
      log,
      podsDir: join(agentDir, 'pods'),
      memoryCapacity: this.machine.memoryBytes,
      onProbeChange: (uid) => this.enqueue(uid),
      ...(cgroups ? { cgroups } : {}),
      objects: (this.objects = this.newObjectSource()),
      volumes: this.volumes,
      allocatable: () => (this.lastPostedStatus?.allocatable ?? {}) as Record<string, string>,
      mirrorPod: (pod) => this.currentMirror(pod),
      admit: (pod) => this.admitter.admit(pod),
      podCache: (uid) => this.podCache.getNewerThan(uid, this.workers.get(uid)?.lastSyncEnd ?? -Infinity),
    });
    this.pleg = new Pleg({ cri: this.cri, clock: this.clock, cache: this.podCache, onChange: (uid) => {
      trace(uid, 'plegChange');
      this.enqueue(uid, 0, true);
    } });

    // 3. The kubelet's HTTPS API (logs for the API server), then the Node, its pod CIDR and the CNI network.
    await this.startServer();
    await this.registerNode();
    await this.ensurePodCIDR();
    await this.updateNodeStatus();
    await this.renewLease();
    this.every(NODE_STATUS_UPDATE_MS, () => this.updateNodeStatus());
    this.every(LEASE_DURATION_SECONDS * 250, () => this.renewLease());

    // 4. Pods bound to this node.
    const lw = listWatcherFor(this.podsClient, { fieldSelector: `spec.nodeName=${this.o.nodeName}` });
    this.informer = new SharedIndexInformer<Pod>(lw, { clock: this.clock, reflector: { name: `kubelet pods ${this.o.nodeName}` } });
    this.informer.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (o, p) => {
        // A status-only change (mostly the kubelet's own status write coming back) needs no sync, as upstream's pod
        // config hands such updates to the status manager rather than to the pod workers; the resync still runs.
        if (!onlyStatusChanged(o, p)) this.podChanged(p);
      },
      onDelete: (p) => this.podChanged(deletedObject(p), true),
    });
    this.informer.run();
    await this.informer.waitForCacheSync();
    this.every(RELIST_MS, () => this.relist());
    await this.syncStaticPods().catch((err: unknown) => log.warn('static pods failed', { err: (err as Error).message }));
    // The pods bound here already (those that ran before a restart too) are admitted again first, in creation order.
    await this.admitter.admitExisting([...this.informer.indexer.list().filter((p) => !isMirrorPod(p)), ...this.staticPods.values()]);
    this.every(STATIC_POD_CHECK_MS, () => this.syncStaticPods());
    // Each pod's periodic resync is its own timer, set when its sync ends (runWorker).
    this.every(HOUSEKEEPING_MS, async () => {
      this.syncer?.backoff.gc();
      this.syncer?.images.backoff.gc();
      const active = this.activePods();
      await this.cgroups?.updateQos(active);
      await this.cleanupPodDirs();
      const inUse = new Set<string>();
      for (const p of active) for (const k of podObjectRefs(p)) inUse.add(k);
      await this.objects?.gc(OBJECT_WATCH_IDLE_MS, (k) => inUse.has(k));
    });
    this.every(EVICTION_MONITORING_MS, () => this.localStorageEviction());
    this.startNodePressureEviction();
    this.startImageGC();
    log.info('kubelet started', { node: this.o.nodeName, runtime: `containerd ${this.runtimeVersion}`, socket: this.runtime.socket });
  }

  /** ConfigMaps and Secrets through watches; a change syncs the pods whose volumes use the object now. */
  private newObjectSource(): WatchingObjectSource {
    const objects = new WatchingObjectSource(this.o.client, this.clock);
    objects.onChange = (key) => {
      for (const uid of this.podsUsingInVolumes(key)) this.enqueue(uid);
    };
    return objects;
  }

  /** The UIDs of the pods here (API and static, not finished) whose configMap/secret/projected volumes use `key`. */
  podsUsingInVolumes(key: ObjectKey): string[] {
    return this.activePods()
      .filter((p) => podObjectRefs(p, true).has(key))
      .map((p) => p.metadata?.uid ?? '');
  }

  private async startServer(): Promise<void> {
    const cri = this.cri!;
    const serverOpts = { agentDir: this.o.agentDir, nodeName: this.o.nodeName, addresses: [this.o.nodeIP], ...(this.o.clientCA ? { clientCA: this.o.clientCA } : {}), ...(this.o.serving ? { serving: this.o.serving } : {}) };
    const deps = {
      pod: (ns: string, name: string) => this.staticPodNamed(ns, name) ?? this.informer?.indexer.getByKey(`${ns}/${name}`),
      runtime: async (uid: string) => (uid ? (await listRuntimePods(cri, uid)).get(uid) : undefined),
      cachedRuntime: (uid: string) => this.podCache.get(uid),
      running: async (id: string) => {
        try {
          return (await cri.containerStatus(id)).state === 'CONTAINER_RUNNING';
        } catch {
          return false;
        }
      },
      exec: (id: string, command: string[]) => cri.execSync(id, command, 0),
      execUrl: (req: Parameters<CriClient['exec']>[0]) => cri.exec(req),
      attachUrl: (req: Parameters<CriClient['attach']>[0]) => cri.attach(req),
      portForwardUrl: (sandboxId: string, ports: number[]) => cri.portForward(sandboxId, ports),
      logRoot: join(this.o.agentDir, 'logs', 'pods'),
      resourceUsage: () => collectResourceUsage(this.o.nodeName, cri, () => readNodeUsage()),
      nodeStartTime: nodeBootTime(),
    };
    const port = this.o.port ?? KUBELET_PORT;
    try {
      this.server = await startKubeletServer({ ...serverOpts, port }, deps);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      this.server = await startKubeletServer({ ...serverOpts, port: 0 }, deps);
      this.o.log.warn('kubelet port in use: serving on another one', { wanted: port, port: this.server.port });
    }
  }

  /** Runs `fn` every `ms` (after it finished), logging failures, until stop(). */
  /** Image GC every 5 min (SKIFF_IMAGE_GC_PERIOD, a Go duration, shortens it for tests). */
  private startImageGC(): void {
    const cri = this.cri!;
    const root = this.runtime?.process ? containerdPaths(this.o.agentDir).root : this.o.agentDir;
    const gc = (this.imageGC = new ImageGC({
      runtime: { listImages: () => cri.listImages(), listContainers: () => cri.listContainers(), removeImage: (i) => cri.removeImage(i) },
      usage: statfsUsage(root),
      clock: this.clock,
      policy: this.o.imageGC ?? DEFAULT_IMAGE_GC_POLICY,
      pinned: () => new Set([...this.pinnedImages, ...readImportedImages(this.o.agentDir)]),
      log: (m, f) => this.o.log.info(m, f),
      onFailure: (message) => this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.o.nodeName, uid: this.nodeUid } }, 'Warning', 'ImageGCFailed', message),
    }));
    const period = parseGoDuration(process.env.SKIFF_IMAGE_GC_PERIOD ?? '') ?? IMAGE_GC_PERIOD_MS;
    gc.detectImages().catch((err: unknown) => this.o.log.warn('image gc: listing images failed', { err: (err as Error).message }));
    this.every(period, async () => {
      await gc.garbageCollect();
    });
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const slot = this.timers.length;
    const tick = () => {
      if (this.stopped) return;
      fn()
        .catch((err: unknown) => this.o.log.warn('kubelet loop failed', { err: (err as Error).message }))
        .finally(() => {
          if (!this.stopped) this.timers[slot] = this.clock.setTimer(tick, ms);
        });
    };
    this.timers.push(this.clock.setTimer(tick, ms));
  }

  private podChanged(pod: Pod, deleted = false): void {
    const uid = pod.metadata?.uid ?? '';
    trace(uid, 'informer', { name: pod.metadata?.name, rv: pod.metadata?.resourceVersion });
    if (!uid) return;
    if (isMirrorPod(pod)) {
      // Mirror pods are never run: their static pod is (and its status goes to the current mirror).
      const s = this.staticPodNamed(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
      if (s) this.enqueue(s.metadata?.uid ?? '');
      return;
    }
    if (!deleted) this.uidToKey.set(uid, `${pod.metadata?.namespace}/${pod.metadata?.name}`);
    this.enqueue(uid);
  }

  /** Pods that run or may still run here (not finished): the API's (mirror pods excepted) and static ones. */
  private activePods(): Pod[] {
    const all = [...(this.informer?.indexer.list() ?? []).filter((p) => !isMirrorPod(p)), ...this.staticPods.values()];
    return all.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  }

  /**
   * Upstream's localStorageEviction: running pods that use more local storage than they declared (emptyDir
   * sizeLimit, ephemeral-storage limits) are evicted; critical pods never are.
   */
  private async localStorageEviction(): Promise<void> {
    if (!this.cri || !this.volumes || !this.syncer) return;
    const volumes = this.volumes;
    const src = { emptyDirPath: (uid: string, name: string) => volumes.emptyDirPath(uid, name), cri: this.cri, logRoot: join(this.o.agentDir, 'logs', 'pods') };
    for (const pod of this.activePods()) {
      if (pod.metadata?.deletionTimestamp) continue;
      if (!hasLocalStorageLimits(pod) || isCriticalPod(pod)) continue;
      const message = localStorageViolation(pod, await podStorageUsage(pod, src));
      if (message === undefined) continue;
      this.syncer.requestEviction(pod.metadata?.uid ?? '', message);
      this.enqueue(pod.metadata?.uid ?? '');
    }
  }

  /** Node-pressure eviction (eviction/manager.ts): its conditions go into the Node status. */
  private startNodePressureEviction(): void {
    const cri = this.cri!;
    const volumes = this.volumes;
    const imagefs = this.runtime?.process ? containerdPaths(this.o.agentDir).root : this.o.agentDir;
    const src = { emptyDirPath: (uid: string, name: string) => volumes?.emptyDirPath(uid, name) ?? '', logRoot: join(this.o.agentDir, 'logs', 'pods') };
    this.pressureEviction = new EvictionManager({
      config: this.o.eviction ?? DEFAULT_EVICTION_CONFIG,
      clock: this.clock,
      observe: async () => observeNode(this.o.agentDir, imagefs),
      activePods: () => this.activePods(),
      podUsage: async (pods) => podUsageFromRuntime(pods, await cri.listContainerStats(), src),
      evict: (pod, message, gracePeriodSeconds) => {
        this.syncer?.requestEviction(pod.metadata?.uid ?? '', message, { gracePeriodSeconds, disruptionTarget: true });
        this.enqueue(pod.metadata?.uid ?? '');
      },
      reclaimDisk: async () => void (await this.imageGC?.garbageCollect()),
      log: this.o.log,
    });
    this.every(EVICTION_MONITORING_MS, async () => {
      const before = this.pressureEviction?.pressure();
      await this.pressureEviction?.synchronize();
      const after = this.pressureEviction?.pressure();
      // A pressure condition that appeared or cleared reaches the Node now rather than at the next status tick.
      if (JSON.stringify(before) !== JSON.stringify(after)) await this.updateNodeStatus();
    });
  }

  /** Asks for a sync of pod `uid` (now, or after `delayMs`); syncs of one pod never overlap. */
  enqueue(uid: string, delayMs = 0, fromRelist = false): void {
    if (this.stopped || !uid) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { running: false, pending: false }));
    if (delayMs > 0) {
      w.timer?.cancel();
      w.timer = this.clock.setTimer(() => this.enqueue(uid), delayMs);
      return;
    }
    if (w.running) {
      if (fromRelist) w.plegPending = true;
      else w.pending = true;
      return;
    }
    void this.runWorker(uid, w);
  }

  private async runWorker(uid: string, w: PodWorker): Promise<void> {
    w.running = true;
    try {
      do {
        w.pending = false;
        w.plegPending = false;
        const key = this.uidToKey.get(uid);
        const pod = this.podFor(uid);
        if (!pod || pod.metadata?.uid !== uid) {
          w.timer?.cancel();
          await this.cleanupOrphan(uid);
          this.workers.delete(uid);
          this.uidToKey.delete(uid);
          return;
        }
        try {
          trace(uid, 'syncStart', { name: pod.metadata?.name });
          const r = await this.syncer!.sync(pod);
          trace(uid, 'syncEnd');
          w.lastSyncEnd = this.clock.now();
          if (r.done) {
            w.timer?.cancel();
            this.admitter.forget(uid);
            this.uidToKey.delete(uid);
            this.objects?.forgetPod(uid);
            return;
          }
          // What this sync saw (and did) is no change for the PLEG's next relist to sync the pod for again.
          if (r.fingerprint !== undefined) {
            // A relist during the sync that saw just what the sync ended with asks for nothing new.
            if (w.plegPending && this.pleg?.fingerprint(uid) === r.fingerprint) w.plegPending = false;
            this.pleg?.recordSync(uid, r.runtime, r.fingerprint, w.lastSyncEnd);
          }
          // The next sync: a requested one (back-off end), or the periodic resync after --sync-frequency plus jitter.
          const resync = resyncDelayMs(this.o.syncFrequencyMs ?? DEFAULT_SYNC_FREQUENCY_MS, (this.o.random ?? Math.random)());
          this.enqueue(uid, r.requeueAfterMs !== undefined ? Math.min(r.requeueAfterMs, resync) : resync);
        } catch (err) {
          w.lastSyncEnd = this.clock.now();
          this.o.log.warn('pod sync failed', { pod: key, err: (err as Error).message });
          this.enqueue(uid, 2000);
        }
      } while ((w.pending || w.plegPending) && !this.stopped);
    } finally {
      w.running = false;
    }
  }

  /** A pod the API no longer has (force-deleted, or deleted while the agent was down): stop and remove its containers. */
  private async cleanupOrphan(uid: string): Promise<void> {
    if (!this.cri || !this.syncer) return;
    // The PLEG's cache, as a sync reads it (what a later relist finds left over brings the pod back here).
    const runtime = await this.podCache.getNewerThan(uid, this.workers.get(uid)?.lastSyncEnd ?? -Infinity);
    if (runtime) {
      await this.syncer.killPod(undefined, runtime, 0);
      await this.syncer.removePod(runtime);
    }
    await this.volumes?.tearDown(uid);
    this.objects?.forgetPod(uid);
    this.syncer.forget(uid);
    this.admitter.forget(uid);
    this.pleg?.forget(uid);
  }

  /** Pod directories (volumes, etc-hosts) of pods this kubelet no longer runs. */
  private async cleanupPodDirs(): Promise<void> {
    const known = new Set<string>([...this.workers.keys(), ...this.staticPods.keys()]);
    for (const p of this.informer?.indexer.list() ?? []) known.add(p.metadata?.uid ?? '');
    await this.volumes?.cleanupOrphans((uid) => known.has(uid) || this.pleg?.knows(uid) === true);
  }

  /** The pod `uid` to sync: a static pod (with its mirror's last status), or the API's pod. */
  private podFor(uid: string): Pod | undefined {
    const s = this.staticPods.get(uid);
    if (s) return { ...s, status: this.currentMirror(s)?.status ?? {} };
    const key = this.uidToKey.get(uid);
    const pod = key ? this.informer?.indexer.getByKey(key) : undefined;
    return pod && !isMirrorPod(pod) ? pod : undefined;
  }

  private staticPodNamed(namespace: string, name: string): Pod | undefined {
    for (const p of this.staticPods.values()) if (p.metadata?.namespace === namespace && p.metadata?.name === name) return p;
    return undefined;
  }

  /** The API's mirror pod of static pod `pod`, when it is current (same config hash, not being deleted). */
  private currentMirror(pod: Pod): Pod | undefined {
    const m = this.informer?.indexer.getByKey(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    if (!m || m.metadata?.deletionTimestamp) return undefined;
    return m.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] === pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH] ? m : undefined;
  }

  /**
   * Reads the manifests folder: new static pods start, removed or edited ones stop (an edit is a new UID); then the
   * mirror pods are brought in line (created, replaced when outdated or being deleted, removed without a static pod).
   */
  private async syncStaticPods(): Promise<void> {
    const dir = this.o.podManifestPath ?? join(this.o.agentDir, 'pod-manifests');
    const next = await readStaticPods(dir, this.o.nodeName, this.staticPods, new Date(this.clock.now()), (msg) => this.o.log.warn('static pod manifest skipped', { err: msg }));
    const before = this.staticPods;
    this.staticPods = next;
    for (const uid of before.keys()) if (!next.has(uid)) this.enqueue(uid); // gone: the worker finds no pod and cleans up
    for (const uid of next.keys()) if (!before.has(uid)) this.enqueue(uid);

    for (const p of next.values()) {
      const ns = p.metadata?.namespace ?? 'default';
      const m = this.informer?.indexer.getByKey(`${ns}/${p.metadata?.name}`);
      if (m && this.currentMirror(p) === m) continue;
      try {
        if (m) {
          await this.podsClient.delete(m.metadata?.name ?? '', { namespace: ns, gracePeriodSeconds: 0, preconditions: { uid: m.metadata?.uid } });
          continue; // created at a later round, once the old one is gone from the cache
        }
        await this.podsClient.create(mirrorPodFor(p, this.o.nodeName, this.nodeUid), { namespace: ns });
      } catch (err) {
        if (!isAlreadyExists(err) && !isNotFound(err) && !isConflict(err)) this.o.log.warn('mirror pod update failed', { pod: `${ns}/${p.metadata?.name}`, err: (err as Error).message });
      }
    }
    for (const m of this.informer?.indexer.list() ?? []) {
      if (!isMirrorPod(m) || this.staticPodNamed(m.metadata?.namespace ?? '', m.metadata?.name ?? '')) continue;
      try {
        await this.podsClient.delete(m.metadata?.name ?? '', { namespace: m.metadata?.namespace, gracePeriodSeconds: 0, preconditions: { uid: m.metadata?.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) this.o.log.warn('orphaned mirror pod delete failed', { pod: m.metadata?.name, err: (err as Error).message });
      }
    }
  }

  /** Upstream's PLEG: list the runtime, refresh the cache for the pods whose state changed and sync them. */
  private async relist(): Promise<void> {
    await this.pleg?.relist();
  }

  private async registerNode(): Promise<void> {
    const node = initialNode({ ...this.identity(), ...(this.o.podCIDR ? { podCIDR: this.o.podCIDR } : {}), ...(this.o.taints?.length ? { taints: this.o.taints } : {}) });
    try {
      const created = await this.nodes.create(node);
      this.nodeUid = created.metadata?.uid ?? '';
      this.o.log.info('node registered', { node: this.o.nodeName });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.nodes.get(this.o.nodeName);
      this.nodeUid = existing.metadata?.uid ?? '';
      // Keep the labels the kubelet owns current (upstream reconciles them on start).
      await this.nodes.patch(this.o.nodeName, { metadata: { labels: node.metadata?.labels } }, { type: 'merge' });
    }
  }

  /** The node's podCIDR (assigned by IPAM, or ours when it has none), then the CNI config for it. */
  private async ensurePodCIDR(): Promise<void> {
    let node = await this.nodes.get(this.o.nodeName);
    if (!node.spec?.podCIDR && this.o.podCIDR) {
      node = await this.nodes.patch(this.o.nodeName, { spec: { podCIDR: this.o.podCIDR, podCIDRs: [this.o.podCIDR] } }, { type: 'merge' });
    }
    await this.applyPodCIDR(node);
  }

  private async applyPodCIDR(node: Node): Promise<void> {
    const cidr = node.spec?.podCIDR ?? '';
    if (!cidr || cidr === this.podCIDR) return;
    this.podCIDR = cidr;
    const paths = containerdPaths(this.o.agentDir);
    await writeCniConfig(paths.cniConfDir, { agentDir: this.o.agentDir, podCIDR: cidr, bridge: bridgeName(this.o.agentDir) });
    await ensureMasquerade(cidr, bridgeName(this.o.agentDir)).catch((err: unknown) =>
      this.o.log.warn('pod traffic masquerade rule not set (pods reach only this host and its pod network)', { err: (err as Error).message }),
    );
    this.o.log.info('pod network configured', { podCIDR: cidr, bridge: bridgeName(this.o.agentDir) });
  }

  private async runtimeHealth(): Promise<RuntimeHealth> {
    try {
      const conds = await this.cri!.status();
      const rt = conds.find((c) => c.type === 'RuntimeReady');
      const net = conds.find((c) => c.type === 'NetworkReady');
      const bad = [rt, net].find((c) => c && !c.status);
      return {
        runtimeReady: !!rt?.status,
        networkReady: !!net?.status,
        ...(bad ? { message: `reason:${bad.reason} message:${bad.message}` } : {}),
        version: this.runtimeVersion,
      };
    } catch (err) {
      return { runtimeReady: false, networkReady: false, message: (err as Error).message, version: this.runtimeVersion };
    }
  }

  private async updateNodeStatus(): Promise<void> {
    const node = await this.nodes.get(this.o.nodeName);
    await this.applyPodCIDR(node);
    const images = (await this.cri!.listImages())
      .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size }))
      .filter((i) => i.names.length > 0)
      .sort((a, b) => b.sizeBytes - a.sizeBytes)
      .slice(0, 50);
    const status = computeNodeStatus({
      id: this.identity(),
      machine: this.machine!,
      signals: pressureSignals(this.o.agentDir),
      runtime: await this.runtimeHealth(),
      images,
      kubeletVersion: GIT_VERSION,
      kubeletPort: this.server?.port ?? KUBELET_PORT,
      previous: node.status,
      now: this.clock.now(),
      ...(this.pressureEviction ? { pressure: this.pressureEviction.pressure() } : {}),
      evictionMemoryBytes: EvictionManager.hardMemoryBytes(this.o.eviction ?? DEFAULT_EVICTION_CONFIG, this.machine!.memoryBytes),
    });
    const now = this.clock.now();
    this.node = { ...node, status: { ...node.status, ...status } };
    if (!nodeStatusChanged(node.status, status) && now - this.lastPostedAt < NODE_STATUS_REPORT_MS) return;
    await this.nodes.patch(this.o.nodeName, { status }, { type: 'merge', subresource: 'status' });
    this.lastPostedStatus = status;
    this.lastPostedAt = now;
  }

  private async renewLease(): Promise<void> {
    const renewTime = formatMicroTime(new Date(this.clock.now()));
    const spec = { holderIdentity: this.o.nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime };
    // As upstream's lease controller: update from the lease the last write returned (no GET per renewal); after a
    // failed update (conflict or any error) read the stored lease again and update that.
    const latest = this.latestLease;
    this.latestLease = undefined;
    if (latest) {
      try {
        this.latestLease = await this.leases.update({ ...latest, spec: { ...latest.spec, ...spec } });
        return;
      } catch {
        // fall back to the stored lease below
      }
    }
    try {
      const lease = await this.leases.get(this.o.nodeName, { namespace: NODE_LEASE_NAMESPACE });
      this.latestLease = await this.leases.update({ ...lease, spec: { ...lease.spec, ...spec } });
    } catch (err) {
      if (isConflict(err)) return; // renewed at the next tick
      if (!isNotFound(err)) throw err;
      this.latestLease = await this.leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.o.nodeName,
          namespace: NODE_LEASE_NAMESPACE,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.nodeUid }],
        },
        spec,
      });
    }
  }

  /** A renewed serving certificate (certificate rotation): new connections to the kubelet see it. */
  setServingCertificate(cert: string, key: string): void {
    this.server?.setServingCertificate(cert, key);
  }

  /** Stops the loops and the supervised containerd; containers keep running (as upstream's kubelet leaves them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.podCache.stop();
    for (const t of this.timers) t.cancel();
    for (const w of this.workers.values()) w.timer?.cancel();
    this.syncer?.probes.stop();
    await this.informer?.stop();
    await this.objects?.stop();
    await this.server?.close();
    this.cri?.close();
    await this.runtime?.stop();
  }
}
