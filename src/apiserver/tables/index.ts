// Server-side table output (`kubectl get`): picks upstream's printer for a resource and renders a meta.k8s.io Table.
import type { KubeObject } from '../../api/object.js';
import { formatTime, parseTime } from '../../machinery/duration.js';
import { ApiError } from '../../machinery/errors.js';
import type { TableColumnDefinition, TablePrinter, TableRowCondition } from './types.js';
import { column, nameColumn, nameOf } from './format.js';
import { podPrinter, podTemplatePrinter } from './printers/pods.js';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './printers/core.js';
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  horizontalPodAutoscalerPrinter,
  jobPrinter,
  podDisruptionBudgetPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './printers/workloads.js';
import {
  certificateSigningRequestPrinter,
  clusterRoleBindingPrinter,
  csiDriverPrinter,
  csiNodePrinter,
  csiStorageCapacityPrinter,
  endpointSlicePrinter,
  ingressClassPrinter,
  ingressPrinter,
  leasePrinter,
  mutatingWebhookConfigurationPrinter,
  networkPolicyPrinter,
  priorityClassPrinter,
  roleBindingPrinter,
  runtimeClassPrinter,
  storageClassPrinter,
  validatingAdmissionPolicyBindingPrinter,
  validatingAdmissionPolicyPrinter,
  validatingWebhookConfigurationPrinter,
  volumeAttachmentPrinter,
} from './printers/cluster.js';

export type { TableColumnDefinition, TablePrinter, TableRowCondition } from './types.js';

const GO_ZERO_TIME = new Date('0001-01-01T00:00:00Z');

/**
 * Upstream's DefaultTableConvertor, used for every kind without a printer (roles, limit ranges, CRDs, custom
 * resources without printer columns): NAME and CREATED AT as an RFC3339 date.
 */
export const defaultPrinter: TablePrinter = {
  columns: [nameColumn(), column('Created At', 'date', 'meta.ObjectMeta.creationTimestamp')],
  // A missing (or unreadable) timestamp is Go's zero time.
  cells: (obj) => [nameOf(obj), formatTime(parseTime(obj.metadata.creationTimestamp) ?? GO_ZERO_TIME)],
};

const PRINTERS: ReadonlyMap<string, TablePrinter> = new Map<string, TablePrinter>([
  ['/pods', podPrinter],
  ['/podtemplates', podTemplatePrinter],
  ['/services', servicePrinter],
  ['/endpoints', endpointsPrinter],
  ['/nodes', nodePrinter],
  ['/namespaces', namespacePrinter],
  ['/configmaps', configMapPrinter],
  ['/secrets', secretPrinter],
  ['/serviceaccounts', serviceAccountPrinter],
  ['/events', eventPrinter],
  ['/persistentvolumes', persistentVolumePrinter],
  ['/persistentvolumeclaims', persistentVolumeClaimPrinter],
  ['/resourcequotas', resourceQuotaPrinter],
  ['/replicationcontrollers', replicationControllerPrinter],
  ['apps/deployments', deploymentPrinter],
  ['apps/replicasets', replicaSetPrinter],
  ['apps/statefulsets', statefulSetPrinter],
  ['apps/daemonsets', daemonSetPrinter],
  ['apps/controllerrevisions', controllerRevisionPrinter],
  ['batch/jobs', jobPrinter],
  ['batch/cronjobs', cronJobPrinter],
  ['autoscaling/horizontalpodautoscalers', horizontalPodAutoscalerPrinter],
  ['policy/poddisruptionbudgets', podDisruptionBudgetPrinter],
  ['events.k8s.io/events', eventPrinter],
  ['networking.k8s.io/ingresses', ingressPrinter],
  ['networking.k8s.io/ingressclasses', ingressClassPrinter],
  ['networking.k8s.io/networkpolicies', networkPolicyPrinter],
  ['rbac.authorization.k8s.io/rolebindings', roleBindingPrinter],
  ['rbac.authorization.k8s.io/clusterrolebindings', clusterRoleBindingPrinter],
  ['storage.k8s.io/storageclasses', storageClassPrinter],
  ['storage.k8s.io/csidrivers', csiDriverPrinter],
  ['storage.k8s.io/csinodes', csiNodePrinter],
  ['storage.k8s.io/csistoragecapacities', csiStorageCapacityPrinter],
  ['storage.k8s.io/volumeattachments', volumeAttachmentPrinter],
  ['coordination.k8s.io/leases', leasePrinter],
  ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
  ['scheduling.k8s.io/priorityclasses', priorityClassPrinter],
  ['node.k8s.io/runtimeclasses', runtimeClassPrinter],
  ['admissionregistration.k8s.io/mutatingwebhookconfigurations', mutatingWebhookConfigurationPrinter],
  ['admissionregistration.k8s.io/validatingwebhookconfigurations', validatingWebhookConfigurationPrinter],
  ['admissionregistration.k8s.io/validatingadmissionpolicies', validatingAdmissionPolicyPrinter],
  ['admissionregistration.k8s.io/validatingadmissionpolicybindings', validatingAdmissionPolicyBindingPrinter],
  ['certificates.k8s.io/certificatesigningrequests', certificateSigningRequestPrinter],
]);

/** Upstream's printer for a resource (all versions of a group share it), or the default NAME/CREATED AT table. */
export function printerFor(group: string, resource: string): TablePrinter {
  return PRINTERS.get(`${group}/${resource}`) ?? defaultPrinter;
}

export interface ToTableOptions {
  now: Date;
  includeObject: 'None' | 'Metadata' | 'Object';
  /** The list's metadata; without it the table takes the resourceVersion of its single object, as upstream. */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Watch events after the first carry no column definitions (upstream sets NoHeaders after the first event). */
  omitColumnDefinitions?: boolean;
  /** Table version requested (meta.k8s.io/v1 unless the client asked for v1beta1). */
  apiVersion?: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[] | null;
}

function rowObject(obj: KubeObject, includeObject: ToTableOptions['includeObject'], apiVersion: string): unknown {
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: obj.metadata };
}

function tableMetadata(objects: KubeObject[], listMeta: ToTableOptions['listMeta']): Table['metadata'] {
  const meta: Table['metadata'] = {};
  const source = listMeta ?? (objects.length === 1 ? objects[0].metadata : undefined);
  if (source?.resourceVersion) meta.resourceVersion = source.resourceVersion;
  if (listMeta?.continue) meta.continue = listMeta.continue;
  if (listMeta?.remainingItemCount !== undefined && listMeta.remainingItemCount !== null) {
    meta.remainingItemCount = listMeta.remainingItemCount;
  }
  return meta;
}

/** A printer tripping over a malformed stored object becomes a clear 500, not a crashed request. */
function printCells(printer: TablePrinter, obj: KubeObject, now: Date): unknown[] {
  try {
    return printer.cells(obj, now);
  } catch (e) {
    const what = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? ''}`;
    throw ApiError.internal(`failed to print ${what} as a table: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/**
 * Renders objects as a meta.k8s.io Table the way the API server answers `Accept: ...;as=Table`: every column
 * (wide ones included: kubectl hides priority>0 columns itself) and one row per object carrying, by default,
 * the object's PartialObjectMetadata.
 */
export function toTable(printer: TablePrinter, objects: KubeObject[], opts: ToTableOptions): Table {
  const apiVersion = opts.apiVersion ?? 'meta.k8s.io/v1';
  const rows: TableRow[] = objects.map((obj) => {
    const row: TableRow = { cells: printCells(printer, obj, opts.now) };
    const conditions = printer.conditions?.(obj);
    if (conditions && conditions.length > 0) row.conditions = conditions;
    if (opts.includeObject !== 'None') row.object = rowObject(obj, opts.includeObject, apiVersion);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion,
    metadata: tableMetadata(objects, opts.listMeta),
    columnDefinitions: opts.omitColumnDefinitions ? null : printer.columns,
    // The default convertor appends rows to a nil slice, so an empty table has null rows there; printers return [].
    rows: rows.length === 0 && printer === defaultPrinter ? null : rows,
  };
}
