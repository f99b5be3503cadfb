// --container-runtime-endpoint: the local node uses a containerd the test started itself (with the agent's config
// writer, on a socket in a temp dir, its CNI config folder the agent's) instead of starting its own. A pod runs in
// that containerd, the agent wrote no containerd config and ran no containerd of its own, and skiff killall on the
// data dir leaves the outside runtime alone but removes the pod bridge.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerdPaths, startContainerd, type Containerd } from '../../src/kubelet/containerd/supervisor.js';
import { CriClient } from '../../src/kubelet/cri/client.js';
import { buildTestImages, PAUSE_IMAGE } from '../../src/kubelet/images/build.js';
import { killall, processesMentioning } from '../../src/kubelet/killall.js';
import { bridgeName } from '../../src/kubelet/network/cni.js';
import { eventually, runSkiff, startTestServer, type TestServer } from './harness.js';

const run = promisify(execFile);
const NODE = `e2e-runtime-endpoint-${process.pid}`;

let work: string;
/** The outside containerd's own "agent dir" (its root, state and socket live under it). */
let runtimeDir: string;
let runtime: Containerd | undefined;
let server: TestServer;
let cri: CriClient;

const logs = () => server.logs().slice(-4000);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-e2e-cre-'));
  runtimeDir = join(work, 'runtime');
  const images = await buildTestImages(join(work, 'images'));
  server = await startTestServer({
    agent: true,
    readyTimeoutMs: 60_000,
    args: ['--node-name', NODE, '--container-runtime-endpoint', `unix://${containerdPaths(runtimeDir).socket}`],
    // The outside containerd reads its CNI config where this agent writes it (as a host's containerd would be set up
    // for k3s with --container-runtime-endpoint).
    prepareDataDir: async (dataDir) => {
      const agentCni = containerdPaths(join(dataDir, 'agent')).cniConfDir;
      await mkdir(agentCni, { recursive: true });
      await mkdir(join(runtimeDir, 'cni'), { recursive: true });
      await symlink(agentCni, containerdPaths(runtimeDir).cniConfDir);
      runtime = await startContainerd({ agentDir: runtimeDir, sandboxImage: PAUSE_IMAGE, supervise: false });
    },
  });
  cri = new CriClient(runtime!.socket);
  // The data dir too: it records what was imported (kept by image GC).
  const imported = await runSkiff(['images', 'import', '--data-dir', server.dataDir, '--container-runtime-endpoint', `unix://${runtime!.socket}`, images.busybox.file]);
  assert.equal(imported.code, 0, imported.out);
});

after(async () => {
  cri?.close();
  await server?.stop();
  // Everything in the outside containerd, then the containerd and its shims.
  if (runtime) await killall(runtimeDir);
  await runtime?.stop();
  await rm(work, { recursive: true, force: true });
});

async function getPod(name: string): Promise<Pod | undefined> {
  const r = await server.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

test('with --container-runtime-endpoint the node runs pods in that containerd and starts none of its own', async () => {
  const ready = await eventually('node Ready', async () => {
    const r = await server.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.containerRuntimeVersion}']);
    return r.stdout.startsWith('True ') ? r.stdout : undefined;
  }, 90_000, logs);
  assert.equal(ready, `True containerd://${(await cri.version()).runtimeVersion}`);

  const apply = await server.kubectl(['apply', '-f', '-'], {
    stdin: `apiVersion: v1
kind: Pod
metadata: {name: outside}
spec:
  terminationGracePeriodSeconds: 0
  nodeName: ${NODE}
  containers:
  - name: c
    image: busybox
    imagePullPolicy: Never
    command: [sh, -c, 'echo from the outside runtime; exec sleep 3600']
`,
  });
  assert.equal(apply.code, 0, apply.stderr);
  let seen: Pod | undefined;
  const pod = await eventually('outside Running', async () => ((seen = await getPod('outside'))?.status?.phase === 'Running' ? seen : undefined), 90_000, () => `${JSON.stringify(seen?.status)}\n${logs()}`);
  assert.equal((await server.kubectl(['logs', 'outside'])).stdout, 'from the outside runtime\n');
  const exec = await server.kubectl(['exec', 'outside', '--', 'cat', '/proc/1/cmdline']);
  assert.equal(exec.stdout, 'sleep\u00003600\u0000', exec.stderr);

  // The container and its sandbox are the outside containerd's.
  const containerID = pod.status?.containerStatuses?.[0]?.containerID ?? '';
  assert.ok((await cri.listContainers()).some((c) => `containerd://${c.id}` === containerID), `${containerID} in the outside containerd`);
  assert.ok((await cri.listPodSandbox()).some((s) => s.metadata.uid === pod.metadata?.uid));
  // The agent imported its pause image there (the outside config names it as the sandbox image).
  assert.ok(await cri.imageStatus({ image: PAUSE_IMAGE }));

  // No containerd of the agent's: no config written, no process for the data dir's containerd.
  const own = containerdPaths(join(server.dataDir, 'agent'));
  assert.ok(!existsSync(own.config), `${own.config} must not exist`);
  assert.deepEqual(processesMentioning(own.dir), []);
  assert.ok(!server.logs().includes('msg="containerd: running"'), 'the agent started no containerd');

  const del = await server.kubectl(['delete', 'pod', 'outside', '--wait=true']);
  assert.equal(del.code, 0, del.stderr);
  // Stopped there (removed later by container GC, as upstream's kubelet does).
  await eventually('the container stopped in the outside containerd', async () => !(await cri.listContainers()).some((c) => `containerd://${c.id}` === containerID && c.state === 'CONTAINER_RUNNING'), 30_000, logs);
});

test('skiff killall on the data dir removes the pod bridge but leaves the outside containerd running', async () => {
  const bridge = bridgeName(join(server.dataDir, 'agent'));
  await run('ip', ['link', 'show', bridge]);
  await server.stop();
  await assert.rejects(run('ip', ['link', 'show', bridge]), `${bridge} removed`);
  assert.ok(runtime!.process?.exitCode === null && runtime!.process.signalCode === null, 'the outside containerd still runs');
  await cri.version();
});
