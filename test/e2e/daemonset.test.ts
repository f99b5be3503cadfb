// The DaemonSet controller inside the real `skiff server`, driven by the real kubectl. The test creates the Nodes
// (two workers, a tainted worker and one the nodeSelector excludes); the scheduler binds each daemon pod to the node
// its matchFields affinity names; the test plays the kubelet and marks pods Running and Ready.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually as eventuallyWithin, waitForServiceAccount } from './harness.js';

/** The machine is shared and kubectl slow under load: rollouts get a generous deadline. */
const eventually = (what: string, check: () => Promise<boolean>) => eventuallyWithin(what, check, 120_000);

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? { timeoutMs: 120_000 } : { stdin, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const NS = 'ds-e2e';

function node(name: string, labels: Record<string, string>, taints: { key: string; value?: string; effect: string }[] = []): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { ...(taints.length ? { taints } : {}) },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    },
  };
}

const daemonSet = JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: NS },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { nodeSelector: { role: 'worker' }, terminationGracePeriodSeconds: 0, containers: [{ name: 'agent', image: 'agent:1' }] },
    },
  },
});

interface PodView {
  name: string;
  node: string;
  pinned: string;
  image: string;
  hash: string;
  ready: boolean;
}

describe('DaemonSet controller with kubectl', () => {
  let srv: TestServer;
  before(async () => {
    // The test's Nodes renew no Lease: node lifecycle would taint them unreachable after its grace period.
    srv = await startTestServer({ args: ['--disable-controllers', 'nodelifecycle'] });
    await ok(srv, ['create', 'namespace', NS]);
    await waitForServiceAccount(srv, NS);
    const nodes = [
      node('worker-a', { role: 'worker' }),
      node('worker-b', { role: 'worker' }),
      node('worker-tainted', { role: 'worker' }, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]),
      node('infra', { role: 'infra' }),
    ];
    for (const n of nodes) await ok(srv, ['create', '-f', '-'], JSON.stringify(n));
  });
  after(async () => {
    await srv?.stop();
  });

  const pods = async (): Promise<PodView[]> => {
    const list = JSON.parse(await ok(srv, ['get', 'pods', '-n', NS, '-l', 'app=agent', '-o', 'json'])) as {
      items: {
        metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
        spec: { nodeName?: string; containers: { image: string }[]; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchFields?: { values: string[] }[] }[] } } } };
        status: { conditions?: { type: string; status: string }[] };
      }[];
    };
    return list.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        name: p.metadata.name,
        node: p.spec.nodeName ?? '',
        pinned: p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values[0] ?? '',
        image: p.spec.containers[0].image,
        hash: p.metadata.labels['controller-revision-hash'] ?? '',
        ready: (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      }))
      .sort((a, b) => a.pinned.localeCompare(b.pinned));
  };

  const markReady = (pod: string) =>
    ok(srv, [
      'patch', 'pod', pod, '-n', NS, '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } }),
    ]);

  /** Every scheduled, not yet ready daemon pod becomes ready. */
  const readyAll = async () => {
    for (const p of await pods()) if (p.node && !p.ready) await markReady(p.name);
  };

  test('one pod per eligible node, pinned by node affinity and bound there by the scheduler; rolling update; history and undo', async () => {
    await ok(srv, ['apply', '-f', '-'], daemonSet);
    await eventually('a pod bound on each eligible worker', async () => {
      const ps = await pods();
      return ps.length === 2 && ps.every((p) => p.node === p.pinned);
    });
    const first = await pods();
    assert.deepEqual(first.map((p) => p.node), ['worker-a', 'worker-b'], 'not on the tainted worker nor on the node the nodeSelector excludes');
    const pod = JSON.parse(await ok(srv, ['get', 'pod', first[0].name, '-n', NS, '-o', 'json'])) as {
      metadata: { generateName: string; ownerReferences: { kind: string; name: string }[] };
      spec: { tolerations: { key: string; operator: string; effect: string }[] };
    };
    assert.equal(pod.metadata.generateName, 'agent-');
    assert.deepEqual(pod.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}`), ['DaemonSet/agent']);
    assert.deepEqual(
      pod.spec.tolerations.map((t) => `${t.key}:${t.operator}:${t.effect}`),
      [
        'node.kubernetes.io/not-ready:Exists:NoExecute',
        'node.kubernetes.io/unreachable:Exists:NoExecute',
        'node.kubernetes.io/disk-pressure:Exists:NoSchedule',
        'node.kubernetes.io/memory-pressure:Exists:NoSchedule',
        'node.kubernetes.io/pid-pressure:Exists:NoSchedule',
        'node.kubernetes.io/unschedulable:Exists:NoSchedule',
      ],
    );

    assert.equal(await ok(srv, ['get', 'ds', 'agent', '-n', NS, '-o', 'jsonpath={.metadata.annotations.deprecated\\.daemonset\\.template\\.generation}']), '1');
    assert.equal(await ok(srv, ['get', 'pod', first[0].name, '-n', NS, '-o', 'jsonpath={.metadata.labels.pod-template-generation}']), '1');

    await readyAll();
    const done = await ok(srv, ['rollout', 'status', 'daemonset/agent', '-n', NS, '--timeout=90s']);
    assert.match(done, /daemon set "agent" successfully rolled out/);
    await eventually('status', async () => {
      const s = await ok(srv, ['get', 'ds', 'agent', '-n', NS, '-o', 'jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.numberAvailable} {.status.updatedNumberScheduled} {.status.numberMisscheduled}']);
      return s === '2 2 2 2 2 0';
    });

    // A toleration lets the daemon onto the tainted worker.
    await ok(srv, ['patch', 'ds', 'agent', '-n', NS, '--type=merge', '-p', '{"spec":{"template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"}]}}}}']);
    // That is a new template, so the rolling update replaces the two pods, one at a time (maxUnavailable 1).
    const hash1 = first[0].hash;
    let worst = 0;
    await eventually('all three pods at the new template and ready', async () => {
      const ps = await pods();
      const oldNodes = ps.filter((p) => p.pinned !== 'worker-tainted');
      worst = Math.max(worst, 2 - oldNodes.filter((p) => p.ready).length);
      await readyAll();
      return ps.length === 3 && ps.every((p) => p.hash !== hash1 && p.ready);
    });
    assert.ok(worst <= 1, `maxUnavailable 1: at most one worker without a ready pod at a time, saw ${worst}`);
    await ok(srv, ['rollout', 'status', 'daemonset/agent', '-n', NS, '--timeout=90s']);
    const second = await pods();
    assert.deepEqual(second.map((p) => p.node), ['worker-a', 'worker-b', 'worker-tainted']);
    const hash2 = second[0].hash;
    assert.notEqual(hash2, hash1);
    assert.equal(await ok(srv, ['get', 'ds', 'agent', '-n', NS, '-o', 'jsonpath={.metadata.annotations.deprecated\\.daemonset\\.template\\.generation}']), '2');

    // set image: a third template, rolled out node by node.
    await ok(srv, ['set', 'image', 'daemonset/agent', '-n', NS, 'agent=agent:2']);
    await eventually('all three pods replaced and ready', async () => {
      await readyAll();
      const ps = await pods();
      return ps.length === 3 && ps.every((p) => p.image === 'agent:2' && p.ready && p.node);
    });
    await ok(srv, ['rollout', 'status', 'daemonset/agent', '-n', NS, '--timeout=90s']);

    const history = await ok(srv, ['rollout', 'history', 'daemonset/agent', '-n', NS]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/);
    assert.match(await ok(srv, ['rollout', 'history', 'daemonset/agent', '-n', NS, '--revision=3']), /Image:\s+agent:2/);
    await ok(srv, ['rollout', 'undo', 'daemonset/agent', '-n', NS]);
    await eventually('back on agent:1 with the toleration', async () => {
      await readyAll();
      const ps = await pods();
      return ps.length === 3 && ps.every((p) => p.image === 'agent:1' && p.hash === hash2 && p.ready && p.node);
    });
    await ok(srv, ['rollout', 'status', 'daemonset/agent', '-n', NS, '--timeout=90s']);
    const revs = await ok(srv, ['get', 'controllerrevisions', '-n', NS, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.revision}{"\\n"}{end}']);
    assert.ok(revs.includes(`agent-${hash2}=4`), `the undone revision is renumbered 4: ${revs}`);

    // The excluded node becomes a worker: it gets a pod; a worker leaves: its pod goes.
    await ok(srv, ['label', 'node', 'infra', 'role=worker', '--overwrite']);
    await ok(srv, ['label', 'node', 'worker-b', 'role=gone', '--overwrite']);
    await eventually('pods follow the node labels', async () => (await pods()).map((p) => p.pinned).join() === 'infra,worker-a,worker-tainted');
  });
});
