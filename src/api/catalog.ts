// The built-in resources the API server serves: one entry per (group, version, resource), with upstream's scope,
// short names, categories, verbs and subresources. Discovery, OpenAPI, the registry and table output all read this.

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export type SubresourceName =
  | 'status'
  | 'scale'
  | 'binding'
  | 'eviction'
  | 'log'
  | 'exec'
  | 'attach'
  | 'portforward'
  | 'proxy'
  | 'ephemeralcontainers'
  | 'finalize'
  | 'approval'
  | 'token';

export interface SubresourceInfo {
  name: SubresourceName;
  /** Kind of the object the subresource takes and returns (e.g. Scale for scale). */
  kind: { group: string; version: string; kind: string };
  verbs: Verb[];
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** Plural resource name used in URLs, e.g. "deployments". */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: SubresourceInfo[];
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const statusSub = (group: string, version: string, kind: string): SubresourceInfo => ({
  name: 'status',
  kind: { group, version, kind },
  verbs: ['get', 'patch', 'update'],
});
const scaleSub: SubresourceInfo = {
  name: 'scale',
  kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  verbs: ['get', 'patch', 'update'],
};

interface Spec {
  kind: string;
  resource: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: Verb[];
  status?: boolean;
  scale?: boolean;
  extra?: SubresourceInfo[];
}

function groupVersion(group: string, version: string, specs: Spec[]): ResourceInfo[] {
  return specs.map((s) => {
    const subresources: SubresourceInfo[] = [];
    if (s.status) subresources.push(statusSub(group, version, s.kind));
    if (s.scale) subresources.push(scaleSub);
    subresources.push(...(s.extra ?? []));
    return {
      group,
      version,
      kind: s.kind,
      resource: s.resource,
      singular: s.kind.toLowerCase(),
      namespaced: s.namespaced,
      shortNames: s.shortNames ?? [],
      categories: s.categories ?? [],
      verbs: s.verbs ?? ALL_VERBS,
      subresources,
    };
  });
}

const core = (kind: string, name: SubresourceName, verbs: Verb[]): SubresourceInfo => ({
  name,
  kind: { group: '', version: 'v1', kind },
  verbs,
});

export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  ...groupVersion('', 'v1', [
    { kind: 'Binding', resource: 'bindings', namespaced: true, verbs: ['create'] },
    { kind: 'ConfigMap', resource: 'configmaps', namespaced: true, shortNames: ['cm'] },
    { kind: 'Endpoints', resource: 'endpoints', namespaced: true, shortNames: ['ep'] },
    { kind: 'Event', resource: 'events', namespaced: true, shortNames: ['ev'] },
    { kind: 'LimitRange', resource: 'limitranges', namespaced: true, shortNames: ['limits'] },
    {
      kind: 'Namespace',
      resource: 'namespaces',
      namespaced: false,
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      status: true,
      extra: [core('Namespace', 'finalize', ['update'])],
    },
    {
      kind: 'Node',
      resource: 'nodes',
      namespaced: false,
      shortNames: ['no'],
      status: true,
      extra: [core('NodeProxyOptions', 'proxy', ['create', 'delete', 'get', 'patch', 'update'])],
    },
    { kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], status: true },
    { kind: 'PersistentVolume', resource: 'persistentvolumes', namespaced: false, shortNames: ['pv'], status: true },
    {
      kind: 'Pod',
      resource: 'pods',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      status: true,
      extra: [
        core('Binding', 'binding', ['create']),
        { name: 'eviction', kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
        core('Pod', 'ephemeralcontainers', ['get', 'patch', 'update']),
        core('Pod', 'log', ['get']),
        core('PodExecOptions', 'exec', ['create', 'get']),
        core('PodAttachOptions', 'attach', ['create', 'get']),
        core('PodPortForwardOptions', 'portforward', ['create', 'get']),
        core('PodProxyOptions', 'proxy', ['create', 'delete', 'get', 'patch', 'update']),
      ],
    },
    { kind: 'PodTemplate', resource: 'podtemplates', namespaced: true },
    {
      kind: 'ReplicationController',
      resource: 'replicationcontrollers',
      namespaced: true,
      shortNames: ['rc'],
      categories: ['all'],
      status: true,
      scale: true,
    },
    { kind: 'ResourceQuota', resource: 'resourcequotas', namespaced: true, shortNames: ['quota'], status: true },
    { kind: 'Secret', resource: 'secrets', namespaced: true },
    {
      kind: 'ServiceAccount',
      resource: 'serviceaccounts',
      namespaced: true,
      shortNames: ['sa'],
      extra: [{ name: 'token', kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }],
    },
    {
      kind: 'Service',
      resource: 'services',
      namespaced: true,
      shortNames: ['svc'],
      categories: ['all'],
      status: true,
      extra: [core('ServiceProxyOptions', 'proxy', ['create', 'delete', 'get', 'patch', 'update'])],
    },
  ]),
  ...groupVersion('apps', 'v1', [
    { kind: 'ControllerRevision', resource: 'controllerrevisions', namespaced: true },
    { kind: 'DaemonSet', resource: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], status: true },
    { kind: 'Deployment', resource: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], status: true, scale: true },
    { kind: 'ReplicaSet', resource: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], status: true, scale: true },
    { kind: 'StatefulSet', resource: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], status: true, scale: true },
  ]),
  ...groupVersion('batch', 'v1', [
    { kind: 'CronJob', resource: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], status: true },
    { kind: 'Job', resource: 'jobs', namespaced: true, categories: ['all'], status: true },
  ]),
  ...groupVersion('autoscaling', 'v2', [
    { kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], status: true },
  ]),
  ...groupVersion('autoscaling', 'v1', [
    { kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], status: true },
  ]),
  ...groupVersion('networking.k8s.io', 'v1', [
    { kind: 'IngressClass', resource: 'ingressclasses', namespaced: false },
    { kind: 'Ingress', resource: 'ingresses', namespaced: true, shortNames: ['ing'], status: true },
    { kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true, shortNames: ['netpol'] },
  ]),
  ...groupVersion('policy', 'v1', [
    { kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'], status: true },
  ]),
  ...groupVersion('rbac.authorization.k8s.io', 'v1', [
    { kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false },
    { kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
    { kind: 'RoleBinding', resource: 'rolebindings', namespaced: true },
    { kind: 'Role', resource: 'roles', namespaced: true },
  ]),
  ...groupVersion('storage.k8s.io', 'v1', [
    { kind: 'CSIDriver', resource: 'csidrivers', namespaced: false },
    { kind: 'CSINode', resource: 'csinodes', namespaced: false },
    { kind: 'CSIStorageCapacity', resource: 'csistoragecapacities', namespaced: true },
    { kind: 'StorageClass', resource: 'storageclasses', namespaced: false, shortNames: ['sc'] },
    { kind: 'VolumeAttachment', resource: 'volumeattachments', namespaced: false, status: true },
  ]),
  ...groupVersion('coordination.k8s.io', 'v1', [{ kind: 'Lease', resource: 'leases', namespaced: true }]),
  ...groupVersion('discovery.k8s.io', 'v1', [{ kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true }]),
  ...groupVersion('events.k8s.io', 'v1', [{ kind: 'Event', resource: 'events', namespaced: true, shortNames: ['ev'] }]),
  ...groupVersion('scheduling.k8s.io', 'v1', [
    { kind: 'PriorityClass', resource: 'priorityclasses', namespaced: false, shortNames: ['pc'] },
  ]),
  ...groupVersion('node.k8s.io', 'v1', [{ kind: 'RuntimeClass', resource: 'runtimeclasses', namespaced: false }]),
  ...groupVersion('apiextensions.k8s.io', 'v1', [
    {
      kind: 'CustomResourceDefinition',
      resource: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      status: true,
    },
  ]),
  ...groupVersion('admissionregistration.k8s.io', 'v1', [
    { kind: 'MutatingWebhookConfiguration', resource: 'mutatingwebhookconfigurations', namespaced: false, categories: ['api-extensions'] },
    { kind: 'ValidatingAdmissionPolicy', resource: 'validatingadmissionpolicies', namespaced: false, categories: ['api-extensions'], status: true },
    { kind: 'ValidatingAdmissionPolicyBinding', resource: 'validatingadmissionpolicybindings', namespaced: false, categories: ['api-extensions'] },
    { kind: 'ValidatingWebhookConfiguration', resource: 'validatingwebhookconfigurations', namespaced: false, categories: ['api-extensions'] },
  ]),
  ...groupVersion('certificates.k8s.io', 'v1', [
    {
      kind: 'CertificateSigningRequest',
      resource: 'certificatesigningrequests',
      namespaced: false,
      shortNames: ['csr'],
      status: true,
      extra: [
        { name: 'approval', kind: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' }, verbs: ['get', 'patch', 'update'] },
      ],
    },
  ]),
];

/** Group order for discovery (upstream lists groups in this priority order) and each group's preferred version. */
export const GROUP_ORDER: readonly { group: string; versions: string[] }[] = [
  { group: '', versions: ['v1'] },
  { group: 'apps', versions: ['v1'] },
  { group: 'events.k8s.io', versions: ['v1'] },
  { group: 'autoscaling', versions: ['v2', 'v1'] },
  { group: 'batch', versions: ['v1'] },
  { group: 'certificates.k8s.io', versions: ['v1'] },
  { group: 'networking.k8s.io', versions: ['v1'] },
  { group: 'policy', versions: ['v1'] },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'] },
  { group: 'storage.k8s.io', versions: ['v1'] },
  { group: 'admissionregistration.k8s.io', versions: ['v1'] },
  { group: 'apiextensions.k8s.io', versions: ['v1'] },
  { group: 'scheduling.k8s.io', versions: ['v1'] },
  { group: 'coordination.k8s.io', versions: ['v1'] },
  { group: 'node.k8s.io', versions: ['v1'] },
  { group: 'discovery.k8s.io', versions: ['v1'] },
];

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/**
 * Storage key prefix shared by every version of a resource (autoscaling/v1 and v2 HPAs are one stored collection),
 * e.g. "/registry/apps/deployments/". Core resources have no group segment.
 */
export function storagePrefix(r: Pick<ResourceInfo, 'group' | 'resource'>): string {
  return r.group === '' ? `/registry/${r.resource}/` : `/registry/${r.group}/${r.resource}/`;
}
