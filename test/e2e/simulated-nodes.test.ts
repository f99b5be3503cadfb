// Simulated nodes inside the real `skiff server --simulated-nodes 3`, driven by the real kubectl: nodes register
// Ready with zones and Leases, pods become Running/Ready with a podIP in their node's range, Job-style pods complete
// (or fail with the exit code an annotation asks for), deletion waits for the grace period, a node told to stop
// heartbeating stops renewing its Lease; and `skiff agent --simulated-nodes` joins with the server's token.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { parseCidr, ipToBigInt } from '../../src/apiserver/pki/cidr.js';
import { SKIFF_BIN, REPO_ROOT, startTestServer, type TestServer, eventually } from './harness.js';

const TOKEN = 'e2e-simulated-token';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const json = async <T>(srv: TestServer, args: string[]): Promise<T> => JSON.parse(await ok(srv, [...args, '-o', 'json'])) as T;

interface PodJson {
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      started?: boolean;
      restartCount: number;
      imageID: string;
      containerID?: string;
      state: { running?: { startedAt: string }; terminated?: { exitCode: number; reason: string } };
    }[];
    initContainerStatuses?: { name: string; state: { terminated?: { exitCode: number; reason: string } } }[];
  };
}

interface NodeJson {
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { podCIDR?: string };
  status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; capacity: Record<string, string> };
}

function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const size = 1n << BigInt(32 - c.prefix);
  const v = ipToBigInt(ip);
  return v >= c.network && v < c.network + size;
}

const podManifest = (name: string, extra: { annotations?: Record<string, string>; restartPolicy?: string; grace?: number; init?: boolean } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      ...(extra.restartPolicy ? { restartPolicy: extra.restartPolicy } : {}),
      ...(extra.grace !== undefined ? { terminationGracePeriodSeconds: extra.grace } : {}),
      ...(extra.init ? { initContainers: [{ name: 'setup', image: 'busybox:1.36' }] } : {}),
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }],
    },
  });

describe('simulated nodes', () => {
  let srv: TestServer;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '3', '--simulated-renew-interval', '500ms', '--token', TOKEN] });
    await eventually('3 Ready simulated nodes', async () => {
      const nodes = await json<{ items: NodeJson[] }>(srv, ['get', 'nodes']);
      return nodes.items.filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 3;
    }, undefined, () => srv.logs().slice(-3000));
  });
  after(async () => {
    agent?.kill('SIGTERM');
    await srv?.stop();
  });

  test('nodes register with capacity, kwok-like labels, zones over 3 zones, addresses and Leases', async () => {
    const nodes = (await json<{ items: NodeJson[] }>(srv, ['get', 'nodes', '-l', 'type=kwok'])).items;
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['sim-node-0', 'sim-node-1', 'sim-node-2']);
    assert.deepEqual(new Set(nodes.map((n) => n.metadata.labels['topology.kubernetes.io/zone'])), new Set(['zone-0', 'zone-1', 'zone-2']));
    for (const n of nodes) {
      assert.equal(n.metadata.labels['kubernetes.io/hostname'], n.metadata.name);
      assert.equal(n.metadata.labels['kubernetes.io/os'], 'linux');
      assert.equal(n.status.capacity.pods, '110');
      assert.equal(n.status.capacity.cpu, '32');
      assert.match(n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '', /^127\./);
    }
    const wide = await ok(srv, ['get', 'nodes', '-o', 'wide']);
    assert.match(wide, /sim-node-0\s+Ready\s+<none>\s+\S+\s+v1\.31\.0-skiff-sim\s+127\./);
    const leases = await ok(srv, ['get', 'leases', '-n', 'kube-node-lease', '-o', 'jsonpath={range .items[*]}{.spec.holderIdentity}{"\\n"}{end}']);
    assert.deepEqual(leases.trim().split('\n').sort(), ['sim-node-0', 'sim-node-1', 'sim-node-2']);
  });

  test('a pod becomes Running and Ready with container statuses and a podIP in its node\'s range', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('web', { init: true }));
    await eventually('web Ready', async () => (await json<PodJson>(srv, ['get', 'pod', 'web'])).status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
    const pod = await json<PodJson>(srv, ['get', 'pod', 'web']);
    assert.equal(pod.status.phase, 'Running');
    assert.deepEqual(
      pod.status.conditions?.map((c) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    const cs = pod.status.containerStatuses?.[0];
    assert.equal(cs?.name, 'app');
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state.running?.startedAt);
    assert.match(cs?.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs?.imageID ?? '', /^registry\.k8s\.io\/pause@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(pod.status.initContainerStatuses?.[0]?.state.terminated, {
      ...pod.status.initContainerStatuses?.[0]?.state.terminated,
      exitCode: 0,
      reason: 'Completed',
    });
    assert.ok(pod.status.startTime);
    const node = await json<NodeJson>(srv, ['get', 'node', pod.spec.nodeName ?? '']);
    assert.equal(pod.status.hostIP, node.status.addresses.find((a) => a.type === 'InternalIP')?.address);
    const cidr = node.spec.podCIDR || node.metadata.annotations?.['skiff.dev/simulated-pod-cidr'] || '';
    assert.ok(inCidr(pod.status.podIP ?? '', cidr), `${pod.status.podIP} in ${cidr}`);
    assert.ok(inCidr(pod.status.podIP ?? '', '198.18.0.0/16'));
    assert.match(await ok(srv, ['get', 'pod', 'web']), /web\s+1\/1\s+Running\s+0/);
  });

  test('a Job-style pod completes; an exit-code annotation makes one fail', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('once', { restartPolicy: 'Never', annotations: { 'skiff.dev/complete-after': '100ms' } }));
    await ok(srv, ['create', '-f', '-'], podManifest('fails', { restartPolicy: 'OnFailure', annotations: { 'skiff.dev/exit-code': '3' } }));
    await eventually('once Succeeded', async () => (await json<PodJson>(srv, ['get', 'pod', 'once'])).status.phase === 'Succeeded');
    const once = await json<PodJson>(srv, ['get', 'pod', 'once']);
    assert.deepEqual(once.status.containerStatuses?.[0]?.state.terminated && { ...once.status.containerStatuses[0].state.terminated }, {
      ...once.status.containerStatuses?.[0]?.state.terminated,
      exitCode: 0,
      reason: 'Completed',
    });
    assert.equal(once.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
    assert.match(await ok(srv, ['get', 'pod', 'once']), /once\s+0\/1\s+Completed/);
    await eventually('fails Failed', async () => (await json<PodJson>(srv, ['get', 'pod', 'fails'])).status.phase === 'Failed');
    const fails = await json<PodJson>(srv, ['get', 'pod', 'fails']);
    assert.equal(fails.status.containerStatuses?.[0]?.state.terminated?.exitCode, 3);
    assert.equal(fails.status.containerStatuses?.[0]?.state.terminated?.reason, 'Error');
  });

  test('a not-ready annotation keeps a running pod unready until it is removed', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('slow', { annotations: { 'skiff.dev/not-ready': 'true' } }));
    await eventually('slow Running', async () => (await json<PodJson>(srv, ['get', 'pod', 'slow'])).status.phase === 'Running');
    const pod = await json<PodJson>(srv, ['get', 'pod', 'slow']);
    assert.equal(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(pod.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
    await ok(srv, ['annotate', 'pod', 'slow', 'skiff.dev/not-ready-']);
    await eventually('slow Ready', async () => (await json<PodJson>(srv, ['get', 'pod', 'slow'])).status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
  });

  test('deletion waits for the grace period, then the node removes the pod', async () => {
    await ok(srv, ['create', '-f', '-'], podManifest('graceful', { grace: 10 }));
    await eventually('graceful Running', async () => (await json<PodJson>(srv, ['get', 'pod', 'graceful'])).status.phase === 'Running');
    await ok(srv, ['delete', 'pod', 'graceful', '--wait=false']);
    // Still there, terminating, with the grace period the pod asked for.
    const terminating = await json<{ metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }>(srv, ['get', 'pod', 'graceful']);
    assert.ok(terminating.metadata.deletionTimestamp);
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 10);
    assert.match(await ok(srv, ['get', 'pod', 'graceful']), /Terminating/);
    await eventually('graceful gone', async () => (await srv.kubectl(['get', 'pod', 'graceful'])).code !== 0, 30_000);
    const r = await srv.kubectl(['get', 'pod', 'graceful']);
    assert.match(r.stderr, /NotFound|not found/);
  });

  test('a node told to stop heartbeating stops renewing its Lease while the others go on', async () => {
    const renewTime = async (node: string) => (await ok(srv, ['get', 'lease', '-n', 'kube-node-lease', node, '-o', 'jsonpath={.spec.renewTime}'])).trim();
    await ok(srv, ['annotate', 'node', 'sim-node-2', 'skiff.dev/stop-heartbeat=true']);
    // A renewal may have been on its way when the annotation landed: take the stopped node's time after the next one.
    const first = await renewTime('sim-node-0');
    await eventually('a renewal of sim-node-0', async () => (await renewTime('sim-node-0')) !== first);
    const stopped = await renewTime('sim-node-2');
    for (let i = 0; i < 3; i++) {
      const before = await renewTime('sim-node-0');
      await eventually('sim-node-0 to renew again', async () => (await renewTime('sim-node-0')) !== before);
    }
    assert.equal(await renewTime('sim-node-2'), stopped);
    await ok(srv, ['annotate', 'node', 'sim-node-2', 'skiff.dev/stop-heartbeat-']);
    await eventually('sim-node-2 to renew again', async () => (await renewTime('sim-node-2')) !== stopped);
  });

  test('skiff agent --simulated-nodes joins with the server token', async () => {
    agent = spawn(
      process.execPath,
      [SKIFF_BIN, 'agent', '--server', srv.url, '--token', TOKEN, '--simulated-nodes', '2', '--node-name', 'agent', '--node-label', 'pool=agents', '--node-taint', 'dedicated=agents:NoSchedule', '--data-dir', `${srv.dataDir}/agent`],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
    await eventually('the agent\'s nodes Ready', async () => {
      const nodes = await json<{ items: NodeJson[] }>(srv, ['get', 'nodes', '-l', 'pool=agents']);
      return nodes.items.filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 2;
    }, undefined, () => agentLog);
    const taints = await ok(srv, ['get', 'node', 'agent-1', '-o', 'jsonpath={.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}']);
    assert.equal(taints, 'dedicated=agents:NoSchedule');
    const bad = spawn(process.execPath, [SKIFF_BIN, 'agent', '--server', srv.url, '--token', 'wrong', '--simulated-nodes', '1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let badOut = '';
    bad.stderr?.on('data', (d: Buffer) => (badOut += d.toString()));
    const code = await new Promise<number | null>((resolve) => bad.once('exit', (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(badOut, /Unauthorized/);
  });
});
