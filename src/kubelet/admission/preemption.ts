// Upstream's kubelet preemption (CriticalPodAdmissionHandler): to admit a critical pod short of resources, the
// fewest lower pods are chosen to be killed: BestEffort before Burstable before Guaranteed, within a class the pod
// nearest to what is missing (each missing resource weighted by the fraction it covers), ties to the smaller pod.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podRequests } from '../../scheduler/framework/resources.js';
import { isCriticalPodType } from '../pods/eviction.js';
import { qosClassOf } from '../pods/qos.js';

/** How much of a resource must be freed (milli-CPU, bytes, a count). */
export interface AdmissionRequirement {
  resourceName: string;
  quantity: number;
}

/** Upstream's message and reason on a pod killed to make room. */
export const PREEMPTING_REASON = 'Preempting';
export const PREEMPTED_MESSAGE = 'Preempted in order to admit critical pod';
export const PREEMPTED_CONDITION_MESSAGE = 'Pod was preempted by Kubelet to accommodate a critical pod.';

/** Upstream's GetResourceRequest: a pod counts 1 pod; CPU in millicores; the rest in units. */
function resourceRequest(pod: Pod, name: string): number {
  if (name === 'pods') return 1;
  const q = podRequests(pod).get(name);
  if (!q) return 0;
  return name === 'cpu' ? q.milliValue() : q.value();
}

/** Upstream's kubetypes.Preemptable: a critical pod preempts non-critical ones, a higher priority lower ones. */
function preemptable(preemptor: Pod, preemptee: Pod): boolean {
  if (isCriticalPodType(preemptor) && !isCriticalPodType(preemptee)) return true;
  const a = preemptor.spec?.priority;
  const b = preemptee.spec?.priority;
  return a !== undefined && b !== undefined && a > b;
}

/** What is still missing once `pods` are gone. */
function subtract(reqs: readonly AdmissionRequirement[], pods: readonly Pod[]): AdmissionRequirement[] {
  const out: AdmissionRequirement[] = [];
  for (const r of reqs) {
    let left = r.quantity;
    for (const p of pods) {
      left -= resourceRequest(p, r.resourceName);
      if (left <= 0) break;
    }
    if (left > 0) out.push({ resourceName: r.resourceName, quantity: left });
  }
  return out;
}

function distance(reqs: readonly AdmissionRequirement[], pod: Pod): number {
  let d = 0;
  for (const r of reqs) {
    const remaining = r.quantity - resourceRequest(pod, r.resourceName);
    if (remaining > 0) d += (remaining / r.quantity) ** 2;
  }
  return d;
}

/** pod1 asks for less than pod2 (memory first, then CPU); equal counts as smaller. */
function smallerRequest(pod1: Pod, pod2: Pod): boolean {
  for (const name of ['memory', 'cpu']) {
    const a = resourceRequest(pod1, name);
    const b = resourceRequest(pod2, name);
    if (a !== b) return a < b;
  }
  return true;
}

const describe = (reqs: readonly AdmissionRequirement[]): string => `[${reqs.map((r) => `(res: ${r.resourceName}, q: ${r.quantity}), `).join('')}]`;

function byDistance(candidates: readonly Pod[], requirements: readonly AdmissionRequirement[]): Pod[] | string {
  const pods = [...candidates];
  let reqs = [...requirements];
  const out: Pod[] = [];
  while (reqs.length > 0) {
    if (pods.length === 0) return `no set of running pods found to reclaim resources: ${describe(reqs)}`;
    let best = reqs.length + 1;
    let bestIndex = 0;
    pods.forEach((p, i) => {
      const d = distance(reqs, p);
      if (d < best || (d === best && smallerRequest(p, pods[bestIndex]!))) {
        best = d;
        bestIndex = i;
      }
    });
    const chosen = pods[bestIndex]!;
    reqs = subtract(reqs, [chosen]);
    out.push(chosen);
    pods[bestIndex] = pods[pods.length - 1]!;
    pods.pop();
  }
  return out;
}

/** The pods to kill so `requirements` are met, or why no set of them can be found. */
export function podsToPreempt(preemptor: Pod, pods: readonly Pod[], requirements: readonly AdmissionRequirement[]): Pod[] | string {
  const classes: Record<'BestEffort' | 'Burstable' | 'Guaranteed', Pod[]> = { BestEffort: [], Burstable: [], Guaranteed: [] };
  for (const p of pods) if (preemptable(preemptor, p)) classes[qosClassOf(p)].push(p);
  const { BestEffort: bestEffort, Burstable: burstable, Guaranteed: guaranteed } = classes;
  const unmet = subtract(requirements, [...bestEffort, ...burstable, ...guaranteed]);
  if (unmet.length > 0) return `no set of running pods found to reclaim resources: ${describe(unmet)}`;
  const guaranteedToEvict = byDistance(guaranteed, subtract(requirements, [...bestEffort, ...burstable]));
  if (typeof guaranteedToEvict === 'string') return guaranteedToEvict;
  const burstableToEvict = byDistance(burstable, subtract(requirements, [...bestEffort, ...guaranteedToEvict]));
  if (typeof burstableToEvict === 'string') return burstableToEvict;
  const bestEffortToEvict = byDistance(bestEffort, subtract(requirements, [...burstableToEvict, ...guaranteedToEvict]));
  if (typeof bestEffortToEvict === 'string') return bestEffortToEvict;
  return [...bestEffortToEvict, ...burstableToEvict, ...guaranteedToEvict];
}
