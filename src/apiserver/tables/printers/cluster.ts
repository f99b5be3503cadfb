// Networking, RBAC, storage, discovery, scheduling, node, coordination, admission and certificates kinds.
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type {
  MutatingWebhookConfiguration,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ValidatingWebhookConfiguration,
} from 'kubernetes-types/admissionregistration/v1.js';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { TablePrinter } from '../types.js';
import { humanDuration } from '../../../machinery/duration.js';
import {
  age,
  ageColumn,
  as,
  column,
  formatLabelSelector,
  goLabelSelectorString,
  listWithMore,
  nameColumn,
  nameOf,
  quantityString,
} from '../format.js';
import { loadBalancerIngresses } from './core.js';

function ingressHosts(ingress: Ingress): string {
  const rules = ingress.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${rules.length - max} more...` : ret;
}

export const ingressPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Class', 'string', {
      text: 'The name of the IngressClass resource that should be used for additional configuration',
    }),
    column('Hosts', 'string', { text: 'Hosts that incoming requests are matched against before the ingress rule' }),
    column('Address', 'string', { text: 'Address is a list containing ingress points for the load-balancer' }),
    column('Ports', 'string', { text: 'Ports of TLS configurations that open' }),
    ageColumn(),
  ],
  cells(obj, now) {
    const ing = as<Ingress>(obj);
    return [
      nameOf(obj),
      ing.spec?.ingressClassName ?? '<none>',
      ingressHosts(ing),
      loadBalancerIngresses(ing.status?.loadBalancer),
      (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
      age(obj, now),
    ];
  },
};

export const ingressClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Controller', 'string', { text: 'Controller that is responsible for handling this class' }),
    column('Parameters', 'string', { text: 'A reference to a resource with additional parameters' }),
    ageColumn(),
  ],
  cells(obj, now) {
    const ic = as<IngressClass>(obj);
    const p = ic.spec?.parameters;
    const parameters = p ? `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [nameOf(obj), ic.spec?.controller ?? '', parameters, age(obj, now)];
  },
};

export const networkPolicyPrinter: TablePrinter = {
  columns: [nameColumn(), column('Pod-Selector', 'string', 'networking.NetworkPolicySpec.podSelector'), ageColumn()],
  cells: (obj, now) => [nameOf(obj), formatLabelSelector(as<NetworkPolicy>(obj).spec?.podSelector ?? {}), age(obj, now)],
};

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts, each ", "-joined. */
function subjectsStrings(subjects: Subject[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

function bindingPrinter(what: 'roleBinding' | 'clusterRoleBinding'): TablePrinter {
  return {
    columns: [
      nameColumn(),
      column('Role', 'string', what === 'roleBinding' ? 'rbac.RoleBinding.roleRef' : 'rbac.ClusterRoleBinding.roleRef'),
      ageColumn(),
      column('Users', 'string', { text: `Users in the ${what}` }, 1),
      column('Groups', 'string', { text: `Groups in the ${what}` }, 1),
      column('ServiceAccounts', 'string', { text: `ServiceAccounts in the ${what}` }, 1),
    ],
    cells(obj, now) {
      const b = as<RoleBinding | ClusterRoleBinding>(obj);
      return [nameOf(obj), `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(obj, now), ...subjectsStrings(b.subjects)];
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');

const isDefaultStorageClass = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ||
  annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';

export const storageClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Provisioner', 'string', 'storage.StorageClass.provisioner'),
    column('ReclaimPolicy', 'string', 'storage.StorageClass.reclaimPolicy'),
    column('VolumeBindingMode', 'string', 'storage.StorageClass.volumeBindingMode'),
    column('AllowVolumeExpansion', 'string', 'storage.StorageClass.allowVolumeExpansion'),
    ageColumn(),
  ],
  cells(obj, now) {
    const sc = as<StorageClass>(obj);
    const name = isDefaultStorageClass(obj.metadata.annotations) ? `${nameOf(obj)} (default)` : nameOf(obj);
    return [
      name,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(obj, now),
    ];
  },
};

export const csiDriverPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('AttachRequired', 'boolean', 'storage.CSIDriverSpec.attachRequired'),
    column('PodInfoOnMount', 'boolean', 'storage.CSIDriverSpec.podInfoOnMount'),
    column('StorageCapacity', 'boolean', 'storage.CSIDriverSpec.storageCapacity'),
    column('TokenRequests', 'string', 'storage.CSIDriverSpec.tokenRequests'),
    column('RequiresRepublish', 'boolean', 'storage.CSIDriverSpec.requiresRepublish'),
    column('Modes', 'string', 'storage.CSIDriverSpec.volumeLifecycleModes'),
    ageColumn(),
  ],
  cells(obj, now) {
    const spec = as<CSIDriver>(obj).spec ?? {};
    const modes = (spec.volumeLifecycleModes ?? []).join(',');
    const tokenRequests = spec.tokenRequests ? spec.tokenRequests.map((t) => t.audience).join(',') : '<unset>';
    return [
      nameOf(obj),
      spec.attachRequired ?? true,
      spec.podInfoOnMount ?? false,
      spec.storageCapacity ?? false,
      tokenRequests,
      spec.requiresRepublish ?? false,
      modes === '' ? '<none>' : modes,
      age(obj, now),
    ];
  },
};

export const csiNodePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Drivers', 'integer', { text: 'Drivers indicates the number of CSI drivers registered on the node' }),
    ageColumn(),
  ],
  cells: (obj, now) => [nameOf(obj), (as<CSINode>(obj).spec?.drivers ?? []).length, age(obj, now)],
};

export const csiStorageCapacityPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('StorageClassName', 'string', 'storage.CSIStorageCapacity.storageClassName'),
    column('Capacity', 'string', 'storage.CSIStorageCapacity.capacity'),
  ],
  cells(obj) {
    const c = as<CSIStorageCapacity>(obj);
    return [nameOf(obj), c.storageClassName ?? '', c.capacity !== undefined ? quantityString(c.capacity) : '<unset>'];
  },
};

export const volumeAttachmentPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Attacher', 'string', 'storage.VolumeAttachmentSpec.attacher', 0, 'name'),
    column('PV', 'string', 'storage.VolumeAttachmentSource.persistentVolumeName'),
    column('Node', 'string', 'storage.VolumeAttachmentSpec.nodeName'),
    column('Attached', 'boolean', 'storage.VolumeAttachmentStatus.attached'),
    ageColumn(),
  ],
  cells(obj, now) {
    const va = as<VolumeAttachment>(obj);
    return [
      nameOf(obj),
      va.spec?.attacher ?? '',
      va.spec?.source?.persistentVolumeName ?? '',
      va.spec?.nodeName ?? '',
      va.status?.attached ?? false,
      age(obj, now),
    ];
  },
};

export const leasePrinter: TablePrinter = {
  columns: [nameColumn(), column('Holder', 'string', 'coordination.LeaseSpec.holderIdentity'), ageColumn()],
  cells: (obj, now) => [nameOf(obj), as<Lease>(obj).spec?.holderIdentity ?? '', age(obj, now)],
};

export const endpointSlicePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('AddressType', 'string', 'discovery.EndpointSlice.addressType'),
    column('Ports', 'string', 'discovery.EndpointSlice.ports'),
    column('Endpoints', 'string', 'discovery.EndpointSlice.endpoints'),
    ageColumn(),
  ],
  cells(obj, now) {
    const es = as<EndpointSlice>(obj);
    const max = 3;
    const ports = es.ports ?? [];
    // A port without number or name matches all ports: "*".
    const portList = ports.slice(0, max).map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*')));
    const addresses = (es.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return [
      nameOf(obj),
      es.addressType ?? '',
      listWithMore(portList, ports.length, max, '<unset>'),
      listWithMore(addresses.slice(0, max), addresses.length, max, '<unset>'),
      age(obj, now),
    ];
  },
};

export const priorityClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Value', 'integer', 'scheduling.PriorityClass.value'),
    column('Global-Default', 'boolean', 'scheduling.PriorityClass.globalDefault'),
    ageColumn(),
    column('PreemptionPolicy', 'string', 'scheduling.PriorityClass.preemptionPolicy'),
  ],
  cells(obj, now) {
    const pc = as<PriorityClass>(obj);
    return [nameOf(obj), pc.value ?? 0, pc.globalDefault ?? false, age(obj, now), pc.preemptionPolicy ?? ''];
  },
};

export const runtimeClassPrinter: TablePrinter = {
  // Upstream looks the Handler description up in ObjectMeta's docs, where it does not exist: it is empty.
  columns: [nameColumn(), column('Handler', 'string', { text: '' }), ageColumn()],
  cells: (obj, now) => [nameOf(obj), as<RuntimeClass>(obj).handler ?? '', age(obj, now)],
};

function webhookConfigurationPrinter(): TablePrinter {
  return {
    columns: [
      nameColumn(),
      column('Webhooks', 'integer', { text: 'Webhooks indicates the number of webhooks registered in this configuration' }),
      ageColumn(),
    ],
    cells(obj, now) {
      const c = as<MutatingWebhookConfiguration | ValidatingWebhookConfiguration>(obj);
      return [nameOf(obj), (c.webhooks ?? []).length, age(obj, now)];
    },
  };
}

export const mutatingWebhookConfigurationPrinter = webhookConfigurationPrinter();
export const validatingWebhookConfigurationPrinter = webhookConfigurationPrinter();

export const validatingAdmissionPolicyPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Validations', 'integer', {
      text: 'Validations indicates the number of validation rules defined in this configuration',
    }),
    column('ParamKind', 'string', { text: 'ParamKind specifies the kind of resources used to parameterize this policy' }),
    ageColumn(),
  ],
  cells(obj, now) {
    const p = as<ValidatingAdmissionPolicy>(obj);
    const pk = p.spec?.paramKind;
    const paramKind = pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>';
    return [nameOf(obj), (p.spec?.validations ?? []).length, paramKind, age(obj, now)];
  },
};

export const validatingAdmissionPolicyBindingPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('PolicyName', 'string', {
      text: 'PolicyName indicates the policy definition which the policy binding binded to',
    }),
    column('ParamRef', 'string', { text: 'ParamRef indicates the param resource which sets the configration param' }),
    ageColumn(),
  ],
  cells(obj, now) {
    const b = as<ValidatingAdmissionPolicyBinding>(obj);
    const pr = b.spec?.paramRef;
    let paramName = '<unset>';
    if (pr?.name) {
      // Whether the param is cluster-scoped is unknown here, so a missing namespace prints as "*".
      paramName = pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
    } else if (pr?.selector) {
      paramName = goLabelSelectorString(pr.selector);
    }
    return [nameOf(obj), b.spec?.policyName ?? '', paramName, age(obj, now)];
  },
};

/** CONDITION of a CSR: Denied/Approved/Pending, then ",Failed" and ",Issued" when they apply. */
export function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

export const certificateSigningRequestPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    ageColumn(),
    column('SignerName', 'string', 'certificates.CertificateSigningRequestSpec.signerName'),
    column('Requestor', 'string', 'certificates.CertificateSigningRequestSpec.request'),
    column('RequestedDuration', 'string', 'certificates.CertificateSigningRequestSpec.expirationSeconds'),
    column('Condition', 'string', 'certificates.CertificateSigningRequestStatus.conditions'),
  ],
  cells(obj, now) {
    const csr = as<CertificateSigningRequest>(obj);
    const seconds = csr.spec?.expirationSeconds;
    return [
      nameOf(obj),
      age(obj, now),
      csr.spec?.signerName ? csr.spec.signerName : '<none>',
      csr.spec?.username ?? '',
      seconds !== undefined ? humanDuration(seconds * 1000) : '<none>',
      csrCondition(csr),
    ];
  },
};
