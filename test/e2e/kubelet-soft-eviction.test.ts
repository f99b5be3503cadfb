// A soft eviction threshold for real: the local node runs with a soft memory.available threshold above what the
// machine has available (half-way between available and total) and a soft grace period; once it has held that long
// the kubelet evicts with the pod's grace period capped by --eviction-max-pod-grace-period (upstream), not with the
// hard thresholds' 1 s. The container proves the grace it got without any timing assertion: on SIGTERM it sleeps 3 s,
// writes its termination message and exits 0 — killed after 1 s (SIGKILL, exit 137) it could do neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { memoryAvailable } from '../../src/kubelet/eviction/signals.js';

const NODE = `e2e-soft-${process.pid}`;
let node: AgentNode;
let threshold = 0;

before(async () => {
  const { available, capacity } = memoryAvailable()!;
  threshold = Math.floor((available + (capacity - available) / 2) / (1024 * 1024));
  node = await startAgentNode(NODE, [
    '--kubelet-arg', `eviction-soft=memory.available<${threshold}Mi`,
    '--kubelet-arg', 'eviction-soft-grace-period=memory.available=5s',
    '--kubelet-arg', 'eviction-max-pod-grace-period=40',
    '--kubelet-arg', 'eviction-pressure-transition-period=30s',
  ]);
  await node.readyNode();
});

after(async () => {
  await node?.stop();
});

test('a soft threshold held past its grace period evicts with the pod grace capped by eviction-max-pod-grace-period', async () => {
  await node.apply(`apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 120
  tolerations: [{key: node.kubernetes.io/memory-pressure, operator: Exists, effect: NoSchedule}]
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "sleep 3; echo graceful > /dev/termination-log; exit 0" TERM; while true; do sleep 1; done']
`);
  const pod = await node.waitForPod('graceful', 'Failed, Evicted', (p) => p.status?.phase === 'Failed', 180_000);
  assert.equal(pod.status?.reason, 'Evicted');
  assert.match(pod.status?.message ?? '', new RegExp(`^The node was low on resource: memory\\. Threshold quantity: ${threshold}Mi, available: \\d+(Ki|Mi|Gi)?\\. `));
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  assert.equal(terminated?.exitCode, 0, JSON.stringify(pod.status));
  assert.equal(terminated?.message?.trim(), 'graceful', JSON.stringify(pod.status));
  const dt = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.equal(dt?.reason, 'TerminationByKubelet');
  // The kubelet logged the grace it used: min(eviction-max-pod-grace-period 40, the pod's 120).
  assert.match(node.server.logs(), /msg="evicting pod" pod=graceful_default\([^\n]*gracePeriodSeconds=40/);
});
