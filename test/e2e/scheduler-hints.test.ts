// Queueing hints end to end (issue 4: "pods rejected by a plugin are re-queued only on cluster events that can help
// them"), with the real kubectl against `skiff server --simulated-nodes 3`. A pod rejected for insufficient cpu is not
// retried when a node's labels change (a pod waiting for that label is, in the same event), and is scheduled once a
// node with room is added; a pod rejected by a taint is not retried on a label change of its node, and is scheduled
// once the taint is removed. "Not retried" is read from the scheduler's own counters in /metrics: which queue each
// event sent pods to (scheduler_queue_incoming_pods_total) and the unschedulable attempts
// (scheduler_schedule_attempts_total), sampled after a pod that the same event does help has been bound, so the event
// has certainly been handled. A pod kept off by its volume's zone (VolumeZone) is not retried when the volume changes a
// label other than its zone (read from the PvUpdate moves after a later PvAdd was handled), and is scheduled once its
// zone changes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually, metricSum as counter, waitForReadyNodes } from './harness.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const podManifest = (name: string, o: { cpu?: string; nodeSelector?: Record<string, string> } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { suite: 'scheduler-hints' } },
    spec: {
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: o.cpu ?? '100m' } } }],
    },
  });

const zonalVolume = (name: string, zone: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: '' },
  });
const claimFor = (name: string, volumeName: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '', volumeName },
  });
const claimPod = (name: string, claim: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { suite: 'scheduler-hints' } },
    spec: { containers: [{ name: 'c', image: 'pause' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }], terminationGracePeriodSeconds: 0 },
  });

describe('scheduler queueing hints on simulated nodes', () => {
  let srv: TestServer;
  const logs = () => srv.logs().slice(-3000);
  const metrics = () => ok(srv, ['get', '--raw', '/metrics']);
  const nodeOf = async (pod: string) => (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();
  const bound = (pod: string) => eventually(`${pod} to be bound`, async () => (await nodeOf(pod)) !== '', undefined, logs);
  const unschedulable = (pod: string) =>
    eventually(
      `${pod} to be Unschedulable`,
      async () => (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'])).trim() === 'Unschedulable',
      undefined,
      logs,
    );
  const create = (name: string, o: Parameters<typeof podManifest>[1] = {}) => ok(srv, ['create', '-f', '-'], podManifest(name, o));

  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '3', '--simulated-node-cpu', '4'] });
    await waitForReadyNodes(srv, 3);
  });
  after(async () => {
    await srv?.stop();
  });

  test('a pod short of cpu is not retried on a node label change, and is scheduled when a node with room is added', async () => {
    await create('needs-cpu', { cpu: '16' });
    await unschedulable('needs-cpu');
    // Rejected by NodeResourcesFit only; a second pod waits for a label that no node has yet.
    await create('needs-label', { nodeSelector: { hints: 'wanted' } });
    await unschedulable('needs-label');
    const before = await metrics();
    const attemptsBefore = counter(before, 'scheduler_schedule_attempts_total', { result: 'unschedulable' });
    const movedBefore = counter(before, 'scheduler_queue_incoming_pods_total', { event: 'NodeLabelChange' });

    await ok(srv, ['label', 'node', 'sim-node-0', 'hints=wanted']);
    await bound('needs-label');
    assert.equal(await nodeOf('needs-label'), 'sim-node-0');
    const after = await metrics();
    assert.equal(
      counter(after, 'scheduler_queue_incoming_pods_total', { event: 'NodeLabelChange' }) - movedBefore,
      1,
      'the label change moved only the pod waiting for the label',
    );
    assert.equal(
      counter(after, 'scheduler_schedule_attempts_total', { result: 'unschedulable' }),
      attemptsBefore,
      'no further attempt was made for the pod short of cpu',
    );
    assert.equal(await nodeOf('needs-cpu'), '');

    // A node with room appears (registered as a kubelet would): the pod goes there at once, not after 5 minutes.
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'big-node', labels: { 'kubernetes.io/hostname': 'big-node' } },
      status: {
        capacity: { cpu: '32', memory: '64Gi', pods: '110' },
        allocatable: { cpu: '32', memory: '64Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString() }],
      },
    };
    await ok(srv, ['create', '-f', '-'], JSON.stringify(node));
    await bound('needs-cpu');
    assert.equal(await nodeOf('needs-cpu'), 'big-node');
    await ok(srv, ['delete', 'pods', 'needs-cpu', 'needs-label', '--grace-period=0', '--force']);
    await ok(srv, ['delete', 'node', 'big-node']);
  });

  test('a pod kept off by a taint is not retried on a label change of its node, and is scheduled once the taint is removed', async () => {
    await ok(srv, ['taint', 'nodes', 'sim-node-2', 'hints=blocked:NoSchedule']);
    await create('intolerant', { nodeSelector: { 'kubernetes.io/hostname': 'sim-node-2' } });
    await unschedulable('intolerant');
    await create('waits-for-zone-label', { nodeSelector: { 'hints-zone': 'here' } });
    await unschedulable('waits-for-zone-label');
    const before = await metrics();
    const movedBefore = counter(before, 'scheduler_queue_incoming_pods_total', { event: 'NodeLabelChange' });
    const attemptsBefore = counter(before, 'scheduler_schedule_attempts_total', { result: 'unschedulable' });

    // A label change on the tainted node itself: neither TaintToleration nor NodeAffinity (already matching) cares.
    // Then one the other pod waits for: node events arrive in order, so once it is bound the first was handled.
    await ok(srv, ['label', 'node', 'sim-node-2', 'unrelated=yes']);
    await ok(srv, ['label', 'node', 'sim-node-1', 'hints-zone=here']);
    await bound('waits-for-zone-label');
    const after = await metrics();
    assert.equal(counter(after, 'scheduler_queue_incoming_pods_total', { event: 'NodeLabelChange' }) - movedBefore, 1, 'only the pod waiting for the label moved');
    assert.equal(counter(after, 'scheduler_schedule_attempts_total', { result: 'unschedulable' }), attemptsBefore);
    assert.equal(await nodeOf('intolerant'), '');

    await ok(srv, ['taint', 'nodes', 'sim-node-2', 'hints=blocked:NoSchedule-']);
    await bound('intolerant');
    assert.equal(await nodeOf('intolerant'), 'sim-node-2');
    await ok(srv, ['delete', 'pods', '-l', 'suite=scheduler-hints', '--grace-period=0', '--force']);
  });

  test('a pod kept off by its volume\'s zone is not retried when the volume changes other labels, and is scheduled when its zone changes', async () => {
    await ok(srv, ['create', '-f', '-'], zonalVolume('hints-pv-a', 'zone-9'));
    await ok(srv, ['create', '-f', '-'], claimFor('hints-pv-a-claim', 'hints-pv-a'));
    // Bound first, so VolumeZone (not VolumeBinding's unbound-claim check) is what rejects the pod.
    await eventually('hints-pv-a-claim Bound', async () => (await ok(srv, ['get', 'pvc', 'hints-pv-a-claim', '-o', 'jsonpath={.status.phase}'])).trim() === 'Bound', undefined, logs);
    await ok(srv, ['create', '-f', '-'], claimPod('zone-a', 'hints-pv-a-claim'));
    await unschedulable('zone-a');
    assert.match(await ok(srv, ['get', 'pod', 'zone-a', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']), /had no available volume zone/);
    // A new volume moves the pod (upstream queues on every PV add) and, as volume events arrive in order, fences off
    // the binder's earlier writes to hints-pv-a: once the pod has been tried again, the scheduler's view is current.
    const fence = async (name: string) => {
      const m = await metrics();
      const adds = counter(m, 'scheduler_queue_incoming_pods_total', { event: 'PvAdd' });
      const attempts = counter(m, 'scheduler_schedule_attempts_total', { result: 'unschedulable' });
      await ok(srv, ['create', '-f', '-'], zonalVolume(name, 'zone-1'));
      await eventually(`${name} handled and zone-a tried again`, async () => {
        const now = await metrics();
        return counter(now, 'scheduler_queue_incoming_pods_total', { event: 'PvAdd' }) > adds && counter(now, 'scheduler_schedule_attempts_total', { result: 'unschedulable' }) > attempts;
      }, undefined, logs);
    };
    await fence('hints-pv-fence-0');
    const updatesBefore = counter(await metrics(), 'scheduler_queue_incoming_pods_total', { event: 'PvUpdate' });

    // A label VolumeZone does not read, then another new volume: once it has been handled, so has the label change.
    await ok(srv, ['label', 'pv', 'hints-pv-a', 'unrelated=yes']);
    await fence('hints-pv-fence-1');
    const after = await metrics();
    const moves = after.split('\n').filter((l) => l.startsWith('scheduler_queue_incoming_pods_total') && l.includes('"Pv')).join('\n');
    assert.equal(counter(after, 'scheduler_queue_incoming_pods_total', { event: 'PvUpdate' }), updatesBefore, `the label change moved no pod\n${moves}`);
    assert.equal(await nodeOf('zone-a'), '');

    await ok(srv, ['label', 'pv', 'hints-pv-a', 'topology.kubernetes.io/zone=zone-2', '--overwrite']);
    await bound('zone-a');
    assert.equal(await ok(srv, ['get', 'node', await nodeOf('zone-a'), '-o', 'jsonpath={.metadata.labels.topology\\.kubernetes\\.io/zone}']), 'zone-2');
    await ok(srv, ['delete', 'pods', 'zone-a', '--grace-period=0', '--force']);
  });
});
