// The container lifecycle on the local node with real containers (containerd, runc, busybox images built offline) and
// the real kubectl: probes (exec, httpGet, tcpSocket) driving restarts and readiness, lifecycle hooks, termination
// messages, OOM kills, QoS, init containers and graceful termination. One agent server for every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually, type TestServer } from './harness.js';

const NODE = `e2e-lifecycle-${process.pid}`;

let node: AgentNode;
let server: TestServer;
/** A server on the pod network's gateway address (the host side of the agent's bridge) that hooks and pods call. */
let hookServer: Server | undefined;
let hookURL = '';
const hookCalls: string[] = [];

const apply = (yaml: string) => node.apply(yaml);

const events = (name: string) => node.events(name);

const logs = () => node.logs();
const status = (p: Pod | undefined, c: string) => p?.status?.containerStatuses?.find((s) => s.name === c);
const cond = (p: Pod | undefined, type: string) => p?.status?.conditions?.find((c) => c.type === type);

const until = (name: string, what: string, ok: (p: Pod) => boolean, timeoutMs?: number) => node.waitForPod(name, what, ok, timeoutMs);

before(async () => {
  node = await startAgentNode(NODE);
  server = node.server;
  await node.readyNode();
});

after(async () => {
  hookServer?.closeAllConnections();
  hookServer?.close();
  await node?.stop();
});

const busybox = 'image: busybox\n    imagePullPolicy: IfNotPresent';

test('a failing liveness probe kills and restarts the container until CrashLoopBackOff', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    ${busybox}
    command: [sleep, '3600']
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
`);
  const pod = await until('live', 'restarted twice, then in CrashLoopBackOff', (p) => (status(p, 'c')?.restartCount ?? 0) >= 2 && status(p, 'c')?.state?.waiting?.reason === 'CrashLoopBackOff', 150_000);
  const c = status(pod, 'c');
  assert.equal(c?.lastState?.terminated?.exitCode, 137, 'sleep as PID 1 ignores SIGTERM: killed after the 1 s grace');
  const ev = await events('live');
  assert.ok(ev.some((e) => e.startsWith('Unhealthy: Liveness probe failed: cat: can\'t open \'/tmp/healthy\'')), ev.join('\n'));
  assert.ok(ev.includes('Killing: Container c failed liveness probe, will be restarted'), ev.join('\n'));
  assert.ok(ev.some((e) => e.startsWith('BackOff: Back-off restarting failed container c')), ev.join('\n'));
  const get = await server.kubectl(['get', 'pod', 'live']);
  assert.match(get.stdout, /live\s+0\/1\s+CrashLoopBackOff\s+[2-9]/);
});

test("a probe's own terminationGracePeriodSeconds bounds the kill after a liveness failure, not the pod's", async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: probegrace}
spec:
  terminationGracePeriodSeconds: 120
  containers:
  - name: c
    ${busybox}
    command: [sleep, '3600']
    livenessProbe:
      exec: {command: ['false']}
      periodSeconds: 1
      failureThreshold: 1
      terminationGracePeriodSeconds: 2
`);
  const pod = await until('probegrace', 'restarted once', (p) => (status(p, 'c')?.restartCount ?? 0) >= 1, 90_000);
  // sleep as PID 1 ignores SIGTERM: it ran until the SIGKILL at the end of the probe's 2 s, not the pod's 120 s.
  const last = status(pod, 'c')?.lastState?.terminated;
  assert.equal(last?.exitCode, 137);
  const ranMs = Date.parse(last?.finishedAt ?? '') - Date.parse(last?.startedAt ?? '');
  assert.ok(ranMs < 60_000, `ran ${ranMs} ms`);
  const del = await server.kubectl(['delete', 'pod', 'probegrace', '--wait=true', '--grace-period=1', '--timeout=50s'], { timeoutMs: 55_000 });
  assert.equal(del.code, 0, del.stderr);
});

test('readiness probes: a failing one keeps the container and the pod unready, a passing one makes them ready', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  containers:
  - name: good
    ${busybox}
    command: [sh, -c, 'touch /tmp/ready; exec sleep 3600']
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1}
  - name: bad
    ${busybox}
    command: [sleep, '3600']
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
`);
  let pod = await until('ready', 'good ready', (p) => status(p, 'good')?.ready === true && p.status?.phase === 'Running');
  assert.equal(status(pod, 'bad')?.ready, false);
  assert.equal(status(pod, 'bad')?.started, true);
  assert.equal(cond(pod, 'Ready')?.status, 'False');
  assert.equal(cond(pod, 'Ready')?.reason, 'ContainersNotReady');
  assert.equal(cond(pod, 'Ready')?.message, 'containers with unready status: [bad]');
  assert.equal(cond(pod, 'ContainersReady')?.status, 'False');
  assert.ok((await events('ready')).some((e) => e.startsWith('Unhealthy: Readiness probe failed')));
  assert.match((await server.kubectl(['get', 'pod', 'ready'])).stdout, /ready\s+1\/2\s+Running\s+0/);

  // The probe passes from now on: the pod turns ready without a restart.
  const ex = await server.kubectl(['exec', 'ready', '-c', 'bad', '--', 'touch', '/tmp/ready']);
  assert.equal(ex.code, 0, ex.stderr);
  pod = await until('ready', 'Ready', (p) => cond(p, 'Ready')?.status === 'True');
  assert.equal(cond(pod, 'ContainersReady')?.status, 'True');
  assert.equal(status(pod, 'bad')?.ready, true);
  assert.equal(status(pod, 'bad')?.restartCount, 0);

  // And unready again when it fails (failureThreshold 1).
  assert.equal((await server.kubectl(['exec', 'ready', '-c', 'bad', '--', 'rm', '/tmp/ready'])).code, 0);
  pod = await until('ready', 'unready again', (p) => cond(p, 'Ready')?.status === 'False');
  assert.equal(status(pod, 'bad')?.ready, false);
});

test('httpGet and tcpSocket probes against busybox httpd: named ports, 2xx ready, 404 unready; a startup probe gates them', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    ${busybox}
    command: [sh, -c, 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}]
    startupProbe: {tcpSocket: {port: http}, periodSeconds: 1, failureThreshold: 30}
    readinessProbe: {httpGet: {path: /index.html, port: http, httpHeaders: [{name: X-Check, value: 'yes'}]}, periodSeconds: 1}
    livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
  - name: missing
    ${busybox}
    command: [sh, -c, 'mkdir -p /www && exec httpd -f -p 8081 -h /www']
    readinessProbe: {httpGet: {path: /nope, port: 8081}, periodSeconds: 1, failureThreshold: 1}
`);
  const pod = await until('web', 'web ready', (p) => status(p, 'web')?.ready === true);
  assert.equal(status(pod, 'web')?.started, true);
  assert.equal(status(pod, 'missing')?.ready, false);
  assert.equal(status(pod, 'web')?.restartCount, 0, 'liveness GET / (index.html) passes');
  await eventually('404 reported', async () => (await events('web')).some((e) => e === 'Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404'), 30_000, logs);
});

test('a memory hog over its 20Mi limit is OOMKilled (exit 137) and the pod is Guaranteed', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    ${busybox}
    command: [sh, -c, 'x=$(head -c 100000000 /dev/zero | tr "\\\\0" a); echo survived \${#x}']
    resources:
      limits: {memory: 20Mi, cpu: 200m}
`);
  const pod = await until('hog', 'terminated', (p) => !!status(p, 'hog')?.state?.terminated, 120_000);
  const t = status(pod, 'hog')?.state?.terminated;
  assert.equal(t?.reason, 'OOMKilled', JSON.stringify(t));
  assert.equal(t?.exitCode, 137);
  assert.equal(pod.status?.phase, 'Failed');
  assert.equal(pod.status?.qosClass, 'Guaranteed');
});

test('QoS: a Burstable pod runs in kubepods/burstable/pod<uid> with the pod-level limits; oom_score_adj from its request', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  containers:
  - name: c
    ${busybox}
    command: [sleep, '3600']
    resources:
      requests: {memory: 64Mi}
      limits: {memory: 128Mi, cpu: 500m}
`);
  const pod = await until('burst', 'Running', (p) => p.status?.phase === 'Running');
  assert.equal(pod.status?.qosClass, 'Burstable');
  const node = JSON.parse((await server.kubectl(['get', 'node', NODE, '-o', 'json'])).stdout) as Node;
  const capacity = Number(/^(\d+)Ki$/.exec(node.status?.capacity?.memory ?? '')?.[1] ?? 0) * 1024;
  const expected = Math.max(3, Math.min(999, Math.trunc(1000 - (1000 * 64 * 1024 * 1024) / capacity)));
  const r = await server.kubectl(['exec', 'burst', '--', 'cat', '/proc/1/oom_score_adj']);
  assert.equal(r.stdout.trim(), String(expected));

  // The container's cgroups (v1 paths as the host sees them) sit in the pod's, which carries the pod's limits.
  const cg = (await server.kubectl(['exec', 'burst', '--', 'cat', '/proc/1/cgroup'])).stdout;
  const pathOf = (controller: string) => cg.split('\n').map((l) => l.split(':')).find((f) => f[1]?.split(',').includes(controller))?.[2] ?? '';
  const podDir = `kubepods/burstable/pod${pod.metadata?.uid}`;
  const mem = pathOf('memory');
  const cpu = pathOf('cpu');
  assert.ok(mem.includes(`/${podDir}/`), cg);
  assert.ok(cpu.includes(`/${podDir}/`), cg);
  const parent = (p: string) => p.slice(0, p.lastIndexOf('/'));
  const cpuMount = existsSync('/sys/fs/cgroup/cpu/cpu.shares') ? '/sys/fs/cgroup/cpu' : '/sys/fs/cgroup/cpu,cpuacct';
  assert.equal((await readFile(`/sys/fs/cgroup/memory${parent(mem)}/memory.limit_in_bytes`, 'utf8')).trim(), String(128 * 1024 * 1024));
  assert.equal((await readFile(`${cpuMount}${parent(cpu)}/cpu.cfs_quota_us`, 'utf8')).trim(), '50000');
  assert.equal((await readFile(`${cpuMount}${parent(cpu)}/cpu.shares`, 'utf8')).trim(), '512', 'shares from the request (= the limit when only a limit is set)');
  // Deleting the pod removes its cgroup.
  const del = await server.kubectl(['delete', 'pod', 'burst', '--wait=true', '--grace-period=1', '--timeout=50s'], { timeoutMs: 55_000 });
  assert.equal(del.code, 0, del.stderr);
  await eventually('pod cgroup removed', async () => !existsSync(`/sys/fs/cgroup/memory${parent(mem)}`), 30_000, logs);
});

test('terminationMessagePath and FallbackToLogsOnError end up in state.terminated.message', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: msg}
spec:
  restartPolicy: Never
  containers:
  - name: file
    ${busybox}
    command: [sh, -c, 'echo -n "all done" > /dev/termination-log']
  - name: custom
    ${busybox}
    command: [sh, -c, 'echo -n "custom path" > /tmp/msg; exit 4']
    terminationMessagePath: /tmp/msg
  - name: logs
    ${busybox}
    command: [sh, -c, 'echo first; echo "last words"; exit 2']
    terminationMessagePolicy: FallbackToLogsOnError
`);
  const pod = await until('msg', 'all three terminated', (p) => ['file', 'custom', 'logs'].every((c) => !!status(p, c)?.state?.terminated));
  assert.equal(status(pod, 'file')?.state?.terminated?.message, 'all done');
  assert.equal(status(pod, 'custom')?.state?.terminated?.message, 'custom path');
  assert.equal(status(pod, 'custom')?.state?.terminated?.exitCode, 4);
  assert.equal(status(pod, 'logs')?.state?.terminated?.message, 'first\nlast words\n');
});

test('init containers run one after the other before the app; their output is in their logs', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  initContainers:
  - {name: one, ${busybox.replace('\n    ', ', ')}, command: [sh, -c, 'echo init one; sleep 1']}
  - {name: two, ${busybox.replace('\n    ', ', ')}, command: [sh, -c, 'echo init two']}
  containers:
  - {name: app, ${busybox.replace('\n    ', ', ')}, command: [sh, -c, 'echo app; exec sleep 3600']}
`);
  const pod = await until('inits', 'Running', (p) => p.status?.phase === 'Running' && cond(p, 'Initialized')?.status === 'True');
  const [one, two] = pod.status?.initContainerStatuses ?? [];
  const t = (s?: string) => Date.parse(s ?? '');
  assert.ok(t(one?.state?.terminated?.finishedAt) <= t(two?.state?.terminated?.startedAt), 'two starts after one finished');
  assert.ok(t(two?.state?.terminated?.finishedAt) <= t(status(pod, 'app')?.state?.running?.startedAt), 'the app after both');
  assert.equal(one?.ready, true, 'a completed init container is ready');
  assert.equal((await server.kubectl(['logs', 'inits', '-c', 'one'])).stdout, 'init one\n');
  assert.equal((await server.kubectl(['logs', 'inits', '-c', 'two'])).stdout, 'init two\n');
});

test('hooks: postStart runs after the start, preStop runs before SIGTERM, and the pod ends within its grace period', async () => {
  const pod0 = await until('inits', 'an IP', (p) => !!p.status?.podIP);
  // The host side of the bridge: the first address of the node's pod CIDR.
  const gateway = server.clusterCidr!.replace(/0\/24$/, '1');
  assert.ok(pod0.status?.podIP?.startsWith(gateway.replace(/1$/, '')));
  hookServer = createServer((req, res) => {
    hookCalls.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => hookServer!.listen(0, gateway, r));
  const port = (hookServer.address() as { port: number }).port;
  hookURL = `http://${gateway}:${port}`;
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 60
  containers:
  - name: c
    ${busybox}
    command: [sh, -c, 'trap "wget -q -O- ${hookURL}/sigterm; exit 0" TERM; while true; do sleep 1; done']
    lifecycle:
      postStart:
        exec: {command: [sh, -c, 'echo started > /tmp/poststart; wget -q -O- ${hookURL}/poststart']}
      preStop:
        httpGet: {host: ${gateway}, port: ${port}, path: /prestop}
`);
  await until('hooks', 'Running', (p) => p.status?.phase === 'Running');
  assert.equal((await server.kubectl(['exec', 'hooks', '--', 'cat', '/tmp/poststart'])).stdout, 'started\n');
  assert.deepEqual(hookCalls, ['/poststart']);
  const t0 = Date.now();
  const del = await server.kubectl(['delete', 'pod', 'hooks', '--wait=true', '--timeout=55s'], { timeoutMs: 58_000 });
  assert.equal(del.code, 0, del.stderr);
  assert.ok(Date.now() - t0 < 60_000, 'gone within the 60 s grace period (SIGTERM trapped, the shell exits)');
  assert.deepEqual(hookCalls, ['/poststart', '/prestop', '/sigterm'], 'preStop before SIGTERM');
});

test('a failing postStart hook is reported and the container restarted; a pod ignoring SIGTERM is killed at its grace period', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    ${busybox}
    command: [sleep, '3600']
    lifecycle:
      postStart: {exec: {command: [sh, -c, 'exit 3']}}
      preStop: {exec: {command: [sh, -c, 'exit 5']}}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    ${busybox}
    command: [sleep, '3600']
`);
  await until('badhook', 'restarted', (p) => (status(p, 'c')?.restartCount ?? 0) >= 1, 120_000);
  const ev = await events('badhook');
  assert.ok(ev.includes('FailedPostStartHook: PostStartHook failed'), ev.join('\n'));
  assert.ok(ev.includes('Killing: FailedPostStartHook'), ev.join('\n'));
  assert.ok(ev.includes('FailedPreStopHook: PreStopHook failed'), 'the kill runs preStop too');
  // sleep as PID 1 ignores SIGTERM: the grace period ends with SIGKILL, and the pod is gone.
  await until('stubborn', 'Running', (p) => p.status?.phase === 'Running');
  const t0 = Date.now();
  const del = await server.kubectl(['delete', 'pod', 'stubborn', 'badhook', '--wait=true', '--timeout=50s'], { timeoutMs: 55_000 });
  assert.equal(del.code, 0, del.stderr);
  assert.ok(Date.now() - t0 >= 3000, 'SIGKILL only after the 3 s grace period');
});
