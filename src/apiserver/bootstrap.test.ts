// The bootstrap policy at start (upstream's auto-reconcile): created on a fresh store, and on a later start a bootstrap
// ClusterRole gets back rules and labels it lost, a binding the subjects it lost (or is recreated when its roleRef
// changed), while what a user added stays and autoupdate=false objects are left as the user set them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../api/object.js';
import { openMemoryStorage } from '../storage/memory/memory.js';
import { builtinConverters } from './registry/converters.js';
import { groupStrategies } from './registry/group-strategies.js';
import { Registry } from './registry/registry.js';
import { reconcileBootstrapPolicy } from './bootstrap.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, RBAC_GROUP } from './auth/rbac/bootstrap-policy.js';
import { reconcileClusterRole, reconcileClusterRoleBinding } from './auth/rbac/reconcile.js';

const ctx = { user: { name: 'admin', groups: ['system:masters'] }, dryRun: false };
const expectedRole = (name: string) => bootstrapClusterRoles().find((r) => r.metadata!.name === name)!;
const expectedBinding = (name: string) => bootstrapClusterRoleBindings().find((b) => b.metadata!.name === name)!;

test('reconcile a ClusterRole: missing rules, labels, annotations and selectors added; nothing removed', () => {
  const expected = expectedRole('system:basic-user');
  assert.equal(reconcileClusterRole(expected, expected).operation, 'none');
  const extra = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] };
  const trimmed: ClusterRole = { ...expected, metadata: { name: 'system:basic-user', labels: { mine: 'x' } }, rules: [expected.rules![0]!, extra] };
  const r = reconcileClusterRole(trimmed, expected);
  assert.equal(r.operation, 'update');
  assert.equal(r.protected, false);
  assert.deepEqual(r.missing, expected.rules!.slice(1));
  assert.deepEqual(r.object.rules, [expected.rules![0], extra, ...expected.rules!.slice(1)]);
  assert.deepEqual(r.object.metadata!.labels, { 'kubernetes.io/bootstrapping': 'rbac-defaults', mine: 'x' });
  assert.deepEqual(r.object.metadata!.annotations, { 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
  // A label value the user changed is kept (existing values win the merge).
  const relabelled = { ...expected, metadata: { ...expected.metadata, labels: { 'kubernetes.io/bootstrapping': 'mine' } } };
  assert.equal(reconcileClusterRole(relabelled, expected).operation, 'none');
  // Rules covered by broader ones are not missing.
  const broad = { ...expected, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] };
  assert.equal(reconcileClusterRole(broad, expected).operation, 'none');
  // Aggregation selectors: a missing one is added; an empty matchLabels equals none.
  const view = expectedRole('view');
  const noSelectors = { ...view, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { other: 'true' }, matchExpressions: [] }] } };
  const v = reconcileClusterRole(noSelectors, view);
  assert.deepEqual(v.object.aggregationRule?.clusterRoleSelectors, [{ matchLabels: { other: 'true' }, matchExpressions: [] }, ...view.aggregationRule!.clusterRoleSelectors!]);
  // autoupdate=false: reported as protected, with what it lacks.
  const mine = { ...trimmed, metadata: { name: 'system:basic-user', annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } };
  const p = reconcileClusterRole(mine, expected);
  assert.equal(p.protected, true);
  assert.equal(p.missing.length, expected.rules!.length - 1);
});

test('reconcile a ClusterRoleBinding: missing subjects added, a different roleRef recreates it', () => {
  const expected = expectedBinding('system:public-info-viewer');
  assert.equal(reconcileClusterRoleBinding(expected, expected).operation, 'none');
  const user = { kind: 'User', apiGroup: RBAC_GROUP, name: 'alice' };
  const lost: ClusterRoleBinding = { ...expected, subjects: [user, expected.subjects![1]!] };
  const r = reconcileClusterRoleBinding(lost, expected);
  assert.equal(r.operation, 'update');
  assert.deepEqual(r.object.subjects, [user, expected.subjects![1], expected.subjects![0]]);
  // A service account subject stored with apiGroup "" is the same subject as one without.
  const dns = expectedBinding('system:kube-dns');
  const stored = { ...dns, subjects: dns.subjects!.map((s) => ({ ...s, apiGroup: '' })) };
  assert.equal(reconcileClusterRoleBinding(stored, dns).operation, 'none');
  const moved = { ...expected, roleRef: { ...expected.roleRef, name: 'view' } };
  const re = reconcileClusterRoleBinding(moved, expected);
  assert.equal(re.operation, 'recreate');
  assert.equal(re.object, expected);
});

test('at start: created when missing; a later start restores what was removed and leaves autoupdate=false alone', async () => {
  const storage = openMemoryStorage();
  try {
    // The RBAC kinds' own strategies (validation, defaulting), as the API server stores them.
    const registry = new Registry({ storage, strategies: groupStrategies, converters: builtinConverters });
    const roles = registry.store(RBAC_GROUP, 'clusterroles');
    const bindings = registry.store(RBAC_GROUP, 'clusterrolebindings');
    const first = await reconcileBootstrapPolicy(registry);
    assert.deepEqual(first, { created: bootstrapClusterRoles().length + bootstrapClusterRoleBindings().length, updated: 0, recreated: 0, protected: 0 });
    assert.deepEqual(await reconcileBootstrapPolicy(registry), { created: 0, updated: 0, recreated: 0, protected: 0 });

    const edit = async (resource: typeof roles, name: string, change: (o: KubeObject) => void) =>
      resource.update(undefined, name, (cur) => (change(cur!), cur!), ctx);
    // A rule removed from system:basic-user, one added: the removed one comes back, the added one stays.
    const added = { verbs: ['list'], apiGroups: [''], resources: ['namespaces'] };
    await edit(roles, 'system:basic-user', (o) => ((o as unknown as ClusterRole).rules = [(o as unknown as ClusterRole).rules![1]!, added]));
    // The same edit on system:discovery, protected by autoupdate=false.
    await edit(roles, 'system:discovery', (o) => {
      o.metadata.annotations = { 'rbac.authorization.kubernetes.io/autoupdate': 'false' };
      (o as unknown as ClusterRole).rules = [{ verbs: ['get'], nonResourceURLs: ['/version'] }];
    });
    // A subject removed from a binding; cluster-admin's binding deleted; another binding pointed at another role.
    await edit(bindings, 'system:basic-user', (o) => ((o as unknown as ClusterRoleBinding).subjects = [{ kind: 'User', apiGroup: RBAC_GROUP, name: 'bob' }]));
    await bindings.delete(undefined, 'cluster-admin', {}, ctx);
    await bindings.delete(undefined, 'system:monitoring', {}, ctx);
    await bindings.create(undefined, { ...(expectedBinding('system:monitoring') as unknown as KubeObject), roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'view' } }, ctx);

    const logged: string[] = [];
    const log = { info: (msg: string, f?: Record<string, unknown>) => logged.push(`${msg} ${String(f?.object ?? '')}`), warn: (msg: string, f?: Record<string, unknown>) => logged.push(`${msg} ${String(f?.object)}`) };
    assert.deepEqual(await reconcileBootstrapPolicy(registry, log), { created: 1, updated: 2, recreated: 1, protected: 1 });
    const basic = (await roles.get(undefined, 'system:basic-user')) as unknown as ClusterRole;
    // Missing rules come back broken down into one resource each, as upstream's Covers reports them.
    const reviews = (resource: string) => ({ apiGroups: ['authorization.k8s.io'], resources: [resource], verbs: ['create'] });
    assert.deepEqual(basic.rules, [expectedRole('system:basic-user').rules![1], added, reviews('selfsubjectaccessreviews'), reviews('selfsubjectrulesreviews')]);
    const discovery = (await roles.get(undefined, 'system:discovery')) as unknown as ClusterRole;
    assert.deepEqual(discovery.rules, [{ verbs: ['get'], nonResourceURLs: ['/version'] }]);
    const basicBinding = (await bindings.get(undefined, 'system:basic-user')) as unknown as ClusterRoleBinding;
    assert.deepEqual(basicBinding.subjects!.map((s) => s.name), ['bob', 'system:authenticated']);
    assert.ok(await bindings.get(undefined, 'cluster-admin'));
    assert.equal(((await bindings.get(undefined, 'system:monitoring')) as unknown as ClusterRoleBinding).roleRef.name, 'system:monitoring');
    assert.ok(logged.includes('skipped reconcile-protected bootstrap object clusterroles.rbac.authorization.k8s.io/system:discovery'), logged.join('\n'));
    // Settled: the next start writes nothing.
    assert.deepEqual(await reconcileBootstrapPolicy(registry), { created: 0, updated: 0, recreated: 0, protected: 1 });
  } finally {
    await storage.close();
  }
});
