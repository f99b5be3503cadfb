// SchedulingGates: a pod with spec.schedulingGates stays out of the active queue until they are all removed.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PreEnqueuePlugin } from '../../framework/interfaces.js';
import { Status, type MaybeStatus } from '../../framework/status.js';

export const SCHEDULING_GATES = 'SchedulingGates';

export class SchedulingGates implements PreEnqueuePlugin {
  readonly name = SCHEDULING_GATES;

  preEnqueue(pod: Pod): MaybeStatus {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return undefined;
    // Go's %v of a []string.
    return Status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }
}
