// Scheduler volume plugins with the real kubectl on simulated nodes (zones zone-0..2 by node index): VolumeZone puts
// a pod next to its zonal PersistentVolume and reports upstream's message when no node is in the volume's zone;
// a claim that does not exist keeps the pod pending with upstream's PreFilter message. VolumeBinding with the
// persistentvolume-binder controller: WaitForFirstConsumer claims wait for a pod, which goes to the node whose local
// volume is free and gets it bound; with no free volume the pod stays pending with upstream's message; Immediate
// claims bind without a pod; a StatefulSet's claim templates on WaitForFirstConsumer storage get bound.
// NodeVolumeLimits: CSINode attach limits keep a pod with a CSI volume off full nodes until a limit is raised.
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

const storageClass = (name: string) =>
  JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
const localPV = (name: string, cls: string, node: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: cls,
      local: { path: `/mnt/disks/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
      ...extra,
    },
  });
const classClaim = (name: string, cls: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: cls },
  });

describe('scheduler volume plugins (simulated nodes)', () => {
  let srv: TestServer;
  let nodes: string[];
  const logs = () => srv.logs().slice(-3000);
  const condition = async (name: string) =>
    ok(srv, ['get', 'pod', name, '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']);

  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '3'] });
    await eventually('3 nodes', async () => (await ok(srv, ['get', 'nodes', '-o', 'name'])).trim().split('\n').length === 3, 60_000, logs);
    nodes = (await ok(srv, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).split('\n').filter(Boolean).sort();
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

  const jsonpath = (args: string[], path: string) => ok(srv, [...args, '-o', `jsonpath=${path}`]);
  const create = (obj: object) => ok(srv, ['create', '-f', '-'], JSON.stringify(obj));
  const plainPV = (name: string, storageClassName: string, source: Record<string, unknown>) =>
    create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName, ...source } });

  test('WaitForFirstConsumer: the claim waits for a pod, the pod goes to the node whose local volume is free, both get bound', async () => {
    await ok(srv, ['create', '-f', '-'], storageClass('local-wffc'));
    // The volume on the first node is reserved for another claim; the one on the second node is free.
    await ok(srv, ['create', '-f', '-'], localPV('local-pv-0', 'local-wffc', nodes[0]!, { claimRef: { namespace: 'default', name: 'someone-else' } }));
    await ok(srv, ['create', '-f', '-'], localPV('local-pv-1', 'local-wffc', nodes[1]!));
    await ok(srv, ['create', '-f', '-'], classClaim('wffc-a', 'local-wffc'));
    await eventually('WaitForFirstConsumer event', async () => /waiting for first consumer to be created before binding/.test(await ok(srv, ['describe', 'pvc', 'wffc-a'])), 60_000, logs);
    assert.equal(await jsonpath(['get', 'pvc', 'wffc-a'], '{.status.phase}'), 'Pending');
    assert.equal(await jsonpath(['get', 'pvc', 'wffc-a'], '{.spec.volumeName}'), '');

    await ok(srv, ['create', '-f', '-'], pod('wffc-pod-a', 'wffc-a'));
    await eventually('wffc-a Bound', async () => (await jsonpath(['get', 'pvc', 'wffc-a'], '{.status.phase}')) === 'Bound', 60_000, logs);
    assert.equal(await jsonpath(['get', 'pvc', 'wffc-a'], '{.spec.volumeName}'), 'local-pv-1');
    assert.equal(await jsonpath(['get', 'pv', 'local-pv-1'], '{.status.phase}/{.spec.claimRef.name}'), 'Bound/wffc-a');
    await eventually('wffc-pod-a scheduled', async () => (await jsonpath(['get', 'pod', 'wffc-pod-a'], '{.spec.nodeName}')) !== '', 60_000, logs);
    assert.equal(await jsonpath(['get', 'pod', 'wffc-pod-a'], '{.spec.nodeName}'), nodes[1]);
    assert.match(await ok(srv, ['get', 'pvc', 'wffc-a']), /wffc-a\s+Bound\s+local-pv-1\s+1Gi\s+RWO\s+local-wffc/);
  });

  test('WaitForFirstConsumer: with no free volume the pod stays pending with the upstream message', async () => {
    await ok(srv, ['create', '-f', '-'], classClaim('wffc-b', 'local-wffc'));
    await ok(srv, ['create', '-f', '-'], pod('wffc-pod-b', 'wffc-b'));
    await eventually('wffc-pod-b unschedulable', async () => /nodes are available/.test(await condition('wffc-pod-b')), 60_000, logs);
    assert.match(await condition('wffc-pod-b'), /^0\/3 nodes are available: 3 node\(s\) didn't find available persistent volumes to bind\. preemption: /);
    assert.match(await ok(srv, ['describe', 'pod', 'wffc-pod-b']), /FailedScheduling .*didn't find available persistent volumes to bind/);
    assert.equal(await jsonpath(['get', 'pod', 'wffc-pod-b'], '{.spec.nodeName}'), '');
    assert.equal(await jsonpath(['get', 'pvc', 'wffc-b'], '{.status.phase}'), 'Pending');
  });

  test('an Immediate claim binds to a matching volume without any pod', async () => {
    await plainPV('manual-pv', 'manual', { hostPath: { path: '/tmp/manual-pv' } });
    await ok(srv, ['create', '-f', '-'], classClaim('immediate', 'manual'));
    await eventually('immediate Bound', async () => (await jsonpath(['get', 'pvc', 'immediate'], '{.status.phase}')) === 'Bound', 60_000, logs);
    assert.equal(await jsonpath(['get', 'pvc', 'immediate'], '{.spec.volumeName}'), 'manual-pv');
    assert.equal(await jsonpath(['get', 'pv', 'manual-pv'], "{.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}"), 'yes');
    assert.equal(await jsonpath(['get', 'pvc', 'immediate'], "{.metadata.annotations.pv\\.kubernetes\\.io/bind-completed}"), 'yes');
  });

  test('a StatefulSet with claim templates on WaitForFirstConsumer storage gets its pods and claims bound', async () => {
    await ok(srv, ['create', '-f', '-'], storageClass('sts-wffc'));
    await ok(srv, ['create', '-f', '-'], localPV('sts-pv-a', 'sts-wffc', nodes[0]!));
    await ok(srv, ['create', '-f', '-'], localPV('sts-pv-b', 'sts-wffc', nodes[2]!));
    await create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        serviceName: 'db',
        replicas: 2,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'pause', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'sts-wffc', resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    await eventually('2 ready replicas', async () => (await jsonpath(['get', 'statefulset', 'db'], '{.status.readyReplicas}')) === '2', 120_000, logs);
    const volumes = new Map<string, string>();
    for (const i of [0, 1]) {
      assert.equal(await jsonpath(['get', 'pvc', `data-db-${i}`], '{.status.phase}'), 'Bound');
      const volume = await jsonpath(['get', 'pvc', `data-db-${i}`], '{.spec.volumeName}');
      const node = await jsonpath(['get', 'pod', `db-${i}`], '{.spec.nodeName}');
      volumes.set(volume, node);
    }
    assert.deepEqual(Object.fromEntries([...volumes].sort()), { 'sts-pv-a': nodes[0], 'sts-pv-b': nodes[2] });
  });

  test('NodeVolumeLimits: no node may attach another volume of the driver until its CSINode allows one', async () => {
    const csiNode = (node: string, count: number) =>
      JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: node }, spec: { drivers: [{ name: 'csi.example.com', nodeID: node, allocatable: { count } }] } });
    for (const n of nodes) await ok(srv, ['create', '-f', '-'], csiNode(n, 0));
    await plainPV('csi-pv', 'csi-manual', { csi: { driver: 'csi.example.com', volumeHandle: 'vol-1' } });
    await ok(srv, ['create', '-f', '-'], classClaim('csi-claim', 'csi-manual'));
    await eventually('csi-claim Bound', async () => (await jsonpath(['get', 'pvc', 'csi-claim'], '{.status.phase}')) === 'Bound', 60_000, logs);
    await ok(srv, ['create', '-f', '-'], pod('csi-pod', 'csi-claim'));
    await eventually('csi-pod unschedulable', async () => /nodes are available/.test(await condition('csi-pod')), 60_000, logs);
    assert.match(await condition('csi-pod'), /^0\/3 nodes are available: 3 node\(s\) exceed max volume count\. preemption: /);
    // Attach limits are immutable: the driver registers again on the third node with room for one volume.
    await ok(srv, ['delete', 'csinode', nodes[2]!]);
    await ok(srv, ['create', '-f', '-'], csiNode(nodes[2]!, 1));
    await eventually('csi-pod scheduled', async () => (await jsonpath(['get', 'pod', 'csi-pod'], '{.spec.nodeName}')) !== '', 60_000, logs);
    assert.equal(await jsonpath(['get', 'pod', 'csi-pod'], '{.spec.nodeName}'), nodes[2]);
  });
});
