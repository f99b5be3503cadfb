// The local node with real containers: `skiff server` runs its kubelet on containerd (Debian's containerd, runc and CNI
// plugins; images built offline from busybox-static), and the real kubectl drives pods through it. Everything the
// agent made (containers, containerd, bridge, mounts) is removed by `skiff killall` in stop().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { containerdPaths } from '../../src/kubelet/containerd/supervisor.js';
import { processesMentioning } from '../../src/kubelet/killall.js';
import { goArch } from '../../src/kubelet/images/build.js';
import { bridgeName } from '../../src/kubelet/network/cni.js';
import { startAgentNode, runSkiff, type AgentNode } from './agent-node.js';
import { eventually, processAlive, type TestServer } from './harness.js';

const NODE = `e2e-kubelet-${process.pid}`;
/** A sleep no other test's container runs: its processes are this file's pods'. */
const MARK_SECONDS = String(4_000_000 + process.pid);

let agent: AgentNode;
let server: TestServer;
const logs = () => agent.logs();
const getPod = (name: string) => agent.getPod(name);
const apply = (yaml: string) => agent.apply(yaml);

before(async () => {
  agent = await startAgentNode(NODE, ['--node-taint', 'skiff.dev/e2e=local:PreferNoSchedule']);
  server = agent.server;
});

after(async () => {
  await agent?.stop();
});

test('the local node registers Ready with capacity, labels, nodeInfo and a renewed Lease', async () => {
  let node: Node | undefined;
  await eventually(
    'node Ready',
    async () => {
      const r = await server.kubectl(['get', 'node', NODE, '-o', 'json']);
      if (r.code !== 0) return false;
      node = JSON.parse(r.stdout) as Node;
      return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    },
    60_000,
    logs,
  );
  assert.equal(node?.metadata?.labels?.['kubernetes.io/hostname'], NODE);
  assert.equal(node?.metadata?.labels?.['node-role.kubernetes.io/control-plane'], 'true');
  assert.equal(node?.status?.capacity?.pods, '110');
  assert.ok(Number(node?.status?.capacity?.cpu) >= 1);
  assert.match(node?.status?.capacity?.memory ?? '', /^\d+Ki$/);
  assert.match(node?.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);
  assert.equal(node?.spec?.podCIDR, server.clusterCidr);
  // --node-taint on the server registers the local node with it.
  assert.deepEqual(node?.spec?.taints, [{ key: 'skiff.dev/e2e', value: 'local', effect: 'PreferNoSchedule' }]);
  const types = (node?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();
  assert.deepEqual(types, ['DiskPressure=False', 'MemoryPressure=False', 'PIDPressure=False', 'Ready=True']);
  const arch = goArch();
  for (const [k, v] of [['kubernetes.io/os', 'linux'], ['kubernetes.io/arch', arch], ['beta.kubernetes.io/os', 'linux'], ['beta.kubernetes.io/arch', arch]]) {
    assert.equal(node?.metadata?.labels?.[k!], v, k);
  }
  assert.match(node?.status?.capacity?.['ephemeral-storage'] ?? '', /^\d+Ki$/);
  assert.equal(node?.status?.allocatable?.pods, '110');
  assert.ok(Number(node?.status?.allocatable?.['ephemeral-storage']) > 0, JSON.stringify(node?.status?.allocatable));
  assert.deepEqual(node?.status?.addresses?.map((a) => a.type), ['InternalIP', 'Hostname']);
  assert.equal(node?.status?.nodeInfo?.operatingSystem, 'linux');
  assert.equal(node?.status?.nodeInfo?.architecture, arch);
  const lease = await server.kubectl(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'jsonpath={.spec.holderIdentity} {.spec.leaseDurationSeconds}']);
  assert.equal(lease.stdout, `${NODE} 40`);
  // Renewed every 10 s (a quarter of its duration).
  const renewTime = async () => (await server.kubectl(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'jsonpath={.spec.renewTime}'])).stdout;
  const first = await renewTime();
  const renewed = await eventually('the Lease renewed', async () => ((await renewTime()) !== first ? renewTime() : undefined), 25_000, logs);
  assert.ok(Date.parse(renewed) > Date.parse(first), `${first} -> ${renewed}`);
  const wide = await server.kubectl(['get', 'nodes', '-o', 'wide']);
  assert.match(wide.stdout, new RegExp(`${NODE}\\s+Ready\\s+control-plane`));
});

test('a pod created with kubectl runs after its init containers, gets a pod IP and serves on it', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
  - {name: first, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'sleep 1']}
  - {name: second, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 0']}
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [httpd, -f, -p, '8080', -h, /etc]
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
`);
  let pod: Pod | undefined;
  await eventually('pod web Running', async () => (pod = await getPod('web'))?.status?.phase === 'Running', 60_000, logs);
  const ip = pod?.status?.podIP ?? '';
  assert.ok(ip.startsWith(server.clusterCidr!.replace(/0\/24$/, '')), `podIP ${ip} in ${server.clusterCidr}`);
  assert.deepEqual(pod?.status?.podIPs, [{ ip }]);
  assert.equal(pod?.status?.hostIP !== undefined, true);
  const [first, second] = pod?.status?.initContainerStatuses ?? [];
  assert.equal(first?.state?.terminated?.reason, 'Completed');
  assert.equal(second?.state?.terminated?.reason, 'Completed');
  const web = pod?.status?.containerStatuses?.[0];
  assert.equal(web?.ready, true);
  assert.match(web?.containerID ?? '', /^containerd:\/\//);
  // Init containers ran in order, and the app only after both.
  const t = (s?: string) => Date.parse(s ?? '');
  assert.ok(t(first?.state?.terminated?.finishedAt) <= t(second?.state?.terminated?.startedAt));
  assert.ok(t(second?.state?.terminated?.finishedAt) <= t(web?.state?.running?.startedAt));
  const conditions = Object.fromEntries((pod?.status?.conditions ?? []).map((c) => [c.type, c.status]));
  assert.deepEqual(conditions, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });

  // The pod answers on its IP from the host, through the agent's bridge (once httpd, just started, listens).
  const fetchHostname = () =>
    new Promise<string>((resolve, reject) => {
      httpGet(`http://${ip}:8080/hostname`, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
  const body = await eventually('httpd answering on the pod IP', () => fetchHostname().catch(() => undefined), 10_000, logs);
  assert.equal(body.trim(), 'web');

  const events = await server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason} {end}']);
  for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) assert.ok(events.stdout.includes(reason), `${reason} in ${events.stdout}`);
});

test('a container exiting non-zero under restartPolicy Always is restarted with CrashLoopBackOff', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo failing; exit 3']}
`);
  let pod: Pod | undefined;
  await eventually(
    'restartCount >= 2 and CrashLoopBackOff',
    async () => {
      pod = await getPod('crash');
      const cs = pod?.status?.containerStatuses?.[0];
      return (cs?.restartCount ?? 0) >= 2 && cs?.state?.waiting?.reason === 'CrashLoopBackOff';
    },
    60_000,
    logs,
  );
  const cs = pod?.status?.containerStatuses?.[0];
  assert.equal(cs?.lastState?.terminated?.exitCode, 3);
  assert.equal(cs?.lastState?.terminated?.reason, 'Error');
  assert.match(cs?.state?.waiting?.message ?? '', /^back-off \d+s restarting failed container=c pod=crash_default\(/);
  assert.equal(pod?.status?.phase, 'Running');
  const get = await server.kubectl(['get', 'pod', 'crash']);
  assert.match(get.stdout, /crash\s+0\/1\s+CrashLoopBackOff\s+\d+ \(.* ago\)/);
});

test('kubectl logs reads container logs through the API server from the kubelet', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'for i in 1 2 3; do echo line $i; done; sleep 2; echo last']}
  - {name: c2, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo from c2']}
`);
  await eventually('talker started', async () => !!(await getPod('talker'))?.status?.containerStatuses?.every((c) => c.containerID), 60_000, logs);
  // -f streams until the container ends.
  const follow = await server.kubectl(['logs', '-f', 'talker', '-c', 'c'], { timeoutMs: 60_000 });
  assert.equal(follow.code, 0, follow.stderr);
  assert.equal(follow.stdout, 'line 1\nline 2\nline 3\nlast\n');
  const tail = await server.kubectl(['logs', 'talker', '-c', 'c', '--tail=2']);
  assert.equal(tail.stdout, 'line 3\nlast\n');
  const stamped = await server.kubectl(['logs', 'talker', '-c', 'c', '--tail=1', '--timestamps']);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z last\n$/);
  // --since-time (whole seconds on the wire): the second 'last' was written in, 2 s after 'line 3'.
  const lastSecond = `${stamped.stdout.slice(0, 19)}Z`;
  assert.equal((await server.kubectl(['logs', 'talker', '-c', 'c', `--since-time=${lastSecond}`])).stdout, 'last\n');
  assert.equal((await server.kubectl(['logs', 'talker', '-c', 'c', '--since=1h'])).stdout, 'line 1\nline 2\nline 3\nlast\n');
  assert.equal((await server.kubectl(['logs', 'talker', '-c', 'c', '--limit-bytes=10'])).stdout, 'line 1\nlin');
  // Every container with kubectl's prefixes (kubectl reads them side by side: each container's lines keep their order).
  const all = await server.kubectl(['logs', 'talker', '--all-containers', '--prefix']);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.split('\n').filter((l) => l !== '');
  assert.deepEqual(lines.filter((l) => l.startsWith('[pod/talker/c] ')), ['[pod/talker/c] line 1', '[pod/talker/c] line 2', '[pod/talker/c] line 3', '[pod/talker/c] last']);
  assert.deepEqual(lines.filter((l) => !l.startsWith('[pod/talker/c] ')), ['[pod/talker/c2] from c2']);
  const bad = await server.kubectl(['logs', 'talker', '-c', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /container nope is not valid for pod talker/);
  // The crash-looping container's previous run.
  const previous = await server.kubectl(['logs', 'crash', '--previous']);
  assert.equal(previous.code, 0, previous.stderr);
  assert.equal(previous.stdout, 'failing\n');
});

test('kubectl exec runs a command in the container: stdout, stderr and the exit code come back', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
`);
  await eventually('shell running', async () => (await getPod('shell'))?.status?.containerStatuses?.[0]?.state?.running !== undefined, 60_000, logs);
  const ok = await server.kubectl(['exec', 'shell', '--', 'sh', '-c', 'cat /etc/hostname; echo oops >&2']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'shell\n');
  assert.match(ok.stderr, /oops/);
  const failed = await server.kubectl(['exec', 'shell', '--', 'sh', '-c', 'exit 7']);
  assert.equal(failed.code, 7);
  assert.match(failed.stderr, /command terminated with exit code 7/);
  const bad = await server.kubectl(['exec', 'shell', '-c', 'nope', '--', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /container nope is not valid for pod shell/);
});

test('deleting pods stops them gracefully: SIGTERM ends a trapping container early, SIGKILL after the grace period otherwise', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: polite}
spec:
  terminationGracePeriodSeconds: 60
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
`);
  await eventually('both running', async () => (await getPod('polite'))?.status?.phase === 'Running' && (await getPod('stubborn'))?.status?.phase === 'Running', 60_000, logs);
  // sleep as PID 1 ignores SIGTERM: it ends only by SIGKILL once its 2 s are up. The trapping shell ends on SIGTERM,
  // long before its 60 s.
  const t0 = Date.now();
  const r = await server.kubectl(['delete', 'pod', 'polite', 'stubborn', '--wait=true', '--timeout=50s'], { timeoutMs: 55_000 });
  const elapsed = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(elapsed < 50_000, `deleted within the grace periods (${elapsed} ms)`);
  assert.equal(await getPod('polite'), undefined);
  assert.equal(await getPod('stubborn'), undefined);
});

test('a Never pod that exits 0 Succeeds and its sandbox is stopped', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo done']}
`);
  let pod: Pod | undefined;
  await eventually('pod Succeeded', async () => (pod = await getPod('once'))?.status?.phase === 'Succeeded', 60_000, logs);
  const cs = pod?.status?.containerStatuses?.[0];
  assert.equal(cs?.state?.terminated?.reason, 'Completed');
  assert.equal(cs?.restartCount, 0);
  await eventually('PodReadyToStartContainers False', async () => (await getPod('once'))?.status?.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status === 'False', 30_000, logs);
});

test('containerd killed under the agent is started again: running pods keep their containers, new pods run', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: marked}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '${MARK_SECONDS}']}
`);
  const before = await eventually('marked running', async () => {
    const p = await getPod('marked');
    return p?.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
  }, 60_000, logs);
  const config = containerdPaths(join(server.dataDir, 'agent')).config;
  const [containerd] = processesMentioning(config);
  assert.ok(containerd, 'the agent runs containerd');
  process.kill(containerd, 'SIGKILL');
  await eventually('a new containerd', async () => processesMentioning(config).some((p) => p !== containerd), 30_000, logs);
  assert.match(server.logs(), /level=warn msg="containerd: exited, starting it again" .*signal=SIGKILL/);
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: afterwards}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '${MARK_SECONDS}']}
`);
  await eventually('a new pod running', async () => !!(await getPod('afterwards'))?.status?.containerStatuses?.[0]?.state?.running, 60_000, logs);
  const after = await getPod('marked');
  assert.equal(after?.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID, 'the container ran on through the restart');
  assert.equal(after?.status?.containerStatuses?.[0]?.restartCount, 0);
  const ex = await server.kubectl(['exec', 'marked', '--', 'true']);
  assert.equal(ex.code, 0, ex.stderr);
});

test('skiff killall stops the agent, every pod container, containerd, its shims and the pod bridge', async () => {
  const paths = containerdPaths(join(server.dataDir, 'agent'));
  const [containerd] = processesMentioning(paths.config);
  const agent = Number(readFileSync(`/proc/${containerd}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  assert.ok(processesMentioning(paths.socket).length > 0, 'shims run');
  assert.equal(processesMentioning(`sleep\0${MARK_SECONDS}`).length, 2, 'both marked containers run');
  const bridge = bridgeName(join(server.dataDir, 'agent'));
  const ip = promisify(execFile);
  await ip('ip', ['link', 'show', bridge]);

  const r = await runSkiff(['killall', '--data-dir', server.dataDir]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`stopping the agent \\(pid ${agent}\\)`));
  assert.equal(processAlive(agent), false, 'the server running the agent has stopped');
  assert.deepEqual(processesMentioning(`sleep\0${MARK_SECONDS}`), [], 'no container process left');
  assert.deepEqual(processesMentioning(paths.config), [], 'no containerd left');
  assert.deepEqual(processesMentioning(paths.socket), [], 'no shim left');
  await assert.rejects(ip('ip', ['link', 'show', bridge]), 'the bridge is gone');
});
