// The scheduler watches CSIStorageCapacity, CSIDriver and VolumeAttachment objects as upstream's kube-scheduler does,
// so a pod they keep off is retried when they change (and only then), with the real kubectl against
// `skiff server --simulated-nodes 1`. Without the watches such a pod waits for the 5-minute flush of the
// unschedulable pool, beyond these tests' waits.
// 1. VolumeBinding with storage capacity tracking: a claim of a class whose CSI driver tracks capacity has no
//    CSIStorageCapacity that fits ("node(s) did not have enough free storage"); a capacity that is too small moves
//    the pod but it stays unschedulable, a label change of the capacity moves nothing (CSIStorageCapacityUpdate
//    count unchanged), the capacity growing lets it through: the scheduler names the node on the claim and this test
//    plays the external provisioner, so the PersistentVolume controller binds the claim and the pod is bound.
// 2. NodeVolumeLimits: the node's VolumeAttachments count against its CSINode's attach limit: with room for one
//    volume of a driver and an attachment holding it, the pod with a second volume is unschedulable ("node(s) exceed
//    max volume count") until the attachment is deleted.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually, metricSum as counter, waitForReadyNodes, waitForServiceAccount } from './harness.js';

const CAP_DRIVER = 'capacity.csi.skiff.test';
const ATTACH_DRIVER = 'attach.csi.skiff.test';
const NODE = 'sim-node-0';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const claimPod = (name: string, ...claims: string[]) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { suite: 'scheduler-hints-csi' } },
    spec: {
      containers: [{ name: 'c', image: 'pause' }],
      volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
      terminationGracePeriodSeconds: 0,
    },
  });

const capacity = (size: string, labels: Record<string, string> = {}) =>
  JSON.stringify({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIStorageCapacity',
    metadata: { name: 'csi-cap-node0', namespace: 'default', labels },
    storageClassName: 'csi-cap',
    capacity: size,
    nodeTopology: { matchLabels: { 'kubernetes.io/hostname': NODE } },
  });

const csiVolume = (name: string, driver: string, o: { claim?: { name: string; uid: string }; cls?: string } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(o.claim ? { annotations: { 'pv.kubernetes.io/provisioned-by': driver } } : {}) },
    spec: {
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: o.claim ? 'Delete' : 'Retain',
      storageClassName: o.cls ?? '',
      csi: { driver, volumeHandle: `${name}-handle` },
      ...(o.claim ? { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: o.claim.name, uid: o.claim.uid } } : {}),
    },
  });

describe('scheduler hints for CSI objects on a simulated node', () => {
  let srv: TestServer;
  const logs = () => srv.logs().slice(-3000);
  const metrics = () => ok(srv, ['get', '--raw', '/metrics']);
  const jsonpath = async (args: string[], path: string) => (await ok(srv, ['get', ...args, '-o', `jsonpath=${path}`])).trim();
  const nodeOf = (pod: string) => jsonpath(['pod', pod], '{.spec.nodeName}');
  const scheduledMessage = (pod: string) => jsonpath(['pod', pod], '{.status.conditions[?(@.type=="PodScheduled")].message}');
  const unschedulableAttempts = async () => counter(await metrics(), 'scheduler_schedule_attempts_total', { result: 'unschedulable' });

  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '1'] });
    await waitForReadyNodes(srv, 1);
    await waitForServiceAccount(srv, 'default');
  });
  after(async () => {
    await srv?.stop();
  });

  test('a claim short of storage capacity is retried when a CSIStorageCapacity appears or grows, not when it is relabelled', async () => {
    await ok(srv, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: CAP_DRIVER }, spec: { attachRequired: false, storageCapacity: true } }));
    await ok(srv, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'csi-cap' }, provisioner: CAP_DRIVER, volumeBindingMode: 'WaitForFirstConsumer' }));
    await ok(srv, ['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'cap-claim', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'csi-cap', resources: { requests: { storage: '2Gi' } } },
    }));
    // Once the PersistentVolume controller has seen the claim wait for its first consumer, the driver and class
    // created before it have long reached the scheduler too.
    await eventually('cap-claim waiting for its first consumer', async () =>
      (await ok(srv, ['get', 'events', '--field-selector', 'involvedObject.name=cap-claim', '-o', 'jsonpath={.items[*].reason}'])).includes('WaitForFirstConsumer'),
    undefined, logs);
    await ok(srv, ['create', '-f', '-'], claimPod('needs-capacity', 'cap-claim'));
    await eventually('needs-capacity unschedulable for storage', async () => /did not have enough free storage/.test(await scheduledMessage('needs-capacity')), undefined, logs);

    // Too small: the new capacity moves the pod (upstream queues every capacity added for a class of its claims) and
    // it is tried again and still refused; that attempt also shows the add was handled.
    let attempts = await unschedulableAttempts();
    await ok(srv, ['create', '-f', '-'], capacity('1Gi'));
    await eventually('needs-capacity tried again after the capacity was added', async () => (await unschedulableAttempts()) > attempts, undefined, logs);
    assert.equal(await nodeOf('needs-capacity'), '');
    const m = await metrics();
    assert.equal(counter(m, 'scheduler_queue_incoming_pods_total', { event: 'CSIStorageCapacityAdd' }), 1, 'the add moved the pod');
    const updatesBefore = counter(m, 'scheduler_queue_incoming_pods_total', { event: 'CSIStorageCapacityUpdate' });
    attempts = await unschedulableAttempts();

    // A label change does not grow the volume limit: no move. Then the capacity grows: the pod is moved and
    // scheduled. Both updates arrive in order, so once the second has moved the pod, the first was handled.
    await ok(srv, ['label', 'csistoragecapacity', 'csi-cap-node0', 'unrelated=yes']);
    await ok(srv, ['patch', 'csistoragecapacity', 'csi-cap-node0', '--type=merge', '-p', '{"capacity":"4Gi"}']);
    const annotation = '{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}';
    await eventually('the scheduler to pick the node for the claim', async () => (await jsonpath(['pvc', 'cap-claim'], annotation)) === NODE, undefined, logs);
    assert.equal(
      counter(await metrics(), 'scheduler_queue_incoming_pods_total', { event: 'CSIStorageCapacityUpdate' }) - updatesBefore,
      1,
      'only the capacity increase moved the pod',
    );
    assert.equal(await unschedulableAttempts(), attempts, 'no unschedulable attempt between the relabel and the increase');

    // The external provisioner's part: a volume for the claim. The PersistentVolume controller binds them, and
    // VolumeBinding's PreBind lets the binding go on.
    const uid = await jsonpath(['pvc', 'cap-claim'], '{.metadata.uid}');
    await ok(srv, ['create', '-f', '-'], csiVolume('cap-claim-pv', CAP_DRIVER, { claim: { name: 'cap-claim', uid }, cls: 'csi-cap' }));
    await eventually('needs-capacity bound', async () => (await nodeOf('needs-capacity')) === NODE, 60_000, logs);
    assert.equal(await jsonpath(['pvc', 'cap-claim'], '{.status.phase}'), 'Bound');
  });

  test('a pod over its node\'s CSI attach limit is retried when a VolumeAttachment is deleted', async () => {
    // No room at first (limit 0), so the pod is refused whatever the scheduler has seen of the attachments.
    const csiNode = (count: number) =>
      JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: NODE }, spec: { drivers: [{ name: ATTACH_DRIVER, nodeID: NODE, allocatable: { count } }] } });
    await ok(srv, ['create', '-f', '-'], csiNode(0));
    await ok(srv, ['create', '-f', '-'], csiVolume('attached-pv', ATTACH_DRIVER));
    await ok(srv, ['create', '-f', '-'], csiVolume('wanted-pv', ATTACH_DRIVER));
    await ok(srv, ['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'wanted-claim', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', volumeName: 'wanted-pv', resources: { requests: { storage: '1Gi' } } },
    }));
    await eventually('wanted-claim Bound', async () => (await jsonpath(['pvc', 'wanted-claim'], '{.status.phase}')) === 'Bound', undefined, logs);
    await ok(srv, ['create', '-f', '-'], claimPod('over-limit', 'wanted-claim'));
    await eventually('over-limit unschedulable for the attach limit', async () => /exceed max volume count/.test(await scheduledMessage('over-limit')), undefined, logs);

    // What the attach/detach controller leaves for a volume still attached to the node. A second attachment created
    // and deleted after it fences the scheduler's view: its deletion (same watch, so after the first's add) moves
    // the pod, which is tried again and refused.
    const va = (name: string, pv: string) =>
      JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment', metadata: { name }, spec: { attacher: ATTACH_DRIVER, nodeName: NODE, source: { persistentVolumeName: pv } } });
    await ok(srv, ['create', '-f', '-'], va('attached-va', 'attached-pv'));
    let attempts = await unschedulableAttempts();
    await ok(srv, ['create', '-f', '-'], va('fence-va', 'wanted-pv'));
    await ok(srv, ['delete', 'volumeattachment', 'fence-va']);
    await eventually('the fence deletion handled and over-limit tried again', async () =>
      counter(await metrics(), 'scheduler_queue_incoming_pods_total', { event: 'VolumeAttachmentDelete' }) >= 1 && (await unschedulableAttempts()) > attempts,
    undefined, logs);

    // Room for one volume (a driver's entry is immutable: the node's CSINode is registered again, as a kubelet does
    // after a driver re-registers): the new CSINode moves the pod, but the attached volume takes that slot.
    attempts = await unschedulableAttempts();
    await ok(srv, ['delete', 'csinode', NODE]);
    await ok(srv, ['create', '-f', '-'], csiNode(1));
    await eventually('over-limit tried again after the limit grew', async () => (await unschedulableAttempts()) > attempts, undefined, logs);
    assert.equal(await nodeOf('over-limit'), '', 'the attached volume counts against the limit');
    assert.match(await scheduledMessage('over-limit'), /exceed max volume count/);

    // Detached: the pod is moved by the deletion and fits.
    await ok(srv, ['delete', 'volumeattachment', 'attached-va']);
    await eventually('over-limit bound', async () => (await nodeOf('over-limit')) === NODE, undefined, logs);
  });
});
