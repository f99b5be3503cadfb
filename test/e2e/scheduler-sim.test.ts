// The scheduler on simulated nodes (issue 4's proof), with the real kubectl against `skiff server --simulated-nodes 3
// --scheduler-config FILE`: nodeSelector, taints and tolerations, required and preferred node affinity, pod
// anti-affinity one per node, topology spread over 3 zones, resource fit with upstream's unschedulable message (its
// double period included: upstream appends ". " after a preemption message that already ends in one),
// preemption by PriorityClass, and a second profile picked by schedulerName (unknown scheduler names are left alone).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, eventually, waitForReadyNodes } from './harness.js';

const SCHEDULER_CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 1
`;

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

interface PodOptions {
  labels?: Record<string, string>;
  cpu?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
  topologySpreadConstraints?: unknown[];
  priorityClassName?: string;
  schedulerName?: string;
  grace?: number;
}

const podManifest = (name: string, o: PodOptions = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { suite: 'scheduler-sim', ...o.labels } },
    spec: {
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.topologySpreadConstraints ? { topologySpreadConstraints: o.topologySpreadConstraints } : {}),
      ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}),
      ...(o.schedulerName ? { schedulerName: o.schedulerName } : {}),
      ...(o.grace !== undefined ? { terminationGracePeriodSeconds: o.grace } : {}),
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: o.cpu ?? '100m' } } }],
    },
  });

describe('scheduler on simulated nodes', () => {
  let srv: TestServer;
  let dir: string;
  const logs = () => srv.logs().slice(-3000);
  const nodeOf = async (pod: string) => (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();
  const bound = (pod: string) => eventually(`${pod} to be bound`, async () => (await nodeOf(pod)) !== '', undefined, logs);
  const running = (pod: string) =>
    eventually(`${pod} to be Running`, async () => (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])).trim() === 'Running', undefined, logs);
  const scheduledCondition = async (pod: string) =>
    JSON.parse((await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")]}'])) || '{}') as {
      status?: string;
      reason?: string;
      message?: string;
    };
  const unschedulable = async (pod: string) => {
    await eventually(`${pod} PodScheduled=False`, async () => (await scheduledCondition(pod)).status === 'False', undefined, logs);
    return scheduledCondition(pod);
  };
  const create = (name: string, o?: PodOptions) => ok(srv, ['create', '-f', '-'], podManifest(name, o));
  const cleanup = () => ok(srv, ['delete', 'pods', '-l', 'suite=scheduler-sim', '--grace-period=0', '--force']);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-sched-sim-'));
    await writeFile(join(dir, 'scheduler.yaml'), SCHEDULER_CONFIG);
    srv = await startTestServer({ args: ['--simulated-nodes', '3', '--scheduler-config', join(dir, 'scheduler.yaml')] });
    await waitForReadyNodes(srv, 3);
  });
  after(async () => {
    await srv?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('nodeSelector picks the node with the label', async () => {
    await create('by-zone', { nodeSelector: { 'topology.kubernetes.io/zone': 'zone-1' } });
    await bound('by-zone');
    assert.equal(await nodeOf('by-zone'), 'sim-node-1');
    await running('by-zone');
    await cleanup();
  });

  test('taints keep pods off a node unless they tolerate them', async () => {
    await ok(srv, ['taint', 'nodes', 'sim-node-2', 'dedicated=special:NoSchedule']);
    try {
      await create('intolerant', { nodeSelector: { 'kubernetes.io/hostname': 'sim-node-2' } });
      const c = await unschedulable('intolerant');
      assert.equal(c.reason, 'Unschedulable');
      assert.equal(
        c.message,
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: special}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
      );
      await create('tolerant', {
        nodeSelector: { 'kubernetes.io/hostname': 'sim-node-2' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'special', effect: 'NoSchedule' }],
      });
      await bound('tolerant');
      assert.equal(await nodeOf('tolerant'), 'sim-node-2');
      assert.equal(await nodeOf('intolerant'), '');
    } finally {
      await ok(srv, ['taint', 'nodes', 'sim-node-2', 'dedicated=special:NoSchedule-']);
      await cleanup();
    }
  });

  test('required node affinity binds to the matching zone; preferred affinity is honoured when possible', async () => {
    await create('required', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-2'] }] }],
          },
        },
      },
    });
    await create('preferred', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-0'] }] } },
          ],
        },
      },
    });
    await create('impossible', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-9'] }] }],
          },
        },
      },
    });
    await bound('required');
    await bound('preferred');
    assert.equal(await nodeOf('required'), 'sim-node-2');
    assert.equal(await nodeOf('preferred'), 'sim-node-0');
    const c = await unschedulable('impossible');
    assert.equal(
      c.message,
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );
    await cleanup();
  });

  test('required pod anti-affinity puts one pod per node; the fourth waits', async () => {
    const anti = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    };
    for (const i of [1, 2, 3, 4]) await create(`solo-${i}`, { labels: { app: 'solo' }, affinity: anti });
    await eventually('three solo pods bound', async () => {
      const nodes = (await ok(srv, ['get', 'pods', '-l', 'app=solo', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}'])).split('\n');
      return nodes.filter((n) => n.trim() !== '').length === 3;
    }, undefined, logs);
    const nodes = (await ok(srv, ['get', 'pods', '-l', 'app=solo', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}']))
      .trim()
      .split('\n')
      .map((l) => l.split('='));
    const placed = nodes.filter(([, n]) => n).map(([, n]) => n);
    assert.deepEqual([...new Set(placed)].sort(), ['sim-node-0', 'sim-node-1', 'sim-node-2']);
    const [waiting] = nodes.filter(([, n]) => !n).map(([p]) => p);
    const c = await unschedulable(waiting ?? '');
    assert.equal(
      c.message,
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..",
    );
    await cleanup();
  });

  test('topology spread over 3 zones keeps the skew at most 1', async () => {
    const spread = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
    for (let i = 0; i < 7; i++) await create(`spread-${i}`, { labels: { app: 'spread' }, topologySpreadConstraints: spread });
    await eventually('seven spread pods bound', async () => {
      const nodes = (await ok(srv, ['get', 'pods', '-l', 'app=spread', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}'])).split('\n');
      return nodes.filter((n) => n.trim() !== '').length === 7;
    }, undefined, logs);
    const zoneOf: Record<string, string> = {};
    for (const line of (await ok(srv, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.topology\\.kubernetes\\.io/zone}{"\\n"}{end}'])).trim().split('\n')) {
      const [n, z] = line.split('=');
      zoneOf[n!] = z!;
    }
    const counts: Record<string, number> = { 'zone-0': 0, 'zone-1': 0, 'zone-2': 0 };
    for (const n of (await ok(srv, ['get', 'pods', '-l', 'app=spread', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}'])).trim().split('\n')) {
      counts[zoneOf[n]!]! += 1;
    }
    const values = Object.values(counts);
    assert.ok(Math.max(...values) - Math.min(...values) <= 1, JSON.stringify(counts));
    assert.equal(values.reduce((a, b) => a + b, 0), 7);
    await cleanup();
  });

  test('a pod too big for every node is Unschedulable with upstream\'s message and a FailedScheduling event', async () => {
    await create('huge', { cpu: '64' });
    const c = await unschedulable('huge');
    assert.equal(c.reason, 'Unschedulable');
    assert.equal(
      c.message,
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..',
    );
    await eventually('FailedScheduling in kubectl describe', async () => /FailedScheduling/.test(await ok(srv, ['describe', 'pod', 'huge'])), undefined, logs);
    assert.match(
      await ok(srv, ['describe', 'pod', 'huge']),
      /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\. preemption: 0\/3 nodes are available: 3 No preemption victims found for incoming pod\.\./,
    );
    await cleanup();
  });

  test('a high-priority pod preempts a low-priority one', async () => {
    const pc = (name: string, value: number) =>
      JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description: `${name} priority` });
    await ok(srv, ['create', '-f', '-'], pc('sim-low', 100));
    await ok(srv, ['create', '-f', '-'], pc('sim-high', 1000));
    const onNode0 = { 'kubernetes.io/hostname': 'sim-node-0' };
    await create('victim', { cpu: '30', nodeSelector: onNode0, priorityClassName: 'sim-low', grace: 1 });
    await running('victim');
    await create('preemptor', { cpu: '30', nodeSelector: onNode0, priorityClassName: 'sim-high' });
    await eventually('the preemptor to run on sim-node-0', async () => (await nodeOf('preemptor')) === 'sim-node-0', 60_000, logs);
    const victimGone = await srv.kubectl(['get', 'pod', 'victim']);
    assert.notEqual(victimGone.code, 0, 'the victim is gone');
    const events = await ok(srv, ['get', 'events', '--field-selector', 'involvedObject.name=victim', '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}']);
    assert.match(events, /Preempted:Preempted by pod \S+ on node sim-node-0/);
    assert.equal((await ok(srv, ['get', 'pod', 'preemptor', '-o', 'jsonpath={.spec.priority}'])).trim(), '1000');
    await cleanup();
  });

  test('a second profile is picked by schedulerName; an unknown scheduler name is left alone', async () => {
    await create('packed', { schedulerName: 'bin-packing' });
    await create('orphan', { schedulerName: 'no-such-scheduler' });
    await bound('packed');
    await eventually('the Scheduled event from bin-packing', async () => {
      const out = await ok(srv, ['get', 'events', '--field-selector', 'involvedObject.name=packed,reason=Scheduled', '-o', 'jsonpath={range .items[*]}{.reportingComponent}{"\\n"}{end}']);
      return out.includes('bin-packing');
    }, undefined, logs);
    assert.match(await ok(srv, ['describe', 'pod', 'packed']), /Normal\s+Scheduled\s+.*bin-packing\s+Successfully assigned default\/packed to sim-node-\d/);
    await running('packed');
    // Left alone: no node, no PodScheduled condition, no events, while a default pod created after it is scheduled.
    await create('after-orphan');
    await bound('after-orphan');
    assert.equal(await nodeOf('orphan'), '');
    assert.equal((await ok(srv, ['get', 'pod', 'orphan', '-o', 'jsonpath={.status.conditions}'])).trim(), '');
    assert.equal((await ok(srv, ['get', 'events', '--field-selector', 'involvedObject.name=orphan', '-o', 'name'])).trim(), '');
    await cleanup();
  });
});
