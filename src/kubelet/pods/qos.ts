// Quality of service on the node, as upstream's kubelet/qos: the pod's class (the API server's GetPodQOS, the one
// written into status.qosClass) and each container's oom_score_adj from it.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { podQOSClass } from '../../apiserver/registry/pods/strategy.js';
import { parseQuantity } from '../../machinery/quantity.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
/** Node- and cluster-critical pods are treated as Guaranteed for the OOM killer. */
const CRITICAL_PRIORITY = 2_000_000_000;

export function qosClassOf(pod: Pod): QOSClass {
  return (pod.status?.qosClass as QOSClass | undefined) ?? (podQOSClass(pod.spec) as QOSClass);
}

/** Upstream's GetContainerOOMScoreAdjust: -997 Guaranteed, 1000 BestEffort, Burstable 1000 - 1000*request/capacity in [3, 999]. */
export function oomScoreAdjust(pod: Pod, c: Container, memoryCapacity: number): number {
  if ((pod.spec?.priority ?? 0) >= CRITICAL_PRIORITY) return GUARANTEED_OOM_SCORE_ADJ;
  const qos = qosClassOf(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const req = c.resources?.requests?.memory ?? c.resources?.limits?.memory;
  const request = req === undefined ? 0 : parseQuantity(String(req)).value();
  if (memoryCapacity <= 0) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  const adj = Math.trunc(BESTEFFORT_OOM_SCORE_ADJ - (1000 * request) / memoryCapacity);
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}
