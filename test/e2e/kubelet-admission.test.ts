// The kubelet's own admission for real (upstream's predicate and sysctl admit handlers), with the real kubectl: pods
// bound to the node by spec.nodeName (no scheduler in the way) that do not fit end Failed with upstream's reason and
// "Pod was rejected: ..." message and never start; pods that ran before a kubelet restart are admitted again in
// creation order and keep running. One server with its local node, shared by every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../src/machinery/quantity.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually } from './harness.js';

const NODE = `e2e-admit-${process.pid}`;
let node: AgentNode;
let allocatableMilliCPU = 0;

before(async () => {
  node = await startAgentNode(NODE, ['--kubelet-arg', 'allowed-unsafe-sysctls=net.core.somaxconn']);
  const ready: Node = await node.readyNode();
  allocatableMilliCPU = parseQuantity(String(ready.status?.allocatable?.cpu)).milliValue();
});

after(async () => {
  await node?.stop();
});

const podYaml = (name: string, opts: { cpu?: string; hostPort?: number; sysctls?: string[] } = {}) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
${opts.sysctls ? `  securityContext:\n    sysctls: [${opts.sysctls.map((s) => `{name: ${s}, value: '1024'}`).join(', ')}]\n` : ''}  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
${opts.cpu ? `    resources: {requests: {cpu: ${opts.cpu}}}\n` : ''}${opts.hostPort ? `    ports: [{containerPort: 80, hostPort: ${opts.hostPort}}]\n` : ''}`;

const running = (p: Pod) => p.status?.phase === 'Running';
const failed = (p: Pod) => p.status?.phase === 'Failed';

/** The pod ended Failed with `reason`, its message, the STATUS column kubectl prints, and no container ever ran. */
async function rejected(name: string, reason: string): Promise<string> {
  const pod = await node.waitForPod(name, `Failed, ${reason}`, failed);
  assert.equal(pod.status?.reason, reason, JSON.stringify(pod.status));
  assert.equal((pod.status?.containerStatuses ?? []).some((c) => c.state?.running || c.state?.terminated), false, JSON.stringify(pod.status));
  const row = await node.server.kubectl(['get', 'pod', name, '--no-headers']);
  assert.match(row.stdout, new RegExp(`^${name}\\s+0/1\\s+${reason}\\s`));
  const ev = await node.events(name);
  assert.ok(ev.some((e) => e.startsWith(`${reason}: `)), ev.join('\n'));
  return pod.status?.message ?? '';
}

test('requests over the allocatable CPU: Failed OutOfcpu with upstream message (requested, used, capacity in millicores)', async () => {
  const cores = Math.ceil(allocatableMilliCPU / 1000) + 1;
  await node.apply(podYaml('too-big', { cpu: String(cores) }));
  const message = await rejected('too-big', 'OutOfcpu');
  assert.match(message, new RegExp(`^Pod was rejected: Node didn't have enough resource: cpu, requested: ${cores * 1000}, used: \\d+, capacity: ${allocatableMilliCPU}$`));
  const described = await node.server.kubectl(['describe', 'pod', 'too-big']);
  assert.match(described.stdout, /Status:\s+Failed/);
  assert.match(described.stdout, /Reason:\s+OutOfcpu/);
  assert.ok(described.stdout.includes(`Message:          ${message}`) || described.stdout.includes(message), described.stdout);
});

test('a host port another admitted pod holds: Failed NodePorts', async () => {
  await node.apply(podYaml('port-a', { hostPort: 18081 }));
  await node.waitForPod('port-a', 'Running', running);
  await node.apply(podYaml('port-b', { hostPort: 18081 }));
  assert.equal(await rejected('port-b', 'NodePorts'), "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports");
  assert.equal((await node.getPod('port-a'))?.status?.phase, 'Running');
});

test('sysctls: an unsafe one is SysctlForbidden; one in --kubelet-arg allowed-unsafe-sysctls runs', async () => {
  await node.apply(podYaml('unsafe-sysctl', { sysctls: ['net.ipv4.tcp_sack'] }));
  assert.equal(await rejected('unsafe-sysctl', 'SysctlForbidden'), 'Pod was rejected: forbidden sysctl: "net.ipv4.tcp_sack" not allowlisted');
  await node.apply(podYaml('allowed-sysctl', { sysctls: ['net.core.somaxconn', 'net.ipv4.ip_unprivileged_port_start'] }));
  const pod = await node.waitForPod('allowed-sysctl', 'Running', running);
  assert.equal(pod.status?.reason, undefined);
  const r = await node.server.kubectl(['exec', 'allowed-sysctl', '--', 'cat', '/proc/sys/net/core/somaxconn']);
  assert.equal(r.stdout.trim(), '1024', r.stderr);
});

test('after a restart the pods that ran are admitted again against each other and keep running (same containers)', async () => {
  // Two pods of 40 % of the CPU each fit together; admitted again one after the other they still do.
  const share = `${Math.floor(allocatableMilliCPU * 0.4)}m`;
  await node.apply(`${podYaml('half-1', { cpu: share })}---\n${podYaml('half-2', { cpu: share })}`);
  const before = new Map<string, string>();
  for (const name of ['half-1', 'half-2', 'port-a']) {
    const p = await node.waitForPod(name, 'Running', running);
    before.set(name, p.status?.containerStatuses?.[0]?.containerID ?? '');
  }
  await node.server.restart();
  await node.readyNode();
  // The restarted kubelet has synced them (its status write carries a fresh Ready condition time or the same state).
  await eventually('the restarted kubelet to adopt the pods', async () => (await node.server.kubectl(['exec', 'half-2', '--', 'true'])).code === 0, 120_000, node.logs);
  for (const [name, id] of before) {
    const p = await node.getPod(name);
    assert.equal(p?.status?.phase, 'Running', `${name}: ${JSON.stringify(p?.status)}`);
    assert.equal(p?.status?.containerStatuses?.[0]?.containerID, id, name);
    assert.equal(p?.status?.containerStatuses?.[0]?.restartCount, 0, name);
  }
  // New pods are still checked against them: another 40 % does not fit.
  await node.apply(podYaml('half-3', { cpu: share }));
  assert.match(await rejected('half-3', 'OutOfcpu'), /^Pod was rejected: Node didn't have enough resource: cpu, requested: \d+, used: \d+, capacity: \d+$/);
});

test('a static pod (critical) short of CPU preempts a lower pod: it ends Failed/Preempting with upstream message and DisruptionTarget', async () => {
  // half-1 and half-2 hold 80 % of the CPU; the static pod asks for 50 %: one of them must go, and one is enough.
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: critical, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    resources: {requests: {cpu: ${Math.floor(allocatableMilliCPU * 0.5)}m}}
`;
  await mkdir(join(node.server.dataDir, 'agent', 'pod-manifests'), { recursive: true });
  await writeFile(join(node.server.dataDir, 'agent', 'pod-manifests', 'critical.yaml'), manifest);
  await node.waitForPod(`critical-${NODE}`, 'Running (its mirror pod)', running, 120_000);
  const halves = await Promise.all(['half-1', 'half-2'].map((n) => node.getPod(n)));
  const preempted = halves.filter((p) => p?.status?.phase === 'Failed');
  assert.equal(preempted.length, 1, JSON.stringify(halves.map((p) => p?.status)));
  const victim = preempted[0]!;
  assert.equal(victim.status?.reason, 'Preempting');
  assert.equal(victim.status?.message, 'Preempted in order to admit critical pod');
  const dt = victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.deepEqual([dt?.status, dt?.reason, dt?.message], ['True', 'TerminationByKubelet', 'Pod was preempted by Kubelet to accommodate a critical pod.']);
  const ev = await node.events(victim.metadata?.name ?? '');
  assert.ok(ev.includes('Preempting: Preempted in order to admit critical pod'), ev.join('\n'));
  assert.equal(halves.find((p) => p !== victim)?.status?.phase, 'Running');
});

test('a nodeSelector the node does not match (bound by spec.nodeName past the scheduler): Failed NodeAffinity', async () => {
  await node.apply(podYaml('wrong-zone').replace('spec:\n', 'spec:\n  nodeSelector: {topology.kubernetes.io/zone: nowhere}\n'));
  assert.equal(await rejected('wrong-zone', 'NodeAffinity'), "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
});
