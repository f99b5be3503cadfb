// Pod networking on the local node with real containers, containerd's CNI plugins and the real kubectl: the resolver
// each dnsPolicy gives a pod (read from the container's /etc/resolv.conf), and a hostPort reached on the node's address
// through the portmap plugin. One agent server for every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseResolvConf } from '../../src/kubelet/pods/config.js';
import { clusterDNSFor } from '../../src/kubelet/run.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually, type TestServer } from './harness.js';

const NODE = `e2e-network-${process.pid}`;
/** The server's default service range; the cluster DNS address is its 10th address. */
const CLUSTER_DNS = clusterDNSFor('198.19.0.0/16');

let node: AgentNode;
let server: TestServer;
let nodeIP = '';

const apply = (yaml: string) => node.apply(yaml);
const until = (name: string, what: string, ok: (p: Pod) => boolean, timeoutMs?: number) => node.waitForPod(name, what, ok, timeoutMs);

before(async () => {
  node = await startAgentNode(NODE);
  server = node.server;
  nodeIP = await node.readyNodeIP();
});

after(async () => {
  await node?.stop();
});

const sleeper = (name: string, spec: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
${spec}
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---`;

test('dnsPolicy and dnsConfig: ClusterFirst, None, Default, and hostNetwork with ClusterFirst and ClusterFirstWithHostNet', async () => {
  await apply(
    [
      sleeper('first', '  dnsConfig: {searches: [extra.example], options: [{name: ndots, value: "2"}, {name: edns0}]}'),
      sleeper('none', '  dnsPolicy: None\n  dnsConfig: {nameservers: [198.18.0.53], searches: [only.example], options: [{name: timeout, value: "3"}]}'),
      sleeper('default', '  dnsPolicy: Default'),
      sleeper('hostnet', '  hostNetwork: true'),
      sleeper('hostnetcluster', '  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet'),
    ].join('\n'),
  );
  const resolv = async (pod: string) => {
    await until(pod, 'Running', (p) => p.status?.phase === 'Running');
    const r = await server.kubectl(['exec', pod, '--', 'cat', '/etc/resolv.conf']);
    assert.equal(r.code, 0, r.stderr);
    return parseResolvConf(r.stdout);
  };
  const host = parseResolvConf(await readFile('/etc/resolv.conf', 'utf8'));
  const clusterSearch = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...host.searches];

  // ClusterFirst: the cluster DNS, the namespace's search path, ndots:5; dnsConfig adds a search and overrides ndots.
  assert.deepEqual(await resolv('first'), { servers: [CLUSTER_DNS], searches: [...clusterSearch, 'extra.example'], options: ['ndots:2', 'edns0'] });
  // None: only what dnsConfig says.
  assert.deepEqual(await resolv('none'), { servers: ['198.18.0.53'], searches: ['only.example'], options: ['timeout:3'] });
  // Default: the node's resolver.
  assert.deepEqual(await resolv('default'), host);
  // A hostNetwork pod with ClusterFirst falls back to the node's resolver; ClusterFirstWithHostNet uses the cluster's.
  assert.deepEqual(await resolv('hostnet'), host);
  assert.deepEqual(await resolv('hostnetcluster'), { servers: [CLUSTER_DNS], searches: clusterSearch, options: ['ndots:5'] });
});

test('a hostPort is reachable on the node address through the portmap plugin, and its pod IP keeps serving', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, hostPort: 31080}]
`);
  const pod = await until('hp', 'Running', (p) => p.status?.phase === 'Running');
  const get = (host: string, port: number) =>
    new Promise<string>((resolve, reject) => {
      httpGet({ host, port, path: '/index.html', timeout: 3000 }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      })
        .on('timeout', function (this: { destroy(e: Error): void }) {
          this.destroy(new Error('timeout'));
        })
        .on('error', reject);
    });
  assert.equal((await get(pod.status?.podIP ?? '', 8080)).trim(), 'via-hostport');
  const body = await eventually('the hostPort answers on the node address', () => get(nodeIP, 31080).catch(() => undefined), 30_000, node.logs);
  assert.equal(body.trim(), 'via-hostport');
  // Gone with the pod: the portmap rules are removed with its sandbox.
  const del = await server.kubectl(['delete', 'pod', 'hp', '--wait=true', '--timeout=60s'], { timeoutMs: 65_000 });
  assert.equal(del.code, 0, del.stderr);
  await eventually('the hostPort closed', async () => (await get(nodeIP, 31080).then(() => false, () => true)), 30_000, node.logs);
});
