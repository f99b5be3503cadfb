// DaemonSet placement and pod shape (upstream's daemon/util and the predicates of daemon_controller.go): which nodes
// should run a daemon pod, the tolerations every daemon pod gets, the node affinity that pins a pod to its node, and
// whether a pod is at the current template.
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Node, Pod, PodSpec, PodTemplateSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { deepClone } from '../../api/object.js';
import { scaledValueFromIntOrPercent } from '../deployment/util.js';
import { RequiredNodeAffinity } from '../../machinery/nodeaffinity.js';
import { findMatchingUntoleratedTaint } from '../../machinery/taints.js';

/** apps.DefaultDaemonSetUniqueLabelKey: the pod's (and revision's) template hash. */
export const DAEMONSET_HASH_LABEL = 'controller-revision-hash';
/** extensions.DaemonSetTemplateGenerationKey: the template generation a pod was made from (deprecated). */
export const DAEMONSET_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** The annotation the API server keeps the template generation in. */
export const DAEMONSET_TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export const DAEMON_SET_KIND = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;

/** The tolerations AddOrUpdateDaemonPodTolerations gives every daemon pod (network-unavailable only with hostNetwork). */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? '') === (b.key ?? '') && (a.effect ?? '') === (b.effect ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '');

/** AddOrUpdateTolerationInPodSpec for each daemon toleration: replaces a matching one, else appends (mutates spec). */
export function addDaemonPodTolerations(spec: PodSpec): void {
  let tolerations = [...(spec.tolerations ?? [])];
  for (const tol of daemonPodTolerations(spec.hostNetwork === true)) {
    if (tolerations.some((t) => sameToleration(t, tol))) {
      tolerations = tolerations.map((t) => (sameToleration(t, tol) ? { ...tol } : t));
    } else {
      tolerations.push({ ...tol });
    }
  }
  spec.tolerations = tolerations;
}

/** NewPod: the daemon pod as it would be on this node (for the placement predicates). */
export function newDaemonPod(ds: DaemonSet, nodeName: string): Pod {
  const template = ds.spec?.template ?? {};
  const spec: PodSpec = { ...deepClone(template.spec ?? { containers: [] }), nodeName };
  addDaemonPodTolerations(spec);
  return { metadata: { ...deepClone(template.metadata ?? {}), namespace: ds.metadata?.namespace }, spec };
}

const isTaintEffect = (effects: readonly string[]) => (t: Taint) => effects.includes(t.effect);

/**
 * NodeShouldRunDaemonPod: shouldRun (a pod belongs there) and shouldContinueRunning (a pod already there may stay:
 * it tolerates the node's NoExecute taints even if a NoSchedule taint keeps new pods off).
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const nodeName = node.metadata?.name ?? '';
  const pod = newDaemonPod(ds, nodeName);
  const wanted = ds.spec?.template?.spec?.nodeName;
  if (wanted && wanted !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  const fitsNodeName = !pod.spec?.nodeName || pod.spec.nodeName === nodeName;
  let fitsAffinity: boolean;
  try {
    fitsAffinity = new RequiredNodeAffinity(pod).matches(node);
  } catch {
    fitsAffinity = false;
  }
  if (!fitsNodeName || !fitsAffinity) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints;
  const tolerations = pod.spec?.tolerations;
  if (findMatchingUntoleratedTaint(taints, tolerations, isTaintEffect(['NoExecute', 'NoSchedule']))) {
    const noExecute = findMatchingUntoleratedTaint(taints, tolerations, isTaintEffect(['NoExecute']));
    return { shouldRun: false, shouldContinueRunning: noExecute === undefined };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: required node affinity becomes exactly "metadata.name In [node]". */
export function pinToNode(affinity: Affinity | undefined, nodeName: string): Affinity {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const out = deepClone(affinity ?? {});
  out.nodeAffinity = { ...out.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } };
  return out;
}

/** GetTargetNodeName: spec.nodeName, else the single node a matchFields metadata.name term pins the pod to. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** GetTemplateGeneration: from the deprecated annotation; undefined when absent or not a number. */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const v = ds.metadata?.annotations?.[DAEMONSET_TEMPLATE_GENERATION_ANNOTATION];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** IsPodUpdated: the pod carries the current hash, or the current template generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const templateMatches = generation !== undefined && labels[DAEMONSET_TEMPLATE_GENERATION_LABEL] === String(generation);
  const hashMatches = hash.length > 0 && labels[DAEMONSET_HASH_LABEL] === hash;
  return hashMatches || templateMatches;
}

/** CreatePodTemplate: the template with the generation and hash labels and the daemon tolerations. */
export function createPodTemplate(template: PodTemplateSpec | undefined, generation: number | undefined, hash: string): PodTemplateSpec {
  const t = deepClone(template ?? {});
  const labels: Record<string, string> = { ...t.metadata?.labels };
  if (generation !== undefined) labels[DAEMONSET_TEMPLATE_GENERATION_LABEL] = String(generation);
  if (hash) labels[DAEMONSET_HASH_LABEL] = hash;
  t.metadata = { ...t.metadata, labels };
  t.spec = t.spec ?? { containers: [] };
  addDaemonPodTolerations(t.spec);
  return t;
}

/** UnavailableCount / SurgeCount: maxUnavailable and maxSurge of a RollingUpdate, scaled and rounded up. */
export function rollingUpdateCounts(ds: DaemonSet, desired: number): { maxUnavailable: number; maxSurge: number } {
  const us = ds.spec?.updateStrategy;
  if (us?.type !== 'RollingUpdate' || !us.rollingUpdate) return { maxUnavailable: 0, maxSurge: 0 };
  const ru = us.rollingUpdate;
  return {
    maxUnavailable: ru.maxUnavailable === undefined ? 0 : scaledValueFromIntOrPercent(ru.maxUnavailable, desired, true),
    maxSurge: ru.maxSurge === undefined ? 0 : scaledValueFromIntOrPercent(ru.maxSurge, desired, true),
  };
}

/** AllowsSurge: a RollingUpdate whose maxSurge is not zero. */
export function allowsSurge(ds: DaemonSet): boolean {
  try {
    return rollingUpdateCounts(ds, 1).maxSurge !== 0;
  } catch {
    return false;
  }
}

/** podByCreationTimestampAndPhase: scheduled pods first, then oldest, then by name. */
export function byCreationTimestampAndPhase(a: Pod, b: Pod): number {
  const sa = Boolean(a.spec?.nodeName);
  const sb = Boolean(b.spec?.nodeName);
  if (sa !== sb) return sa ? -1 : 1;
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta === tb) {
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  }
  return ta < tb ? -1 : 1;
}
