// The garbage collector: the dependency graph on its own (virtual owners, transitions, removal), then the collector
// against a complete in-process API: background, orphan and foreground propagation, blockOwnerDeletion, dangling
// owners (absent or replaced), partial ownership, and cluster-scoped owners of namespaced dependents.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace, Secret } from 'kubernetes-types/core/v1.js';
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { SharedInformerFactory, realClock, type ResourceClient, type RestClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { DependencyGraph, referenceDiffs, type GraphNode, type ObjectIdentity } from './graph.js';
import { GarbageCollector, catalogMapper } from './garbagecollector.js';

const log = createLogger((process.env.GC_LOG as 'debug' | undefined) ?? 'error');

describe('dependency graph', () => {
  const id = (uid: string, namespace = 'ns', kind = 'ConfigMap'): ObjectIdentity => ({ apiVersion: 'v1', kind, namespace, name: uid, uid });
  const ref = (uid: string, block = false): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid, ...(block ? { blockOwnerDeletion: true } : {}) });
  const meta = (o: { owners?: OwnerReference[]; deleting?: boolean; finalizers?: string[] } = {}) => ({
    metadata: { ownerReferences: o.owners, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}), finalizers: o.finalizers },
  });
  function graph() {
    const deletes: string[] = [];
    const orphans: string[] = [];
    const g = new DependencyGraph({ attemptToDelete: (n: GraphNode) => void deletes.push(n.identity.uid), attemptToOrphan: (n: GraphNode) => void orphans.push(n.identity.uid) });
    return { g, deletes, orphans };
  }

  test('an unseen owner becomes a virtual node to verify; observing it makes it real', () => {
    const { g, deletes } = graph();
    g.observe(id('child'), meta({ owners: [ref('parent', true)] }));
    assert.equal(g.get('parent')?.virtual, true);
    assert.deepEqual(deletes, ['parent']);
    assert.deepEqual([...g.get('parent')!.dependents].map((n) => n.identity.uid), ['child']);
    g.observe(id('parent'), meta());
    assert.equal(g.get('parent')?.virtual, false);
    assert.deepEqual(g.get('parent')!.blockingDependents().map((n) => n.identity.uid), ['child']);
  });

  test('removing an owner queues its dependents and remembers it as absent', () => {
    const { g, deletes } = graph();
    g.observe(id('parent'), meta());
    g.observe(id('child'), meta({ owners: [ref('parent')] }));
    deletes.length = 0;
    g.remove('parent');
    assert.deepEqual(deletes, ['child']);
    assert.equal(g.get('parent'), undefined);
    assert.equal(g.absentOwners.size, 1);
  });

  test('orphan and foreground transitions fire once; dropping a blocking reference wakes the owner', () => {
    const { g, deletes, orphans } = graph();
    g.observe(id('o'), meta());
    g.observe(id('d'), meta({ owners: [ref('f', true)] }));
    g.observe(id('f'), meta());
    deletes.length = 0;
    g.observe(id('o'), meta({ deleting: true, finalizers: ['orphan'] }));
    g.observe(id('o'), meta({ deleting: true, finalizers: ['orphan'] }));
    assert.deepEqual(orphans, ['o']);
    g.observe(id('f'), meta({ deleting: true, finalizers: ['foregroundDeletion'] }));
    assert.deepEqual(deletes, ['d', 'f']);
    assert.equal(g.get('f')?.deletingDependents, true);
    deletes.length = 0;
    g.observe(id('d'), meta({ owners: [ref('f', false)] }));
    assert.deepEqual(deletes, ['f'], 'the owner is re-examined once nothing blocks it');
    // The dependent going away also wakes the owner.
    deletes.length = 0;
    g.remove('d');
    assert.deepEqual(deletes, ['f']);
    assert.equal(g.get('f')?.dependents.size, 0);
  });

  test('referenceDiffs', () => {
    const d = referenceDiffs([ref('a'), ref('b', true)], [ref('b'), ref('c')]);
    assert.deepEqual(d.added.map((r) => r.uid), ['c']);
    assert.deepEqual(d.removed.map((r) => r.uid), ['a']);
    assert.deepEqual(d.changed.map(([o, n]) => [o.blockOwnerDeletion, n.blockOwnerDeletion]), [[true, undefined]]);
  });

  test('the catalog mapper resolves kinds and monitors each resource once, events excluded', () => {
    const m = catalogMapper();
    assert.equal(m.resolve('apps/v1', 'ReplicaSet')?.resource, 'replicasets');
    assert.equal(m.resolve('rbac.authorization.k8s.io/v1', 'ClusterRole')?.namespaced, false);
    assert.equal(m.resolve('example.com/v1', 'Widget'), undefined);
    const names = m.monitored().map((r) => `${r.resource}.${r.group}`);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.includes('pods.') && names.includes('namespaces.') && names.includes('replicasets.apps'));
    assert.ok(!names.includes('events.') && !names.includes('events.events.k8s.io'));
  });
});

describe('garbage collector against an in-process API', () => {
  let api: InProcessApi;
  let client: RestClient;
  let cms: ResourceClient<ConfigMap>;
  let secrets: ResourceClient<Secret>;
  const abort = new AbortController();
  let running: Promise<void>;
  let informers: SharedInformerFactory;
  let gc: GarbageCollector;
  /** Like upstream's tests: wait until the collector has seen the dependents before deleting (a dependent it never saw cannot be orphaned). */
  const observed = (ref: OwnerReference, count: number) => eventually('graph has the dependents', async () => gc.graph.get(ref.uid)?.dependents.size === count);

  before(async () => {
    api = await startInProcessApi();
    client = api.client;
    cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    secrets = client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
    await client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gc' } });
    informers = new SharedInformerFactory(client);
    gc = new GarbageCollector({ client, informers, clock: realClock, log }, { workers: 4 });
    running = gc.run(abort.signal);
    await eventually('graph synced', async () => gc.hasSynced());
  });
  after(async () => {
    abort.abort();
    await running;
    await api?.close();
  });

  const owner = async (name: string): Promise<OwnerReference> => {
    const cm = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'gc' } });
    return { apiVersion: 'v1', kind: 'ConfigMap', name, uid: cm.metadata!.uid! };
  };
  const dependent = (name: string, refs: OwnerReference[], finalizers?: string[]) =>
    secrets.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'gc', ownerReferences: refs, ...(finalizers ? { finalizers } : {}) } });
  const exists = async (rc: ResourceClient<ConfigMap> | ResourceClient<Secret>, name: string) => {
    try {
      await rc.get(name, { namespace: 'gc' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };

  test('background: deleting the owner deletes its dependents', async () => {
    const ref = await owner('bg');
    await dependent('bg-1', [ref]);
    await dependent('bg-2', [{ ...ref, controller: true, blockOwnerDeletion: true }]);
    await cms.delete('bg', { namespace: 'gc', propagationPolicy: 'Background' });
    await eventually('dependents gone', async () => !(await exists(secrets, 'bg-1')) && !(await exists(secrets, 'bg-2')));
  });

  test('orphan: dependents stay without the reference, then the owner goes', async () => {
    const ref = await owner('or');
    const other = await owner('or-other');
    await dependent('or-1', [ref, other]);
    await dependent('or-2', [ref]);
    await observed(ref, 2);
    const marked = await cms.delete('or', { namespace: 'gc', propagationPolicy: 'Orphan' });
    assert.deepEqual((marked as ConfigMap).metadata?.finalizers, ['orphan']);
    await eventually('owner gone', async () => !(await exists(cms, 'or')));
    assert.deepEqual((await secrets.get('or-1', { namespace: 'gc' })).metadata?.ownerReferences?.map((r) => r.name), ['or-other']);
    assert.equal((await secrets.get('or-2', { namespace: 'gc' })).metadata?.ownerReferences, undefined);
  });

  test('foreground: the owner stays until blocking dependents are gone; non-blocking ones do not hold it', async () => {
    const ref = await owner('fg');
    await dependent('fg-block', [{ ...ref, blockOwnerDeletion: true }], ['example.com/hold']);
    await dependent('fg-free', [ref]);
    await cms.delete('fg', { namespace: 'gc', propagationPolicy: 'Foreground' });
    await eventually('dependents being deleted', async () => {
      const held = await secrets.get('fg-block', { namespace: 'gc' });
      return held.metadata?.deletionTimestamp !== undefined && !(await exists(secrets, 'fg-free'));
    });
    const waiting = await cms.get('fg', { namespace: 'gc' });
    assert.ok(waiting.metadata?.deletionTimestamp);
    assert.deepEqual(waiting.metadata?.finalizers, ['foregroundDeletion']);
    await secrets.patch('fg-block', { metadata: { finalizers: null } }, { namespace: 'gc', type: 'merge' });
    await eventually('owner gone after its blocking dependent', async () => !(await exists(cms, 'fg')));

    // Only non-blocking dependents (held by a finalizer): the owner goes at once.
    const ref2 = await owner('fg2');
    await dependent('fg2-held', [ref2], ['example.com/hold']);
    await cms.delete('fg2', { namespace: 'gc', propagationPolicy: 'Foreground' });
    await eventually('owner gone', async () => !(await exists(cms, 'fg2')));
    await eventually('held dependent marked', async () => (await secrets.get('fg2-held', { namespace: 'gc' })).metadata?.deletionTimestamp !== undefined);
    await secrets.patch('fg2-held', { metadata: { finalizers: null } }, { namespace: 'gc', type: 'merge' });
  });

  test('dangling: an absent or replaced owner gets the dependent deleted; solid co-owners keep it', async () => {
    await dependent('dangling', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never', uid: '00000000-0000-0000-0000-000000000000' }]);
    const replaced = await owner('replaced');
    await dependent('stale', [{ ...replaced, uid: '11111111-1111-1111-1111-111111111111' }]);
    const solid = await owner('solid');
    await dependent('shared', [solid, { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: '22222222-2222-2222-2222-222222222222' }]);
    await eventually('dangling dependents deleted', async () => !(await exists(secrets, 'dangling')) && !(await exists(secrets, 'stale')));
    await eventually('the dangling reference removed', async () => {
      const s = await secrets.get('shared', { namespace: 'gc' });
      return JSON.stringify(s.metadata?.ownerReferences?.map((r) => r.name)) === '["solid"]';
    });
    assert.ok(await exists(cms, 'replaced'));
  });

  test('a cluster-scoped owner of namespaced dependents; a namespaced owner cannot own a cluster-scoped object', async () => {
    const roles = client.resource<ClusterRole>({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' });
    const role = await roles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gc-owner' } });
    const roleRef = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'gc-owner', uid: role.metadata!.uid! };
    await dependent('of-cluster', [roleRef]);
    const cmRef = await owner('ns-owner');
    await roles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gc-invalid', ownerReferences: [cmRef] } });
    await eventually('the impossible dependent is deleted', async () => {
      try {
        await roles.get('gc-invalid');
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    });
    assert.ok(await exists(secrets, 'of-cluster'), 'a cluster-scoped owner is solid for namespaced dependents');
    await roles.delete('gc-owner');
    await eventually('dependent of the cluster-scoped owner deleted', async () => !(await exists(secrets, 'of-cluster')));
  });
});
