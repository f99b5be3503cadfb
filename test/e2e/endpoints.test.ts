// The endpoint, endpointslice, nodeipam, podgc and resourcequota controllers inside the real `skiff server`, driven by
// the real kubectl. There is no kubelet here: the tests bind pods to Nodes they create (spec.nodeName) and set pod IPs
// and readiness through the status subresource, as a kubelet would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startTestServer, type TestServer, eventually, waitForServiceAccount } from './harness.js';
import { RestClient } from '../../src/client/index.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

function nodeYaml(name: string, zone: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
    topology.kubernetes.io/zone: ${zone}
status:
  conditions:
  - type: Ready
    status: "True"
`;
}

function podYaml(ns: string, name: string, node: string, labels: Record<string, string>): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
${Object.entries(labels)
  .map(([k, v]) => `    ${k}: ${v}`)
  .join('\n')}
spec:
  nodeName: ${node}
  containers:
  - name: web
    image: nginx
    ports:
    - name: http
      containerPort: 8080
`;
}

function statusPatch(ip: string, ready: boolean): string {
  return JSON.stringify({
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    },
  });
}

describe('endpoints, endpoint slices, node IPAM, pod GC and quota in skiff server', () => {
  let srv: TestServer;
  let client: RestClient;
  before(async () => {
    // The Nodes here renew no Lease: without node lifecycle they stay Ready (it would mark their pods not ready).
    srv = await startTestServer({ args: ['--disable-controllers', 'nodelifecycle'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    await ok(srv, ['apply', '-f', '-'], [nodeYaml('node-a', 'zone-a'), nodeYaml('node-b', 'zone-b')].join('---\n'));
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('nodes get a podCIDR from --cluster-cidr', async () => {
    const cidrs = async () => (await ok(srv, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.spec.podCIDR}{" "}{.spec.podCIDRs[0]}{"\\n"}{end}'])).trim().split('\n');
    await eventually('podCIDRs on both nodes', async () => (await cidrs()).every((l) => /^198\.18\.\d+\.0\/24 198\.18\.\d+\.0\/24$/.test(l)) && (await cidrs()).length === 2);
    const got = (await cidrs()).map((l) => l.split(' ')[0]);
    assert.notEqual(got[0], got[1], 'each node has its own CIDR');
  });

  test('Endpoints and EndpointSlices track ready pods; an unready pod moves to notReadyAddresses / ready=false', async () => {
    await ok(srv, ['create', 'namespace', 'ep']);
    await waitForServiceAccount(srv, 'ep');
    await ok(srv, ['apply', '-f', '-'], [podYaml('ep', 'web-1', 'node-a', { app: 'web' }), podYaml('ep', 'web-2', 'node-b', { app: 'web' })].join('---\n'));
    await ok(srv, ['create', 'service', 'clusterip', 'web', '-n', 'ep', '--tcp=80:http']);
    // `kubectl create service` selects app=web: the named targetPort resolves to each pod's containerPort.
    await ok(srv, ['patch', 'pod', 'web-1', '-n', 'ep', '--subresource=status', '--type=merge', '-p', statusPatch('198.18.0.11', true)]);
    await ok(srv, ['patch', 'pod', 'web-2', '-n', 'ep', '--subresource=status', '--type=merge', '-p', statusPatch('198.18.1.12', true)]);

    const endpoints = async () => JSON.parse(await ok(srv, ['get', 'endpoints', 'web', '-n', 'ep', '-o', 'json'])) as { subsets?: { addresses?: { ip: string; nodeName?: string; targetRef?: { name?: string } }[]; notReadyAddresses?: { ip: string }[]; ports?: { port: number; name?: string }[] }[]; metadata: { annotations?: Record<string, string> } };
    await eventually('both pods in the Endpoints', async () => {
      const r = await srv.kubectl(['get', 'endpoints', 'web', '-n', 'ep', '-o', 'jsonpath={.subsets[*].addresses[*].ip}']);
      return r.code === 0 && r.stdout.split(' ').sort().join(',') === '198.18.0.11,198.18.1.12';
    });
    const ep = await endpoints();
    assert.deepEqual(ep.subsets?.[0].ports, [{ name: '80-http', port: 8080, protocol: 'TCP' }]);
    assert.equal(ep.subsets?.[0].addresses?.find((a) => a.ip === '198.18.0.11')?.nodeName, 'node-a');
    assert.ok(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], 'trigger time annotation');
    const wide = await ok(srv, ['get', 'endpoints', 'web', '-n', 'ep']);
    assert.match(wide, /web\s+198\.18\.0\.11:8080,198\.18\.1\.12:8080/);

    const slices = async () =>
      (JSON.parse(await ok(srv, ['get', 'endpointslices', '-n', 'ep', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as { items: EndpointSlice[] }).items;
    await eventually('both pods ready in the EndpointSlice', async () => {
      const s = await slices();
      return s.length === 1 && s[0].endpoints?.filter((e) => e.conditions?.ready).length === 2;
    });
    const [slice] = await slices();
    assert.equal(slice.addressType, 'IPv4');
    assert.equal(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata?.ownerReferences?.[0].kind, 'Service');
    assert.equal(slice.metadata?.ownerReferences?.[0].name, 'web');
    assert.deepEqual(slice.ports, [{ name: '80-http', port: 8080, protocol: 'TCP' }]);
    const e1 = slice.endpoints?.find((e) => e.targetRef?.name === 'web-1');
    assert.equal(e1?.nodeName, 'node-a');
    assert.equal(e1?.zone, 'zone-a');
    assert.deepEqual(e1?.conditions, { ready: true, serving: true, terminating: false });

    // web-2 becomes unready.
    await ok(srv, ['patch', 'pod', 'web-2', '-n', 'ep', '--subresource=status', '--type=merge', '-p', statusPatch('198.18.1.12', false)]);
    await eventually('web-2 in notReadyAddresses', async () => {
      const e = await endpoints();
      return e.subsets?.length === 1 && e.subsets[0].addresses?.map((a) => a.ip).join() === '198.18.0.11' && e.subsets[0].notReadyAddresses?.map((a) => a.ip).join() === '198.18.1.12';
    });
    await eventually('web-2 ready=false in the slice', async () => {
      const e2 = (await slices())[0]?.endpoints?.find((e) => e.targetRef?.name === 'web-2');
      return e2?.conditions?.ready === false && e2.conditions.serving === false;
    });
    const described = await ok(srv, ['describe', 'endpointslice', '-n', 'ep', (await slices())[0].metadata?.name ?? '']);
    assert.match(described, /AddressType:\s+IPv4/);
    assert.match(described, /198\.18\.1\.12/);

    // A deleted pod leaves both.
    await ok(srv, ['delete', 'pod', 'web-1', '-n', 'ep', '--grace-period=0', '--force']);
    await eventually('web-1 gone from the Endpoints', async () => !JSON.stringify((await endpoints()).subsets ?? []).includes('198.18.0.11'));
    await eventually('web-1 gone from the slice', async () => (await slices())[0]?.endpoints?.length === 1);
  });

  test('more than 100 pods make two EndpointSlices', async () => {
    await ok(srv, ['create', 'namespace', 'big']);
    await waitForServiceAccount(srv, 'big');
    const count = 130;
    const docs: string[] = [];
    for (let i = 0; i < count; i++) docs.push(podYaml('big', `p-${i}`, i % 2 ? 'node-a' : 'node-b', { app: 'big' }));
    await ok(srv, ['apply', '-f', '-'], docs.join('---\n'));
    await ok(srv, ['create', 'service', 'clusterip', 'big', '-n', 'big', '--tcp=80:8080']);
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    // As kubelets would: every pod gets its IP and turns Ready.
    for (let i = 0; i < count; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, (_, j) => i + j).map((n) =>
          pods.patch(`p-${n}`, JSON.parse(statusPatch(`198.18.${2 + Math.floor(n / 200)}.${(n % 200) + 1}`, true)), { namespace: 'big', type: 'merge', subresource: 'status' }),
        ),
      );
    }
    const sizes = async () =>
      (await ok(srv, ['get', 'endpointslices', '-n', 'big', '-l', 'kubernetes.io/service-name=big', '-o', 'jsonpath={range .items[*]}{.endpoints[*].addresses[0]}{"\\n"}{end}']))
        .trim()
        .split('\n')
        .map((l) => (l.trim() ? l.trim().split(' ').length : 0))
        .sort((a, b) => b - a);
    // How the 130 split depends on the order readiness arrived in (slices are reused, not repacked), as upstream.
    let last: number[] = [];
    await eventually(
      'two slices of at most 100 holding all pods',
      async () => {
        last = await sizes();
        return last.length === 2 && last[0] <= 100 && last[0] + last[1] === count;
      },
      120_000,
      () => `slice sizes: ${JSON.stringify(last)}\n${srv.logs().slice(-2000)}`,
    );
    await eventually(
      'all 130 ready addresses in the Endpoints',
      async () => (await ok(srv, ['get', 'endpoints', 'big', '-n', 'big', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).trim().split(' ').length === count,
    );
  });

  test('a Service without a selector: hand-written Endpoints are mirrored into an EndpointSlice', async () => {
    await ok(srv, ['create', 'namespace', 'mirror']);
    await waitForServiceAccount(srv, 'mirror');
    await ok(
      srv,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata:
  name: external
  namespace: mirror
spec:
  ports:
  - name: db
    port: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: external
  namespace: mirror
  labels:
    team: data
subsets:
- addresses:
  - ip: 198.18.40.1
  - ip: 198.18.40.2
  notReadyAddresses:
  - ip: 198.18.40.3
  ports:
  - name: db
    port: 5432
`,
    );
    const slices = async () =>
      JSON.parse(await ok(srv, ['get', 'endpointslices', '-n', 'mirror', '-l', 'kubernetes.io/service-name=external', '-o', 'json'])).items as EndpointSlice[];
    const [slice] = await eventually('a mirrored slice', async () => ((await slices()).length === 1 ? slices() : undefined));
    assert.equal(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.equal(slice.metadata?.labels?.team, 'data');
    assert.equal(slice.metadata?.ownerReferences?.[0]?.kind, 'Endpoints');
    assert.deepEqual(slice.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(
      slice.endpoints?.map((e) => [e.addresses[0], e.conditions?.ready]),
      [['198.18.40.1', true], ['198.18.40.2', true], ['198.18.40.3', false]],
    );
    await ok(srv, ['delete', 'endpoints', 'external', '-n', 'mirror']);
    await eventually('the mirrored slice goes with the Endpoints', async () => (await slices()).length === 0);
  });

  test('kubectl describe quota shows usage; a create over quota is refused with upstream message', async () => {
    await ok(srv, ['create', 'namespace', 'q']);
    await waitForServiceAccount(srv, 'q');
    await ok(srv, ['create', 'quota', 'q', '-n', 'q', '--hard=pods=2,services=3,configmaps=5,requests.cpu=1']);
    await eventually('quota status computed', async () => (await ok(srv, ['get', 'quota', 'q', '-n', 'q', '-o', 'jsonpath={.status.used.pods}'])).trim() === '0');
    const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: q
spec:
  containers:
  - name: c
    image: nginx
    resources:
      requests:
        cpu: 250m
`;
    await ok(srv, ['apply', '-f', '-'], pod('a'));
    await ok(srv, ['apply', '-f', '-'], pod('b'));
    await ok(srv, ['create', 'configmap', 'c1', '-n', 'q', '--from-literal=a=b']);
    await eventually('usage recounted', async () => {
      const d = await ok(srv, ['describe', 'quota', 'q', '-n', 'q']);
      // Two ConfigMaps: c1 and the kube-root-ca.crt every namespace gets, as upstream counts them.
      return /pods\s+2\s+2/.test(d) && /requests\.cpu\s+500m\s+1/.test(d) && /configmaps\s+2\s+5/.test(d);
    });
    const refused = await srv.kubectl(['apply', '-f', '-'], { stdin: pod('c') });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/);
    // A pod without a cpu request cannot be admitted while requests.cpu is limited.
    await ok(srv, ['delete', 'pod', 'b', '-n', 'q', '--grace-period=0', '--force']);
    await eventually('pods used back to 1', async () => (await ok(srv, ['get', 'quota', 'q', '-n', 'q', '-o', 'jsonpath={.status.used.pods}'])).trim() === '1');
    const noCpu = await srv.kubectl(['run', 'nocpu', '-n', 'q', '--image=nginx']);
    assert.equal(noCpu.code, 1);
    assert.match(noCpu.stderr, /pods "nocpu" is forbidden: failed quota: q: must specify requests\.cpu for: nocpu/);
  });

  test('pods bound to a deleted node are deleted by the pod GC', async () => {
    await ok(srv, ['apply', '-f', '-'], nodeYaml('node-gone', 'zone-c'));
    await ok(srv, ['create', 'namespace', 'gc']);
    await waitForServiceAccount(srv, 'gc');
    await ok(srv, ['apply', '-f', '-'], [podYaml('gc', 'orphan-1', 'node-gone', { app: 'gc' }), podYaml('gc', 'kept', 'node-a', { app: 'gc' })].join('---\n'));
    await ok(srv, ['delete', 'node', 'node-gone']);
    // Upstream's 40 s quarantine plus the 20 s GC period.
    await eventually('orphan-1 deleted', async () => (await srv.kubectl(['get', 'pod', 'orphan-1', '-n', 'gc'])).code === 1, 120_000);
    await ok(srv, ['get', 'pod', 'kept', '-n', 'gc']);
  });
});
