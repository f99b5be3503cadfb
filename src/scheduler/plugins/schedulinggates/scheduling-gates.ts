// SchedulingGates: a pod with spec.schedulingGates stays out of the active queue until they are all removed.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ActionType, QueueingHint, asObjects, registerFor, samePod, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { PreEnqueuePlugin } from '../../framework/interfaces.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const SCHEDULING_GATES = 'SchedulingGates';

export class SchedulingGates implements PreEnqueuePlugin, EnqueueExtensions {
  readonly name = SCHEDULING_GATES;

  /** Only the pod's own gates going away lets it in. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [registerFor('Pod', ActionType.UpdatePodSchedulingGatesEliminated, (pod, o, n) => this.isSchedulableAfterUpdatePodSchedulingGatesEliminated(pod, o, n))];
  }

  isSchedulableAfterUpdatePodSchedulingGatesEliminated(pod: Pod, _oldObj: unknown, newObj: unknown): QueueingHint {
    const { newObj: modified } = asObjects<Pod>(undefined, newObj);
    return modified && samePod(modified, pod) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  preEnqueue(pod: Pod): MaybeStatus {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return undefined;
    // Go's %v of a []string.
    return Status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }
}
