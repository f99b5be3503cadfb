// Image pulls on a real node (containerd) from a registry the test runs on 127.0.0.1 (test/e2e/registry.ts, HTTPS with
// its own CA given to containerd through --private-registry's registries.yaml): pulls and runs, imagePullSecrets,
// ErrImagePull -> ImagePullBackOff, ErrImageNeverPull, InvalidImageName, a mirror, imagePullPolicy Always against
// IfNotPresent when a tag moves, docker-archive tarballs, and image GC that removes an unused
// pulled image but never the busybox image imported from <data-dir>/agent/images. One server for every case.
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { containerdPaths } from '../../src/kubelet/containerd/supervisor.js';
import { CriClient } from '../../src/kubelet/cri/client.js';
import { BUSYBOX_IMAGE, buildBusyboxImage, buildTestImages } from '../../src/kubelet/images/build.js';
import { eventually, KUBECTL, runSkiff, startTestServer, type TestServer } from './harness.js';
import { startTestRegistry, type TestRegistry } from './registry.js';

const NODE = `e2e-images-${process.pid}`;
/** Images younger than this are not collected (so a fresh pull is not removed before its container exists). */
const GC_MIN_AGE_S = 40;

let server: TestServer;
let registry: TestRegistry;
let work: string;
let cri: CriClient;
let appDigest = '';
let gcDigest = '';
/** docker-archive tarballs (docker save's layout): one in the airgap folder, one for `skiff images import`. */
const AIRGAP_DOCKER_IMAGE = 'docker.io/skiff/airgap-docker:v1';
const CLI_DOCKER_IMAGE = 'docker.io/skiff/cli-docker:v1';
let cliDockerArchive = '';
/** The last pod status a test read, shown with the server's output when a wait fails. */
let lastSeen = '';
const logs = () => `last pod status: ${lastSeen}\n${server.logs().slice(-4000)}`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-e2e-images-'));
  registry = await startTestRegistry({ users: { alice: 'wonderland' } });
  const built = await buildTestImages(join(work, 'images'));
  // Images only the registry has (their own command, so their own image IDs).
  const app = await buildBusyboxImage({ name: 'app', cmd: ['sh', '-c', 'echo hello from the registry; exec sleep 3600'] }, join(work, 'app.tar'));
  const gc = await buildBusyboxImage({ name: 'gc', cmd: ['sh', '-c', 'echo collected soon'] }, join(work, 'gc.tar'));
  const airgapDocker = await buildBusyboxImage({ name: AIRGAP_DOCKER_IMAGE, cmd: ['sh', '-c', 'echo from the airgap docker-archive; exec sleep 3600'], format: 'docker-archive' }, join(work, 'airgap-docker.tar'));
  cliDockerArchive = (await buildBusyboxImage({ name: CLI_DOCKER_IMAGE, cmd: ['sh', '-c', 'echo from skiff images import; exec sleep 3600'], format: 'docker-archive' }, join(work, 'cli-docker.tar'))).file;
  appDigest = await registry.push(app.file, 'test/app', 'v1');
  await registry.push(app.file, 'private/app', 'v1');
  gcDigest = await registry.push(gc.file, 'test/gc', 'v1');
  await writeFile(join(work, 'ca.pem'), registry.caPem);
  await writeFile(
    join(work, 'registries.yaml'),
    `mirrors:\n  registry.test:\n    endpoint: ["https://${registry.host}"]\nconfigs:\n  "${registry.host}":\n    tls:\n      ca_file: ${join(work, 'ca.pem')}\n`,
  );
  // Image GC runs every 2 s here (upstream: 5 min) with thresholds any disk reaches.
  process.env.SKIFF_IMAGE_GC_PERIOD = '2s';
  server = await startTestServer({
    agent: true,
    readyTimeoutMs: 60_000,
    args: [
      '--node-name', NODE,
      '--private-registry', join(work, 'registries.yaml'),
      '--kubelet-arg', 'image-gc-high-threshold=1',
      '--kubelet-arg', 'image-gc-low-threshold=0',
      '--kubelet-arg', `minimum-image-ttl-duration=${GC_MIN_AGE_S}s`,
    ],
    // The busybox archive in the airgap folder: imported at agent start and pinned.
    prepareDataDir: async (dir) => {
      await mkdir(join(dir, 'agent', 'images'), { recursive: true });
      await copyFile(built.busybox.file, join(dir, 'agent', 'images', 'busybox.oci.tar'));
      await copyFile(airgapDocker.file, join(dir, 'agent', 'images', 'airgap-docker.tar'));
    },
  });
  cri = new CriClient(containerdPaths(join(server.dataDir, 'agent')).socket);
  await eventually('node Ready', async () => (await server.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', 90_000, logs);
});

after(async () => {
  delete process.env.SKIFF_IMAGE_GC_PERIOD;
  cri?.close();
  await server?.stop();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function apply(yaml: string): Promise<void> {
  const r = await server.kubectl(['apply', '-f', '-'], { stdin: yaml });
  assert.equal(r.code, 0, r.stderr);
}

function pod(name: string, image: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
  nodeName: ${NODE}
${extra}  containers:
  - name: c
    image: ${image}
`;
}

async function getPod(name: string): Promise<Pod | undefined> {
  const r = await server.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

async function status(name: string): Promise<ContainerStatus | undefined> {
  const st = (await getPod(name))?.status;
  lastSeen = `${name}: ${JSON.stringify(st)}`;
  if (/Pull/.test(st?.containerStatuses?.[0]?.state?.waiting?.reason ?? '')) lastSeen += `\nevents:\n${(await events(name)).join('\n')}`;
  return st?.containerStatuses?.[0];
}

async function events(name: string): Promise<string[]> {
  const r = await server.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}']);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('a pod whose image only the local registry has pulls it and runs; imageID is the pulled digest', async () => {
  const image = `${registry.host}/test/app:v1`;
  await apply(pod('pulled', image));
  const cs = await eventually('pulled Running', async () => {
    const s = await status('pulled');
    return s?.state?.running ? s : undefined;
  }, 90_000, logs);
  assert.equal(cs.imageID, `${registry.host}/test/app@${appDigest}`);
  assert.equal(cs.image, image);
  await eventually('the registry image logs', async () => (await server.kubectl(['logs', 'pulled'])).stdout.includes('hello from the registry'), 30_000, logs);
  const ev = await events('pulled');
  assert.ok(ev.includes(`Normal Pulling: Pulling image "${image}"`), ev.join('\n'));
  assert.ok(ev.some((e) => new RegExp(`^Normal Pulled: Successfully pulled image "${image.replace(/[.]/g, '\\.')}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: \\d+ bytes\\.$`).test(e)), ev.join('\n'));
  assert.ok(registry.requests.some((r) => r.path === `/v2/test/app/blobs/${appDigest}` || r.path.startsWith('/v2/test/app/blobs/')));
});

test('imagePullPolicy Always asks the registry again for an image already present; IfNotPresent does not', async () => {
  const image = `${registry.host}/test/app:v1`;
  const manifestGets = () => registry.requests.filter((r) => r.path === '/v2/test/app/manifests/v1' && r.status === 200).length;
  const before = manifestGets();
  await apply(pod('present', image).replace(`    image: ${image}\n`, `    image: ${image}\n    imagePullPolicy: IfNotPresent\n`));
  await eventually('present running', async () => (await status('present'))?.state?.running !== undefined, 60_000, logs);
  assert.equal(manifestGets(), before, 'IfNotPresent uses the image on the node');
  assert.ok((await events('present')).includes(`Normal Pulled: Container image "${image}" already present on machine`));
  await apply(pod('always', image).replace(`    image: ${image}\n`, `    image: ${image}\n    imagePullPolicy: Always\n`));
  await eventually('always running', async () => (await status('always'))?.state?.running !== undefined, 60_000, logs);
  assert.ok(manifestGets() > before, 'Always resolves the tag at the registry again');
  assert.ok((await events('always')).some((e) => e.startsWith(`Normal Pulled: Successfully pulled image "${image}" in `)), (await events('always')).join('\n'));
  await server.kubectl(['delete', 'pod', 'present', 'always', '--wait=true']);
});

test('a mirror from registries.yaml serves another registry name', async () => {
  await apply(pod('mirrored', 'registry.test/test/app:v1'));
  const cs = await eventually('mirrored Running', async () => {
    const s = await status('mirrored');
    return s?.state?.running ? s : undefined;
  }, 90_000, logs);
  assert.equal(cs.image, 'registry.test/test/app:v1');
});

test('a private image fails with ErrImagePull then ImagePullBackOff without a secret, and runs with one', async () => {
  const image = `${registry.host}/private/app:v1`;
  await apply(pod('nosecret', image));
  // Every status the pod goes through, from a watch (ErrImagePull lasts until the next sync; it comes back with each
  // pull attempt at the end of a back-off, so a watch started now sees it).
  const seen: string[] = [];
  const watch = spawn(KUBECTL, ['--kubeconfig', server.kubeconfig, 'get', 'pod', 'nosecret', '-w', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}{"\\n"}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let buffered = '';
  watch.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    seen.push(...lines.filter((l) => l.trim() !== ''));
  });
  try {
    await eventually('ErrImagePull, then ImagePullBackOff', () => {
      const first = seen.findIndex((l) => l.startsWith('ErrImagePull '));
      return first >= 0 && seen.slice(first).some((l) => l === `ImagePullBackOff Back-off pulling image "${image}"`);
    }, 90_000, () => `${seen.join('\n')}\n${logs()}`);
  } finally {
    watch.kill();
  }
  assert.match(seen.find((l) => l.startsWith('ErrImagePull '))!, /401 Unauthorized/);
  const ev = await events('nosecret');
  assert.ok(ev.some((e) => e.startsWith(`Warning Failed: Failed to pull image "${image}": `)), ev.join('\n'));
  assert.ok(ev.includes('Warning Failed: Error: ErrImagePull'), ev.join('\n'));
  assert.ok(ev.includes(`Normal BackOff: Back-off pulling image "${image}"`), ev.join('\n'));
  assert.ok(registry.requests.some((r) => r.path.startsWith('/v2/private/app/manifests/') && r.status === 401));

  // kubectl's docker-registry secret (kubernetes.io/dockerconfigjson) named in imagePullSecrets.
  const secret = await server.kubectl(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${registry.host}`, '--docker-username=alice', '--docker-password=wonderland']);
  assert.equal(secret.code, 0, secret.stderr);
  await apply(pod('withsecret', image, '  imagePullSecrets: [{name: regcred}]\n'));
  await eventually('withsecret Running', async () => (await status('withsecret'))?.state?.running !== undefined, 90_000, logs);
  assert.ok(registry.requests.some((r) => r.path.startsWith('/v2/private/app/') && r.status === 200 && r.user === 'alice'));
});

test('imagePullPolicy Never with a missing image is ErrImageNeverPull; an invalid name is InvalidImageName', async () => {
  const image = `${registry.host}/test/absent:v1`;
  await apply(pod('never', image).replace(`    image: ${image}\n`, `    image: ${image}\n    imagePullPolicy: Never\n`));
  const w = await eventually('ErrImageNeverPull', async () => {
    const s = await status('never');
    return s?.state?.waiting?.reason === 'ErrImageNeverPull' ? s.state.waiting : undefined;
  }, 60_000, logs);
  assert.equal(w.message, `Container image "${image}" is not present with pull policy of Never`);
  assert.ok(!registry.requests.some((r) => r.path.includes('/test/absent/')), 'Never must not reach the registry');

  await apply(pod('badname', `${registry.host}/Test/App:v1`));
  const bad = await eventually('InvalidImageName', async () => {
    const s = await status('badname');
    return s?.state?.waiting?.reason === 'InvalidImageName' ? s.state.waiting : undefined;
  }, 60_000, logs);
  assert.match(bad.message ?? '', /^Failed to apply default image tag ".*": couldn't parse image name ".*": invalid reference format: repository name \(Test\/App\) must be lowercase$/);
});

test('docker-archive tarballs: one from the airgap folder (imported at start) and one through skiff images import run with imagePullPolicy Never', async () => {
  const r = await runSkiff(['images', 'import', '--data-dir', server.dataDir, cliDockerArchive]);
  assert.equal(r.code, 0, r.out);
  for (const [name, image, says] of [
    ['airgapdocker', AIRGAP_DOCKER_IMAGE, 'from the airgap docker-archive'],
    ['clidocker', CLI_DOCKER_IMAGE, 'from skiff images import'],
  ] as const) {
    await apply(pod(name, image).replace(`    image: ${image}\n`, `    image: ${image}\n    imagePullPolicy: Never\n`));
    await eventually(`${name} running`, async () => (await status(name))?.state?.running !== undefined, 60_000, logs);
    assert.equal((await server.kubectl(['logs', name])).stdout, `${says}\n`);
  }
  assert.ok(!registry.requests.some((req) => req.path.includes('/skiff/')), 'nothing asked the registry');
  await server.kubectl(['delete', 'pod', 'airgapdocker', 'clidocker', '--wait=true']);
});

test('imagePullPolicy Always pulls the tag again (a moved tag gives the next pod the new image); IfNotPresent keeps the image it has', async () => {
  const first = await buildBusyboxImage({ name: 'moving', cmd: ['sh', '-c', 'echo first image; exec sleep 3600'] }, join(work, 'moving-1.tar'));
  const second = await buildBusyboxImage({ name: 'moving', cmd: ['sh', '-c', 'echo second image; exec sleep 3600'] }, join(work, 'moving-2.tar'));
  const image = `${registry.host}/test/moving:v1`;
  const manifestGets = () => registry.requests.filter((r) => r.path.startsWith('/v2/test/moving/manifests/')).length;
  const withPolicy = (name: string, policy: string) => pod(name, image).replace(`    image: ${image}\n`, `    image: ${image}\n    imagePullPolicy: ${policy}\n`);
  const running = (name: string) => eventually(`${name} Running`, async () => {
    const s = await status(name);
    return s?.state?.running ? s : undefined;
  }, 90_000, logs);
  const says = async (name: string, text: string) =>
    eventually(`${name} to log "${text}"`, async () => (await server.kubectl(['logs', name])).stdout === `${text}\n`, 30_000, logs);

  const firstDigest = await registry.push(first.file, 'test/moving', 'v1');
  await apply(withPolicy('always1', 'Always'));
  assert.equal((await running('always1')).imageID, `${registry.host}/test/moving@${firstDigest}`);
  await says('always1', 'first image');

  // The tag moves to another image in the registry.
  const secondDigest = await registry.push(second.file, 'test/moving', 'v1');
  assert.notEqual(secondDigest, firstDigest);

  // IfNotPresent: the node has the tag, so it runs what it has without asking the registry.
  const asked = manifestGets();
  await apply(withPolicy('ifnotpresent', 'IfNotPresent'));
  assert.equal((await running('ifnotpresent')).imageID, `${registry.host}/test/moving@${firstDigest}`);
  await says('ifnotpresent', 'first image');
  assert.equal(manifestGets(), asked, 'IfNotPresent must not reach the registry for a present image');
  assert.ok((await events('ifnotpresent')).includes(`Normal Pulled: Container image "${image}" already present on machine`));

  // Always: pulled again, so the new pod gets the image the tag names now.
  await apply(withPolicy('always2', 'Always'));
  assert.equal((await running('always2')).imageID, `${registry.host}/test/moving@${secondDigest}`);
  await says('always2', 'second image');
  assert.ok(manifestGets() > asked, 'Always asked the registry');
  const ev = await events('always2');
  assert.ok(ev.includes(`Normal Pulling: Pulling image "${image}"`), ev.join('\n'));
  await server.kubectl(['delete', 'pod', 'always1', 'ifnotpresent', 'always2', '--wait=true']);
});

test('image GC removes an unused pulled image but keeps the imported (pinned) busybox, the images skiff images import brought and images in use', async () => {
  const image = `${registry.host}/test/gc:v1`;
  await apply(pod('gc', image, '  restartPolicy: Never\n'));
  await eventually('gc Succeeded', async () => (await getPod('gc'))?.status?.phase === 'Succeeded', 90_000, logs);
  const present = await cri.imageStatus({ image });
  assert.ok(present, 'the pulled image is in containerd');
  // In use by the exited container: kept until the pod is gone.
  const del = await server.kubectl(['delete', 'pod', 'gc', '--wait=true']);
  assert.equal(del.code, 0, del.stderr);
  await eventually('the unused pulled image removed by image GC', async () => (await cri.imageStatus({ image })) === undefined, (GC_MIN_AGE_S + 90) * 1000, logs);
  await eventually('the kubelet to log the removal', () => server.logs().includes('msg="image gc: removed"'), 20_000, logs);
  assert.ok(await cri.imageStatus({ image: BUSYBOX_IMAGE }), 'the imported busybox image is pinned and stays although unused');
  assert.ok(await cri.imageStatus({ image: AIRGAP_DOCKER_IMAGE }), 'so is the airgap folder\'s docker-archive image');
  assert.ok(await cri.imageStatus({ image: CLI_DOCKER_IMAGE }), 'and the one skiff images import brought, unused since its pod went');
  assert.ok(await cri.imageStatus({ image: `${registry.host}/test/app:v1` }), 'an image in use stays');
  assert.ok(registry.requests.some((r) => r.path === `/v2/test/gc/manifests/${gcDigest}` || r.path === '/v2/test/gc/manifests/v1'));
});
