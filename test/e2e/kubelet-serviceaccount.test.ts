// Service account tokens in real pods: ServiceAccount admission adds the kube-api-access-xxxxx projected volume, the
// kubelet asks serviceaccounts/token (as its node) for a token bound to the pod and writes it with ca.crt and the
// namespace to /var/run/secrets/kubernetes.io/serviceaccount; the token read from inside the container authenticates
// as the pod's service account, and stops doing so once the pod is gone. A projected serviceAccountToken source with
// its own audience and path is written too. The node's certificates last 3 minutes here
// (cluster-signing-duration), so they are renewed while the test runs and must keep working after the first ones
// expired. One agent server serves every case; stop() runs `skiff killall`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { eventually, kubeconfigCredentials, runSkiff, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let work: string;
let caFile: string;
const logs = () => server.logs().slice(-4000);

async function getPod(name: string): Promise<Pod> {
  const r = await server.kubectl(['-n', 'sa', 'get', 'pod', name, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Pod;
}

function asToken(token: string, args: string[]) {
  return server.kubectl(['--server', server.url, '--certificate-authority', caFile, '--token', token, ...args], { kubeconfig: '/dev/null' });
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-sa-'));
  const images = await buildTestImages(join(work, 'images'));
  server = await startTestServer({ agent: true, readyTimeoutMs: 60_000, args: ['--kube-controller-manager-arg', 'cluster-signing-duration=3m'] });
  caFile = join(work, 'ca.crt');
  const ca = (await kubeconfigCredentials(server.kubeconfig)).ca;
  await writeFile(caFile, ca);
  await eventually('busybox imported', async () => (await runSkiff(['images', 'import', '--data-dir', server.dataDir, images.busybox.file])).code === 0, 60_000, logs);
  await server.kubectl(['create', 'namespace', 'sa']);
  await eventually('the robot service account', async () => (await server.kubectl(['-n', 'sa', 'create', 'serviceaccount', 'robot'])).code === 0);
  // RBAC: the pod's token may read what the test asks of it.
  await server.kubectl(['-n', 'sa', 'create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=sa:robot']);
  const r = await server.kubectl(['apply', '-f', '-'], {
    stdin: `apiVersion: v1
kind: Pod
metadata:
  name: app
  namespace: sa
spec:
  serviceAccountName: robot
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3601"]
    volumeMounts:
    - name: vault-token
      mountPath: /vault
  volumes:
  - name: vault-token
    projected:
      sources:
      - serviceAccountToken:
          audience: vault
          expirationSeconds: 7200
          path: vault-token
`,
  });
  assert.equal(r.code, 0, r.stderr);
  const keeper = await server.kubectl(['-n', 'sa', 'run', 'keeper', '--image', 'busybox', '--image-pull-policy', 'IfNotPresent', '--', 'sleep', '3601']);
  assert.equal(keeper.code, 0, keeper.stderr);
  await eventually('pod app running', async () => (await getPod('app')).status?.containerStatuses?.[0]?.state?.running !== undefined, 120_000, logs);
});

after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** kubectl as the local node (its system:node:<name> client certificate from <data-dir>/agent). */
function asNode(args: string[]) {
  const agent = join(server.dataDir, 'agent');
  return server.kubectl(
    ['--server', server.url, '--certificate-authority', caFile, '--client-certificate', join(agent, 'client-kubelet.crt'), '--client-key', join(agent, 'client-kubelet.key'), ...args],
    { kubeconfig: '/dev/null' },
  );
}

test('the node authorizer: a node reads its own pods\' secrets, not those of pods on other nodes', async () => {
  const nodeName = (await getPod('app')).spec?.nodeName ?? '';
  assert.equal((await server.kubectl(['-n', 'sa', 'create', 'secret', 'generic', 'mine', '--from-literal=k=v'])).code, 0);
  assert.equal((await server.kubectl(['-n', 'sa', 'create', 'secret', 'generic', 'theirs', '--from-literal=k=v'])).code, 0);
  const podWithSecret = (name: string, node: string, secret: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: sa
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3601"]
    volumeMounts: [{name: s, mountPath: /s}]
  volumes:
  - name: s
    secret: {secretName: ${secret}}
`;
  // A pod on another node (a Node object with no kubelet behind it) and one on this node.
  assert.equal((await server.kubectl(['create', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Node\nmetadata:\n  name: elsewhere\n' })).code, 0);
  assert.equal((await server.kubectl(['create', '-f', '-'], { stdin: podWithSecret('remote', 'elsewhere', 'theirs') })).code, 0);
  assert.equal((await server.kubectl(['create', '-f', '-'], { stdin: podWithSecret('local', nodeName, 'mine') })).code, 0);

  await eventually('the node to read its pod\'s secret', async () => (await asNode(['-n', 'sa', 'get', 'secret', 'mine', '-o', 'name'])).code === 0, 30_000);
  const theirs = await asNode(['-n', 'sa', 'get', 'secret', 'theirs']);
  assert.notEqual(theirs.code, 0);
  assert.match(
    theirs.stderr,
    new RegExp(`secrets "theirs" is forbidden: User "system:node:${nodeName}" cannot get resource "secrets" in API group "" in the namespace "sa": no relationship found between node '${nodeName}' and this object`),
  );
  // Listing every secret, or pods of the whole cluster, is refused; its own pods (by field selector) are not.
  assert.match((await asNode(['-n', 'sa', 'get', 'secrets'])).stderr, /forbidden/);
  assert.match((await asNode(['get', 'pods', '-A'])).stderr, /can only list\/watch pods with spec.nodeName field selector/);
  const own = await asNode(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${nodeName}`, '-o', 'name']);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /pod\/local/);
  assert.doesNotMatch(own.stdout, /pod\/remote/);
  assert.match((await asNode(['-n', 'sa', 'get', 'pod', 'remote'])).stderr, /no relationship found/);
  // The kubelet itself mounted the secret (it read it with the same credentials).
  await eventually('pod local running', async () => (await getPod('local')).status?.containerStatuses?.[0]?.state?.running !== undefined, 120_000, logs);
  assert.equal((await server.kubectl(['-n', 'sa', 'exec', 'local', '--', 'cat', '/s/k'])).stdout, 'v');
  // Once the pod goes, so does the node's access.
  await server.kubectl(['-n', 'sa', 'delete', 'pod', 'local', '--wait=true', '--timeout=90s']);
  await eventually('access to end with the pod', async () => /no relationship found/.test((await asNode(['-n', 'sa', 'get', 'secret', 'mine'])).stderr), 30_000);
});

test('the kube-api-access volume: a pod-bound token, ca.crt and namespace that authenticate as the pod', async () => {
  const pod = await getPod('app');
  const volume = pod.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
  assert.ok(volume?.projected, 'admission added the kube-api-access volume');
  assert.deepEqual(pod.spec?.containers[0].volumeMounts?.find((m) => m.name === volume.name), {
    name: volume.name,
    readOnly: true,
    mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  });

  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  const read = async (file: string) => {
    const r = await server.kubectl(['-n', 'sa', 'exec', 'app', '--', 'cat', `${dir}/${file}`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  assert.equal(await read('namespace'), 'sa');
  assert.equal(await read('ca.crt'), (await kubeconfigCredentials(server.kubeconfig)).ca);
  const token = (await read('token')).trim();
  const claims = claimsOf(token);
  const k = claims['kubernetes.io'] as { pod: { name: string; uid: string }; node: { name: string }; warnafter: number };
  assert.deepEqual(k.pod, { name: 'app', uid: pod.metadata?.uid });
  assert.equal(k.node.name, pod.spec?.nodeName);
  // 3607 s asked: extended to a year with a warning after the asked lifetime.
  assert.equal((claims.exp as number) - (claims.iat as number), 365 * 24 * 3600);
  assert.equal(k.warnafter - (claims.iat as number), 3607);

  const who = await asToken(token, ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  assert.equal((JSON.parse(who.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username, 'system:serviceaccount:sa:robot');
  const get = await asToken(token, ['-n', 'sa', 'get', 'pod', 'app', '-o', 'name']);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout.trim(), 'pod/app');

  // The extra projected token: its own audience (so not valid for the API server) and path.
  const vault = (await server.kubectl(['-n', 'sa', 'exec', 'app', '--', 'cat', '/vault/vault-token'])).stdout.trim();
  const vaultClaims = claimsOf(vault);
  assert.deepEqual(vaultClaims.aud, ['vault']);
  assert.equal((vaultClaims.exp as number) - (vaultClaims.iat as number), 7200);
  assert.match((await asToken(vault, ['-n', 'sa', 'get', 'pods'])).stderr, /Unauthorized/);

  // Once the pod is gone its token no longer authenticates.
  assert.equal((await server.kubectl(['-n', 'sa', 'delete', 'pod', 'app', '--wait=true', '--timeout=90s'])).code, 0);
  await eventually('the pod token to be refused', async () => /Unauthorized/.test((await asToken(token, ['-n', 'sa', 'get', 'pods'])).stderr), 30_000, logs);
});

test('node certificates are renewed while the agent runs and keep working after the first ones expired', async () => {
  const agent = join(server.dataDir, 'agent');
  const cert = async (file: string) => new X509Certificate(await readFile(join(agent, file), 'utf8'));
  const firstClient = await cert('client-kubelet.crt');
  const firstServing = await cert('serving-kubelet.crt');
  const lifetime = Date.parse(firstClient.validTo) - Date.parse(firstClient.validFrom);
  assert.ok(lifetime < 4 * 60_000, `a short-lived certificate (${lifetime} ms)`);
  const expiry = Math.max(Date.parse(firstClient.validTo), Date.parse(firstServing.validTo));
  // Wait out the first certificates: by then both must have been replaced.
  await eventually('the first certificates to expire', () => Date.now() > expiry + 1000, 5 * 60_000);
  assert.notEqual((await cert('client-kubelet.crt')).serialNumber, firstClient.serialNumber);
  assert.notEqual((await cert('serving-kubelet.crt')).serialNumber, firstServing.serialNumber);
  assert.match(server.logs(), /certificate rotated/);
  const nodeName = (await getPod('keeper')).spec?.nodeName ?? '';
  // The kubelet still talks to the API server (its Lease is renewed after the old client certificate expired) ...
  await eventually(
    'the node lease renewed with the new client certificate',
    async () => {
      const lease = await server.kubectl(['-n', 'kube-node-lease', 'get', 'lease', nodeName, '-o', 'jsonpath={.spec.renewTime}']);
      return lease.code === 0 && Date.parse(lease.stdout) > expiry;
    },
    60_000,
    logs,
  );
  // ... and the API server still talks to the kubelet (exec verifies the renewed serving certificate).
  const exec = await server.kubectl(['-n', 'sa', 'exec', 'keeper', '--', 'echo', 'still-here']);
  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(exec.stdout.trim(), 'still-here');
});
