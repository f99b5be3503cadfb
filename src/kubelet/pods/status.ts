// The pod's status as upstream's kubelet reports it, computed from the spec and what the runtime holds: phase,
// conditions, init and app containerStatuses (state, lastState, ready, started, restartCount, image, imageID,
// containerID), podIP(s), hostIP(s). Pure functions, so unit tests pin down every reason and message.
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { formatTime } from '../../machinery/time.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export const CONTAINER_ID_PREFIX = 'containerd://';

/** Why a container is waiting, as the last sync left it (CrashLoopBackOff, ErrImagePull, CreateContainerError, …). */
export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  runtime: RuntimePod | undefined;
  hostIPs: string[];
  /** Per container name. */
  waiting: ReadonlyMap<string, WaitingReason>;
  now: number;
  /** The pod is being torn down or is finished: its containers will not run again. */
  terminal?: boolean;
  /** started/ready of a running app container or sidecar from its probes (default: both true while running). */
  probe?: ProbeView;
}

export type ProbeView = (name: string, c: RuntimeContainer) => { started: boolean; ready: boolean };

export function restartPolicyOf(pod: Pod): RestartPolicy {
  return (pod.spec?.restartPolicy as RestartPolicy | undefined) ?? 'Always';
}

/** Whether a container that exited with `exitCode` runs again under the pod's restart policy. */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/**
 * Every app container has run and finished for good under the pod's restart policy (Never, or OnFailure after a
 * success): the kubelet then stops the pod, sidecars included, and starts nothing again.
 */
export function appContainersFinished(pod: Pod, runtime: RuntimePod | undefined): boolean {
  const apps = pod.spec?.containers ?? [];
  const policy = restartPolicyOf(pod);
  return apps.length > 0 && apps.every((c) => {
    const latest = instancesOf(runtime, c.name)[0];
    return latest?.state === 'exited' && !shouldRestart(policy, latest.exitCode);
  });
}

/** An init container with restartPolicy Always (a native sidecar). */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

const time = (ms: number): string | undefined => (ms > 0 ? formatTime(new Date(ms)) : undefined);

function terminatedState(c: RuntimeContainer): ContainerState {
  const reason = c.reason || (c.exitCode === 0 ? 'Completed' : 'Error');
  return {
    terminated: {
      exitCode: c.exitCode,
      reason,
      ...(c.message ? { message: c.message } : {}),
      ...(c.startedAt ? { startedAt: time(c.startedAt) } : {}),
      ...(c.finishedAt ? { finishedAt: time(c.finishedAt) } : {}),
      containerID: CONTAINER_ID_PREFIX + c.id,
    },
  };
}

function instancesOf(runtime: RuntimePod | undefined, name: string): RuntimeContainer[] {
  return runtime?.containers.filter((c) => c.name === name) ?? [];
}

interface BuildOptions {
  policy: RestartPolicy;
  terminal: boolean;
  /** Reason shown while the container has never been created. */
  defaultWaiting: string;
  waiting: WaitingReason | undefined;
  /** A regular init container: ready once it completed, never while running (upstream). */
  init?: boolean;
  probe?: ProbeView | undefined;
}

function containerStatus(spec: Container, instances: RuntimeContainer[], o: BuildOptions): ContainerStatus {
  const latest = instances[0];
  const previous = instances[1];
  const base = { name: spec.name, image: spec.image ?? '', imageID: latest?.imageRef ?? '' };
  if (!latest) {
    const w = o.waiting ?? { reason: o.defaultWaiting };
    return {
      ...base,
      state: { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } },
      lastState: {},
      ready: false,
      restartCount: 0,
      started: false,
    };
  }
  const lastState: ContainerState = previous && previous.state === 'exited' ? terminatedState(previous) : {};
  const status: ContainerStatus = {
    ...base,
    containerID: CONTAINER_ID_PREFIX + latest.id,
    state: {},
    lastState,
    ready: false,
    restartCount: latest.restartCount,
    started: false,
  };
  switch (latest.state) {
    case 'running':
      status.state = { running: { startedAt: time(latest.startedAt) } };
      {
        const p = o.probe?.(spec.name, latest) ?? { started: true, ready: true };
        status.started = p.started;
        status.ready = !o.init && p.started && p.ready;
      }
      break;
    case 'exited':
      if (!o.terminal && shouldRestart(o.policy, latest.exitCode)) {
        // About to run again (now, or after its back-off): upstream shows Waiting with the run that ended as lastState.
        const w = o.waiting ?? { reason: 'ContainerCreating' };
        status.state = { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } };
        status.lastState = terminatedState(latest);
      } else {
        status.state = terminatedState(latest);
        if (o.init && latest.exitCode === 0) status.ready = true;
      }
      break;
    default: {
      const w = o.waiting ?? { reason: 'ContainerCreating' };
      status.state = { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } };
    }
  }
  return status;
}

/** Upstream's getPhase: Pending, Running, Succeeded or Failed from the container statuses. */
export function podPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[], terminal: boolean): string {
  const policy = restartPolicyOf(pod);
  let pendingInit = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (isSidecar(c)) {
      // A sidecar keeps the pod Running while it runs and holds initialization until it started; once it has
      // terminated it no longer counts.
      if (s?.state?.running) {
        running++;
        if (!s.started) pendingInit++;
      } else if (s?.state?.waiting) {
        if (!s.lastState?.terminated) {
          pendingInit++;
          waiting++;
        }
      } else if (!s?.state?.terminated) {
        pendingInit++;
        unknown++;
      }
      continue;
    }
    if (!s) {
      pendingInit++;
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  for (const c of pod.spec?.containers ?? []) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  // A sidecar restarting after the app containers started does not send the pod back to Pending.
  const appStarted = statuses.some((s) => s.state?.running || s.state?.terminated);
  if (pendingInit > 0 && !appStarted && !terminal) return 'Pending';
  if (waiting > 0 && !terminal) return 'Pending';
  if (running > 0 && unknown === 0 && !terminal) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  if (terminal) return failedInit > 0 || stopped > succeeded || waiting + pendingInit + unknown + running > 0 ? 'Failed' : 'Succeeded';
  return 'Pending';
}

function condition(type: string, ok: boolean, reason: string | undefined, message: string | undefined, old: PodCondition[] | undefined, now: number): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : time(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

const names = (list: string[]) => `[${list.join(' ')}]`;

/** The whole status the kubelet writes for a pod. */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, runtime, now } = input;
  const policy = restartPolicyOf(pod);
  const terminal = input.terminal ?? false;
  const spec = pod.spec;
  const old = pod.status ?? {};

  const initStatuses: ContainerStatus[] = [];
  let initDone = true;
  // Sidecars restart until the app containers finished for good; then they are stopped and stay so.
  const sidecarPolicy: RestartPolicy = appContainersFinished(pod, runtime) ? 'Never' : 'Always';
  for (const c of spec?.initContainers ?? []) {
    const s = containerStatus(c, instancesOf(runtime, c.name), {
      policy: isSidecar(c) ? sidecarPolicy : policy === 'Never' ? 'Never' : 'OnFailure',
      terminal,
      defaultWaiting: 'PodInitializing',
      waiting: input.waiting.get(c.name),
      init: !isSidecar(c),
      probe: input.probe,
    });
    initStatuses.push(s);
    const finished = isSidecar(c) ? !!s.started : s.state?.terminated?.exitCode === 0;
    if (!finished) initDone = false;
  }
  const statuses = (spec?.containers ?? []).map((c) =>
    containerStatus(c, instancesOf(runtime, c.name), {
      policy,
      terminal,
      defaultWaiting: initDone ? 'ContainerCreating' : 'PodInitializing',
      waiting: input.waiting.get(c.name),
      probe: input.probe,
    }),
  );

  // Ephemeral containers run once (never restarted) and are never ready; they do not count towards the phase.
  const ephemeralStatuses = (spec?.ephemeralContainers ?? []).map((c) => ({
    ...containerStatus(c as Container, instancesOf(runtime, c.name), { policy: 'Never', terminal, defaultWaiting: 'ContainerCreating', waiting: input.waiting.get(c.name) }),
    ready: false,
  }));

  const phase = podPhase(pod, initStatuses, statuses, terminal);
  const sandbox = runtime?.sandboxes[0];
  const sandboxReady = !!sandbox?.ready && !terminal;
  const hostNetwork = spec?.hostNetwork === true;
  // Once assigned, pod IPs stay in the status after the sandbox is gone (as upstream keeps them).
  const runtimeIPs = hostNetwork ? input.hostIPs : sandbox?.ready && sandbox.ip ? [sandbox.ip, ...sandbox.additionalIps] : [];
  const podIPs = runtimeIPs.length ? runtimeIPs : (old.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);

  const incompleteInit = initStatuses
    .filter((s, i) => {
      const c = spec?.initContainers?.[i];
      return c && !(isSidecar(c) ? s.started : s.state?.terminated?.exitCode === 0);
    })
    .map((s) => s.name);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const unreadySidecars = initStatuses.filter((s, i) => spec?.initContainers?.[i] && isSidecar(spec.initContainers[i]) && !s.ready).map((s) => s.name);
  const allUnready = [...unreadySidecars, ...unready];
  const succeededPod = phase === 'Succeeded';
  const initializedOk = incompleteInit.length === 0 || succeededPod || (phase === 'Failed' && incompleteInit.length === 0);
  const containersReady = allUnready.length === 0 && !terminal && phase === 'Running';
  let notReadyReason = 'ContainersNotReady';
  let notReadyMessage = `containers with unready status: ${names(allUnready)}`;
  if (succeededPod) {
    notReadyReason = 'PodCompleted';
    notReadyMessage = '';
  } else if (allUnready.length === 0) {
    notReadyMessage = '';
    notReadyReason = phase === 'Running' ? '' : 'PodCompleted';
  }

  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady, undefined, undefined, old.conditions, now),
    condition(
      'Initialized',
      initializedOk,
      initializedOk ? (succeededPod && incompleteInit.length > 0 ? 'PodCompleted' : undefined) : 'ContainersNotInitialized',
      initializedOk ? undefined : `containers with incomplete status: ${names(incompleteInit)}`,
      old.conditions,
      now,
    ),
    condition('Ready', containersReady, containersReady ? undefined : notReadyReason || undefined, containersReady ? undefined : notReadyMessage || undefined, old.conditions, now),
    condition('ContainersReady', containersReady, containersReady ? undefined : notReadyReason || undefined, containersReady ? undefined : notReadyMessage || undefined, old.conditions, now),
  ];
  // Conditions others own (PodScheduled from the scheduler, DisruptionTarget, readiness gates) stay as they are.
  for (const c of old.conditions ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIPs[0],
    hostIPs: input.hostIPs.map((ip) => ({ ip })),
    ...(podIPs.length ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: old.startTime ?? time(now),
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(ephemeralStatuses.length ? { ephemeralContainerStatuses: ephemeralStatuses } : {}),
    ...(old.qosClass ? { qosClass: old.qosClass } : {}),
  };
  return status;
}
