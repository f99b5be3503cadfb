// Scheduler volume plugins with the real kubectl on simulated nodes (zones zone-0..2 by node index): VolumeZone puts
// a pod next to its zonal PersistentVolume and reports upstream's message when no node is in the volume's zone;
// a claim that does not exist keeps the pod pending with upstream's PreFilter message.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually } from './harness.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const pv = (name: string, zone: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: '' },
  });
const pvc = (name: string, volumeName: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '', volumeName },
  });
const pod = (name: string, claim: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      containers: [{ name: 'c', image: 'pause' }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
      terminationGracePeriodSeconds: 0,
    },
  });

describe('scheduler volume plugins (simulated nodes)', () => {
  let srv: TestServer;
  const logs = () => srv.logs().slice(-3000);
  const condition = async (name: string) =>
    ok(srv, ['get', 'pod', name, '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']);

  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '3'] });
    await eventually('3 nodes', async () => (await ok(srv, ['get', 'nodes', '-o', 'name'])).trim().split('\n').length === 3, 60_000, logs);
  });
  after(async () => {
    await srv?.stop();
  });

  test('VolumeZone: the pod goes to the node in its volume zone', async () => {
    await ok(srv, ['create', '-f', '-'], pv('pv-zone-1', 'zone-1'));
    await ok(srv, ['create', '-f', '-'], pvc('claim-zone-1', 'pv-zone-1'));
    await ok(srv, ['create', '-f', '-'], pod('zonal', 'claim-zone-1'));
    await eventually('zonal bound', async () => (await ok(srv, ['get', 'pod', 'zonal', '-o', 'jsonpath={.spec.nodeName}'])) !== '', 60_000, logs);
    const node = await ok(srv, ['get', 'pod', 'zonal', '-o', 'jsonpath={.spec.nodeName}']);
    assert.equal(await ok(srv, ['get', 'node', node, '-o', 'jsonpath={.metadata.labels.topology\\.kubernetes\\.io/zone}']), 'zone-1');
  });

  test('VolumeZone: no node in the volume zone gives the upstream message', async () => {
    await ok(srv, ['create', '-f', '-'], pv('pv-zone-9', 'zone-9'));
    await ok(srv, ['create', '-f', '-'], pvc('claim-zone-9', 'pv-zone-9'));
    await ok(srv, ['create', '-f', '-'], pod('nowhere', 'claim-zone-9'));
    await eventually('nowhere unschedulable', async () => /nodes are available/.test(await condition('nowhere')), 60_000, logs);
    assert.match(await condition('nowhere'), /^0\/3 nodes are available: 3 node\(s\) had no available volume zone\./);
    assert.equal(await ok(srv, ['get', 'pod', 'nowhere', '-o', 'jsonpath={.spec.nodeName}']), '');
  });

  test('a missing claim keeps the pod pending with the PreFilter message', async () => {
    await ok(srv, ['create', '-f', '-'], pod('no-claim', 'does-not-exist'));
    await eventually('no-claim unschedulable', async () => /nodes are available/.test(await condition('no-claim')), 60_000, logs);
    assert.match(await condition('no-claim'), /^0\/3 nodes are available: persistentvolumeclaim "does-not-exist" not found\./);
    assert.match(await ok(srv, ['describe', 'pod', 'no-claim']), /FailedScheduling/);
  });
});
