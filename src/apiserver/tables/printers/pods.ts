// Pods and pod templates, as upstream's printPod / printPodTemplate compute them.
import type { Pod, PodStatus, PodTemplate, Container, ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { TablePrinter, TableRowCondition } from '../types.js';
import { humanDuration, parseTime } from '../../../machinery/duration.js';
import { age, as, column, containersColumn, formatLabels, imagesColumn, layoutContainers, nameColumn, nameOf } from '../format.js';

const isRestartableInitContainer = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';

function isPodInitializedConditionTrue(status: PodStatus): boolean {
  const c = (status.conditions ?? []).find((cond) => cond.type === 'Initialized');
  return c?.status === 'True';
}

const hasPodReadyCondition = (status: PodStatus): boolean =>
  (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The later of the running maximum and a container's last termination time. */
function laterFinish(current: Date | undefined, cs: ContainerStatus): Date | undefined {
  const finished = parseTime(cs.lastState?.terminated?.finishedAt);
  if (finished === undefined) return current;
  return current === undefined || current.getTime() < finished.getTime() ? finished : current;
}

export interface PodSummary {
  ready: string;
  reason: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of a pod exactly as upstream derives them from its spec and container statuses. */
export function summarizePod(pod: Pod, now: Date): PodSummary {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart: Date | undefined;
  let lastRestartableInitRestart: Date | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason ? status.reason : phase;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initContainers = new Map<string, Container>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    restarts += cs.restartCount ?? 0;
    lastRestart = laterFinish(lastRestart, cs);
    const restartable = isRestartableInitContainer(initContainers.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = laterFinish(lastRestartableInitRestart, cs);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // initialization failed
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting && waiting.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || isPodInitializedConditionTrue(status)) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = laterFinish(lastRestart, cs);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod with a container still running is not "Completed" yet.
    if (reason === 'Completed' && hasRunning) reason = hasPodReadyCondition(status) ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') {
    reason = 'Unknown';
  } else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsText = `${restarts} (${humanDuration(now.getTime() - lastRestart.getTime())} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, reason, restarts: restartsText };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  let trueConditions = 0;
  for (const gate of gates) {
    const cond = (pod.status?.conditions ?? []).find((c) => c.type === gate.conditionType);
    if (cond?.status === 'True') trueConditions++;
  }
  return `${trueConditions}/${gates.length}`;
}

const orNone = (s: string | undefined): string => (s ? s : '<none>');

export const podPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Ready', 'string', { text: 'The aggregate readiness state of this pod for accepting traffic.' }),
    column('Status', 'string', { text: 'The aggregate status of the containers in this pod.' }),
    column('Restarts', 'string', {
      text: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    }),
    column('Age', 'string', 'meta.ObjectMeta.creationTimestamp'),
    column('IP', 'string', 'core.PodStatus.podIP', 1),
    column('Node', 'string', 'core.PodSpec.nodeName', 1),
    column('Nominated Node', 'string', 'core.PodStatus.nominatedNodeName', 1),
    column('Readiness Gates', 'string', 'core.PodSpec.readinessGates', 1),
  ],
  cells(obj, now) {
    const pod = as<Pod>(obj);
    const s = summarizePod(pod, now);
    return [
      nameOf(obj),
      s.ready,
      s.reason,
      s.restarts,
      age(obj, now),
      // v1→internal conversion fills podIPs from podIP, so an object carrying only podIP prints it too.
      orNone(pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP),
      orNone(pod.spec?.nodeName),
      orNone(pod.status?.nominatedNodeName),
      readinessGates(pod),
    ];
  },
  conditions(obj): TableRowCondition[] | undefined {
    switch (as<Pod>(obj).status?.phase) {
      case 'Succeeded':
        return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
      case 'Failed':
        return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
      default:
        return undefined;
    }
  },
};

export const podTemplatePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    containersColumn(0),
    imagesColumn(0),
    column('Pod Labels', 'string', { text: 'The labels for the pod template.' }),
  ],
  cells(obj) {
    const t = as<PodTemplate>(obj);
    const [names, images] = layoutContainers(t.template?.spec?.containers);
    return [nameOf(obj), names, images, formatLabels(t.template?.metadata?.labels)];
  },
};
