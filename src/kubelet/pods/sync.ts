// One pod's sync, level-triggered like upstream's kuberuntime SyncPod: read what the runtime holds for the pod,
// compare with its spec, take the next steps (sandbox, init containers in order, app containers, restarts with
// CrashLoopBackOff, graceful termination), then write the status computed from the runtime's state again.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Container, Pod, PodCondition, PodStatus, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock, CoreEventRecorder, ResourceClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { formatTime } from '../../machinery/time.js';
import { CriError, type CriClient } from '../cri/client.js';
import type { Mount, PodSandboxConfig } from '../cri/types.js';
import { ImageManager, pullSecretsFor, type ImageEvent } from '../images/manager.js';
import { runProbe, type ExecFn } from '../prober/actions.js';
import { ProbeManager, probeTimings, type ProbedContainer } from '../prober/manager.js';
import { Backoff } from './backoff.js';
import { DISRUPTION_TARGET, EVICTED_REASON, IMMEDIATE_EVICTION_GRACE_SECONDS, TERMINATION_BY_KUBELET, type PodEviction } from './eviction.js';
import type { PodCgroups } from './cgroups.js';
import type { AdmitResult } from '../admission/types.js';
import { containerConfig, podLogDirectory, sandboxConfig, type DnsSettings } from './config.js';
import { resolveEnv } from './env.js';
import { runHookWithin } from './hooks.js';
import { ObjectSession, PodConfigError, type ObjectSource } from './objects.js';
import { oomScoreAdjust } from './qos.js';
import { fingerprintOf, listRuntimePods, readContainer, readSandbox, toRuntimeContainer, type RuntimeContainer, type RuntimePod, type RuntimeSandbox } from './runtime-state.js';
import { isStaticPod } from './static.js';
import { appContainersFinished, computePodStatus, isSidecar, restartPolicyOf, shouldRestart, type WaitingReason } from './status.js';
import { terminationMessageMount } from './termination.js';
import { TerminationOrdering } from './termination-order.js';
import { trace } from './trace.js';
import { containerMounts, VolumeSetupError, type PodVolume, type VolumeManager } from './volumes.js';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface PodSyncerOptions {
  cri: CriClient;
  pods: ResourceClient<Pod>;
  events: CoreEventRecorder;
  clock: Clock;
  hostIPs: () => string[];
  /** Container logs live under here (<logRoot>/<ns>_<name>_<uid>/<container>/<n>.log). */
  logRoot: string;
  dns: DnsSettings;
  log: Logger;
  /** Per-pod files (termination-message files) live under <podsDir>/<uid>/. */
  podsDir: string;
  /** The node's memory capacity in bytes (Burstable containers' oom_score_adj). */
  memoryCapacity?: number;
  /** A probe's settled result changed: the pod wants a sync. */
  onProbeChange?: (podUid: string) => void;
  /** Pod-level cgroups under kubepods/<qos>/ (absent: the runtime's default placement). */
  cgroups?: PodCgroups;
  /** ConfigMaps, Secrets, claims and tokens for env and volumes. */
  objects: ObjectSource;
  volumes: VolumeManager;
  /** The node's allocatable resources (defaults of limits.* in the downward API). */
  allocatable: () => Record<string, string>;
  /** A static pod's status goes to its mirror pod in the API (none yet: not written). */
  mirrorPod?: (pod: Pod) => Pod | undefined;
  /** Admission of a pod new to this kubelet (upstream's pod admit handlers: eviction, sysctls, predicates). */
  admit?: (pod: Pod) => AdmitResult | Promise<AdmitResult>;
  /**
   * Where a sync's first read of the pod's runtime state comes from: the PLEG's cache (the kubelet waits there for an
   * entry newer than its last sync). Absent: the runtime is listed for the pod.
   */
  podCache?: (uid: string) => Promise<RuntimePod | undefined>;
}

/** What creating a container needs beyond its spec: this sync's API reads and the pod's volumes. */
interface ContainerContext {
  objects: ObjectSession;
  volumes: Map<string, PodVolume>;
  /** Containers this sync created, started or killed: read again before the status is computed. */
  touched: Set<string>;
}

/** Upstream never stops a container with less grace than this (unless it is killed outright with 0). */
const MIN_GRACE_SECONDS = 2;

export interface SyncResult {
  /** Sync again after this long (a back-off ends, a container is being created). */
  requeueAfterMs?: number;
  /** The pod is gone from the API and the runtime: forget it. */
  done?: boolean;
  /** The relist fingerprint of the runtime state the status was computed from (the PLEG need not sync for it). */
  fingerprint?: string;
  /** That runtime state (the PLEG's cache keeps it until a relist confirms or replaces it). */
  runtime?: RuntimePod;
}

export { defaultPullPolicy } from '../images/reference.js';

const podFullName = (pod: Pod) => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

/** The fields of PodStatus the kubelet owns: others (nominatedNodeName, qosClass, resize, …) are left alone. */
const OWNED_STATUS_FIELDS = ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses', 'message', 'reason'] as const;
/** The pod conditions the kubelet sets; others' (PodScheduled, DisruptionTarget, readiness gates) are theirs. */
const OWNED_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

/** `api` (the API's pod status) with the fields and conditions the kubelet owns taken from `own`, which it wrote. */
export function mergeOwnStatus(api: PodStatus | undefined, own: PodStatus): PodStatus {
  const status: Record<string, unknown> = { ...api };
  const ownFields = own as Record<string, unknown>;
  for (const k of OWNED_STATUS_FIELDS) {
    if (ownFields[k] === undefined) delete status[k];
    else status[k] = ownFields[k];
  }
  // Others' conditions as the API has them; one the kubelet wrote itself (DisruptionTarget on eviction) until the API shows it.
  const others = (api?.conditions ?? []).filter((c) => !OWNED_CONDITIONS.has(c.type));
  status.conditions = [...(own.conditions ?? []).filter((c) => OWNED_CONDITIONS.has(c.type) || !others.some((o) => o.type === c.type)), ...others];
  return status as PodStatus;
}

/** A status the kubelet wrote: to which API pod (a static pod's goes to its mirror), as text, and as an object. */
interface WrittenStatus {
  targetUid: string;
  text: string;
  status: PodStatus;
}

export class PodSyncer {
  readonly backoff: Backoff;
  private readonly waiting = new Map<string, Map<string, WaitingReason>>();
  /** What was last written for each pod (upstream's status manager cache), by pod UID. */
  private readonly written = new Map<string, WrittenStatus>();
  /** Pods the eviction manager asked to evict: their message and grace (kept until the pod is forgotten). */
  private readonly evictions = new Map<string, PodEviction & { announced: boolean }>();
  /** Pods admitted to the node (admission runs once, when a pod first comes to this kubelet with nothing running). */
  private readonly admitted = new Set<string>();

  readonly probes: ProbeManager;
  readonly images: ImageManager;
  private readonly exec: ExecFn;
  private readonly imageEvent: ImageEvent;

  constructor(private readonly o: PodSyncerOptions) {
    this.backoff = new Backoff(o.clock);
    this.imageEvent = (pod, type, reason, message) => o.events.event(pod, type, reason, message);
    this.images = new ImageManager({ images: o.cri, clock: o.clock, event: this.imageEvent });
    this.exec = (id, cmd, timeout) => o.cri.execSync(id, cmd, timeout);
    this.probes = new ProbeManager({
      clock: o.clock,
      run: (_type, probe, _pod, c, id, ip) => runProbe(this.exec, probe, c, id, ip, probeTimings(probe).timeoutSeconds),
      event: (pod, type, reason, message) => o.events.event(pod, type, reason, message),
      onChange: (uid) => o.onProbeChange?.(uid),
    });
  }

  private cgroupParent(pod: Pod): string {
    return this.o.cgroups?.parent(pod) ?? '';
  }

  /** The pod's IP for probes and hooks: the sandbox's, or the node's for hostNetwork pods. */
  private probeIP(pod: Pod, podIPs: string[]): string {
    return pod.spec?.hostNetwork ? (this.o.hostIPs()[0] ?? '') : (podIPs[0] ?? '');
  }

  /** Why a running container must be killed for its probes ('liveness' or 'startup'), if it must. */
  private probeFailure(c: Container, inst: RuntimeContainer): { probe: Probe; kind: 'liveness' | 'startup' } | undefined {
    if (c.livenessProbe && this.probes.result(inst.id, 'liveness') === 'failure') return { probe: c.livenessProbe, kind: 'liveness' };
    if (c.startupProbe && this.probes.result(inst.id, 'startup') === 'failure') return { probe: c.startupProbe, kind: 'startup' };
    return undefined;
  }

  /**
   * Kills a running container that failed its liveness or startup probe (preStop first, the probe's own
   * terminationGracePeriodSeconds when set) and returns its exited state.
   */
  private async killForProbe(pod: Pod, c: Container, inst: RuntimeContainer, podIPs: string[], restart: boolean, touched: Set<string>): Promise<RuntimeContainer | undefined> {
    const failed = this.probeFailure(c, inst);
    if (!failed) return undefined;
    touched.add(inst.id);
    const grace = failed.probe.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const message = `Container ${c.name} failed ${failed.kind} probe${restart ? ', will be restarted' : ''}`;
    await this.killContainer(pod, c, inst, grace, podIPs, message);
    try {
      return toRuntimeContainer(await this.o.cri.containerStatus(inst.id), inst.sandboxId);
    } catch {
      return undefined;
    }
  }

  /**
   * Stops one container as upstream's killContainer: a Killing event, the preStop hook (within the grace period),
   * then StopContainer with what is left of the grace (SIGTERM, SIGKILL after it).
   */
  private async killContainer(pod: Pod | undefined, spec: Container | undefined, inst: RuntimeContainer, graceSeconds: number, podIPs: string[], message?: string, ordering?: TerminationOrdering): Promise<void> {
    if (pod && inst.state === 'running') this.o.events.event(pod, 'Normal', 'Killing', message ?? `Stopping container ${inst.name}`);
    let grace = graceSeconds;
    const preStop = spec?.lifecycle?.preStop;
    if (pod && preStop && inst.state === 'running' && grace > 0) {
      const start = this.o.clock.now();
      const err = await runHookWithin(preStop, { pod, container: spec, containerId: inst.id, podIP: this.probeIP(pod, podIPs), exec: this.exec, clock: this.o.clock, timeoutMs: grace * 1000 });
      if (err) {
        this.o.log.warn('preStop hook failed', { pod: podFullName(pod), container: inst.name, err });
        this.o.events.event(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
      }
      grace -= Math.floor((this.o.clock.now() - start) / 1000);
    }
    // A sidecar waits for the app containers (and later sidecars) to stop, within what is left of its grace.
    if (ordering && grace > 0) grace -= await ordering.waitForTurn(inst.name, grace);
    if (graceSeconds > 0) grace = Math.max(MIN_GRACE_SECONDS, grace);
    try {
      await this.o.cri.stopContainer(inst.id, grace);
    } catch (err) {
      if (!(err instanceof CriError && err.notFound)) this.o.log.warn('stop container failed', { id: inst.id, err: (err as Error).message });
    }
    ordering?.terminated(inst.name);
  }

  private async runtimeOf(uid: string): Promise<RuntimePod | undefined> {
    return (await listRuntimePods(this.o.cri, uid)).get(uid);
  }

  private waitingOf(uid: string): Map<string, WaitingReason> {
    let m = this.waiting.get(uid);
    if (!m) this.waiting.set(uid, (m = new Map()));
    return m;
  }

  /** The API pod the status of `pod` goes to: itself, or a static pod's current mirror. */
  private statusTarget(pod: Pod): Pod | undefined {
    return isStaticPod(pod) ? this.o.mirrorPod?.(pod) : pod;
  }

  /**
   * `pod` with the status the kubelet last wrote for it (as upstream's status manager is the source of the old status):
   * the informer's copy may not show that write yet, and computing from it would move transition times again and
   * write again. What others own in the status (their conditions, qosClass, nominatedNodeName) stays as the API has it.
   */
  withOwnStatus(pod: Pod): Pod {
    const w = this.written.get(pod.metadata?.uid ?? '');
    if (!w || w.targetUid !== this.statusTarget(pod)?.metadata?.uid) return pod;
    return { ...pod, status: mergeOwnStatus(pod.status, w.status) };
  }

  /** Brings the runtime in line with the pod and writes its status. */
  async sync(apiPod: Pod): Promise<SyncResult> {
    const pod = this.withOwnStatus(apiPod);
    const uid = pod.metadata?.uid ?? '';
    let runtime = this.o.podCache ? await this.o.podCache(uid) : await this.runtimeOf(uid);
    trace(uid, 'runtimeRead1');
    if (pod.metadata?.deletionTimestamp) return this.terminate(pod, runtime);

    const phase = pod.status?.phase;
    const eviction = this.evictions.get(uid);
    if (eviction && phase !== 'Succeeded' && phase !== 'Failed') return this.evict(pod, runtime, eviction);
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished pods never run again: make sure nothing is left running; the status keeps its phase.
      if (runtime && (runtime.sandboxes.some((s) => s.ready) || runtime.containers.some((c) => c.state === 'running'))) {
        await this.killPod(pod, runtime, 0);
        runtime = await this.runtimeOf(uid);
      }
      if (runtime && runtime.containers.length > 0) await this.writeStatus(pod, runtime, true);
      return {};
    }

    if (!this.admitted.has(uid)) {
      const refused = await this.admission(pod, runtime);
      if (refused) return refused;
    }

    const waiting = this.waitingOf(uid);
    const policy = restartPolicyOf(pod);

    // 0. Volumes (upstream's WaitForAttachAndMount): every sync refreshes them; a missing source holds the pod.
    const objects = new ObjectSession(this.o.objects);
    let volumes: Map<string, PodVolume>;
    try {
      volumes = await this.o.volumes.setUp(pod, { objects, allocatable: this.o.allocatable() });
      trace(uid, 'volumes');
    } catch (err) {
      const message = err instanceof VolumeSetupError ? err.message : `MountVolume.SetUp failed: ${(err as Error).message}`;
      this.o.events.event(pod, 'Warning', 'FailedMount', message);
      this.o.log.warn('volume set-up failed', { pod: podFullName(pod), err: message });
      await this.writeStatus(pod, runtime, false);
      return { requeueAfterMs: 2000 };
    }
    const cctx: ContainerContext = { objects, volumes, touched: new Set() };
    let requeue: number | undefined;
    const want = (ms: number) => (requeue = requeue === undefined ? ms : Math.min(requeue, ms));

    // 1. The sandbox.
    let sandbox = runtime?.sandboxes[0];
    const hostNetwork = pod.spec?.hostNetwork === true;
    const sandboxUsable = (s: RuntimeSandbox | undefined) => !!s && s.ready && (hostNetwork || s.ip !== '');
    if (!sandboxUsable(sandbox)) {
      const hadContainers = (runtime?.containers.length ?? 0) > 0;
      if (policy === 'Never' && sandbox && hadContainers) {
        // Upstream: a dead sandbox of a Never pod is not replaced; the pod ends with what it had.
        return this.finishStatus(pod, runtime, true);
      }
      if (runtime && (runtime.containers.some((c) => c.state === 'running') || runtime.sandboxes.some((s) => s.ready))) {
        await this.killPod(pod, runtime, 0);
      }
      const attempt = sandbox ? sandbox.attempt + 1 : 0;
      const config = sandboxConfig(pod, attempt, this.o.logRoot, this.o.dns, this.cgroupParent(pod));
      let sandboxId: string;
      try {
        await mkdir(podLogDirectory(this.o.logRoot, pod), { recursive: true });
        await this.o.cgroups?.ensure(pod);
        trace(uid, 'sandboxStart');
        sandboxId = await this.o.cri.runPodSandbox(config);
        trace(uid, 'sandboxEnd');
      } catch (err) {
        const message = `Failed to create pod sandbox: ${(err as Error).message}`;
        this.o.events.event(pod, 'Warning', 'FailedCreatePodSandBox', message);
        this.o.log.warn('sandbox failed', { pod: podFullName(pod), err: (err as Error).message });
        await this.writeStatus(pod, await this.runtimeOf(uid), false);
        return { requeueAfterMs: 5000 };
      }
      if (runtime) runtime = await this.runtimeOf(uid);
      else {
        // A pod's first sandbox: its status is all there is to read (upstream's SyncPod reads it the same way).
        const sb = await readSandbox(this.o.cri, sandboxId);
        runtime = { uid, name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', sandboxes: sb ? [sb] : [], containers: [] };
      }
      trace(uid, 'runtimeRead2');
      sandbox = runtime?.sandboxes[0];
      if (!sandbox) return { requeueAfterMs: 1000 };
    }
    const sandboxCfg = sandboxConfig(pod, sandbox!.attempt, this.o.logRoot, this.o.dns, this.cgroupParent(pod));
    const current = (name: string) => runtime?.containers.filter((c) => c.name === name && c.sandboxId === sandbox!.id) ?? [];
    const latestAnywhere = (name: string) => runtime?.containers.find((c) => c.name === name);
    const podIPs = sandbox && sandbox.ip ? [sandbox.ip, ...sandbox.additionalIps] : [];
    const probed = (inst: RuntimeContainer): ProbedContainer => ({ id: inst.id, running: inst.state === 'running', startedAt: inst.startedAt });

    // Every app container has finished for good (restartPolicy Never or OnFailure): upstream kills the pod, so the
    // sidecars stop (after the app, with the pod's grace period) instead of being restarted, and the pod completes.
    if (appContainersFinished(pod, runtime)) {
      if (runtime!.containers.some((c) => c.state === 'running' || c.state === 'created')) {
        await this.killPod(pod, runtime!, pod.spec?.terminationGracePeriodSeconds ?? 30);
        runtime = await this.runtimeOf(uid);
      }
      const finished = await this.writeStatus(pod, runtime, false);
      if (runtime && (finished.phase === 'Succeeded' || finished.phase === 'Failed')) await this.killPod(pod, runtime, 0);
      return runtime ? { fingerprint: fingerprintOf(runtime), runtime } : {};
    }

    // 2. Init containers, one at a time and in order; native sidecars start and keep running.
    let initDone = true;
    let initFailed = false;
    // Once an app container has run in this sandbox the pod is initialized (upstream): a sidecar that is down again
    // is restarted without holding the app containers back.
    const initialized = (pod.spec?.containers ?? []).some((c) => current(c.name).length > 0);
    for (const c of pod.spec?.initContainers ?? []) {
      let inst = current(c.name)[0];
      if (isSidecar(c)) {
        if (inst?.state === 'running') inst = (await this.killForProbe(pod, c, inst, podIPs, true, cctx.touched)) ?? inst;
        if (!inst || inst.state === 'exited') {
          const r = await this.maybeStart(pod, c, true, inst, latestAnywhere(c.name), sandbox!.id, sandboxCfg, podIPs, 'Always', waiting, cctx);
          // Started (or failed to): the next step waits for it to run, which this sync's own read of the runtime
          // already shows, so no relist would ask for that sync.
          want(r ?? 0);
        }
        if (!initialized && (!inst || inst.state !== 'running' || !this.probes.started(uid, c.name, probed(inst)))) {
          initDone = false;
          break;
        }
        continue;
      }
      if (inst?.state === 'exited' && inst.exitCode === 0) continue;
      initDone = false;
      if (inst && (inst.state === 'running' || inst.state === 'created')) break;
      if (inst && inst.state === 'exited' && policy === 'Never') {
        initFailed = true;
        break;
      }
      const r = await this.maybeStart(pod, c, true, inst, latestAnywhere(c.name), sandbox!.id, sandboxCfg, podIPs, policy === 'Never' ? 'Never' : 'OnFailure', waiting, cctx);
      if (r !== undefined) want(r);
      break;
    }

    // 3. App containers, once every init container has completed.
    if (initDone && !initFailed) {
      for (const c of pod.spec?.containers ?? []) {
        let inst = current(c.name)[0];
        if (inst?.state === 'running') inst = (await this.killForProbe(pod, c, inst, podIPs, policy !== 'Never', cctx.touched)) ?? inst;
        if (inst && (inst.state === 'running' || inst.state === 'created')) continue;
        if (inst && !shouldRestart(policy, inst.exitCode)) continue;
        const r = await this.maybeStart(pod, c, false, inst, latestAnywhere(c.name), sandbox!.id, sandboxCfg, podIPs, policy, waiting, cctx);
        if (r !== undefined) want(r);
      }
    }

    // 4. Ephemeral containers (kubectl debug): started once, even before initialization completes, never restarted.
    for (const ec of pod.spec?.ephemeralContainers ?? []) {
      if (latestAnywhere(ec.name)) continue;
      let targetId: string | undefined;
      if (ec.targetContainerName) {
        targetId = current(ec.targetContainerName).find((c) => c.state === 'running')?.id;
        if (!targetId) {
          waiting.set(ec.name, { reason: 'ContainerCreating', message: `target container ${JSON.stringify(ec.targetContainerName)} is not running` });
          want(1000);
          continue;
        }
      }
      const r = await this.maybeStart(pod, ec as Container, false, undefined, undefined, sandbox!.id, sandboxCfg, podIPs, 'Never', waiting, cctx, targetId);
      if (r !== undefined) want(r);
    }

    trace(uid, 'containersDone');
    runtime = await this.reread(runtime, cctx.touched, sandbox!.id);
    trace(uid, 'runtimeRead3');
    await this.removeDeadInstances(runtime);
    this.updateProbes(pod, runtime, sandbox!.id, podIPs);
    const status = await this.writeStatus(pod, runtime, false);
    trace(uid, 'statusDone', { phase: status.phase });
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      // Finished: stop the sandbox (and its network) as upstream's terminating step does.
      if (runtime) await this.killPod(pod, runtime, 0);
    }
    const fingerprint = runtime ? { fingerprint: fingerprintOf(runtime), runtime } : {};
    return requeue === undefined ? fingerprint : { requeueAfterMs: requeue, ...fingerprint };
  }

  /**
   * The runtime state after this sync's steps: what it read at the start, with the containers it created, started or
   * killed read again (one ContainerStatus each instead of listing the pod again); a change it did not make is the
   * PLEG's to notice.
   */
  private async reread(runtime: RuntimePod | undefined, touched: Set<string>, sandboxId: string): Promise<RuntimePod | undefined> {
    if (!runtime || touched.size === 0) return runtime;
    const sandboxOf = new Map(runtime.containers.map((c) => [c.id, c.sandboxId]));
    const fresh = await Promise.all([...touched].map((id) => readContainer(this.o.cri, id, sandboxOf.get(id) ?? sandboxId)));
    const byId = new Map(runtime.containers.map((c) => [c.id, c]));
    for (const id of touched) byId.delete(id);
    for (const c of fresh) if (c) byId.set(c.id, c);
    const containers = [...byId.values()].sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
    return { ...runtime, containers };
  }

  /**
   * Starts container `c` unless its restart back-off holds it; returns a requeue delay when it must wait.
   * `inst` is its latest run in the current sandbox, `prev` its latest run anywhere (for the restart count).
   */
  private async maybeStart(
    pod: Pod,
    c: Container,
    init: boolean,
    inst: RuntimeContainer | undefined,
    prev: RuntimeContainer | undefined,
    sandboxId: string,
    sandboxCfg: PodSandboxConfig,
    podIPs: string[],
    policy: 'Always' | 'OnFailure' | 'Never',
    waiting: Map<string, WaitingReason>,
    cctx: ContainerContext,
    targetId?: string,
  ): Promise<number | undefined> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${c.name}`;
    if (inst && inst.state === 'exited') {
      if (!shouldRestart(policy, inst.exitCode)) return undefined;
      if (this.backoff.isInBackOffSince(key, inst.finishedAt)) {
        const delay = this.backoff.get(key);
        waiting.set(c.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${podFullName(pod)}`,
        });
        this.o.events.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podFullName(pod)}`);
        return this.backoff.remaining(key, inst.finishedAt) + 50;
      }
      this.backoff.next(key, inst.finishedAt);
    }
    const restartCount = prev ? prev.restartCount + 1 : 0;

    // The image (pulled as its policy says, with the pod's pull secrets).
    const secrets = await pullSecretsFor(pod, (ns, name) => cctx.objects.secret(ns, name), this.imageEvent);
    trace(uid, 'imageStart');
    const pulled = await this.images.ensureImageExists(pod, c, secrets, sandboxCfg);
    trace(uid, 'imageEnd');
    if (!pulled.ok) {
      waiting.set(c.name, { reason: pulled.reason, message: pulled.message });
      this.o.events.event(pod, 'Warning', 'Failed', `Error: ${pulled.reason}`);
      return pulled.retryAfterMs;
    }

    // Environment and mounts: a missing ConfigMap/Secret or key is CreateContainerConfigError.
    let env;
    let mounts: Mount[];
    try {
      env = await resolveEnv(pod, c, {
        objects: cctx.objects,
        podIPs,
        hostIPs: this.o.hostIPs(),
        allocatable: this.o.allocatable(),
        warn: (reason, message) => this.o.events.event(pod, 'Warning', reason, message),
      });
      const hostsFile = await this.o.volumes.writeHostsFile(pod, podIPs);
      mounts = await containerMounts(c, cctx.volumes, env, hostsFile);
    } catch (err) {
      if (!(err instanceof PodConfigError)) throw err;
      if (err.detail) this.o.log.warn('container config failed', { pod: podFullName(pod), container: c.name, err: err.detail });
      waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      this.o.events.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return 5000;
    }

    let id: string;
    try {
      const tm = await terminationMessageMount(this.o.podsDir, pod, c);
      if (tm) mounts.push(tm);
      const oomScoreAdj = oomScoreAdjust(pod, c, this.o.memoryCapacity ?? 0);
      const cfg = containerConfig(pod, c, { restartCount, init, env, mounts, oomScoreAdj, targetId });
      await mkdir(dirname(join(sandboxCfg.logDirectory ?? '', cfg.logPath ?? '')), { recursive: true });
      trace(uid, 'createStart');
      id = await this.o.cri.createContainer(sandboxId, cfg, sandboxCfg);
      cctx.touched.add(id);
      trace(uid, 'createEnd');
    } catch (err) {
      const message = err instanceof CriError ? err.details : (err as Error).message;
      waiting.set(c.name, { reason: 'CreateContainerError', message });
      this.o.events.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      return 5000;
    }
    this.o.events.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      trace(uid, 'startStart');
      await this.o.cri.startContainer(id);
      trace(uid, 'startEnd');
    } catch (err) {
      const message = err instanceof CriError ? err.details : (err as Error).message;
      waiting.set(c.name, { reason: 'RunContainerError', message });
      this.o.events.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      return 1000;
    }
    waiting.delete(c.name);
    this.o.events.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      // Upstream runs postStart synchronously after the start; a failure kills the container (restarted per policy).
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      const err = await runHookWithin(postStart, { pod, container: c, containerId: id, podIP: this.probeIP(pod, podIPs), exec: this.exec, clock: this.o.clock, timeoutMs: 2 ** 31 - 1 });
      if (err) {
        this.o.log.warn('postStart hook failed', { pod: podFullName(pod), container: c.name, err });
        this.o.events.event(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        const inst = await this.o.cri.containerStatus(id).then((s) => toRuntimeContainer(s, sandboxId)).catch(() => undefined);
        if (inst) await this.killContainer(pod, c, inst, grace, podIPs, 'FailedPostStartHook');
        waiting.set(c.name, { reason: 'PostStartHookError', message: err });
      }
    }
    return undefined;
  }

  /**
   * Asks for the pod to be evicted at its next sync (the eviction manager's decision, with upstream's message): killed
   * within `gracePeriodSeconds` (default upstream's immediate 1 s), with the DisruptionTarget condition if asked.
   */
  requestEviction(uid: string, message: string, opts: Omit<PodEviction, 'message'> = {}): void {
    if (!this.evictions.has(uid)) this.evictions.set(uid, { message, ...opts, announced: false });
  }

  /**
   * Upstream's evictPod: an Evicted warning, every container killed within the eviction's grace period, then the pod
   * Failed with reason Evicted and the message (and DisruptionTarget, reason TerminationByKubelet, for node pressure);
   * it never runs again.
   */
  private async evict(pod: Pod, runtime: RuntimePod | undefined, eviction: PodEviction & { announced: boolean }): Promise<SyncResult> {
    const uid = pod.metadata?.uid ?? '';
    const { message } = eviction;
    const reason = eviction.reason ?? EVICTED_REASON;
    if (!eviction.announced) {
      eviction.announced = true;
      this.o.events.event(pod, 'Warning', reason, message);
      this.o.log.info('evicting pod', { pod: podFullName(pod), message, gracePeriodSeconds: eviction.gracePeriodSeconds ?? IMMEDIATE_EVICTION_GRACE_SECONDS });
    }
    if (runtime) await this.killPod(pod, runtime, eviction.gracePeriodSeconds ?? IMMEDIATE_EVICTION_GRACE_SECONDS);
    this.probes.removePod(uid);
    const condition: PodCondition | undefined = eviction.disruptionTarget
      ? { type: DISRUPTION_TARGET, status: 'True', reason: TERMINATION_BY_KUBELET, message: eviction.conditionMessage ?? message, lastTransitionTime: formatTime(new Date(this.o.clock.now())) }
      : undefined;
    await this.writeStatus(pod, await this.runtimeOf(uid), true, { phase: 'Failed', reason, message, ...(condition ? { condition } : {}) });
    return {};
  }

  /** Keeps the latest two runs of each container (the current one and the one lastState shows); removes the rest. */
  private async removeDeadInstances(runtime: RuntimePod | undefined): Promise<void> {
    if (!runtime) return;
    const seen = new Map<string, number>();
    for (const c of runtime.containers) {
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      if (n > 2 && c.state === 'exited') await this.o.cri.removeContainer(c.id).catch(() => undefined);
    }
    // Sandboxes that are not the newest and hold no container any more.
    for (const s of runtime.sandboxes.slice(1)) {
      if (s.ready) continue;
      if (runtime.containers.some((c) => c.sandboxId === s.id && seen.get(c.name)! <= 2)) continue;
      await this.o.cri.removePodSandbox(s.id).catch(() => undefined);
    }
  }

  /**
   * Stops every container (SIGTERM, then SIGKILL after `graceSeconds`) and the sandboxes. Containers stop in parallel,
   * so the whole pod takes at most its grace period.
   */
  async killPod(pod: Pod | undefined, runtime: RuntimePod, graceSeconds: number): Promise<void> {
    const running = runtime.containers.filter((c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown');
    const specs = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])];
    const sandbox = runtime.sandboxes.find((s) => s.ready);
    const podIPs = sandbox?.ip ? [sandbox.ip] : [];
    // Upstream's termination ordering: sidecars stop after the app containers, in reverse order.
    const ordering = pod ? new TerminationOrdering(pod, new Set(running.map((c) => c.name)), this.o.clock) : undefined;
    await Promise.all(running.map((c) => this.killContainer(pod, specs.find((s) => s.name === c.name), c, graceSeconds, podIPs, undefined, ordering)));
    for (const s of runtime.sandboxes) {
      if (!s.ready) continue;
      try {
        await this.o.cri.stopPodSandbox(s.id);
      } catch (err) {
        if (!(err instanceof CriError && err.notFound)) this.o.log.warn('stop sandbox failed', { id: s.id, err: (err as Error).message });
      }
    }
  }

  /** Removes every container and sandbox of the pod from the runtime. */
  async removePod(runtime: RuntimePod): Promise<void> {
    for (const c of runtime.containers) await this.o.cri.removeContainer(c.id).catch(() => undefined);
    for (const s of runtime.sandboxes) await this.o.cri.removePodSandbox(s.id).catch(() => undefined);
    if (runtime.uid) await rm(join(this.o.podsDir, runtime.uid), { recursive: true, force: true }).catch(() => undefined);
    if (runtime.uid) await this.o.cgroups?.remove(runtime.uid);
  }

  /** A pod being deleted: stop it within its grace period, report the final status, then delete it for good. */
  private async terminate(pod: Pod, runtime: RuntimePod | undefined): Promise<SyncResult> {
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (runtime) await this.killPod(pod, runtime, grace);
    const after = await this.runtimeOf(pod.metadata?.uid ?? '');
    try {
      await this.writeStatus(pod, after, true);
      await this.o.pods.delete(pod.metadata?.name ?? '', {
        namespace: pod.metadata?.namespace,
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (after) await this.removePod(after);
    await this.o.volumes.tearDown(pod.metadata?.uid ?? '');
    this.forget(pod.metadata?.uid ?? '');
    return { done: true };
  }

  private async finishStatus(pod: Pod, runtime: RuntimePod | undefined, terminal: boolean): Promise<SyncResult> {
    if (runtime) await this.killPod(pod, runtime, 0);
    await this.writeStatus(pod, await this.runtimeOf(pod.metadata?.uid ?? ''), terminal);
    return {};
  }

  /** Computes the status and writes it when it differs from what was last written. */
  private async writeStatus(
    pod: Pod,
    runtime: RuntimePod | undefined,
    terminal: boolean,
    final?: Pick<PodStatus, 'phase' | 'reason' | 'message'> & { condition?: PodCondition },
  ): Promise<PodStatus> {
    const uid = pod.metadata?.uid ?? '';
    const status = computePodStatus({
      pod,
      runtime,
      hostIPs: this.o.hostIPs(),
      waiting: this.waitingOf(uid),
      now: this.o.clock.now(),
      terminal,
      probe: (name, c) => {
        const view = { id: c.id, running: c.state === 'running', startedAt: c.startedAt };
        return { started: this.probes.started(uid, name, view), ready: this.probes.ready(uid, name, view) };
      },
    });
    // A finished pod stays finished (its containers may be gone from the runtime by now).
    const oldPhase = pod.status?.phase;
    if (final) {
      const { condition, ...fields } = final;
      Object.assign(status, fields);
      // A condition the kubelet sets once (DisruptionTarget): kept as first written.
      if (condition && !status.conditions?.some((c) => c.type === condition.type && c.status === condition.status)) {
        status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), condition];
      }
    }
    else if (oldPhase === 'Succeeded' || oldPhase === 'Failed') {
      // ... with the reason and message it finished with (Evicted).
      status.phase = oldPhase;
      if (pod.status?.reason) status.reason = pod.status.reason;
      if (pod.status?.message) status.message = pod.status.message;
    }
    return this.patchStatus(pod, status);
  }

  /** Writes `status` as the pod's (the fields the kubelet owns; unchanged from the last write: nothing is sent). */
  private async patchStatus(pod: Pod, status: PodStatus): Promise<PodStatus> {
    const uid = pod.metadata?.uid ?? '';
    const target = this.statusTarget(pod);
    if (!target) return status;
    const targetUid = target.metadata?.uid ?? '';
    const text = JSON.stringify(status);
    const last = this.written.get(uid);
    if (last?.targetUid === targetUid && last.text === text) return status;
    const patch: Record<string, unknown> = { ...status };
    const old = (target.status ?? {}) as Record<string, unknown>;
    for (const k of OWNED_STATUS_FIELDS) if (old[k] !== undefined && patch[k] === undefined) patch[k] = null;
    try {
      trace(uid, 'patchStart', { phase: status.phase });
      await this.o.pods.patch(pod.metadata?.name ?? '', { metadata: { uid: targetUid }, status: patch }, {
        type: 'merge',
        subresource: 'status',
        namespace: pod.metadata?.namespace,
      });
      this.written.set(uid, { targetUid, text, status });
      trace(uid, 'patchEnd', { phase: status.phase });
    } catch (err) {
      if (!isNotFound(err)) this.o.log.warn('pod status update failed', { pod: podFullName(pod), err: (err as Error).message });
    }
    return status;
  }

  /**
   * Upstream's canAdmitPod/rejectPod for a pod new to this kubelet (also one that ran before a kubelet restart, as
   * upstream admits every pod again then): a refused pod gets a warning event and ends Failed with the reason and
   * "Pod was rejected: <message>"; it never starts, and what of it already runs is stopped at once.
   */
  private async admission(pod: Pod, runtime: RuntimePod | undefined): Promise<SyncResult | undefined> {
    const uid = pod.metadata?.uid ?? '';
    const result = this.o.admit ? await this.o.admit(pod) : { admit: true as const };
    if (result.admit) {
      this.admitted.add(uid);
      return undefined;
    }
    this.o.events.event(pod, 'Warning', result.reason, result.message);
    this.o.log.info('pod admission refused', { pod: podFullName(pod), reason: result.reason, message: result.message });
    const running = runtime && (runtime.sandboxes.some((s) => s.ready) || runtime.containers.some((c) => c.state === 'running'));
    if (running) {
      // It ran before a restart: Failed now, and the next sync stops what runs (and reports the containers' end).
      await this.writeStatus(pod, runtime, true, { phase: 'Failed', reason: result.reason, message: `Pod was rejected: ${result.message}` });
      return { requeueAfterMs: 0 };
    }
    // Upstream's rejectPod: only the phase, reason and message (and a start time); no container statuses, so kubectl
    // shows the reason (OutOfcpu) as the pod's STATUS; others' conditions (PodScheduled) stay.
    const conditions = (pod.status?.conditions ?? []).filter((c) => !OWNED_CONDITIONS.has(c.type));
    await this.patchStatus(pod, {
      phase: 'Failed',
      reason: result.reason,
      message: `Pod was rejected: ${result.message}`,
      startTime: pod.status?.startTime ?? formatTime(new Date(this.o.clock.now())),
      ...(conditions.length ? { conditions } : {}),
    });
    return {};
  }

  /** Drops what the kubelet remembered about a pod. */
  forget(uid: string): void {
    this.admitted.delete(uid);
    this.waiting.delete(uid);
    this.written.delete(uid);
    this.evictions.delete(uid);
    this.backoff.forgetPrefix(`${uid}/`);
    this.images.forgetPod(uid);
    this.probes.removePod(uid);
  }

  /** Tells the probe workers what runs now: the newest run of each container in the current sandbox. */
  private updateProbes(pod: Pod, runtime: RuntimePod | undefined, sandboxId: string, podIPs: string[]): void {
    const hasProbes = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => c.livenessProbe || c.readinessProbe || c.startupProbe);
    if (!hasProbes) return;
    const policy = restartPolicyOf(pod);
    const containers = new Map<string, ProbedContainer>();
    for (const c of runtime?.containers ?? []) {
      if (c.sandboxId !== sandboxId || containers.has(c.name)) continue;
      containers.set(c.name, { id: c.id, running: c.state === 'running', startedAt: c.startedAt, terminatedForGood: c.state === 'exited' && !shouldRestart(policy, c.exitCode) });
    }
    this.probes.update(pod, this.probeIP(pod, podIPs), containers);
  }
}
