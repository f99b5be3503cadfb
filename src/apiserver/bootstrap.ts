// What a fresh cluster has before anyone asks: the system namespaces and the `kubernetes` Service (with its
// Endpoints and EndpointSlice) pointing at this API server, and the bootstrap RBAC policy, reconciled at every start
// as upstream's rbac/bootstrap-roles post-start hook does. Idempotent, so every start runs it.
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../api/object.js';
import { isAlreadyExists, isNotFound } from '../machinery/errors.js';
import type { Registry } from './registry/registry.js';
import type { Store } from './registry/store.js';
import type { UserInfo } from './auth/user.js';
import { LEGACY_TOKEN_TRACKING_CONFIGMAP, LEGACY_TOKEN_TRACKING_SINCE_KEY } from './auth/serviceaccount.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, RBAC_GROUP } from './auth/rbac/bootstrap-policy.js';
import { reconcileClusterRole, reconcileClusterRoleBinding, type Reconciled } from './auth/rbac/reconcile.js';
import { formatDate } from '../machinery/time.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const SYSTEM_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export interface BootstrapOptions {
  /** The ClusterIP of the `kubernetes` Service (first address of the service CIDR). */
  serviceIP: string;
  /** Address clients inside the cluster reach this server at. */
  advertiseAddress: string;
  securePort: number;
  /** Where the policy reconcile reports what it changed or was kept from changing. */
  log?: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
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

type PolicyCounts = Record<'created' | 'updated' | 'recreated' | 'protected', number>;

/**
 * Brings one bootstrap object to what `reconcile` wants: created when missing, updated (read-modify-write, so a
 * concurrent change is reconciled again) when it lacks something, deleted and created again when it must be
 * recreated; left alone when autoupdate=false protects it.
 */
async function reconcileObject<T extends ClusterRole | ClusterRoleBinding>(
  store: Store,
  expected: T,
  existing: T | undefined,
  reconcile: (existing: T, expected: T) => Reconciled<T>,
  counts: PolicyCounts,
  log: BootstrapOptions['log'],
): Promise<void> {
  const name = expected.metadata!.name!;
  const ctx = { user: SYSTEM_USER, dryRun: false };
  if (!existing) {
    try {
      await store.create(undefined, expected as unknown as KubeObject, ctx);
      counts.created++;
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      existing = (await store.get(undefined, name)) as unknown as T;
    }
  }
  const result = reconcile(existing, expected);
  if (result.operation === 'none') return;
  const what = `${store.info.resource}.${RBAC_GROUP}/${name}`;
  if (result.protected) {
    counts.protected++;
    if (result.missing.length) log?.warn('skipped reconcile-protected bootstrap object', { object: what, missing: JSON.stringify(result.missing) });
    return;
  }
  if (result.operation === 'recreate') {
    await store.delete(undefined, name, { preconditions: { uid: existing.metadata!.uid! } }, ctx);
    await store.create(undefined, result.object as unknown as KubeObject, ctx);
    counts.recreated++;
    log?.info('recreated bootstrap object', { object: what });
    return;
  }
  await store.update(
    undefined,
    name,
    (cur) => {
      if (!cur) throw new Error(`${what} was deleted while being reconciled`);
      const again = reconcile(cur as unknown as T, expected);
      return again.protected || again.operation !== 'update' ? cur : (again.object as unknown as KubeObject);
    },
    ctx,
  );
  counts.updated++;
  log?.info('updated bootstrap object', { object: what, added: JSON.stringify(result.missing) });
}

/**
 * Upstream's bootstrap RBAC policy: every ClusterRole and ClusterRoleBinding created when missing and given what it
 * lacks (never losing anything) when autoupdate allows. One list of each resource, then writes only where something
 * is missing or lacking, all at once (the objects are independent).
 */
export async function reconcileBootstrapPolicy(registry: Registry, log?: BootstrapOptions['log']): Promise<PolicyCounts> {
  const started = performance.now();
  const roles = registry.store(RBAC_GROUP, 'clusterroles');
  const bindings = registry.store(RBAC_GROUP, 'clusterrolebindings');
  const [roleList, bindingList] = await Promise.all([roles.list({}), bindings.list({})]);
  const byName = <T>(items: KubeObject[]) => new Map(items.map((o) => [o.metadata.name!, o as unknown as T]));
  const existingRoles = byName<ClusterRole>(roleList.items);
  const existingBindings = byName<ClusterRoleBinding>(bindingList.items);
  const counts: PolicyCounts = { created: 0, updated: 0, recreated: 0, protected: 0 };
  await Promise.all([
    ...bootstrapClusterRoles().map((r) => reconcileObject(roles, r, existingRoles.get(r.metadata!.name!), reconcileClusterRole, counts, log)),
    ...bootstrapClusterRoleBindings().map((b) => reconcileObject(bindings, b, existingBindings.get(b.metadata!.name!), reconcileClusterRoleBinding, counts, log)),
  ]);
  log?.info('bootstrap RBAC policy reconciled', { ...counts, ms: Math.round(performance.now() - started) });
  return counts;
}

export async function bootstrapCluster(registry: Registry, opts: BootstrapOptions): Promise<void> {
  // Namespaces first: the namespaced objects are admitted only into namespaces that exist.
  await Promise.all(SYSTEM_NAMESPACES.map((name) => ensure(registry, '', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
  // Everything else is independent of everything else: written concurrently (the store commits them together).
  await Promise.all([reconcileBootstrapPolicy(registry, opts.log), ...systemObjects(opts).map(([group, resource, obj]) => ensure(registry, group, resource, obj))]);
}

/** The legacy token tracking ConfigMap and the `kubernetes` Service with its Endpoints and EndpointSlice. */
function systemObjects(opts: BootstrapOptions): [group: string, resource: string, obj: KubeObject][] {
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const objects: [string, string, KubeObject][] = [
    // Upstream's legacytokentracking: the day the API server began tracking legacy token use (the label
    // kubernetes.io/legacy-token-last-used); the legacy token cleaner acts only after a full clean-up period since.
    [
      '',
      'configmaps',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: LEGACY_TOKEN_TRACKING_CONFIGMAP, namespace: 'kube-system' },
        data: { [LEGACY_TOKEN_TRACKING_SINCE_KEY]: formatDate(Date.now()) },
      } as KubeObject,
    ],
    [
      '',
      'services',
      {
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
      },
    ],
  ];
  // Endpoints may not name loopback addresses (upstream validation); a host with no other address gets none.
  if (opts.advertiseAddress.startsWith('127.')) return objects;
  objects.push(
    [
      '',
      'endpoints',
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
        subsets: [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }] }],
      },
    ],
    [
      'discovery.k8s.io',
      'endpointslices',
      {
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
      },
    ],
  );
  return objects;
}
