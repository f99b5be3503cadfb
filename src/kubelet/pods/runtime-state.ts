// What the runtime holds for each pod, read back from the CRI: its sandboxes and containers, newest first. The
// kubelet keeps no state of its own about containers (beyond back-off timers and the last sync's waiting reasons):
// every sync compares the pod's spec with this.
import type { CriClient } from '../cri/client.js';
import type { ContainerStatus, PodSandbox } from '../cri/types.js';
import { terminationMessage } from './termination.js';

/** Labels the kubelet puts on sandboxes and containers (upstream's names). */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** Marks what this kubelet created (another kubelet may share a containerd). */
export const LABEL_MANAGED = 'skiff.dev/managed';
/** Container annotations. */
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_INIT = 'skiff.dev/init-container';

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  restartCount: number;
  state: RuntimeContainerState;
  /** Milliseconds since the epoch; 0 when unset. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
}

export interface RuntimeSandbox {
  id: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  ip: string;
  additionalIps: string[];
}

export interface RuntimePod {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: RuntimeSandbox[];
  /** Newest first. */
  containers: RuntimeContainer[];
}

const nsToMs = (ns: number): number => (ns > 0 ? Math.floor(ns / 1e6) : 0);

const STATE: Record<string, RuntimeContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

export function toRuntimeContainer(s: ContainerStatus, sandboxId: string): RuntimeContainer {
  const restart = Number(s.annotations[ANNOTATION_RESTART_COUNT] ?? s.metadata.attempt);
  return {
    id: s.id,
    sandboxId,
    name: s.metadata.name,
    attempt: s.metadata.attempt,
    restartCount: Number.isFinite(restart) ? restart : s.metadata.attempt,
    state: STATE[s.state] ?? 'unknown',
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    exitCode: s.exitCode,
    reason: s.reason,
    message: s.message,
    image: s.image?.image ?? '',
    imageRef: s.imageRef,
  };
}

/** Messages of exited containers (they never change once the container exited), by container ID. */
const exitMessages = new Map<string, string>();

async function withTerminationMessage(s: ContainerStatus): Promise<ContainerStatus> {
  if (s.state !== 'CONTAINER_EXITED') return s;
  let message = exitMessages.get(s.id);
  if (message === undefined) {
    message = await terminationMessage({ exitCode: s.exitCode, reason: s.reason, message: s.message, mounts: s.mounts ?? [], annotations: s.annotations, logPath: s.logPath });
    exitMessages.set(s.id, message);
  }
  return { ...s, message };
}

/** Every pod this kubelet runs, by pod UID, with sandbox and container details (one relist). */
export async function listRuntimePods(cri: CriClient, podUid?: string): Promise<Map<string, RuntimePod>> {
  const selector: Record<string, string> = { [LABEL_MANAGED]: 'true', ...(podUid ? { [LABEL_POD_UID]: podUid } : {}) };
  const [sandboxes, containers] = await Promise.all([cri.listPodSandbox({ labelSelector: selector }), cri.listContainers({ labelSelector: selector })]);
  const pods = new Map<string, RuntimePod>();
  const podFor = (labels: Record<string, string>): RuntimePod | undefined => {
    const uid = labels[LABEL_POD_UID];
    if (!uid) return undefined;
    let p = pods.get(uid);
    if (!p) {
      p = { uid, name: labels[LABEL_POD_NAME] ?? '', namespace: labels[LABEL_POD_NAMESPACE] ?? '', sandboxes: [], containers: [] };
      pods.set(uid, p);
    }
    return p;
  };
  const sandboxIps = new Map<string, { ip: string; additionalIps: string[] }>();
  await Promise.all(
    sandboxes
      .filter((s) => s.state === 'SANDBOX_READY')
      .map(async (s) => {
        try {
          const st = await cri.podSandboxStatus(s.id);
          sandboxIps.set(s.id, { ip: st.network?.ip ?? '', additionalIps: (st.network?.additionalIps ?? []).map((a) => a.ip) });
        } catch {
          // gone meanwhile
        }
      }),
  );
  for (const s of sandboxes as PodSandbox[]) {
    const p = podFor(s.labels);
    if (!p) continue;
    const net = sandboxIps.get(s.id);
    p.sandboxes.push({
      id: s.id,
      attempt: s.metadata.attempt,
      ready: s.state === 'SANDBOX_READY',
      createdAt: nsToMs(s.createdAt),
      ip: net?.ip ?? '',
      additionalIps: net?.additionalIps ?? [],
    });
  }
  await Promise.all(
    containers.map(async (c) => {
      const p = podFor(c.labels);
      if (!p) return;
      try {
        p.containers.push(toRuntimeContainer(await withTerminationMessage(await cri.containerStatus(c.id)), c.podSandboxId));
      } catch {
        // removed meanwhile
      }
    }),
  );
  if (!podUid) {
    const present = new Set(containers.map((c) => c.id));
    for (const id of exitMessages.keys()) if (!present.has(id)) exitMessages.delete(id);
  }
  for (const p of pods.values()) {
    p.sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    p.containers.sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
  }
  return pods;
}

/** One container's current state (after the sync created, started or killed it), without listing the pod again. */
export async function readContainer(cri: CriClient, id: string, sandboxId: string): Promise<RuntimeContainer | undefined> {
  try {
    return toRuntimeContainer(await withTerminationMessage(await cri.containerStatus(id)), sandboxId);
  } catch {
    return undefined; // removed meanwhile
  }
}

/** A sandbox just run: its state and IP from one PodSandboxStatus call. */
export async function readSandbox(cri: CriClient, id: string): Promise<RuntimeSandbox | undefined> {
  try {
    const st = await cri.podSandboxStatus(id);
    return {
      id,
      attempt: st.metadata.attempt,
      ready: st.state === 'SANDBOX_READY',
      createdAt: nsToMs(st.createdAt),
      ip: st.network?.ip ?? '',
      additionalIps: (st.network?.additionalIps ?? []).map((a) => a.ip),
    };
  } catch {
    return undefined;
  }
}

const CRI_CONTAINER_STATE = Object.fromEntries(Object.entries(STATE).map(([cri, state]) => [state, cri])) as Record<RuntimeContainerState, string>;

/** The relist fingerprint (relistFingerprints) of a pod as a sync read it: the PLEG need not sync it again for that. */
export function fingerprintOf(p: RuntimePod): string {
  return [...p.sandboxes.map((s) => `s:${s.id}:${s.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY'}`), ...p.containers.map((c) => `c:${c.id}:${CRI_CONTAINER_STATE[c.state]}`)].sort().join('|');
}

/**
 * Upstream's generic PLEG relist: the two list calls only (no status call per sandbox or container), giving each pod's
 * fingerprint — its sandboxes' and containers' IDs and states. A sandbox's IP or a container's exit code never change
 * without a state change, so a different fingerprint is what tells that a pod needs a sync.
 */
export async function relistFingerprints(cri: CriClient): Promise<Map<string, string>> {
  // Only ids, states and the pod UID label are decoded (relist-wire.ts): this runs every second, so it also keeps to
  // plain loops (no iterator entries, no Array.prototype.sort work arrays for a pod's two or three parts).
  const [sandboxes, containers] = await Promise.all([cri.listPodSandboxStates(RELIST_SELECTOR, LABEL_POD_UID), cri.listContainerStates(RELIST_SELECTOR, LABEL_POD_UID)]);
  const parts = new Map<string, string[]>();
  const add = (uid: string, part: string) => {
    if (!uid) return;
    const list = parts.get(uid);
    if (list) list.push(part);
    else parts.set(uid, [part]);
  };
  for (let i = 0; i < sandboxes.length; i++) add(sandboxes[i]!.label, `s:${sandboxes[i]!.id}:${sandboxes[i]!.state}`);
  for (let i = 0; i < containers.length; i++) add(containers[i]!.label, `c:${containers[i]!.id}:${containers[i]!.state}`);
  if (exitMessages.size > 0) {
    const present = new Set<string>();
    for (let i = 0; i < containers.length; i++) present.add(containers[i]!.id);
    for (const id of [...exitMessages.keys()]) if (!present.has(id)) exitMessages.delete(id);
  }
  const out = new Map<string, string>();
  parts.forEach((list, uid) => out.set(uid, sortedJoin(list)));
  return out;
}

const RELIST_SELECTOR = { [LABEL_MANAGED]: 'true' };

/** list.sort().join('|') by insertion sort in place (a pod has a few parts; the same order as sort()). */
function sortedJoin(list: string[]): string {
  for (let i = 1; i < list.length; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]! > v) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
  return list.length === 1 ? list[0]! : list.join('|');
}
