// A second node from another network namespace (issue 5's multi-host proof): the test makes a netns joined to the host
// by a veth pair (netns-node.ts), runs `skiff server` on the host's end and `skiff agent`
// inside the netns with its own data dir (its own containerd), joining with the full token from
// <data-dir>/server/token. The agent verifies the cluster CA against the token, gets its node certificates, registers
// with its labels and taints, and runs a pod the scheduler sends there; `kubectl logs`/`exec` reach its kubelet (through
// the agent's tunnel, see tunnel.test.ts), the API server verifying the kubelet's serving certificate. Then the agent is stopped and started again:
// the running container is adopted (same containerID, restartCount unchanged, same process).
// Everything is removed afterwards: `skiff killall` for the agent's data dir inside the netns, then the netns.
// The agent runs under `nsenter --net` (network namespace only; `ip netns exec` would remount /sys without cgroups).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { stringify } from 'yaml';
import { eventually, REPO_ROOT, reservePodSubnet, SKIFF_BIN, startTestServer, type TestServer } from './harness.js';
import { agentDataWithBusybox, exec, makeNetnsNode, type NetnsNode } from './netns-node.js';

const NODE = `e2e-join-${process.pid}`;

let server: TestServer;
let agentData = '';
let podCidr = '';
let subnet: Awaited<ReturnType<typeof reservePodSubnet>> | undefined;
let token = '';
let agent: ChildProcess | undefined;
let agentLog = '';

let netns: NetnsNode | undefined;
const inNetns = (...args: string[]): string[] => netns!.inNetns(...args);

function agentArgs(tokenArg: string, dataDir: string): string[] {
  return inNetns(
    process.execPath, SKIFF_BIN, 'agent',
    '--server', `https://${netns!.hostIP}:${server.port}`,
    '--token', tokenArg,
    '--data-dir', dataDir,
    '--node-name', NODE,
    '--node-ip', netns!.nodeIP,
    '--pod-cidr', podCidr,
    '--node-label', 'skiff.dev/pool=edge',
    '--node-taint', 'skiff.dev/edge=true:NoSchedule',
  );
}

function startAgent(): ChildProcess {
  const child = spawn('nsenter', agentArgs(token, agentData), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
  return child;
}

async function stopAgent(): Promise<void> {
  const a = agent;
  agent = undefined;
  if (!a || a.exitCode !== null || a.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => a.once('exit', () => resolve()));
  a.kill('SIGTERM');
  const killer = setTimeout(() => a.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
}

const logs = () => `agent:\n${agentLog.slice(-3000)}\nserver:\n${server.logs().slice(-2000)}`;

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await server.kubectl([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

const POD = 'edge-pod';

describe('a second agent in a network namespace', () => {
  before(async () => {
    netns = await makeNetnsNode('skiff-join');
    subnet = await reservePodSubnet();
    podCidr = `198.18.${subnet.octet}.0/24`;
    // The API server listens on the veth address so the netns can reach it; no local node.
    server = await startTestServer({ args: ['--bind-address', netns.hostIP], readyTimeoutMs: 120_000 });
    token = (await readFile(join(server.dataDir, 'server', 'token'), 'utf8')).trim();
    agentData = await agentDataWithBusybox('skiff-e2e-agent-');
  });

  after(async () => {
    await stopAgent();
    await netns?.cleanup(agentData ? [agentData] : []);
    await server?.stop();
    await subnet?.release();
    if (agentData) await rm(agentData, { recursive: true, force: true });
  });

  test('the server writes a full token; an agent whose token names another CA refuses to join', async () => {
    assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
    const wrong = token.replace(/^K10[0-9a-f]{64}/, `K10${'0'.repeat(64)}`);
    const r = await exec('nsenter', agentArgs(wrong, join(agentData, 'never')));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /token CA hash does not match the Cluster CA certificate hash/);
  });

  test('the agent joins with node certificates from the cluster CA, its labels and its taint', async () => {
    agent = startAgent();
    let node: Node | undefined;
    await eventually(
      'the netns node Ready',
      async () => {
        node = await getJson<Node>(['get', 'node', NODE]);
        return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      },
      90_000,
      logs,
    );
    assert.equal(node?.metadata?.labels?.['skiff.dev/pool'], 'edge');
    assert.equal(node?.metadata?.labels?.['node-role.kubernetes.io/control-plane'], undefined);
    assert.deepEqual(node?.spec?.taints, [{ key: 'skiff.dev/edge', value: 'true', effect: 'NoSchedule' }]);
    assert.equal(node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, netns!.nodeIP);
    const ca = new X509Certificate(await readFile(join(server.dataDir, 'server', 'tls', 'ca.crt')));
    const client = new X509Certificate(await readFile(join(agentData, 'agent', 'client-kubelet.crt')));
    assert.equal(client.subject, `O=system:nodes\nCN=system:node:${NODE}`);
    assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey));
    const serving = new X509Certificate(await readFile(join(agentData, 'agent', 'serving-kubelet.crt')));
    assert.equal(serving.subjectAltName, `DNS:${NODE}, IP Address:${netns!.nodeIP}`);
    assert.ok(serving.checkIssued(ca));
    assert.doesNotMatch(agentLog, /not verified/);
    // Another machine with the token but without this node's password cannot take its name (k3s's node-passwd).
    const impostor = await exec('nsenter', agentArgs(token, join(agentData, 'impostor')));
    assert.equal(impostor.code, 1, impostor.out);
    assert.match(impostor.out, /Node password rejected/);
  });

  test('a node certificate may modify its own Node but not another node, nor write what nodes may not', async () => {
    const created = await server.kubectl(['apply', '-f', '-'], {
      stdin: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `${NODE}-other` } }),
    });
    assert.equal(created.code, 0, created.stderr);
    const b64 = async (f: string) => (await readFile(join(agentData, 'agent', f))).toString('base64');
    const kubeconfig = join(agentData, 'node-kubeconfig.yaml');
    await writeFile(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: server.url, 'certificate-authority-data': await b64('server-ca.crt') } }],
        users: [{ name: 'node', user: { 'client-certificate-data': await b64('client-kubelet.crt'), 'client-key-data': await b64('client-kubelet.key') } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'node' } }],
        'current-context': 'c',
      }),
    );
    const other = await server.kubectl(['label', 'node', `${NODE}-other`, 'hijacked=yes'], { kubeconfig });
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, new RegExp(`node "${NODE}" is not allowed to modify node "${NODE}-other"`));
    const own = await server.kubectl(['label', 'node', NODE, 'skiff.dev/checked=yes'], { kubeconfig });
    assert.equal(own.code, 0, own.stderr);
    const untaint = await server.kubectl(['taint', 'node', NODE, 'skiff.dev/edge-'], { kubeconfig });
    assert.notEqual(untaint.code, 0);
    assert.match(untaint.stderr, /is not allowed to modify taints/);
    // Writes outside upstream's system:node role are refused; so are reads of objects none of its pods references
    // (the node authorizer's graph), while the role's other reads pass.
    const cm = await server.kubectl(['create', 'configmap', 'from-a-node'], { kubeconfig });
    assert.notEqual(cm.code, 0);
    assert.match(cm.stderr, new RegExp(`User "system:node:${NODE}" cannot create resource "configmaps" in API group "" in the namespace "default"`));
    const list = await server.kubectl(['get', 'configmaps'], { kubeconfig });
    assert.notEqual(list.code, 0);
    assert.match(list.stderr, new RegExp(`User "system:node:${NODE}" cannot list resource "configmaps" in API group "" in the namespace "default": No Object name found`));
    assert.equal((await server.kubectl(['get', 'services'], { kubeconfig })).code, 0);
    assert.equal((await server.kubectl(['delete', 'node', `${NODE}-other`])).code, 0);
  });

  test('a pod scheduled to the netns node runs, and kubectl logs and exec reach its kubelet', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: 'default' },
      spec: {
        nodeSelector: { 'skiff.dev/pool': 'edge' },
        tolerations: [{ key: 'skiff.dev/edge', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: 'busybox',
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo $RANDOM$RANDOM$RANDOM > /tmp/boot; echo hello from the netns node; while true; do sleep 1; done'],
          },
        ],
      },
    };
    const r = await server.kubectl(['apply', '-f', '-'], { stdin: stringify(pod) });
    assert.equal(r.code, 0, r.stderr);
    let p: Pod | undefined;
    await eventually('the pod Running on the netns node', async () => {
      p = await getJson<Pod>(['get', 'pod', POD]);
      return p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready === true;
    }, 90_000, logs);
    assert.equal(p?.spec?.nodeName, NODE);
    assert.equal(p?.status?.hostIP, netns!.nodeIP);
    assert.ok(p?.status?.podIP?.startsWith(podCidr.replace(/0\/24$/, '')), p?.status?.podIP);
    await eventually('kubectl logs', async () => (await server.kubectl(['logs', POD])).stdout.includes('hello from the netns node'), 30_000, logs);
    const ex = await server.kubectl(['exec', POD, '--', 'sh', '-c', 'echo exec-ok; hostname']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, `exec-ok\n${POD}\n`);
  });

  test('a restarted agent adopts the running container (same containerID, restartCount, process) and keeps its certificates', async () => {
    const before = await getJson<Pod>(['get', 'pod', POD]);
    const status = before?.status?.containerStatuses?.[0];
    assert.ok(status?.containerID);
    const boot = (await server.kubectl(['exec', POD, '--', 'cat', '/tmp/boot'])).stdout;
    assert.match(boot, /^\d+\n$/);
    const clientCert = await readFile(join(agentData, 'agent', 'client-kubelet.crt'), 'utf8');
    const servingCert = await readFile(join(agentData, 'agent', 'serving-kubelet.crt'), 'utf8');

    await stopAgent();
    const started = agentLog.length;
    agent = startAgent();
    await eventually('the restarted kubelet', async () => agentLog.slice(started).includes('skiff agent is running'), 90_000, logs);
    // Its kubelet API answers again (exec goes through it), and the container is the one from before.
    await eventually('exec after the restart', async () => (await server.kubectl(['exec', POD, '--', 'cat', '/tmp/boot'])).code === 0, 60_000, logs);
    assert.equal((await server.kubectl(['exec', POD, '--', 'cat', '/tmp/boot'])).stdout, boot);
    const after = await getJson<Pod>(['get', 'pod', POD]);
    const s2 = after?.status?.containerStatuses?.[0];
    assert.equal(s2?.containerID, status.containerID);
    assert.equal(s2?.restartCount, status.restartCount);
    assert.equal(after?.status?.phase, 'Running');
    assert.equal(after?.status?.podIP, before?.status?.podIP);
    assert.equal(await readFile(join(agentData, 'agent', 'client-kubelet.crt'), 'utf8'), clientCert);
    assert.equal(await readFile(join(agentData, 'agent', 'serving-kubelet.crt'), 'utf8'), servingCert);
    const logsAfter = (await server.kubectl(['logs', POD])).stdout;
    assert.equal(logsAfter.match(/hello from the netns node/g)?.length, 1);
  });
});
