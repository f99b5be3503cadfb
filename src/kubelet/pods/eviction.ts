// Local-storage eviction, as upstream's eviction manager does it for limits a pod declares itself (its
// localStorageEviction step, every monitoring interval): an emptyDir using more than its sizeLimit, a container whose
// writable layer and logs use more than its ephemeral-storage limit, or a pod whose emptyDirs and containers together
// use more than the sum of its containers' limits. Such a pod is killed at once (upstream's immediate 1 s grace) and ends Failed with reason
// Evicted and upstream's message. Node-pressure eviction (thresholds on the node's memory and disk) is not here.
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../machinery/quantity.js';
import type { CriClient } from '../cri/client.js';
import { podLogDirectory } from './config.js';
import { LABEL_POD_UID } from './runtime-state.js';
import { isMirrorPod, isStaticPod } from './static.js';

/** Upstream's eviction reason on the pod's status and its event. */
export const EVICTED_REASON = 'Evicted';
/** Upstream's grace period for evictions that cannot wait (hard thresholds, local-storage limits). */
export const IMMEDIATE_EVICTION_GRACE_SECONDS = 1;
/** The condition an evicted pod gets (node-pressure evictions), with the reason saying the kubelet ended it. */
export const DISRUPTION_TARGET = 'DisruptionTarget';
export const TERMINATION_BY_KUBELET = 'TerminationByKubelet';

/** An eviction the pod worker carries out at the pod's next sync. */
export interface PodEviction {
  /** Status message and event text (upstream's). */
  message: string;
  /** The kill's grace period (default IMMEDIATE_EVICTION_GRACE_SECONDS). */
  gracePeriodSeconds?: number;
  /** Set DisruptionTarget=True (reason TerminationByKubelet, the message) on the pod. */
  disruptionTarget?: boolean;
  /** The status reason and event reason (default Evicted; Preempting for a pod preempted for a critical pod). */
  reason?: string;
  /** The DisruptionTarget condition's message when it differs from the status message. */
  conditionMessage?: string;
}
/** Upstream's system-critical priority: such pods are never evicted. */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** What a pod uses on the node's disk, in bytes. */
export interface PodStorageUsage {
  /** By emptyDir volume name (disk and Memory media alike). */
  emptyDirs: Map<string, number>;
  /** By container name: writable layer plus logs; absent when the runtime does not tell. */
  containers?: Map<string, number>;
}

const quantityValue = (q: unknown) => (q === undefined ? undefined : parseQuantity(String(q)));

/**
 * The eviction message when the pod uses more local storage than it declared (upstream's emptyDirLimitEviction,
 * podEphemeralStorageLimitEviction and containerEphemeralStorageLimitEviction, in that order), else undefined.
 */
export function localStorageViolation(pod: Pod, usage: PodStorageUsage): string | undefined {
  for (const v of pod.spec?.volumes ?? []) {
    const limit = quantityValue(v.emptyDir?.sizeLimit);
    const used = usage.emptyDirs.get(v.name);
    if (!limit || used === undefined || limit.value() <= 0) continue;
    if (used > limit.value()) return `Usage of EmptyDir volume ${JSON.stringify(v.name)} exceeds the limit ${JSON.stringify(limit.toString())}. `;
  }
  if (!usage.containers) return undefined;
  // The pod's limit is the sum of the limits its containers declare (upstream's PodLimits).
  const limits = (pod.spec?.containers ?? []).map((c) => quantityValue(c.resources?.limits?.['ephemeral-storage'])).filter((l) => l !== undefined);
  if (limits.length > 0) {
    const sum = limits.reduce((s, l) => s.add(l));
    // Disk-backed emptyDirs count towards the pod; Memory ones are memory.
    let used = 0;
    for (const v of pod.spec?.volumes ?? []) if (v.emptyDir && v.emptyDir.medium !== 'Memory') used += usage.emptyDirs.get(v.name) ?? 0;
    for (const n of usage.containers.values()) used += n;
    if (sum.value() > 0 && used > sum.value()) return `Pod ephemeral local storage usage exceeds the total limit of containers ${sum.toString()}. `;
  }
  for (const c of pod.spec?.containers ?? []) {
    const limit = quantityValue(c.resources?.limits?.['ephemeral-storage']);
    const used = usage.containers.get(c.name);
    if (!limit || used === undefined || limit.value() <= 0) continue;
    if (used > limit.value()) return `Container ${c.name} exceeded its local ephemeral storage limit ${JSON.stringify(limit.toString())}. `;
  }
  return undefined;
}

/** Whether the pod declares anything local-storage eviction watches. */
export function hasLocalStorageLimits(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.emptyDir?.sizeLimit !== undefined) || (pod.spec?.containers ?? []).some((c) => c.resources?.limits?.['ephemeral-storage'] !== undefined);
}

/** Critical pods (system priority) are never evicted, as upstream. */
export function isCriticalPod(pod: Pod): boolean {
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

/** Upstream's kubetypes.IsCriticalPod: static and mirror pods, and system-critical priority (admission, preemption). */
export function isCriticalPodType(pod: Pod): boolean {
  return isStaticPod(pod) || isMirrorPod(pod) || isCriticalPod(pod);
}

/** Disk usage of a tree like `du`: allocated blocks, hard links counted once, other file systems included. */
export async function diskUsage(path: string): Promise<number> {
  const seen = new Set<string>();
  const walk = async (p: string): Promise<number> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return 0;
    if (st.nlink > 1 && !st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) return 0;
      seen.add(id);
    }
    let total = st.blocks * 512;
    if (st.isDirectory()) {
      let entries: Dirent[] = [];
      try {
        entries = await readdir(p, { withFileTypes: true });
      } catch {
        entries = [];
      }
      for (const e of entries) total += await walk(join(p, e.name));
    }
    return total;
  };
  return walk(path);
}

/** Where the pod's storage is: its emptyDirs' folders, the runtime (writable layers) and the log root. */
export interface StorageSources {
  emptyDirPath(uid: string, volume: string): string;
  cri: CriClient;
  logRoot: string;
}

/** Measures what localStorageViolation needs for one pod (containers only when one declares a limit). */
export async function podStorageUsage(pod: Pod, src: StorageSources): Promise<PodStorageUsage> {
  const uid = pod.metadata?.uid ?? '';
  const emptyDirs = new Map<string, number>();
  for (const v of pod.spec?.volumes ?? []) if (v.emptyDir) emptyDirs.set(v.name, await diskUsage(src.emptyDirPath(uid, v.name)));
  if (!(pod.spec?.containers ?? []).some((c) => c.resources?.limits?.['ephemeral-storage'] !== undefined)) return { emptyDirs };
  const containers = new Map<string, number>();
  const logs = podLogDirectory(src.logRoot, pod);
  for (const st of await src.cri.listContainerStats({ labelSelector: { [LABEL_POD_UID]: uid } })) {
    const name = st.attributes?.metadata?.name;
    if (!name) continue;
    const layer = st.writableLayer?.usedBytes?.value ?? 0;
    containers.set(name, layer + (await diskUsage(join(logs, name))));
  }
  return { emptyDirs, containers };
}
