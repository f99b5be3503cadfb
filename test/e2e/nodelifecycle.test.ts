// Node lifecycle in the real `skiff server`, seen with the real kubectl: two hand-made Nodes with Leases; the test
// keeps renewing one Lease and lets the other lapse. With --node-monitor-grace-period=4s the silent node turns
// Unknown (NodeStatusUnknown), gets the unreachable NoExecute and NoSchedule taints, its pod turns not ready and is
// evicted (DisruptionTarget, then deletion) after its 3 s tolerationSeconds, while a pod tolerating the taint for
// longer stays. DefaultTolerationSeconds takes its seconds from --kube-apiserver-arg.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startTestServer, type TestServer, eventually } from './harness.js';
import { RestClient } from '../../src/client/index.js';
import { formatMicroTime, formatTime } from '../../src/machinery/time.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const nodeYaml = (name: string) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
    kubernetes.io/os: linux
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: ${name}
  namespace: kube-node-lease
spec:
  holderIdentity: ${name}
  leaseDurationSeconds: 4
  renewTime: "${formatMicroTime(new Date())}"
`;

const podYaml = (name: string, node: string, tolerationSeconds?: number) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  containers:
  - name: c
    image: busybox
${
  tolerationSeconds === undefined
    ? ''
    : `  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: ${tolerationSeconds}
`
}`;

describe('node lifecycle with kubectl', () => {
  let srv: TestServer;
  let client: RestClient;
  let renewer: NodeJS.Timeout | undefined;
  const renewing = new Set(['alive', 'silent']);

  before(async () => {
    srv = await startTestServer({
      args: [
        '--kube-controller-manager-arg',
        'node-monitor-grace-period=4s',
        '--kube-controller-manager-arg',
        'node-monitor-period=500ms',
        '--kube-apiserver-arg',
        'default-unreachable-toleration-seconds=77',
      ],
    });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
  });
  after(async () => {
    clearInterval(renewer);
    client?.close();
    await srv?.stop();
  });

  test('a node whose Lease lapses turns Unknown, is tainted unreachable, and its pods are evicted after tolerationSeconds', async () => {
    await ok(srv, ['apply', '-f', '-'], nodeYaml('alive') + '---\n' + nodeYaml('silent'));
    const readyPatch = JSON.stringify({
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: formatTime(new Date()), lastTransitionTime: formatTime(new Date()) }] },
    });
    for (const n of ['alive', 'silent']) await ok(srv, ['patch', 'node', n, '--subresource=status', '--type=merge', '-p', readyPatch]);
    const leases = client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
    renewer = setInterval(() => {
      for (const name of renewing) {
        void leases.patch(name, { spec: { renewTime: formatMicroTime(new Date()) } }, { namespace: 'kube-node-lease', type: 'merge' }).catch(() => undefined);
      }
    }, 500);

    await ok(srv, ['apply', '-f', '-'], podYaml('short', 'silent', 3));
    await ok(srv, ['apply', '-f', '-'], podYaml('patient', 'silent', 3600));
    await ok(srv, ['apply', '-f', '-'], podYaml('defaulted', 'alive'));
    await ok(srv, ['patch', 'pod', 'short', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
    // DefaultTolerationSeconds: 77 s from --kube-apiserver-arg, 300 s for not-ready.
    const tolerations = await ok(srv, ['get', 'pod', 'defaulted', '-o', 'jsonpath={range .spec.tolerations[*]}{.key}={.tolerationSeconds}{"\\n"}{end}']);
    assert.deepEqual(tolerations.trim().split('\n').sort(), ['node.kubernetes.io/not-ready=300', 'node.kubernetes.io/unreachable=77']);

    // The beta os label follows the GA one, and the healthy node stays untainted for a few monitor periods.
    await eventually('beta.kubernetes.io/os', async () => (await ok(srv, ['get', 'node', 'alive', '-o', 'jsonpath={.metadata.labels.beta\\.kubernetes\\.io/os}'])).trim() === 'linux');

    renewing.delete('silent');
    const readyOf = (n: string) => ok(srv, ['get', 'node', n, '-o', 'jsonpath={range .status.conditions[?(@.type=="Ready")]}{.status}/{.reason}/{.message}{end}']);
    await eventually('silent is Unknown', async () => (await readyOf('silent')).startsWith('Unknown/'), 30_000);
    assert.equal(await readyOf('silent'), 'Unknown/NodeStatusUnknown/Kubelet stopped posting node status.');
    const taintsOf = async (n: string) => (await ok(srv, ['get', 'node', n, '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}'])).trim().split('\n').filter(Boolean).sort();
    await eventually('unreachable taints', async () => (await taintsOf('silent')).length === 2, 20_000);
    assert.deepEqual(await taintsOf('silent'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.ok((await readyOf('alive')).startsWith('True/'), 'the renewed node stays Ready');
    assert.deepEqual(await taintsOf('alive'), []);
    const describe = await ok(srv, ['describe', 'node', 'silent']);
    assert.match(describe, /Taints:\s+node\.kubernetes\.io\/unreachable:NoExecute/);

    // The pod tolerating the taint for 3 s is evicted; the one tolerating it for an hour stays.
    await eventually('short evicted', async () => {
      const r = await srv.kubectl(['get', 'pod', 'short', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
      return r.code !== 0 || r.stdout.trim() !== '';
    }, 30_000);
    const short = await srv.kubectl(['get', 'pod', 'short', '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason}{"\\n"}{end}']);
    if (short.code === 0) {
      assert.match(short.stdout, /DisruptionTarget=True\/DeletionByTaintManager/);
      assert.match(short.stdout, /^Ready=False/m, 'marked not ready when the node went silent');
    }
    assert.equal((await ok(srv, ['get', 'pod', 'patient', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).trim(), '');
    const events = await ok(srv, ['get', 'events', '--field-selector', 'involvedObject.name=short', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, /TaintManagerEviction: Marking for deletion Pod default\/short/);

    // The node comes back: taints go.
    renewing.add('silent');
    await ok(srv, ['patch', 'node', 'silent', '--subresource=status', '--type=merge', '-p', JSON.stringify({
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: formatTime(new Date()), lastTransitionTime: formatTime(new Date()) }] },
    })]);
    await eventually('taints removed', async () => (await taintsOf('silent')).length === 0, 20_000);
  });
});

// With simulated nodes (two zones) and a Deployment: the node running the pod stops heartbeating (annotation
// skiff.dev/stop-heartbeat), is tainted unreachable, the pod is evicted after its 2 s toleration and the ReplicaSet
// puts a replacement on the healthy node.
describe('node lifecycle with simulated nodes and a Deployment', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({
      args: [
        '--simulated-nodes',
        '2',
        '--simulated-zones',
        '2',
        '--simulated-renew-interval',
        '500ms',
        '--kube-controller-manager-arg',
        'node-monitor-grace-period=3s',
        '--kube-controller-manager-arg',
        'node-monitor-period=500ms',
      ],
    });
  });
  after(async () => {
    await srv?.stop();
  });

  test('pods of a failed node are evicted after tolerationSeconds and recreated on another node', async () => {
    await ok(
      srv,
      ['apply', '-f', '-'],
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 2
      containers:
      - name: c
        image: busybox
`,
    );
    const running = async () =>
      (await ok(srv, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}']))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '));
    await eventually('one running pod', async () => (await running()).some((p) => p[2] === 'Running' && !p[3]), 60_000);
    const [first] = (await running()).filter((p) => p[2] === 'Running');
    const [podName, failedNode] = first;
    await ok(srv, ['annotate', 'node', failedNode, 'skiff.dev/stop-heartbeat=true']);

    await eventually(`${failedNode} Unknown and tainted`, async () => {
      const t = await ok(srv, ['get', 'node', failedNode, '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}']);
      return t.includes('node.kubernetes.io/unreachable:NoExecute');
    }, 40_000);
    assert.match(await ok(srv, ['get', 'node', failedNode]), /NotReady/);
    await eventually('a replacement running elsewhere', async () => {
      const pods = await running();
      return pods.some((p) => p[0] !== podName && p[1] !== failedNode && p[2] === 'Running' && !p[3]);
    }, 60_000);
    const old = await srv.kubectl(['get', 'pod', podName, '-o', 'jsonpath={range .status.conditions[?(@.type=="DisruptionTarget")]}{.reason}{end}']);
    if (old.code === 0) assert.equal(old.stdout.trim(), 'DeletionByTaintManager');
    assert.equal((await ok(srv, ['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).trim(), '1');
  });
});
