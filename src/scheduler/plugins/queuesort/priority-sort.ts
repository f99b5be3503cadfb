// PrioritySort: higher priority first, then the pod queued earlier.
import type { QueueSortPlugin, QueuedPodInfo } from '../../framework/interfaces.js';
import { podPriority } from '../../framework/helpers.js';

export const PRIORITY_SORT = 'PrioritySort';

export class PrioritySort implements QueueSortPlugin {
  readonly name = PRIORITY_SORT;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = podPriority(a.pod);
    const p2 = podPriority(b.pod);
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}
