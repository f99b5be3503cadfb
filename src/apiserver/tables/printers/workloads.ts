// apps, batch, autoscaling and policy kinds: upstream's printDeployment, printJob, printHorizontalPodAutoscaler, ...
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { parseApiVersion } from '../../../api/object.js';
import type { TablePrinter } from '../types.js';
import { humanDuration, humanAgeSince, parseTime } from '../../../machinery/duration.js';
import {
  age,
  ageColumn,
  as,
  column,
  containersColumn,
  formatLabelSelector,
  formatLabels,
  imagesColumn,
  intOrString,
  labelSelectorString,
  layoutContainers,
  nameColumn,
  nameOf,
  quantityString,
} from '../format.js';

const readyColumn = () => column('Ready', 'string', { text: 'Number of the pod with ready state' });

export const deploymentPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    readyColumn(),
    column('Up-to-date', 'string', 'apps.DeploymentStatus.updatedReplicas'),
    column('Available', 'string', 'apps.DeploymentStatus.availableReplicas'),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'apps.DeploymentSpec.selector', 1),
  ],
  cells(obj, now) {
    const d = as<Deployment>(obj);
    const [names, images] = layoutContainers(d.spec?.template?.spec?.containers);
    // spec.replicas defaults to 1
    const desired = d.spec?.replicas ?? 1;
    return [
      nameOf(obj),
      `${d.status?.readyReplicas ?? 0}/${desired}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(obj, now),
      names,
      images,
      labelSelectorString(d.spec?.selector) ?? '<invalid>',
    ];
  },
};

export const replicaSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'apps.ReplicaSetSpec.replicas'),
    column('Current', 'integer', 'apps.ReplicaSetStatus.replicas'),
    column('Ready', 'integer', 'apps.ReplicaSetStatus.readyReplicas'),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'apps.ReplicaSetSpec.selector', 1),
  ],
  cells(obj, now) {
    const rs = as<ReplicaSet>(obj);
    const [names, images] = layoutContainers(rs.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(obj, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
};

export const statefulSetPrinter: TablePrinter = {
  columns: [nameColumn(), readyColumn(), ageColumn(), containersColumn(1), imagesColumn(1)],
  cells(obj, now) {
    const s = as<StatefulSet>(obj);
    const [names, images] = layoutContainers(s.spec?.template?.spec?.containers);
    return [nameOf(obj), `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(obj, now), names, images];
  },
};

export const daemonSetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'apps.DaemonSetStatus.desiredNumberScheduled'),
    column('Current', 'integer', 'apps.DaemonSetStatus.currentNumberScheduled'),
    column('Ready', 'integer', 'apps.DaemonSetStatus.numberReady'),
    column('Up-to-date', 'integer', 'apps.DaemonSetStatus.updatedNumberScheduled'),
    column('Available', 'integer', 'apps.DaemonSetStatus.numberAvailable'),
    column('Node Selector', 'string', 'core.PodSpec.nodeSelector'),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'apps.DaemonSetSpec.selector', 1),
  ],
  cells(obj, now) {
    const ds = as<DaemonSet>(obj);
    const st = ds.status;
    const [names, images] = layoutContainers(ds.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(obj, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
};

/** Whether the first condition of this type is True (upstream's hasJobCondition). */
function hasJobCondition(conditions: JobCondition[] | undefined, type: string): boolean {
  const c = (conditions ?? []).find((cond) => cond.type === type);
  return c?.status === 'True';
}

/** STATUS of a job: Complete, Failed, Terminating, Suspended, FailureTarget or Running, in that precedence. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasJobCondition(conditions, 'Complete')) return 'Complete';
  if (hasJobCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasJobCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasJobCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined && job.spec.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: Date): string {
  const start = parseTime(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTime(job.status?.completionTime) ?? now;
  return humanDuration(end.getTime() - start.getTime());
}

export const jobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Status', 'string', { text: 'Status of the job.' }),
    column('Completions', 'string', 'batch.JobStatus.succeeded'),
    column('Duration', 'string', { text: 'Time required to complete the job.' }),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'batch.JobSpec.selector', 1),
  ],
  cells(obj, now) {
    const job = as<Job>(obj);
    const [names, images] = layoutContainers(job.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      age(obj, now),
      names,
      images,
      formatLabelSelector(job.spec?.selector),
    ];
  },
};

const printBoolPtr = (v: boolean | undefined): string => (v === undefined || v === null ? '<unset>' : v ? 'True' : 'False');

export const cronJobPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Schedule', 'string', 'batch.CronJobSpec.schedule'),
    column('Timezone', 'string', 'batch.CronJobSpec.timeZone'),
    column('Suspend', 'boolean', 'batch.CronJobSpec.suspend'),
    column('Active', 'integer', 'batch.CronJobStatus.active'),
    column('Last Schedule', 'string', 'batch.CronJobStatus.lastScheduleTime'),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'batch.JobSpec.selector', 1),
  ],
  cells(obj, now) {
    const cj = as<CronJob>(obj);
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = layoutContainers(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime ? humanAgeSince(cj.status.lastScheduleTime, now) : '<none>';
    return [
      nameOf(obj),
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      printBoolPtr(cj.spec?.suspend),
      (cj.status?.active ?? []).length,
      last,
      age(obj, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
};

/** "kind.group/name" of the controlling owner, "<none>" without one. */
function controllerName(obj: KubeObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const { group } = parseApiVersion(ref.apiVersion);
  if (!ref.kind && !group) return ref.name;
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return `${groupKind.toLowerCase()}/${ref.name}`;
}

export const controllerRevisionPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Controller', 'string', { text: 'Controller of the object' }),
    column('Revision', 'string', 'apps.ControllerRevision.revision'),
    ageColumn(),
  ],
  cells: (obj, now) => [nameOf(obj), controllerName(obj), as<ControllerRevision>(obj).revision ?? 0, age(obj, now)],
};

const unknown = '<unknown>';

/** TARGETS of an HPA: "current/target" per metric, at most two followed by "+ N more...". */
export function formatHPAMetrics(specs: MetricSpec[] | undefined, statuses: MetricStatus[] | undefined): string {
  const list = specs ?? [];
  if (list.length === 0) return '<none>';
  const st = statuses ?? [];
  const out: string[] = list.map((spec, i): string => {
    const status = st[i];
    switch (spec.type) {
      case 'External': {
        const target = spec.external?.target;
        if (target?.averageValue !== undefined) {
          const cur = status?.external?.current?.averageValue;
          return `${cur !== undefined ? quantityString(cur) : unknown}/${quantityString(target.averageValue)} (avg)`;
        }
        const cur = status?.external ? quantityString(status.external.current?.value) : unknown;
        return `${cur}/${quantityString(target?.value)}`;
      }
      case 'Pods': {
        const cur = status?.pods ? quantityString(status.pods.current?.averageValue) : unknown;
        return `${cur}/${quantityString(spec.pods?.target?.averageValue)}`;
      }
      case 'Object': {
        const target = spec.object?.target;
        if (target?.averageValue !== undefined) {
          const cur = status?.object?.current?.averageValue;
          return `${cur !== undefined ? quantityString(cur) : unknown}/${quantityString(target.averageValue)} (avg)`;
        }
        const cur = status?.object ? quantityString(status.object.current?.value) : unknown;
        return `${cur}/${quantityString(target?.value)}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const cs = spec.type === 'Resource' ? status?.resource : status?.containerResource;
        const name = src?.name ?? '';
        if (src?.target?.averageValue !== undefined) {
          const cur = cs ? quantityString(cs.current?.averageValue) : unknown;
          return `${name}: ${cur}/${quantityString(src.target.averageValue)}`;
        }
        const utilization = cs?.current?.averageUtilization;
        const cur = utilization !== undefined ? `${utilization}%` : unknown;
        const target = src?.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
        return `${name}: ${cur}/${target}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const max = 2;
  if (out.length > max) return `${out.slice(0, max).join(', ')} + ${out.length - max} more...`;
  return out.join(', ');
}

/** autoscaling/v1 HPAs as upstream's conversion presents them internally: CPU utilization as a Resource metric. */
function hpaView(obj: KubeObject): HorizontalPodAutoscaler {
  if (!obj.apiVersion.startsWith('autoscaling/v1')) return as<HorizontalPodAutoscaler>(obj);
  const v1 = as<HorizontalPodAutoscalerV1>(obj);
  const metrics: MetricSpec[] = [];
  const currentMetrics: MetricStatus[] = [];
  if (v1.spec?.targetCPUUtilizationPercentage !== undefined) {
    metrics.push({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: v1.spec.targetCPUUtilizationPercentage } },
    });
  }
  if (v1.status?.currentCPUUtilizationPercentage !== undefined) {
    currentMetrics.push({
      type: 'Resource',
      resource: { name: 'cpu', current: { averageUtilization: v1.status.currentCPUUtilizationPercentage } },
    });
  }
  return {
    metadata: v1.metadata,
    spec: { scaleTargetRef: v1.spec?.scaleTargetRef ?? { kind: '', name: '' }, minReplicas: v1.spec?.minReplicas, maxReplicas: v1.spec?.maxReplicas ?? 0, metrics },
    status: { currentReplicas: v1.status?.currentReplicas, desiredReplicas: v1.status?.desiredReplicas ?? 0, currentMetrics },
  };
}

export const horizontalPodAutoscalerPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Reference', 'string', 'autoscaling.HorizontalPodAutoscalerSpec.scaleTargetRef'),
    column('Targets', 'string', 'autoscaling.HorizontalPodAutoscalerSpec.metrics'),
    column('MinPods', 'string', 'autoscaling.HorizontalPodAutoscalerSpec.minReplicas'),
    column('MaxPods', 'string', 'autoscaling.HorizontalPodAutoscalerSpec.maxReplicas'),
    column('Replicas', 'string', 'autoscaling.HorizontalPodAutoscalerStatus.currentReplicas'),
    ageColumn(),
  ],
  cells(obj, now) {
    const hpa = hpaView(obj);
    const ref = hpa.spec?.scaleTargetRef;
    return [
      nameOf(obj),
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      formatHPAMetrics(hpa.spec?.metrics, hpa.status?.currentMetrics),
      hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : '<unset>',
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      age(obj, now),
    ];
  },
};

export const podDisruptionBudgetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Min Available', 'string', { text: 'The minimum number of pods that must be available.' }),
    column('Max Unavailable', 'string', { text: 'The maximum number of pods that may be unavailable.' }),
    column('Allowed Disruptions', 'integer', { text: 'Calculated number of pods that may be disrupted at this time.' }),
    ageColumn(),
  ],
  cells(obj, now) {
    const pdb = as<PodDisruptionBudget>(obj);
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      nameOf(obj),
      min !== undefined && min !== null ? intOrString(min) : 'N/A',
      max !== undefined && max !== null ? intOrString(max) : 'N/A',
      pdb.status?.disruptionsAllowed ?? 0,
      age(obj, now),
    ];
  },
};
