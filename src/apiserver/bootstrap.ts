// What a fresh cluster has before anyone asks: the system namespaces and the `kubernetes` Service (with its
// Endpoints and EndpointSlice) pointing at this API server, and the bootstrap RBAC policy. Idempotent, so every start
// runs it.
import type { KubeObject } from '../api/object.js';
import { isAlreadyExists, isNotFound } from '../machinery/errors.js';
import type { Registry } from './registry/registry.js';
import type { UserInfo } from './auth/user.js';
import { LEGACY_TOKEN_TRACKING_CONFIGMAP, LEGACY_TOKEN_TRACKING_SINCE_KEY } from './auth/serviceaccount.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, RBAC_GROUP } from './auth/rbac/bootstrap-policy.js';
import { formatDate } from '../machinery/time.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const SYSTEM_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export interface BootstrapOptions {
  /** The ClusterIP of the `kubernetes` Service (first address of the service CIDR). */
  serviceIP: string;
  /** Address clients inside the cluster reach this server at. */
  advertiseAddress: string;
  securePort: number;
}

async function ensure(registry: Registry, group: string, resource: string, obj: KubeObject): Promise<void> {
  const store = registry.store(group, resource);
  try {
    await store.get(obj.metadata.namespace, obj.metadata.name!);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await store.create(obj.metadata.namespace, obj, { user: SYSTEM_USER, dryRun: false });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export async function bootstrapCluster(registry: Registry, opts: BootstrapOptions): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(registry, '', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  // Upstream's bootstrap RBAC policy (roles and bindings), created when missing.
  for (const role of bootstrapClusterRoles()) await ensure(registry, RBAC_GROUP, 'clusterroles', role as unknown as KubeObject);
  for (const binding of bootstrapClusterRoleBindings()) await ensure(registry, RBAC_GROUP, 'clusterrolebindings', binding as unknown as KubeObject);
  // Upstream's legacytokentracking: the day the API server began tracking legacy token use (the label
  // kubernetes.io/legacy-token-last-used); the legacy token cleaner acts only after a full clean-up period since.
  await ensure(registry, '', 'configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: LEGACY_TOKEN_TRACKING_CONFIGMAP, namespace: 'kube-system' },
    data: { [LEGACY_TOKEN_TRACKING_SINCE_KEY]: formatDate(Date.now()) },
  } as KubeObject);
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  await ensure(registry, '', 'services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels },
    spec: {
      type: 'ClusterIP',
      clusterIP: opts.serviceIP,
      clusterIPs: [opts.serviceIP],
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.securePort }],
      sessionAffinity: 'None',
    },
  });
  // Endpoints may not name loopback addresses (upstream validation); a host with no other address gets none.
  if (opts.advertiseAddress.startsWith('127.')) return;
  await ensure(registry, '', 'endpoints', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }] }],
  });
  await ensure(registry, 'discovery.k8s.io', 'endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }],
  });
}
