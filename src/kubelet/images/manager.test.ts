import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { CriError } from '../cri/client.js';
import { GRPC_STATUS } from '../cri/grpc.js';
import type { AuthConfig, Image, ImageSpec } from '../cri/types.js';
import { ImageManager, pullSecretsFor, type ImageService } from './manager.js';

/** A runtime image service: `images` are present; pulls succeed for `registry` names when `accept` says so. */
class FakeImages implements ImageService {
  readonly images = new Map<string, Image>();
  readonly pulls: { image: string; auth?: AuthConfig }[] = [];
  accept: (image: string, auth?: AuthConfig) => boolean = () => true;

  async imageStatus(spec: ImageSpec): Promise<Image | undefined> {
    return this.images.get(spec.image) ?? [...this.images.values()].find((i) => i.id === spec.image);
  }

  async pullImage(spec: ImageSpec, _sandbox?: unknown, auth?: AuthConfig): Promise<string> {
    this.pulls.push({ image: spec.image, ...(auth ? { auth } : {}) });
    if (!this.accept(spec.image, auth)) {
      throw new CriError('PullImage', GRPC_STATUS.UNKNOWN, `failed to pull and unpack image "${spec.image}": 401 Unauthorized`);
    }
    const id = `sha256:${String(this.images.size).padStart(64, '0')}`;
    this.images.set(spec.image, { id, repoTags: [spec.image], repoDigests: [], size: 1234, pinned: false });
    return id;
  }
}

function setup() {
  const clock = new FakeClock(1_000_000);
  const images = new FakeImages();
  const events: string[] = [];
  const m = new ImageManager({ images, clock, event: (_p, type, reason, message) => events.push(`${type} ${reason} ${message}`) });
  const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
  return { clock, images, events, m, pod };
}

const c = (image: string, imagePullPolicy?: Container['imagePullPolicy']): Container => ({ name: 'c', image, ...(imagePullPolicy ? { imagePullPolicy } : {}) });

test('IfNotPresent pulls a missing image once; Always pulls even when present; Never only uses a present one', async () => {
  const { images, events, m, pod } = setup();
  const first = await m.ensureImageExists(pod, c('127.0.0.1:5000/app:v1'), []);
  assert.equal(first.ok, true);
  assert.deepEqual(events.slice(0, 1), ['Normal Pulling Pulling image "127.0.0.1:5000/app:v1"']);
  assert.match(events[1]!, /^Normal Pulled Successfully pulled image "127.0.0.1:5000\/app:v1" in 0s \(0s including waiting\)\. Image size: 1234 bytes\.$/);
  events.length = 0;
  assert.deepEqual(await m.ensureImageExists(pod, c('127.0.0.1:5000/app:v1'), []), first);
  assert.deepEqual(events, ['Normal Pulled Container image "127.0.0.1:5000/app:v1" already present on machine']);
  assert.equal(images.pulls.length, 1);

  // :latest (the default tag) defaults to Always: pulled again although present.
  await m.ensureImageExists(pod, c('127.0.0.1:5000/app'), []);
  await m.ensureImageExists(pod, c('127.0.0.1:5000/app'), []);
  assert.deepEqual(images.pulls.slice(1).map((p) => p.image), ['127.0.0.1:5000/app:latest', '127.0.0.1:5000/app:latest']);

  events.length = 0;
  const never = await m.ensureImageExists(pod, c('127.0.0.1:5000/missing:v1', 'Never'), []);
  assert.deepEqual(never, { ok: false, reason: 'ErrImageNeverPull', message: 'Container image "127.0.0.1:5000/missing:v1" is not present with pull policy of Never', retryAfterMs: 5000 });
  assert.deepEqual(events, ['Warning ErrImageNeverPull Container image "127.0.0.1:5000/missing:v1" is not present with pull policy of Never']);
  assert.equal((await m.ensureImageExists(pod, c('127.0.0.1:5000/app:v1', 'Never'), [])).ok, true);
});

test('a failed pull is ErrImagePull, then ImagePullBackOff until 10 s pass, then 20 s, per pod and image', async () => {
  const { clock, images, events, m, pod } = setup();
  images.accept = () => false;
  const r1 = await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), []);
  assert.equal(r1.ok, false);
  assert.equal(r1.ok ? '' : r1.reason, 'ErrImagePull');
  assert.equal(r1.ok ? '' : r1.message, 'rpc error: code = Unknown desc = failed to pull and unpack image "127.0.0.1:5000/private:v1": 401 Unauthorized');
  assert.ok(events.includes('Warning Failed Failed to pull image "127.0.0.1:5000/private:v1": rpc error: code = Unknown desc = failed to pull and unpack image "127.0.0.1:5000/private:v1": 401 Unauthorized'));

  clock.step(1000);
  const r2 = await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), []);
  assert.deepEqual(r2, { ok: false, reason: 'ImagePullBackOff', message: 'Back-off pulling image "127.0.0.1:5000/private:v1"', retryAfterMs: 9050 });
  assert.equal(events.at(-1), 'Normal BackOff Back-off pulling image "127.0.0.1:5000/private:v1"');
  assert.equal(images.pulls.length, 1);
  // Another pod is not held by this pod's back-off.
  const other: Pod = { metadata: { name: 'q', namespace: 'ns', uid: 'u2' } };
  assert.equal(((await m.ensureImageExists(other, c('127.0.0.1:5000/private:v1'), [])) as { reason: string }).reason, 'ErrImagePull');

  clock.step(9000);
  assert.equal(((await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), [])) as { reason: string }).reason, 'ErrImagePull');
  clock.step(19_999);
  assert.equal(((await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), [])) as { reason: string }).reason, 'ImagePullBackOff');
  clock.step(1);
  assert.equal(((await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), [])) as { reason: string }).reason, 'ErrImagePull');
  m.forgetPod('u1');
  assert.equal(((await m.ensureImageExists(pod, c('127.0.0.1:5000/private:v1'), [])) as { reason: string }).reason, 'ErrImagePull');
});

test('matching pull secrets are tried in turn until one is accepted; no match pulls anonymously', async () => {
  const { images, m, pod } = setup();
  images.accept = (_i, auth) => auth?.username === 'good';
  const secret = (name: string, key: string, user: string): Secret => ({
    metadata: { name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [key]: { username: user, password: 'pw' } } })).toString('base64') },
  });
  const r = await m.ensureImageExists(pod, c('127.0.0.1:5000/team/app:v1'), [secret('a', '127.0.0.1:5000', 'good'), secret('b', '127.0.0.1:5000/team', 'bad')]);
  assert.equal(r.ok, true);
  assert.deepEqual(images.pulls.map((p) => p.auth?.username), ['bad', 'good']);
  images.pulls.length = 0;
  images.accept = () => true;
  await m.ensureImageExists(pod, c('127.0.0.1:5001/app:v1'), [secret('a', '127.0.0.1:5000', 'good')]);
  assert.deepEqual(images.pulls, [{ image: '127.0.0.1:5001/app:v1' }]);
});

test('an invalid image name is InvalidImageName with an InspectFailed event; missing pull secrets are named in a warning', async () => {
  const { events, m, pod } = setup();
  const r = await m.ensureImageExists(pod, c('Not_Valid'), []);
  assert.deepEqual(r, {
    ok: false,
    reason: 'InvalidImageName',
    message: 'Failed to apply default image tag "Not_Valid": couldn\'t parse image name "Not_Valid": invalid reference format: repository name (library/Not_Valid) must be lowercase',
    retryAfterMs: 5000,
  });
  assert.match(events[0]!, /^Warning InspectFailed Failed to apply default image tag/);

  const withSecrets: Pod = { ...pod, spec: { containers: [], imagePullSecrets: [{ name: 'there' }, { name: 'gone' }, { name: 'gone2' }] } };
  const got = await pullSecretsFor(withSecrets, async (_ns, name) => {
    if (name === 'there') return { metadata: { name } };
    throw new Error('not found');
  }, (_p, type, reason, message) => events.push(`${type} ${reason} ${message}`));
  assert.deepEqual(got.map((s) => s.metadata?.name), ['there']);
  assert.equal(events.at(-1), 'Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone, gone2); attempting to pull the image may not succeed.');
});
