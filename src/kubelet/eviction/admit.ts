// Upstream's eviction admit handler: while the node reports a pressure condition, a new pod is refused unless it is
// critical (static, mirror or system-critical priority); under MemoryPressure alone, pods that are not BestEffort are
// admitted, and BestEffort ones only if they tolerate the node.kubernetes.io/memory-pressure:NoSchedule taint; under
// DiskPressure or PIDPressure every other pod is refused. A refused pod ends Failed with reason Evicted and the message
// "Pod was rejected: The node had condition: [MemoryPressure]. " (the kubelet's rejectPod), and a warning event.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { tolerationsTolerateTaint } from '../../machinery/taints.js';
import type { AdmitResult } from '../admission/types.js';
import { EVICTED_REASON, isCriticalPodType } from '../pods/eviction.js';
import { qosClassOf } from '../pods/qos.js';
import type { PressureConditions } from './manager.js';

const MEMORY_PRESSURE_TAINT = { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' } as const;

/** The node's pressure conditions in upstream's order (memory, disk, pid). */
function conditionTypes(c: PressureConditions): string[] {
  return [...(c.memory ? ['MemoryPressure'] : []), ...(c.disk ? ['DiskPressure'] : []), ...(c.pid ? ['PIDPressure'] : [])];
}

export function admitUnderPressure(pod: Pod, pressure: PressureConditions): AdmitResult {
  const conditions = conditionTypes(pressure);
  if (conditions.length === 0) return { admit: true };
  if (isCriticalPodType(pod)) return { admit: true };
  if (conditions.length === 1 && pressure.memory) {
    if (qosClassOf(pod) !== 'BestEffort') return { admit: true };
    if (tolerationsTolerateTaint(pod.spec?.tolerations, MEMORY_PRESSURE_TAINT)) return { admit: true };
  }
  return { admit: false, reason: EVICTED_REASON, message: `The node had condition: [${conditions.join(' ')}]. ` };
}
