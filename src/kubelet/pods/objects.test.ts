import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { startInProcessApi, type InProcessApi } from '../../controllers/testing/in-process-api.js';
import { FakeClock } from '../../client/index.js';
import { isAlreadyExists } from '../../machinery/errors.js';
import { fakeObjects } from './fake-objects.js';
import { ObjectSession, PodConfigError, podObjectRefs, tokenRefreshAfterMs, WatchingObjectSource } from './objects.js';

let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
  const ns = api.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
  await ns.create({ metadata: { name: 'cfg' } }).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  });
});
after(async () => {
  await api?.close();
});

test('ConfigMaps and Secrets from per-object watches: values, changes, late creation, NotFound messages, idle watches stop', async () => {
  const clock = new FakeClock(Date.parse('2026-11-27T02:00:00Z'));
  const src = new WatchingObjectSource(api.client, clock);
  const cms = api.client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
  const secrets = api.client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
  await cms.create({ metadata: { name: 'app', namespace: 'cfg' }, data: { color: 'blue' } });
  await secrets.create({ metadata: { name: 'creds', namespace: 'cfg' }, data: { pw: Buffer.from('x').toString('base64') } });

  assert.equal((await src.configMap('cfg', 'app')).data?.color, 'blue');
  assert.equal((await src.secret('cfg', 'creds')).data?.pw, Buffer.from('x').toString('base64'));
  await assert.rejects(src.configMap('cfg', 'later'), (err: unknown) => err instanceof PodConfigError && err.notFound && err.message === 'configmap "later" not found');
  await assert.rejects(src.secret('cfg', 'nope'), (err: unknown) => err instanceof PodConfigError && err.message === 'secret "nope" not found');
  assert.equal(src.size, 4);

  // The watch delivers changes and objects created after the first read.
  await cms.patch('app', { data: { color: 'green' } }, { type: 'merge', namespace: 'cfg' });
  await cms.create({ metadata: { name: 'later', namespace: 'cfg' }, data: { k: 'v' } });
  await eventually('the change seen', async () => (await src.configMap('cfg', 'app')).data?.color === 'green', 10_000);
  await eventually('the late ConfigMap seen', async () => (await src.configMap('cfg', 'later').catch(() => undefined))?.data?.k === 'v', 10_000);

  // One session reads each object once.
  const session = new ObjectSession(src);
  assert.equal(session.configMap('cfg', 'app'), session.configMap('cfg', 'app'));

  // Watches nobody read for the idle time stop; the one read since stays.
  clock.step(30_000);
  await src.configMap('cfg', 'app');
  clock.step(40_000);
  // A watch a pod still uses stays however long since its last read (pods resync only every --sync-frequency).
  await src.gc(60_000, (key) => key === 'secret/cfg/creds');
  assert.equal(src.size, 2);
  await src.gc(60_000);
  assert.equal(src.size, 1);
  await src.stop();
  assert.equal(src.size, 0);
});

test('service account tokens are reused until 80 % of their lifetime, and forgotten with their pod', async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  const direct = { ...fakeObjects([]), serviceAccountToken: () => Promise.resolve(`token-${++calls}`) };
  const src = new WatchingObjectSource(api.client, clock, direct);
  const opts = { audiences: ['api'], expirationSeconds: 3600, podName: 'p', podUid: 'u1' };
  assert.equal(await src.serviceAccountToken('cfg', 'default', opts), 'token-1');
  clock.step(2000 * 1000);
  assert.equal(await src.serviceAccountToken('cfg', 'default', opts), 'token-1');
  assert.equal(await src.serviceAccountToken('cfg', 'default', { ...opts, audiences: ['other'] }), 'token-2');
  clock.step(900 * 1000); // past 2,880 s of 3,600
  assert.equal(await src.serviceAccountToken('cfg', 'default', opts), 'token-3');
  src.forgetPod('u1');
  assert.equal(await src.serviceAccountToken('cfg', 'default', opts), 'token-4');
  await src.stop();
});

test('token refresh: at 80 % of the lifetime, at most 24 h, less up to 10 s of jitter', () => {
  assert.equal(tokenRefreshAfterMs(3600, 0), 2_880_000);
  assert.equal(tokenRefreshAfterMs(3600, 0.99), 2_871_000);
  // A year-long token is still refreshed after a day.
  assert.equal(tokenRefreshAfterMs(365 * 24 * 3600, 0), 24 * 3600 * 1000);
});

test('podObjectRefs: every ConfigMap/Secret the pod names, or only those its volumes project', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      imagePullSecrets: [{ name: 'pull' }],
      containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'env-cm' } }] }],
      volumes: [
        { name: 'a', secret: { secretName: 's' } },
        { name: 'b', projected: { sources: [{ configMap: { name: 'cm' } }] } },
        { name: 'c', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi' } } },
        { name: 'd', persistentVolumeClaim: { claimName: 'claim' } },
      ],
    },
  };
  assert.deepEqual([...podObjectRefs(pod)].sort(), ['configmap/ns/cm', 'configmap/ns/env-cm', 'secret/ns/csi', 'secret/ns/pull', 'secret/ns/s']);
  assert.deepEqual([...podObjectRefs(pod, true)].sort(), ['configmap/ns/cm', 'secret/ns/s']);
});
