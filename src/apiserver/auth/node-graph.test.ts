import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import { UnionAuthorizer, forbiddenError, type AuthorizationAttributes } from './authorizer.js';
import { NodeAuthorizer } from './node.js';
import { NodeGraph, podGraphEdges } from './node-graph.js';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function attrs(over: Partial<AuthorizationAttributes>): AuthorizationAttributes {
  return { user: n1, verb: 'get', apiGroup: '', apiVersion: 'v1', resource: '', subresource: '', namespace: '', name: '', path: '/api', isResourceRequest: true, ...over };
}

function pod(name: string, node: string | undefined, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { ...(node ? { nodeName: node } : {}), containers: [], ...spec } };
}

const webSpec = {
  serviceAccountName: 'robot',
  imagePullSecrets: [{ name: 'pull' }],
  containers: [{ name: 'c', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'env-cm' } }] }],
  volumes: [
    { name: 'a', secret: { secretName: 'vol-secret' } },
    { name: 'b', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] } },
    { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
    { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
    { name: 'c', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi-secret' } } },
  ],
};

test('a pod references its service account, secrets, configmaps and claims wherever the spec names them', () => {
  assert.deepEqual(podGraphEdges(pod('web', 'n1', webSpec)).sort(), [
    'configmap/ns/env-cm',
    'configmap/ns/proj-cm',
    'pod/ns/web',
    'pvc/ns/claim',
    'pvc/ns/web-scratch',
    'secret/ns/csi-secret',
    'secret/ns/env-secret',
    'secret/ns/proj-secret',
    'secret/ns/pull',
    'secret/ns/vol-secret',
    'serviceaccount/ns/robot',
  ]);
});

test('node reads follow the graph: own pods\' objects only, with upstream\'s reasons', () => {
  const graph = new NodeGraph();
  graph.synced = true;
  graph.setPod(pod('web', 'n1', webSpec));
  graph.setPod(pod('other', 'n2', { volumes: [{ name: 'a', secret: { secretName: 'n2-secret' } }] }));
  graph.setPod(pod('pending', undefined, { volumes: [{ name: 'a', secret: { secretName: 'pending-secret' } }] }));
  graph.setClaim({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim', namespace: 'ns' }, spec: { volumeName: 'pv-1' } });
  graph.setVolume({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' }, spec: { csi: { nodePublishSecretRef: { name: 'pv-secret', namespace: 'kube-system' } } } });
  const authz = new UnionAuthorizer([new NodeAuthorizer(graph), { authorize: () => ({ decision: 'allow' as const }) }]);
  const decide = (over: Partial<AuthorizationAttributes>) => new NodeAuthorizer(graph).authorize(attrs(over));

  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'vol-secret' }).decision, 'allow');
  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'pull', verb: 'watch' }).decision, 'allow');
  assert.equal(decide({ resource: 'configmaps', namespace: 'ns', name: 'proj-cm', verb: 'list' }).decision, 'allow');
  assert.equal(decide({ resource: 'persistentvolumeclaims', namespace: 'ns', name: 'claim' }).decision, 'allow');
  assert.equal(decide({ resource: 'persistentvolumes', name: 'pv-1' }).decision, 'allow');
  assert.equal(decide({ resource: 'secrets', namespace: 'kube-system', name: 'pv-secret' }).decision, 'allow');
  assert.equal(decide({ resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'ns', name: 'robot' }).decision, 'allow');
  assert.equal(decide({ resource: 'pods', namespace: 'ns', name: 'web' }).decision, 'allow');

  const denied = decide({ resource: 'secrets', namespace: 'ns', name: 'n2-secret' });
  assert.deepEqual(denied, { decision: 'no-opinion', reason: "no relationship found between node 'n1' and this object" });
  const a = attrs({ resource: 'secrets', namespace: 'ns', name: 'n2-secret' });
  assert.equal(
    forbiddenError(a, denied.reason).message,
    'secrets "n2-secret" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "ns": no relationship found between node \'n1\' and this object',
  );
  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'pending-secret' }).decision, 'no-opinion', 'an unscheduled pod gives no node access');
  assert.deepEqual(decide({ resource: 'secrets', namespace: 'ns', verb: 'list' }), { decision: 'no-opinion', reason: 'No Object name found' });
  assert.deepEqual(decide({ resource: 'secrets', namespace: 'ns', name: 'vol-secret', verb: 'update' }), { decision: 'no-opinion', reason: 'can only read resources of this type' });
  assert.deepEqual(decide({ resource: 'persistentvolumes', name: 'pv-1', verb: 'list' }), { decision: 'no-opinion', reason: 'can only get individual resources of this type' });
  assert.equal(decide({ resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: 'ns', name: 'default' }).decision, 'no-opinion');
  assert.deepEqual(decide({ resource: 'serviceaccounts', namespace: 'ns', name: 'robot' }), { decision: 'no-opinion', reason: 'can only create tokens for individual service accounts' });

  // Pods: get only those bound here; list/watch only with spec.nodeName=<self>.
  assert.equal(decide({ resource: 'pods', namespace: 'ns', name: 'other' }).decision, 'no-opinion');
  assert.equal(decide({ resource: 'pods', verb: 'watch', fieldSelector: 'spec.nodeName=n1' }).decision, 'allow');
  assert.deepEqual(decide({ resource: 'pods', verb: 'list', fieldSelector: 'spec.nodeName=n2' }), {
    decision: 'no-opinion',
    reason: 'can only list/watch pods with spec.nodeName field selector',
  });
  assert.equal(decide({ resource: 'pods', verb: 'list' }).decision, 'no-opinion');
  assert.equal(decide({ resource: 'pods', verb: 'create', namespace: 'ns' }).decision, 'allow', 'mirror pods');
  assert.equal(decide({ resource: 'pods', subresource: 'status', verb: 'patch', namespace: 'ns', name: 'web' }).decision, 'allow');
  // A related claim's status: update and patch only (a get of it is the next authorizer's to allow).
  assert.equal(decide({ resource: 'persistentvolumeclaims', subresource: 'status', verb: 'patch', namespace: 'ns', name: 'claim' }).decision, 'allow');
  assert.deepEqual(decide({ resource: 'persistentvolumeclaims', subresource: 'status', verb: 'get', namespace: 'ns', name: 'claim' }), { decision: 'no-opinion', reason: 'can only get/update/patch this type' });
  assert.equal(decide({ resource: 'persistentvolumeclaims', subresource: 'status', verb: 'patch', namespace: 'ns', name: 'other-claim' }).decision, 'no-opinion');

  // Leases: its own in kube-node-lease.
  const lease = (over: Partial<AuthorizationAttributes>) => decide({ apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', ...over });
  assert.equal(lease({ name: 'n1', verb: 'update' }).decision, 'allow');
  assert.equal(lease({ verb: 'create' }).decision, 'allow');
  assert.deepEqual(lease({ name: 'n2', verb: 'update' }), { decision: 'no-opinion', reason: 'can only access node lease with the same name as the requesting node' });
  assert.equal(lease({ name: 'n1', namespace: 'default' }).decision, 'no-opinion');

  // Reads outside the node rules are left to the next authorizer; the rules' other reads pass.
  assert.equal(decide({ apiGroup: 'apps', resource: 'deployments', verb: 'list' }).decision, 'no-opinion');
  assert.equal(decide({ resource: 'services', verb: 'watch' }).decision, 'allow');
  assert.equal(decide({ resource: 'nodes', name: 'n1' }).decision, 'allow');

  // The pod leaves the node: its objects with it.
  graph.deletePod(pod('web', 'n1', webSpec));
  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'vol-secret' }).decision, 'no-opinion');
  // Two pods share a secret: it stays readable until the last one goes.
  graph.setPod(pod('x', 'n1', { volumes: [{ name: 'a', secret: { secretName: 'shared' } }] }));
  graph.setPod(pod('y', 'n1', { volumes: [{ name: 'a', secret: { secretName: 'shared' } }] }));
  graph.deletePod(pod('x', 'n1'));
  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'shared' }).decision, 'allow');
  // A pod moving nodes (setPod again with another node) moves its edges.
  graph.setPod(pod('y', 'n2', { volumes: [{ name: 'a', secret: { secretName: 'shared' } }] }));
  assert.equal(decide({ resource: 'secrets', namespace: 'ns', name: 'shared' }).decision, 'no-opinion');
  // Other users are not the node authorizer's business.
  return Promise.resolve(authz.authorize(attrs({ user: { name: 'alice', groups: ['system:authenticated'] }, resource: 'secrets', namespace: 'ns', name: 'x' }))).then((r) =>
    assert.equal(r.decision, 'allow'),
  );
});
