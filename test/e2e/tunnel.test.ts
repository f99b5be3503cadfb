// The agents' reverse tunnel (k3s's remotedialer) with a node the API server cannot reach: `skiff agent` runs in a
// network namespace (netns-node.ts) whose firewall rejects every connection from the host to the kubelet port, while
// the agent reaches the server. The agent opens its tunnel with its node certificate; kubectl logs (-f), exec (-i, -it
// on a pty, exit codes), attach, port-forward (curl through it), cp and top (metrics scraped from the kubelet) then all
// go through it.
// After a server restart the agent reconnects by itself and exec works again. One server and one agent for all cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { stringify } from 'yaml';
import { eventually, KUBECTL, reservePodSubnet, startTestServer, type TestServer } from './harness.js';
import { agentDataWithBusybox, exec, makeNetnsNode, type NetnsNode } from './netns-node.js';

const NODE = `e2e-tunnel-${process.pid}`;
const KUBELET_PORT = 10250;
const POD = 'behind-nat';

let server: TestServer;
let netns: NetnsNode | undefined;
let agentData = '';
let work = '';
let podCidr = '';
let subnet: Awaited<ReturnType<typeof reservePodSubnet>> | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';

const logs = () => `agent:\n${agentLog.slice(-3000)}\nserver:\n${server.logs().slice(-3000)}`;

function startAgent(): ChildProcess {
  const n = netns!;
  const token = join(server.dataDir, 'server', 'token');
  const child = n.spawnSkiff([
    'agent', '--server', `https://${n.hostIP}:${server.port}`, '--token-file', token, '--data-dir', agentData,
    '--node-name', NODE, '--node-ip', n.nodeIP, '--pod-cidr', podCidr,
  ]);
  child.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
  return child;
}

/** What a TCP connection from the host to the node's kubelet port gets: the firewall's reset. */
function dialKubeletFromHost(): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(KUBELET_PORT, netns!.nodeIP);
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function run(cmd: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const kubectlArgs = (args: string[]) => ['--kubeconfig', server.kubeconfig, ...args];

describe('kubelet streams through the agent tunnel when the server cannot reach the node', () => {
  before(async () => {
    netns = await makeNetnsNode('skiff-tunnel');
    // The host may not open connections to the kubelet port; the node may still connect out (and reach itself).
    const fw = await exec('nsenter', netns.inNetns('iptables', '-I', 'INPUT', '-i', netns.vethNs, '-p', 'tcp', '--dport', String(KUBELET_PORT), '-j', 'REJECT', '--reject-with', 'tcp-reset'));
    assert.equal(fw.code, 0, fw.out);
    subnet = await reservePodSubnet();
    podCidr = `198.18.${subnet.octet}.0/24`;
    server = await startTestServer({ args: ['--bind-address', netns.hostIP, '--metric-resolution', '5s'], readyTimeoutMs: 120_000 });
    agentData = await agentDataWithBusybox('skiff-e2e-tunnel-agent-');
    work = await mkdtemp(join(tmpdir(), 'skiff-e2e-tunnel-'));
  });

  after(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      const killer = setTimeout(() => agent?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    await netns?.cleanup(agentData ? [agentData] : []);
    await server?.stop();
    await subnet?.release();
    for (const d of [agentData, work]) if (d) await rm(d, { recursive: true, force: true });
  });

  test('the agent joins and opens its tunnel; the host cannot reach the kubelet port', async () => {
    agent = startAgent();
    await eventually(
      'the node Ready',
      async () => {
        const r = await server.kubectl(['get', 'node', NODE, '-o', 'json']);
        return r.code === 0 && (JSON.parse(r.stdout) as Node).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      },
      120_000,
      logs,
    );
    await eventually('the tunnel', () => server.logs().includes(`msg="node tunnel connected" node=${NODE}`), 60_000, logs);
    assert.equal(await dialKubeletFromHost(), 'ECONNREFUSED');
  });

  test('pods on the node: logs, logs -f, exec -i / -it with exit codes, attach, cp, port-forward with curl', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: 'default' },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'web', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'mkdir -p /www && echo hello-through-the-tunnel > /www/index.html && exec httpd -f -p 8080 -h /www'] },
          { name: 'ticker', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done'] },
        ],
      },
    };
    const reader = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reader', namespace: 'default' },
      spec: {
        nodeName: NODE,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', stdin: true, stdinOnce: true, command: ['sh', '-c', 'while read l; do echo "got:$l"; done; echo stdin-closed'] }],
      },
    };
    const applied = await server.kubectl(['apply', '-f', '-'], { stdin: `${stringify(pod)}---\n${stringify(reader)}` });
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of [POD, 'reader']) {
      await eventually(`${name} Running`, async () => {
        const r = await server.kubectl(['get', 'pod', name, '-o', 'json']);
        return r.code === 0 && (JSON.parse(r.stdout) as Pod).status?.containerStatuses?.every((c) => c.ready) === true;
      }, 120_000, logs);
    }

    await eventually('kubectl logs', async () => (await server.kubectl(['logs', POD, '-c', 'ticker'])).stdout.includes('tick-1'), 60_000, logs);
    // logs -f streams lines that are written after it started.
    const follow = spawn(KUBECTL, kubectlArgs(['logs', '-f', POD, '-c', 'ticker', '--tail', '1']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => (followed += d.toString()));
    follow.stderr.on('data', (d: Buffer) => (followed += d.toString()));
    try {
      await eventually('two new lines through logs -f', () => (followed.match(/tick-\d+/g)?.length ?? 0) >= 3, 60_000, () => followed + logs());
    } finally {
      follow.kill('SIGTERM');
    }

    const ex = await run(KUBECTL, kubectlArgs(['exec', '-i', POD, '-c', 'web', '--', 'sh', '-c', 'wc -c; exit 3']), 'x'.repeat(300_000));
    assert.equal(ex.code, 3, ex.stderr);
    assert.equal(ex.stdout.trim(), '300000');

    // exec -it on a pty (`script`): the terminal size arrives through the resize channel, the exit code comes back.
    const wait = 'for i in $(seq 20); do s=$(stty size 2>/dev/null); case "$s" in [1-9]*" "[1-9]*) break;; esac; sleep 0.5; done; echo "size:$s"; exit 5';
    const tty = [KUBECTL, ...kubectlArgs(['exec', '-it', POD, '-c', 'web', '--', 'sh', '-c', wait])].map((a) => `'${a}'`).join(' ');
    const t = await run('script', ['-qec', `stty rows 33 cols 91; ${tty}`, '/dev/null']);
    assert.match(t.stdout, /size:33 91\r?\n/);
    assert.equal(t.code, 5, t.stdout + t.stderr);

    const attached = await run(KUBECTL, kubectlArgs(['attach', '-i', 'reader']), 'first\nsecond\n');
    assert.equal(attached.code, 0, attached.stderr);
    assert.match(attached.stdout, /got:first\ngot:second\nstdin-closed/);

    const file = join(work, 'blob.bin');
    const blob = randomBytes(400_000);
    await writeFile(file, blob);
    const up = await run(KUBECTL, kubectlArgs(['cp', file, `default/${POD}:/tmp/blob.bin`, '-c', 'web']));
    assert.equal(up.code, 0, up.stderr);
    const sum = await server.kubectl(['exec', POD, '-c', 'web', '--', 'sha256sum', '/tmp/blob.bin']);
    assert.equal(sum.stdout.split(' ')[0], createHash('sha256').update(blob).digest('hex'));
    const down = await run(KUBECTL, kubectlArgs(['cp', `default/${POD}:/tmp/blob.bin`, join(work, 'back.bin'), '-c', 'web']));
    assert.equal(down.code, 0, down.stderr);
    assert.ok((await readFile(join(work, 'back.bin'))).equals(blob));

    const pf = spawn(KUBECTL, kubectlArgs(['port-forward', '--address', '127.0.0.1', `pod/${POD}`, ':8080']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let pfOut = '';
    pf.stdout.on('data', (d: Buffer) => (pfOut += d.toString()));
    pf.stderr.on('data', (d: Buffer) => (pfOut += d.toString()));
    try {
      await eventually('port-forward listening', () => /Forwarding from 127\.0\.0\.1:\d+ -> 8080/.test(pfOut), 60_000, () => pfOut);
      const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pfOut)![1]!;
      for (let i = 0; i < 3; i++) {
        const c = await run('curl', ['-sS', '--max-time', '30', `http://127.0.0.1:${port}/index.html`]);
        assert.equal(c.stdout, 'hello-through-the-tunnel\n', c.stderr + pfOut);
      }
    } finally {
      pf.kill('SIGTERM');
    }
  });

  test('kubectl top shows the node and its pod (the metrics-server scrapes the kubelet through the tunnel)', async () => {
    let nodes = '';
    await eventually('kubectl top node', async () => {
      const r = await server.kubectl(['top', 'node', NODE]);
      nodes = r.stdout;
      return r.code === 0 && new RegExp(`^${NODE}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm').test(nodes);
    }, 90_000, logs);
    let pods = '';
    await eventually('kubectl top pod', async () => {
      const r = await server.kubectl(['top', 'pod', POD, '--containers']);
      pods = r.stdout;
      return r.code === 0 && /^behind-nat\s+ticker\s+\d+m\s+\d+Mi/m.test(pods);
    }, 90_000, logs);
    assert.match(pods, /^behind-nat\s+web\s+\d+m\s+\d+Mi/m);
  });

  test('after a server restart the agent reconnects its tunnel and exec works again', async () => {
    const before = server.logs().length;
    await server.restart();
    await eventually('the tunnel again', () => server.logs().slice(before).includes(`msg="node tunnel connected" node=${NODE}`), 90_000, logs);
    await eventually('exec after the restart', async () => (await server.kubectl(['exec', POD, '-c', 'web', '--', 'cat', '/www/index.html'])).stdout === 'hello-through-the-tunnel\n', 60_000, logs);
    assert.equal(await dialKubeletFromHost(), 'ECONNREFUSED');
  });
});
