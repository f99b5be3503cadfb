// Configuration into real containers (the local node on containerd, busybox images built offline, the real kubectl):
// env from ConfigMaps and Secrets, configMap/secret/emptyDir/downwardAPI/PVC volumes with items, modes and subPath,
// a ConfigMap change reaching a running pod's volume, the managed /etc/hosts, CreateContainerConfigError, and static
// pods with their mirror pods. One server for every case; `skiff killall` cleans up in stop().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { startAgentNode, type AgentNode } from './agent-node.js';
import { eventually, type TestServer } from './harness.js';

const NODE = `e2e-kcfg-${process.pid}`;

let agent: AgentNode;
let server: TestServer;
const logs = () => agent.logs();
const getPod = (name: string) => agent.getPod(name);
const apply = (yaml: string) => agent.apply(yaml);
let hostDir: string;

async function exec(pod: string, script: string, container?: string): Promise<string> {
  const r = await server.kubectl(['exec', pod, ...(container ? ['-c', container] : []), '--', 'sh', '-c', script]);
  assert.equal(r.code, 0, `${script}: ${r.stderr}`);
  return r.stdout;
}

async function running(name: string): Promise<Pod> {
  let pod: Pod | undefined;
  await eventually(`pod ${name} Running`, async () => (pod = await getPod(name))?.status?.phase === 'Running' && (pod?.status?.containerStatuses ?? []).every((c) => c.ready), 90_000, logs);
  return pod!;
}

before(async () => {
  hostDir = await mkdtemp(join(tmpdir(), 'skiff-pv-'));
  agent = await startAgentNode(NODE);
  server = agent.server;
  await apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {color: blue, size: L, 1st: x}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
stringData: {password: s3cret, user: admin}
`);
});

after(async () => {
  await agent?.stop();
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
});

test('env from a ConfigMap and a Secret (keyRefs, envFrom with prefix), resourceFieldRef; visible in logs and exec', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: envs}
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'env | sort; sleep 3600']
    resources: {limits: {memory: 64Mi}}
    envFrom:
    - {configMapRef: {name: app-config}, prefix: CFG_}
    - {configMapRef: {name: app-config}}
    - {secretRef: {name: missing-secret, optional: true}}
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: app-config, key: color}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
    - {name: OPTIONAL, valueFrom: {configMapKeyRef: {name: app-config, key: nope, optional: true}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: BOTH, value: '$(COLOR)-$(CFG_size)'}
`);
  await running('envs');
  const env = await exec('envs', 'env');
  for (const line of ['COLOR=blue', 'PASSWORD=s3cret', 'CFG_color=blue', 'CFG_size=L', 'MEM_MI=64', 'BOTH=blue-L', 'CFG_1st=x', 'size=L']) assert.match(env, new RegExp(`^${line}$`, 'm'));
  assert.doesNotMatch(env, /OPTIONAL=/);
  await eventually('the logs show the env', async () => /^PASSWORD=s3cret$/m.test((await server.kubectl(['logs', 'envs'])).stdout), 30_000, logs);
  // The key that is no valid name was skipped and reported.
  await eventually(
    'InvalidEnvironmentVariableNames event',
    async () => {
      const r = await server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=envs,reason=InvalidEnvironmentVariableNames', '-o', 'json']);
      const items = (JSON.parse(r.stdout) as { items: Event[] }).items;
      return items.some((e) => e.message === 'Keys [1st] from the EnvFrom configMap default/app-config were skipped since they are considered invalid environment variable names.');
    },
    30_000,
    logs,
  );
});

test('configMap and secret volumes: values, items with paths and modes; a ConfigMap change reaches the running pod', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: vols}
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: items, mountPath: /etc/items}
    - {name: sec, mountPath: /etc/sec, readOnly: true}
  volumes:
  - {name: cfg, configMap: {name: app-config}}
  - name: items
    configMap:
      name: app-config
      defaultMode: 0640
      items: [{key: color, path: nested/colour, mode: 0400}, {key: size, path: size}]
  - {name: sec, secret: {secretName: app-secret, items: [{key: password, path: pw}]}}
`);
  await running('vols');
  assert.equal(await exec('vols', 'cat /etc/cfg/color'), 'blue');
  assert.equal(await exec('vols', 'cat /etc/items/nested/colour; echo; cat /etc/items/size'), 'blue\nL');
  assert.equal(await exec('vols', 'stat -L -c %a /etc/items/nested/colour /etc/items/size'), '400\n640\n');
  assert.equal(await exec('vols', 'cat /etc/sec/pw; ls /etc/sec'), 's3cretpw\n');
  assert.match(await exec('vols', 'ls -a /etc/cfg'), /\.\.data/);
  // Volumes of configMaps are read-only in the container.
  const write = await server.kubectl(['exec', 'vols', '--', 'sh', '-c', 'echo x > /etc/cfg/new']);
  assert.notEqual(write.code, 0);

  await apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {color: green, size: L, 1st: x}
`);
  await eventually('the new value in the volume', async () => (await exec('vols', 'cat /etc/cfg/color')) === 'green', 60_000, logs);
  assert.equal(await exec('vols', 'cat /etc/items/nested/colour'), 'green');
});

test('emptyDir shared by two containers, downwardAPI labels that follow a relabel, memory-backed emptyDir', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: shared, labels: {app: shared, tier: web}}
spec:
  containers:
  - name: writer
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hello > /scratch/msg; sleep 3600']
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: mem, mountPath: /mem}]
  - name: reader
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    volumeMounts: [{name: scratch, mountPath: /shared}, {name: info, mountPath: /info}]
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: name, fieldRef: {fieldPath: metadata.name}}
`);
  await running('shared');
  await eventually('the reader sees the writer file', async () => (await exec('shared', 'cat /shared/msg 2>/dev/null || true', 'reader')) === 'hello\n', 30_000, logs);
  assert.equal(await exec('shared', 'cat /info/labels', 'reader'), 'app="shared"\ntier="web"');
  assert.equal(await exec('shared', 'cat /info/name', 'reader'), 'shared');
  assert.match(await exec('shared', 'grep " /mem " /proc/mounts', 'writer'), /^tmpfs \/mem tmpfs .*size=8192k/);
  const r = await server.kubectl(['label', 'pod', 'shared', 'tier=db', '--overwrite']);
  assert.equal(r.code, 0, r.stderr);
  await eventually('the relabel in the volume', async () => (await exec('shared', 'cat /info/labels', 'reader')) === 'app="shared"\ntier="db"', 60_000, logs);
});

test('a PVC bound to a hostPath PV is mounted, with subPath; /etc/hosts has the pod and its hostAliases', async () => {
  await writeFile(join(hostDir, 'from-host.txt'), 'on the host\n');
  await apply(`
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv-${process.pid}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: ${hostDir}, type: Directory}
  claimRef: {namespace: default, name: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  volumeName: e2e-pv-${process.pid}
`);
  // Without a volume binder in the cluster, bind the pair by hand (what the PV controller would write).
  await eventually(
    'the claim Bound',
    async () => {
      const pvc = await server.kubectl(['get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}']);
      if (pvc.stdout === 'Bound') return true;
      await server.kubectl(['patch', 'pvc', 'data', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Bound"}}']);
      return false;
    },
    30_000,
    logs,
  );
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: claims}
spec:
  hostname: db-0
  subdomain: dbs
  hostAliases:
  - {ip: 198.18.250.1, hostnames: [foo.local, bar.local]}
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo from-pod > /data/written.txt; sleep 3600']
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: data, mountPath: /sub, subPath: nested/dir}
    - {name: cfg, mountPath: /etc/color.conf, subPath: color}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: cfg, configMap: {name: app-config}}
`);
  const pod = await running('claims');
  assert.equal(await exec('claims', 'cat /data/from-host.txt'), 'on the host\n');
  await eventually('the pod wrote through the claim', async () => existsSync(join(hostDir, 'written.txt')), 30_000, logs);
  await exec('claims', 'echo sub > /sub/f');
  assert.ok(existsSync(join(hostDir, 'nested', 'dir', 'f')));
  assert.match(await exec('claims', 'cat /etc/color.conf'), /^(blue|green)$/);
  const hosts = await exec('claims', 'cat /etc/hosts');
  assert.match(hosts, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
  assert.match(hosts, new RegExp(`\\n${pod.status!.podIP!.replace(/\./g, '\\.')}\\tdb-0\\.dbs\\.default\\.svc\\.cluster\\.local\\tdb-0\\n`));
  assert.match(hosts, /\n\n# Entries added by HostAliases\.\n198\.18\.250\.1\tfoo\.local\tbar\.local\n$/);
  assert.equal(await exec('claims', 'cat /etc/hostname'), 'db-0\n');
});

test('a missing ConfigMap holds the container in CreateContainerConfigError until it exists; a missing volume source gives FailedMount', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: needs-config}
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env: [{name: X, valueFrom: {configMapKeyRef: {name: later, key: x}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: needs-volume}
spec:
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600'], volumeMounts: [{name: v, mountPath: /v}]}
  volumes:
  - {name: v, secret: {secretName: nowhere}}
`);
  await eventually(
    'CreateContainerConfigError',
    async () => {
      const w = (await getPod('needs-config'))?.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' && w.message === 'configmap "later" not found';
    },
    60_000,
    logs,
  );
  const get = await server.kubectl(['get', 'pod', 'needs-config']);
  assert.match(get.stdout, /CreateContainerConfigError/);
  await eventually(
    'FailedMount event',
    async () => {
      const r = await server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=needs-volume,reason=FailedMount', '-o', 'jsonpath={.items[*].message}']);
      return r.stdout.includes('MountVolume.SetUp failed for volume "v" : secret "nowhere" not found');
    },
    60_000,
    logs,
  );
  assert.equal((await getPod('needs-volume'))?.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');

  await apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: later}
data: {x: arrived}
`);
  await running('needs-config');
  assert.match(await exec('needs-config', 'env'), /^X=arrived$/m);
});

test('a static pod from the manifests folder runs without the API, is mirrored, updated and removed with its file', async () => {
  const manifests = join(server.dataDir, 'agent', 'pod-manifests');
  await mkdir(manifests, { recursive: true });
  const file = join(manifests, 'static-web.yaml');
  const manifest = (msg: string) => `
apiVersion: v1
kind: Pod
metadata: {name: static-web, labels: {role: static}}
spec:
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo ${msg}; sleep 3600']}
`;
  await writeFile(file, manifest('first'));
  const mirror = `static-web-${NODE}`;
  const pod = await running(mirror);
  assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
  assert.ok(pod.metadata?.annotations?.['kubernetes.io/config.mirror']);
  assert.deepEqual(
    pod.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.controller}`),
    [`Node/${NODE}/true`],
  );
  assert.equal(pod.spec?.nodeName, NODE);
  await eventually('the static pod logs', async () => (await server.kubectl(['logs', mirror])).stdout === 'first\n', 30_000, logs);

  // Deleting the mirror pod does not stop the static pod: the kubelet recreates the mirror.
  const uid = pod.metadata?.uid;
  await server.kubectl(['delete', 'pod', mirror, '--wait=false']);
  await eventually('the mirror pod recreated', async () => {
    const p = await getPod(mirror);
    return !!p && p.metadata?.uid !== uid && p.metadata?.deletionTimestamp === undefined;
  }, 60_000, logs);

  // A changed file replaces the pod.
  await writeFile(file, manifest('second'));
  await eventually('the updated static pod', async () => (await server.kubectl(['logs', mirror])).stdout === 'second\n', 90_000, logs);

  // Removing the file removes the pod and its mirror.
  await rm(file);
  await eventually('the mirror pod gone', async () => (await getPod(mirror)) === undefined, 90_000, logs);
});
