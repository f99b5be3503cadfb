import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import { nodeIdentity } from '../auth/node.js';
import { NodeRestriction } from './node-restriction.js';
import type { AdmissionAttributes } from './types.js';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const plugin = new NodeRestriction();

function attrs(over: Partial<AdmissionAttributes>): AdmissionAttributes {
  return { operation: 'UPDATE', group: '', version: 'v1', resource: 'nodes', subresource: '', kind: 'Node', namespace: '', name: 'n1', user: n1, dryRun: false, ...over };
}
const node = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec });
const pod = (nodeName: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { nodeName },
});

test('only node users are restricted', async () => {
  assert.equal(nodeIdentity(n1), 'n1');
  assert.equal(nodeIdentity({ name: 'system:node:n1', groups: [] }), undefined);
  assert.equal(nodeIdentity({ name: 'alice', groups: ['system:nodes'] }), undefined);
  await plugin.validate(attrs({ name: 'n2', user: { name: 'admin', groups: ['system:masters'] } }));
});

test('a node may modify its own Node but not another, nor its taints or node-restriction labels', async () => {
  await plugin.validate(attrs({ object: node('n1'), oldObject: node('n1') }));
  await plugin.validate(attrs({ operation: 'CREATE', name: '', object: node('n1', { taints: [{ key: 'a', effect: 'NoSchedule' }] }) }));
  await assert.rejects(plugin.validate(attrs({ name: 'n2', object: node('n2'), oldObject: node('n2') })), /node "n1" is not allowed to modify node "n2"/);
  await assert.rejects(plugin.validate(attrs({ operation: 'CREATE', name: '', object: node('n2') })), /not allowed to modify node "n2"/);
  await assert.rejects(plugin.validate(attrs({ operation: 'DELETE', name: 'n2', oldObject: node('n2') })), /not allowed to modify node "n2"/);
  await assert.rejects(
    plugin.validate(attrs({ object: node('n1', { taints: [] }), oldObject: node('n1', { taints: [{ key: 'a', effect: 'NoSchedule' }] }) })),
    /node "n1" is not allowed to modify taints/,
  );
  await assert.rejects(
    plugin.validate(attrs({ object: node('n1', {}, { 'node-restriction.kubernetes.io/x': 'y' }), oldObject: node('n1') })),
    /not allowed to modify labels: node-restriction.kubernetes.io\/x/,
  );
});

test('leases: only its own in kube-node-lease', async () => {
  const lease = { group: 'coordination.k8s.io', resource: 'leases', kind: 'Lease' };
  await plugin.validate(attrs({ ...lease, namespace: 'kube-node-lease', name: 'n1' }));
  await assert.rejects(plugin.validate(attrs({ ...lease, namespace: 'kube-node-lease', name: 'n2' })), /same name as the requesting node/);
  await assert.rejects(plugin.validate(attrs({ ...lease, namespace: 'default', name: 'n1' })), /same name as the requesting node/);
});

test('pods: status and delete only for pods bound to it; creates only of its mirror pods', async () => {
  const pods = { resource: 'pods', kind: 'Pod', namespace: 'default', name: 'p' };
  await plugin.validate(attrs({ ...pods, subresource: 'status', object: pod('n1'), oldObject: pod('n1') }));
  await assert.rejects(plugin.validate(attrs({ ...pods, subresource: 'status', object: pod('n2'), oldObject: pod('n2') })), /can only update pod status for pods with spec.nodeName set to itself/);
  await plugin.validate(attrs({ ...pods, operation: 'DELETE', oldObject: pod('n1') }));
  await assert.rejects(plugin.validate(attrs({ ...pods, operation: 'DELETE', oldObject: pod('n2') })), /can only delete pods with spec.nodeName set to itself/);
  await assert.rejects(plugin.validate(attrs({ ...pods, operation: 'CREATE', object: pod('n1') })), /can only create mirror pods/);
  await plugin.validate(attrs({ ...pods, operation: 'CREATE', object: pod('n1', { 'kubernetes.io/config.mirror': 'x' }) }));
});
