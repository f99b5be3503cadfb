// Strategic-merge and list/map-semantics metadata of the built-in types, as upstream's OpenAPI documents carry it
// (from the Go struct tags patchStrategy/patchMergeKey and the +listType/+listMapKey/+mapType/+structType markers).
// kubernetes-types has the field docs but not these facts, so the OpenAPI generator merges this table into the
// schemas it builds. Keys are upstream component names; the field '' holds type-level extensions.

export type PatchStrategy = 'merge' | 'retainKeys' | 'merge,retainKeys' | 'replace';
export type ListType = 'atomic' | 'set' | 'map';
export type MapType = 'atomic' | 'granular';

export interface FieldExtensions {
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: PatchStrategy;
  'x-kubernetes-list-type'?: ListType;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: MapType;
  /** Upstream's +default marker value, where one exists. */
  default?: string | number | boolean;
}

/** Type-level extensions (upstream's +structType=atomic, +union). */
export interface TypeExtensions {
  'x-kubernetes-map-type'?: MapType;
  'x-kubernetes-unions'?: { discriminator?: string; 'fields-to-discriminateBy': Record<string, string> }[];
}

export interface SchemaExtensionEntry {
  ''?: TypeExtensions;
  [field: string]: FieldExtensions | TypeExtensions | undefined;
}

// Shorthands keep the table readable; each expands to exactly the upstream extension set.
const atomic: FieldExtensions = { 'x-kubernetes-list-type': 'atomic' };
const set: FieldExtensions = { 'x-kubernetes-list-type': 'set' };
const atomicMap: FieldExtensions = { 'x-kubernetes-map-type': 'atomic' };
const atomicStruct: TypeExtensions = { 'x-kubernetes-map-type': 'atomic' };
/** A list keyed by `keys`, merged by its first key under strategic merge patch. */
const mergeMap = (keys: string[], strategy: PatchStrategy = 'merge'): FieldExtensions => ({
  'x-kubernetes-list-map-keys': keys,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-patch-merge-key': keys[0],
  'x-kubernetes-patch-strategy': strategy,
});
/** A map-typed list without strategic-merge metadata. */
const listMap = (keys: string[]): FieldExtensions => ({ 'x-kubernetes-list-map-keys': keys, 'x-kubernetes-list-type': 'map' });
const conditions = mergeMap(['type']);

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const CORE = 'io.k8s.api.core.v1.';
const APPS = 'io.k8s.api.apps.v1.';
const BATCH = 'io.k8s.api.batch.v1.';
const AS2 = 'io.k8s.api.autoscaling.v2.';
const NET = 'io.k8s.api.networking.v1.';
const POLICY = 'io.k8s.api.policy.v1.';
const RBAC = 'io.k8s.api.rbac.v1.';
const STORAGE = 'io.k8s.api.storage.v1.';
const DISC = 'io.k8s.api.discovery.v1.';
const CERT = 'io.k8s.api.certificates.v1.';
const ADM = 'io.k8s.api.admissionregistration.v1.';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';
const NODE = 'io.k8s.api.node.v1.';

/** Containers-like fields shared by Container and EphemeralContainer. */
const containerFields: SchemaExtensionEntry = {
  args: atomic,
  command: atomic,
  env: mergeMap(['name']),
  envFrom: atomic,
  ports: mergeMap(['containerPort', 'protocol']),
  resizePolicy: atomic,
  volumeDevices: mergeMap(['devicePath']),
  volumeMounts: mergeMap(['mountPath']),
};

export const SCHEMA_EXTENSIONS: Readonly<Record<string, SchemaExtensionEntry>> = {
  // meta/v1
  [META + 'ObjectMeta']: {
    finalizers: { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    managedFields: atomic,
    ownerReferences: mergeMap(['uid']),
  },
  [META + 'OwnerReference']: { '': atomicStruct },
  [META + 'LabelSelector']: { '': atomicStruct, matchExpressions: atomic },
  [META + 'LabelSelectorRequirement']: { values: atomic },
  [META + 'StatusDetails']: { causes: atomic },
  [META + 'DeleteOptions']: { dryRun: atomic },
  [META + 'APIGroup']: { serverAddressByClientCIDRs: atomic, versions: atomic },
  [META + 'APIGroupList']: { groups: atomic },
  [META + 'APIResource']: { categories: atomic, shortNames: atomic },
  [META + 'APIResourceList']: { resources: atomic },
  [META + 'APIVersions']: { serverAddressByClientCIDRs: atomic, versions: atomic },

  // core/v1: pods and containers
  [CORE + 'PodSpec']: {
    containers: mergeMap(['name']),
    ephemeralContainers: mergeMap(['name']),
    hostAliases: mergeMap(['ip']),
    imagePullSecrets: mergeMap(['name']),
    initContainers: mergeMap(['name']),
    nodeSelector: atomicMap,
    readinessGates: atomic,
    resourceClaims: mergeMap(['name'], 'merge,retainKeys'),
    schedulingGates: mergeMap(['name']),
    tolerations: atomic,
    topologySpreadConstraints: mergeMap(['topologyKey', 'whenUnsatisfiable']),
    volumes: mergeMap(['name'], 'merge,retainKeys'),
  },
  [CORE + 'Container']: containerFields,
  [CORE + 'EphemeralContainer']: containerFields,
  [CORE + 'ContainerPort']: { protocol: { default: 'TCP' } },
  [CORE + 'ContainerStatus']: { volumeMounts: mergeMap(['mountPath']) },
  [CORE + 'PodStatus']: {
    conditions,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    hostIPs: mergeMap(['ip']),
    initContainerStatuses: atomic,
    podIPs: mergeMap(['ip']),
    resourceClaimStatuses: mergeMap(['name'], 'merge,retainKeys'),
  },
  [CORE + 'PodSecurityContext']: { supplementalGroups: atomic, sysctls: atomic },
  [CORE + 'PodDNSConfig']: { nameservers: atomic, options: atomic, searches: atomic },
  [CORE + 'HostAlias']: { hostnames: atomic },
  [CORE + 'Capabilities']: { add: atomic, drop: atomic },
  [CORE + 'ResourceRequirements']: { claims: listMap(['name']) },
  [CORE + 'ExecAction']: { command: atomic },
  [CORE + 'HTTPGetAction']: { httpHeaders: atomic },
  [CORE + 'NodeAffinity']: { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [CORE + 'PodAffinity']: {
    preferredDuringSchedulingIgnoredDuringExecution: atomic,
    requiredDuringSchedulingIgnoredDuringExecution: atomic,
  },
  [CORE + 'PodAntiAffinity']: {
    preferredDuringSchedulingIgnoredDuringExecution: atomic,
    requiredDuringSchedulingIgnoredDuringExecution: atomic,
  },
  [CORE + 'PodAffinityTerm']: { matchLabelKeys: atomic, mismatchLabelKeys: atomic, namespaces: atomic },
  [CORE + 'NodeSelector']: { '': atomicStruct, nodeSelectorTerms: atomic },
  [CORE + 'NodeSelectorTerm']: { '': atomicStruct, matchExpressions: atomic, matchFields: atomic },
  [CORE + 'NodeSelectorRequirement']: { values: atomic },
  [CORE + 'TopologySelectorTerm']: { '': atomicStruct, matchLabelExpressions: atomic },
  [CORE + 'TopologySelectorLabelRequirement']: { values: atomic },
  [CORE + 'TopologySpreadConstraint']: { matchLabelKeys: atomic },
  [CORE + 'LocalObjectReference']: { '': atomicStruct },
  [CORE + 'ObjectReference']: { '': atomicStruct },
  [CORE + 'TypedLocalObjectReference']: { '': atomicStruct },
  [CORE + 'SecretReference']: { '': atomicStruct },
  [CORE + 'ConfigMapKeySelector']: { '': atomicStruct },
  [CORE + 'SecretKeySelector']: { '': atomicStruct },
  [CORE + 'ObjectFieldSelector']: { '': atomicStruct },
  [CORE + 'ResourceFieldSelector']: { '': atomicStruct },
  [CORE + 'ConfigMapVolumeSource']: { items: atomic },
  [CORE + 'SecretVolumeSource']: { items: atomic },
  [CORE + 'DownwardAPIVolumeSource']: { items: atomic },
  [CORE + 'ProjectedVolumeSource']: { sources: atomic },
  [CORE + 'ConfigMapProjection']: { items: atomic },
  [CORE + 'SecretProjection']: { items: atomic },
  [CORE + 'DownwardAPIProjection']: { items: atomic },
  [CORE + 'CephFSVolumeSource']: { monitors: atomic },
  [CORE + 'CephFSPersistentVolumeSource']: { monitors: atomic },
  [CORE + 'RBDVolumeSource']: { monitors: atomic },
  [CORE + 'RBDPersistentVolumeSource']: { monitors: atomic },
  [CORE + 'ISCSIVolumeSource']: { portals: atomic },
  [CORE + 'ISCSIPersistentVolumeSource']: { portals: atomic },
  [CORE + 'FCVolumeSource']: { targetWWNs: atomic, wwids: atomic },
  [CORE + 'ContainerImage']: { names: atomic },

  // core/v1: services, endpoints, nodes, namespaces, volumes, quotas
  [CORE + 'ServiceSpec']: {
    clusterIPs: atomic,
    externalIPs: atomic,
    ipFamilies: atomic,
    loadBalancerSourceRanges: atomic,
    ports: mergeMap(['port', 'protocol']),
    selector: atomicMap,
  },
  [CORE + 'ServicePort']: { protocol: { default: 'TCP' } },
  [CORE + 'ServiceStatus']: { conditions },
  [CORE + 'LoadBalancerStatus']: { ingress: atomic },
  [CORE + 'LoadBalancerIngress']: { ports: atomic },
  [CORE + 'Endpoints']: { subsets: atomic },
  [CORE + 'EndpointSubset']: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  [CORE + 'EndpointPort']: { '': atomicStruct },
  [CORE + 'NodeSpec']: { podCIDRs: { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' }, taints: atomic },
  [CORE + 'NodeStatus']: {
    addresses: mergeMap(['type']),
    conditions,
    images: atomic,
    volumesAttached: atomic,
    volumesInUse: atomic,
  },
  [CORE + 'NamespaceSpec']: { finalizers: atomic },
  [CORE + 'NamespaceStatus']: { conditions },
  // claimRef is granular although ObjectReference is atomic, so the binder can own single fields of it.
  [CORE + 'PersistentVolumeSpec']: { accessModes: atomic, claimRef: { 'x-kubernetes-map-type': 'granular' }, mountOptions: atomic },
  [CORE + 'PersistentVolumeClaimSpec']: { accessModes: atomic },
  [CORE + 'PersistentVolumeClaimStatus']: { accessModes: atomic, conditions },
  [CORE + 'ReplicationControllerSpec']: { selector: atomicMap },
  [CORE + 'ReplicationControllerStatus']: { conditions },
  [CORE + 'LimitRangeSpec']: { limits: atomic },
  [CORE + 'ResourceQuotaSpec']: { scopes: atomic },
  [CORE + 'ScopeSelector']: { matchExpressions: atomic },
  [CORE + 'ScopedResourceSelectorRequirement']: { values: atomic },
  [CORE + 'ServiceAccount']: { imagePullSecrets: atomic, secrets: mergeMap(['name']) },
  [CORE + 'ComponentStatus']: { conditions },

  // apps/v1
  [APPS + 'DeploymentSpec']: { strategy: { 'x-kubernetes-patch-strategy': 'retainKeys' } },
  [APPS + 'DeploymentStatus']: { conditions },
  [APPS + 'ReplicaSetStatus']: { conditions },
  [APPS + 'DaemonSetStatus']: { conditions },
  [APPS + 'StatefulSetSpec']: { volumeClaimTemplates: atomic },
  [APPS + 'StatefulSetStatus']: { conditions },

  // batch/v1
  [BATCH + 'JobStatus']: {
    conditions: { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' },
  },
  [BATCH + 'CronJobStatus']: { active: atomic },
  [BATCH + 'PodFailurePolicy']: { rules: atomic },
  [BATCH + 'PodFailurePolicyRule']: { onPodConditions: atomic },
  [BATCH + 'PodFailurePolicyOnExitCodesRequirement']: { values: set },
  [BATCH + 'SuccessPolicy']: { rules: atomic },
  [BATCH + 'UncountedTerminatedPods']: { failed: set, succeeded: set },

  // autoscaling/v2
  [AS2 + 'HorizontalPodAutoscalerSpec']: { metrics: atomic },
  [AS2 + 'HorizontalPodAutoscalerStatus']: { conditions, currentMetrics: atomic },
  [AS2 + 'HPAScalingRules']: { policies: atomic },

  // networking.k8s.io/v1
  [NET + 'IngressSpec']: { rules: atomic, tls: atomic },
  [NET + 'IngressTLS']: { hosts: atomic },
  [NET + 'HTTPIngressRuleValue']: { paths: atomic },
  [NET + 'IngressLoadBalancerStatus']: { ingress: atomic },
  [NET + 'IngressLoadBalancerIngress']: { ports: atomic },
  [NET + 'NetworkPolicySpec']: { egress: atomic, ingress: atomic, policyTypes: atomic },
  [NET + 'NetworkPolicyIngressRule']: { from: atomic, ports: atomic },
  [NET + 'NetworkPolicyEgressRule']: { ports: atomic, to: atomic },
  [NET + 'IPBlock']: { except: atomic },

  // policy/v1
  [POLICY + 'PodDisruptionBudgetSpec']: { selector: { 'x-kubernetes-patch-strategy': 'replace' } },
  [POLICY + 'PodDisruptionBudgetStatus']: { conditions },

  // rbac.authorization.k8s.io/v1
  [RBAC + 'Role']: { rules: atomic },
  [RBAC + 'ClusterRole']: { rules: atomic },
  [RBAC + 'AggregationRule']: { clusterRoleSelectors: atomic },
  [RBAC + 'PolicyRule']: { apiGroups: atomic, nonResourceURLs: atomic, resourceNames: atomic, resources: atomic, verbs: atomic },
  [RBAC + 'RoleBinding']: { subjects: atomic },
  [RBAC + 'ClusterRoleBinding']: { subjects: atomic },
  [RBAC + 'RoleRef']: { '': atomicStruct },
  [RBAC + 'Subject']: { '': atomicStruct },

  // storage.k8s.io/v1
  [STORAGE + 'StorageClass']: { allowedTopologies: atomic, mountOptions: atomic },
  [STORAGE + 'CSIDriverSpec']: { tokenRequests: atomic, volumeLifecycleModes: set },
  [STORAGE + 'CSINodeSpec']: { drivers: mergeMap(['name']) },
  [STORAGE + 'CSINodeDriver']: { topologyKeys: atomic },

  // discovery.k8s.io/v1
  [DISC + 'EndpointSlice']: { endpoints: atomic, ports: atomic },
  [DISC + 'Endpoint']: { addresses: set },
  [DISC + 'EndpointHints']: { forZones: atomic },
  [DISC + 'EndpointPort']: { '': atomicStruct },

  // certificates.k8s.io/v1
  [CERT + 'CertificateSigningRequestSpec']: { groups: atomic, usages: atomic },
  [CERT + 'CertificateSigningRequestStatus']: { conditions: listMap(['type']) },

  // node.k8s.io/v1
  [NODE + 'Scheduling']: { nodeSelector: atomicMap, tolerations: atomic },

  // admissionregistration.k8s.io/v1
  [ADM + 'MutatingWebhookConfiguration']: { webhooks: mergeMap(['name']) },
  [ADM + 'ValidatingWebhookConfiguration']: { webhooks: mergeMap(['name']) },
  [ADM + 'MutatingWebhook']: { admissionReviewVersions: atomic, matchConditions: mergeMap(['name']), rules: atomic },
  [ADM + 'ValidatingWebhook']: { admissionReviewVersions: atomic, matchConditions: mergeMap(['name']), rules: atomic },
  [ADM + 'RuleWithOperations']: { apiGroups: atomic, apiVersions: atomic, operations: atomic, resources: atomic },
  [ADM + 'NamedRuleWithOperations']: {
    '': atomicStruct,
    apiGroups: atomic,
    apiVersions: atomic,
    operations: atomic,
    resourceNames: atomic,
    resources: atomic,
  },
  [ADM + 'MatchResources']: { '': atomicStruct, excludeResourceRules: atomic, resourceRules: atomic },
  [ADM + 'ParamKind']: { '': atomicStruct },
  [ADM + 'ParamRef']: { '': atomicStruct },
  [ADM + 'ValidatingAdmissionPolicySpec']: {
    auditAnnotations: atomic,
    matchConditions: mergeMap(['name']),
    validations: atomic,
    variables: atomic,
  },
  [ADM + 'ValidatingAdmissionPolicyStatus']: { conditions: listMap(['type']) },
  [ADM + 'ValidatingAdmissionPolicyBindingSpec']: { validationActions: set },
  [ADM + 'TypeChecking']: { expressionWarnings: atomic },

  // apiextensions.k8s.io/v1
  [APIEXT + 'CustomResourceDefinitionSpec']: { versions: atomic },
  [APIEXT + 'CustomResourceDefinitionVersion']: { additionalPrinterColumns: atomic, selectableFields: atomic },
  [APIEXT + 'CustomResourceDefinitionStatus']: { conditions: listMap(['type']), storedVersions: atomic },
  [APIEXT + 'CustomResourceDefinitionNames']: { categories: atomic, shortNames: atomic },
  [APIEXT + 'WebhookConversion']: { conversionReviewVersions: atomic },
  [APIEXT + 'JSONSchemaProps']: {
    allOf: atomic,
    anyOf: atomic,
    enum: atomic,
    oneOf: atomic,
    required: atomic,
  },
};
