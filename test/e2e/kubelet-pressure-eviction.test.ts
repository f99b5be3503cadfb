// Node-pressure eviction for real: the local node runs with a hard memory.available threshold set above the memory
// the machine has available now (half-way between available and total, so allocatable stays positive; available as
// upstream computes it: MemTotal less the root cgroup's working set). The kubelet finds the threshold crossed: the Node reports MemoryPressure, the node lifecycle
// controller taints it node.kubernetes.io/memory-pressure:NoSchedule, and pods that tolerate the taint are evicted one
// per monitoring interval in upstream's rank order (the BestEffort pod before the Burstable one within its request),
// ending Failed with reason Evicted, upstream's message and an Evicted event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually } from './harness.js';
import { memoryAvailable } from '../../src/kubelet/eviction/signals.js';

const NODE = `e2e-pressure-${process.pid}`;
let node: AgentNode;
let threshold = 0;

function thresholdMi(): number {
  const { available, capacity } = memoryAvailable()!;
  return Math.floor((available + (capacity - available) / 2) / (1024 * 1024));
}

before(async () => {
  threshold = thresholdMi();
  node = await startAgentNode(NODE, ['--kubelet-arg', `eviction-hard=memory.available<${threshold}Mi`, '--kubelet-arg', 'eviction-pressure-transition-period=30s']);
  await node.readyNode();
});

after(async () => {
  await node?.stop();
});

test('memory.available below the hard threshold: MemoryPressure, taint, and pods evicted in rank order', async () => {
  const server = node.server;
  const getNode = async () => JSON.parse((await server.kubectl(['get', 'node', NODE, '-o', 'json'])).stdout) as Node;
  const pressured = await eventually('MemoryPressure True and the memory-pressure taint', async () => {
    const n = await getNode();
    const c = n.status?.conditions?.find((x) => x.type === 'MemoryPressure');
    const tainted = n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/memory-pressure' && t.effect === 'NoSchedule');
    return c?.status === 'True' && tainted ? n : undefined;
  }, 90_000, () => node.logs());
  const cond = pressured.status?.conditions?.find((x) => x.type === 'MemoryPressure');
  assert.equal(cond?.reason, 'KubeletHasInsufficientMemory');
  assert.equal(cond?.message, 'kubelet has insufficient memory available');
  assert.equal(pressured.status?.conditions?.find((x) => x.type === 'DiskPressure')?.status, 'False');

  // The BestEffort pod first in the manifest: even if a monitoring pass sees it alone, it is still the first to go.
  const sleeper = (name: string, resources = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 30
  tolerations: [{key: node.kubernetes.io/memory-pressure, operator: Exists, effect: NoSchedule}]
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
${resources ? `    resources: ${resources}\n` : ''}`;
  await node.apply(`${sleeper('besteffort')}---\n${sleeper('burstable', '{requests: {memory: 64Mi}}')}`);
  const message = /^The node was low on resource: memory\. Threshold quantity: \d+(Ki|Mi|Gi)?, available: \d+(Ki|Mi|Gi)?\. /;
  const first = await node.waitForPod('besteffort', 'Failed, Evicted', (p) => p.status?.phase === 'Failed', 120_000);
  assert.equal(first.status?.reason, 'Evicted');
  assert.match(first.status?.message ?? '', message);
  assert.match(first.status?.message ?? '', new RegExp(`Threshold quantity: ${threshold}Mi, `));
  const second = await node.waitForPod('burstable', 'Failed, Evicted', (p) => p.status?.phase === 'Failed', 120_000);
  assert.equal(second.status?.reason, 'Evicted');
  assert.match(second.status?.message ?? '', message);
  // Upstream's DisruptionTarget condition, reason TerminationByKubelet, with the eviction message.
  for (const p of [first, second]) {
    const dt = p.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(dt?.status, 'True');
    assert.equal(dt?.reason, 'TerminationByKubelet');
    assert.equal(dt?.message, p.status?.message);
  }
  const ev = await node.events('besteffort');
  assert.ok(ev.some((e) => e.startsWith('Evicted: The node was low on resource: memory.')), ev.join('\n'));
  // Rank order: the BestEffort pod went first (its eviction is logged before the Burstable one's).
  const logs = node.logs();
  const at = (name: string) => logs.search(new RegExp(`eviction manager: evicting pod[^\\n]*default/${name}`));
  assert.ok(at('besteffort') >= 0 && at('burstable') > at('besteffort'), logs.slice(-4000));
});

test('under MemoryPressure a new BestEffort pod that does not tolerate it is refused by the kubelet\'s admission', async () => {
  // Bound straight to the node (the scheduler would keep it off the tainted node): the kubelet's own check refuses it.
  await node.apply(`apiVersion: v1
kind: Pod
metadata: {name: refused}
spec:
  nodeName: ${NODE}
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
`);
  const refused = await node.waitForPod('refused', 'Failed, rejected', (p) => p.status?.phase === 'Failed', 120_000);
  assert.equal(refused.status?.reason, 'Evicted');
  assert.equal(refused.status?.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');
  assert.equal((refused.status?.containerStatuses ?? []).some((c) => c.state?.running || c.state?.terminated), false);
  await eventually('the Evicted event of the refused pod', async () => (await node.events('refused')).includes('Evicted: The node had condition: [MemoryPressure]. '), 30_000, () => node.logs());
});
