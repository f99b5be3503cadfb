// The namespace controller: condition bookkeeping as pure functions, and one controller run in-process against a real
// server (its own controllers off), holding a namespace back with a finalizer on its content.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer, eventually } from '../../../test/e2e/harness.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { createLogger } from '../../apiserver/log.js';
import { RestClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { ControllerManager } from '../manager.js';
import { deletableNamespacedResources, namespaceConditions, namespaceControllerDescriptor } from './namespace-controller.js';


describe('namespace content and conditions', () => {
  test('every deletable namespaced resource once, cluster-scoped ones and bindings left out', () => {
    const names = deletableNamespacedResources().map((r) => `${r.resource}.${r.group}`);
    assert.equal(new Set(names).size, names.length);
    for (const want of ['pods.', 'configmaps.', 'secrets.', 'deployments.apps', 'roles.rbac.authorization.k8s.io', 'leases.coordination.k8s.io']) {
      assert.ok(names.includes(want), want);
    }
    assert.ok(!names.includes('namespaces.') && !names.includes('nodes.') && !names.includes('bindings.'));
    // Two versions of one resource (autoscaling v1 and v2) are deleted through one.
    assert.equal(names.filter((n) => n === 'horizontalpodautoscalers.autoscaling').length, 1);
    assert.ok(BUILTIN_RESOURCES.filter((r) => r.resource === 'horizontalpodautoscalers').length > 1);
  });

  test("upstream's conditions: failures True with details, the rest False with their okay reason", () => {
    const totals = {
      remaining: new Map([
        ['pods.', 2],
        ['configmaps.', 1],
      ]),
      finalizers: new Map([['example.com/hold', 1]]),
      failures: [],
      estimateSeconds: 0,
    };
    const now = '2026-01-01T00:00:00Z';
    const conds = namespaceConditions(totals, [], now);
    assert.deepEqual(
      conds.map((c) => [c.type, c.status, c.reason]),
      [
        ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
        ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
        ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
        ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain'],
        ['NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain'],
      ],
    );
    assert.equal(conds[3]?.message, 'Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances');
    assert.equal(conds[4]?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    // A later pass keeps the transition time of unchanged statuses and moves it for changed ones.
    const later = namespaceConditions({ ...totals, remaining: new Map(), finalizers: new Map() }, conds, '2026-01-01T00:01:00Z');
    assert.equal(later[0]?.lastTransitionTime, now);
    assert.equal(later[3]?.lastTransitionTime, '2026-01-01T00:01:00Z');
    assert.equal(later[3]?.message, 'All content successfully removed');
    const failed = namespaceConditions({ ...totals, failures: ['pods.: boom'] }, [], now);
    assert.equal(failed[2]?.reason, 'ContentDeletionFailed');
    assert.equal(failed[2]?.message, 'Failed to delete all resource types, 1 remaining: pods.: boom');
  });
});

describe('NamespaceController against a server', () => {
  let srv: TestServer;
  let client: RestClient;
  let manager: ControllerManager;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'namespace,serviceaccount'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    manager = new ControllerManager({ client, controllers: [namespaceControllerDescriptor], leaderElection: false, log: createLogger('error') });
    manager.start();
  });
  after(async () => {
    await manager?.stop();
    client?.close();
    await srv?.stop();
  });

  test('content with a finalizer holds the namespace (conditions say why); once released, everything goes', async () => {
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    const configMaps = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } });
    await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'free', namespace: 'held' } });
    await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'held', finalizers: ['example.com/hold'] } });
    await namespaces.delete('held');

    let ns: Namespace | undefined;
    await eventually('the FinalizersRemaining condition', async () => {
      ns = await namespaces.get('held');
      return ns.status?.conditions?.find((c) => c.type === 'NamespaceFinalizersRemaining')?.status === 'True';
    });
    assert.equal(ns?.status?.phase, 'Terminating');
    const remaining = ns?.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining');
    assert.equal(remaining?.message, 'Some resources are remaining: configmaps. has 1 resource instances');
    assert.deepEqual(ns?.spec?.finalizers, ['kubernetes']);
    assert.deepEqual((await configMaps.list({ namespace: 'held' })).items.map((c) => c.metadata?.name), ['kept']);

    await configMaps.patch('kept', { metadata: { finalizers: null } }, { namespace: 'held', type: 'merge' });
    await eventually('the namespace to be gone', async () => {
      try {
        await namespaces.get('held');
        return false;
      } catch (e) {
        if (isNotFound(e)) return true;
        throw e;
      }
    });
  });
});
