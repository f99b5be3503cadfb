// Core (v1) kinds other than pods: upstream's printService, printNode, printEvent, printPersistentVolume, ...
import type {
  ConfigMap,
  Endpoints,
  Event,
  LoadBalancerStatus,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { KubeObject } from '../../../api/object.js';
import type { TablePrinter } from '../types.js';
import { humanAgeSince } from '../../../machinery/duration.js';
import {
  age,
  ageColumn,
  as,
  column,
  containersColumn,
  formatLabels,
  imagesColumn,
  joinHostPort,
  layoutContainers,
  nameColumn,
  nameOf,
  quantityString,
} from '../format.js';

/** Sorted, de-duplicated load-balancer IPs (or hostnames), as loadBalancerStatusStringer with wide output. */
export function loadBalancerIngresses(status: LoadBalancerStatus | undefined): string {
  const set = new Set<string>();
  for (const ing of status?.ingress ?? []) {
    if (ing.ip) set.add(ing.ip);
    else if (ing.hostname) set.add(ing.hostname);
  }
  return [...set].sort().join(',');
}

function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lbIPs = loadBalancerIngresses(svc.status?.loadBalancer);
      if (externalIPs.length > 0) return [...(lbIPs ? lbIPs.split(',') : []), ...externalIPs].join(',');
      return lbIPs ? lbIPs : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: Service): string {
  return (svc.spec?.ports ?? [])
    .map((p) => {
      // Protocol defaults to TCP; stored objects normally carry it already.
      const protocol = p.protocol ?? 'TCP';
      return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Type', 'string', 'core.ServiceSpec.type'),
    column('Cluster-IP', 'string', 'core.ServiceSpec.clusterIP'),
    column('External-IP', 'string', 'core.ServiceSpec.externalIPs'),
    column('Port(s)', 'string', 'core.ServiceSpec.ports'),
    ageColumn(),
    column('Selector', 'string', 'core.ServiceSpec.selector', 1),
  ],
  cells(obj, now) {
    const svc = as<Service>(obj);
    // v1→internal conversion fills clusterIPs from clusterIP.
    const internalIP = svc.spec?.clusterIPs?.[0] ?? (svc.spec?.clusterIP || '<none>');
    const ports = servicePorts(svc);
    return [
      nameOf(obj),
      svc.spec?.type ?? '',
      internalIP,
      serviceExternalIP(svc),
      ports === '' ? '<none>' : ports,
      age(obj, now),
      formatLabels(svc.spec?.selector),
    ];
  },
};

/** Up to three "ip:port" endpoints followed by "+ N more...", "<none>" without subsets. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      // headless services may have no ports
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: TablePrinter = {
  columns: [nameColumn(), column('Endpoints', 'string', 'core.Endpoints.subsets'), ageColumn()],
  cells: (obj, now) => [nameOf(obj), formatEndpoints(as<Endpoints>(obj)), age(obj, now)],
};

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

const orUnknown = (s: string | undefined): string => (s ? s : '<unknown>');

export const nodePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Status', 'string', { text: 'The status of the node' }),
    column('Roles', 'string', { text: 'The roles of the node' }),
    ageColumn(),
    column('Version', 'string', 'core.NodeSystemInfo.kubeletVersion'),
    column('Internal-IP', 'string', 'core.NodeStatus.addresses', 1),
    column('External-IP', 'string', 'core.NodeStatus.addresses', 1),
    column('OS-Image', 'string', 'core.NodeSystemInfo.osImage', 1),
    column('Kernel-Version', 'string', 'core.NodeSystemInfo.kernelVersion', 1),
    column('Container-Runtime', 'string', 'core.NodeSystemInfo.containerRuntimeVersion', 1),
  ],
  cells(obj, now) {
    const node = as<Node>(obj);
    // Only the Ready condition is summarized; the last condition of a type wins, as in upstream's map.
    const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').pop();
    const status: string[] = [];
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    else status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const roles = nodeRoles(node).join(',');
    const info = node.status?.nodeInfo;
    return [
      nameOf(obj),
      status.join(','),
      roles === '' ? '<none>' : roles,
      age(obj, now),
      info?.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      orUnknown(info?.osImage),
      orUnknown(info?.kernelVersion),
      orUnknown(info?.containerRuntimeVersion),
    ];
  },
};

export const namespacePrinter: TablePrinter = {
  columns: [nameColumn(), column('Status', 'string', { text: 'The status of the namespace' }), ageColumn()],
  cells: (obj, now) => [nameOf(obj), as<Namespace>(obj).status?.phase ?? '', age(obj, now)],
};

export const configMapPrinter: TablePrinter = {
  columns: [nameColumn(), column('Data', 'string', 'core.ConfigMap.data'), ageColumn()],
  cells(obj, now) {
    const cm = as<ConfigMap>(obj);
    return [nameOf(obj), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(obj, now)];
  },
};

export const secretPrinter: TablePrinter = {
  columns: [nameColumn(), column('Type', 'string', 'core.Secret.type'), column('Data', 'string', 'core.Secret.data'), ageColumn()],
  cells(obj, now) {
    const s = as<Secret>(obj);
    return [nameOf(obj), s.type ?? '', Object.keys(s.data ?? {}).length, age(obj, now)];
  },
};

export const serviceAccountPrinter: TablePrinter = {
  columns: [nameColumn(), column('Secrets', 'string', 'core.ServiceAccount.secrets'), ageColumn()],
  cells: (obj, now) => [nameOf(obj), (as<ServiceAccount>(obj).secrets ?? []).length, age(obj, now)],
};

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order. */
export function accessModesString(modes: string[] | undefined): string {
  const set = new Set(modes ?? []);
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

function storageClassOf(obj: KubeObject, specClass: string | undefined): string {
  const annotated = obj.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return specClass ?? '';
}

export const persistentVolumePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Capacity', 'string', 'core.PersistentVolumeSpec.capacity'),
    column('Access Modes', 'string', 'core.PersistentVolumeSpec.accessModes'),
    column('Reclaim Policy', 'string', 'core.PersistentVolumeSpec.persistentVolumeReclaimPolicy'),
    column('Status', 'string', 'core.PersistentVolumeStatus.phase'),
    column('Claim', 'string', 'core.PersistentVolumeSpec.claimRef'),
    column('StorageClass', 'string', { text: 'StorageClass of the pv' }),
    column('VolumeAttributesClass', 'string', { text: 'VolumeAttributesClass of the pv' }),
    column('Reason', 'string', 'core.PersistentVolumeStatus.reason'),
    ageColumn(),
    column('VolumeMode', 'string', 'core.PersistentVolumeSpec.volumeMode', 1),
  ],
  cells(obj, now) {
    const pv = as<PersistentVolume>(obj);
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name ?? ''}` : '';
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    return [
      nameOf(obj),
      quantityString(pv.spec?.capacity?.storage),
      accessModesString(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      storageClassOf(obj, pv.spec?.storageClassName),
      pv.spec?.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(obj, now),
      pv.spec?.volumeMode ?? '<unset>',
    ];
  },
};

export const persistentVolumeClaimPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'core.PersistentVolumeClaimStatus.phase'),
    column('Volume', 'string', 'core.PersistentVolumeClaimSpec.volumeName'),
    column('Capacity', 'string', 'core.PersistentVolumeClaimStatus.capacity'),
    column('Access Modes', 'string', 'core.PersistentVolumeClaimStatus.accessModes'),
    column('StorageClass', 'string', { text: 'StorageClass of the pvc' }),
    column('VolumeAttributesClass', 'string', { text: 'VolumeAttributesClass of the pvc' }),
    ageColumn(),
    column('VolumeMode', 'string', 'core.PersistentVolumeClaimSpec.volumeMode', 1),
  ],
  cells(obj, now) {
    const pvc = as<PersistentVolumeClaim>(obj);
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    const volumeName = pvc.spec?.volumeName ?? '';
    // Capacity and access modes are only meaningful once the claim is bound to a volume.
    const capacity = volumeName ? quantityString(pvc.status?.capacity?.storage) : '';
    const accessModes = volumeName ? accessModesString(pvc.status?.accessModes) : '';
    return [
      nameOf(obj),
      phase,
      volumeName,
      capacity,
      accessModes,
      storageClassOf(obj, pvc.spec?.storageClassName),
      pvc.spec?.volumeAttributesClassName ?? '<unset>',
      age(obj, now),
      pvc.spec?.volumeMode ?? '<unset>',
    ];
  },
};

export const resourceQuotaPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Request', 'string', {
      text: 'Request represents a minimum amount of cpu/memory that a container may consume.',
    }),
    column('Limit', 'string', {
      text: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    }),
    ageColumn(),
  ],
  cells(obj, now) {
    const rq = as<ResourceQuota>(obj);
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort()) {
      const pieces = resource.split('.');
      const target = pieces.length > 1 && pieces[0] === 'limits' ? limits : requests;
      target.push(`${resource}: ${quantityString(used[resource])}/${quantityString(hard[resource])}`);
    }
    return [nameOf(obj), requests.join(', '), limits.join(', '), age(obj, now)];
  },
};

export const replicationControllerPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'core.ReplicationControllerSpec.replicas'),
    column('Current', 'integer', 'core.ReplicationControllerStatus.replicas'),
    column('Ready', 'integer', 'core.ReplicationControllerStatus.readyReplicas'),
    ageColumn(),
    containersColumn(1),
    imagesColumn(1),
    column('Selector', 'string', 'core.ReplicationControllerSpec.selector', 1),
  ],
  cells(obj, now) {
    const rc = as<ReplicationController>(obj);
    const [names, images] = layoutContainers(rc.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      // spec.replicas defaults to 1
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(obj, now),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
};

/** The internal (core) event fields the printer reads; events.k8s.io/v1 objects are mapped onto them. */
interface CoreEventView {
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
  type?: string;
  reason?: string;
  message?: string;
  involvedObject: { kind?: string; name?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
}

/** Core and events.k8s.io events share one internal type upstream; read either shape as the core one. */
export function eventView(obj: KubeObject): CoreEventView {
  if (obj.apiVersion.startsWith('events.k8s.io/')) {
    const e = as<EventsV1Event>(obj);
    return {
      firstTimestamp: e.deprecatedFirstTimestamp,
      lastTimestamp: e.deprecatedLastTimestamp,
      eventTime: e.eventTime,
      count: e.deprecatedCount,
      series: e.series,
      type: e.type,
      reason: e.reason,
      message: e.note,
      involvedObject: e.regarding ?? {},
      source: e.deprecatedSource,
      reportingController: e.reportingController,
      reportingInstance: e.reportingInstance,
    };
  }
  const e = as<Event>(obj);
  return { ...e, involvedObject: e.involvedObject ?? {} };
}

function eventSource(e: CoreEventView): string {
  const component = e.source?.component || e.reportingController || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance === '' ? component : `${component}, ${instance}`;
}

export const eventPrinter: TablePrinter = {
  columns: [
    column('Last Seen', 'string', 'core.Event.lastTimestamp'),
    column('Type', 'string', 'core.Event.type'),
    column('Reason', 'string', 'core.Event.reason'),
    column('Object', 'string', 'core.Event.involvedObject'),
    column('Subobject', 'string', 'core.ObjectReference.fieldPath', 1),
    column('Source', 'string', 'core.Event.source', 1),
    column('Message', 'string', 'core.Event.message'),
    column('First Seen', 'string', 'core.Event.firstTimestamp', 1),
    column('Count', 'string', 'core.Event.count', 1),
    column('Name', 'string', 'meta.ObjectMeta.name', 1, 'name'),
  ],
  cells(obj, now) {
    const e = eventView(obj);
    const firstSeen = e.firstTimestamp ? humanAgeSince(e.firstTimestamp, now) : humanAgeSince(e.eventTime, now);
    let lastSeen = e.lastTimestamp ? humanAgeSince(e.lastTimestamp, now) : firstSeen;
    let count = e.count ?? 0;
    if (e.series) {
      lastSeen = humanAgeSince(e.series.lastObservedTime, now);
      count = e.series.count ?? 0;
    } else if (count === 0) {
      // singleton events of the new API carry no count
      count = 1;
    }
    const kind = (e.involvedObject.kind ?? '').toLowerCase();
    const target = e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
    return [
      lastSeen,
      e.type ?? '',
      e.reason ?? '',
      target,
      e.involvedObject.fieldPath ?? '',
      eventSource(e),
      (e.message ?? '').trim(),
      firstSeen,
      count,
      nameOf(obj),
    ];
  },
};
