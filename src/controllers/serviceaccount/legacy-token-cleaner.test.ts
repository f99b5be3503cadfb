// The legacy token cleaner against an in-process API server (which records since when it tracks legacy token use),
// driven pass by pass with a FakeClock: nothing before a full clean-up period of tracking; then an unused
// auto-generated token Secret is labelled invalid-since, and deleted a period later; recently used, pod-referenced,
// not-auto-generated (the service account does not list it) and young Secrets are left alone; the flag parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { parseControllerManagerArgs } from '../options.js';
import { buildControllerOn, startInProcessApi } from '../testing/in-process-api.js';
import { LEGACY_TOKEN_TRACKING_CONFIGMAP } from '../../apiserver/auth/serviceaccount.js';
import { formatDate } from '../../machinery/time.js';
import { LegacyTokenCleaner } from './legacy-token-cleaner.js';

const DAY = 86_400_000;
const TYPE = 'kubernetes.io/service-account-token';

test('unused auto-generated token Secrets are marked invalid, then deleted; the others stay', async () => {
  const api = await startInProcessApi();
  const start = Date.now();
  const clock = new FakeClock(start);
  const running = await buildControllerOn(api, (ctx) => new LegacyTokenCleaner(ctx, DAY), { clock });
  try {
    const tracking = await api.client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' }).get(LEGACY_TOKEN_TRACKING_CONFIGMAP, { namespace: 'kube-system' });
    assert.equal(tracking.data?.since, formatDate(start), 'the API server tracks since today');
    const sas = api.client.resource<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    const secrets = api.client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
    const pods = api.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const sa = await sas.create({
      apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' },
      secrets: [{ name: 'unused-token' }, { name: 'used-token' }, { name: 'mounted-token' }],
    });
    const tokenSecret = (name: string, labels: Record<string, string> = {}) =>
      secrets.create({
        apiVersion: 'v1', kind: 'Secret', type: TYPE,
        metadata: { name, namespace: 'default', labels, annotations: { 'kubernetes.io/service-account.name': 'robot', 'kubernetes.io/service-account.uid': sa.metadata!.uid! } },
      });
    await tokenSecret('unused-token');
    await tokenSecret('used-token', { 'kubernetes.io/legacy-token-last-used': formatDate(start + 3 * DAY) });
    await tokenSecret('mounted-token');
    await tokenSecret('not-listed-token');
    await pods.create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: 'default' },
      spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'pause' }], volumes: [{ name: 't', secret: { secretName: 'mounted-token' } }] },
    });
    await running.informers.waitForCacheSync(10_000);
    const labelsOf = async (name: string) => (await secrets.get(name, { namespace: 'default' })).metadata?.labels ?? {};
    const cacheHas = (check: () => boolean) => new Promise<void>((resolve) => {
      const poll = () => (check() ? resolve() : setTimeout(poll, 10));
      poll();
    });
    await cacheHas(() => running.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' }).indexer.list().length === 1 &&
      running.informers.informerFor<Secret>({ group: '', version: 'v1', resource: 'secrets' }).indexer.list().filter((s) => s.type === TYPE).length === 4);

    // Tracking began today: nothing happens before a whole period after the next day.
    clock.step(DAY);
    await running.controller.evaluate();
    assert.equal((await labelsOf('unused-token'))['kubernetes.io/legacy-token-invalid-since'], undefined);

    clock.step(2 * DAY);
    await running.controller.evaluate();
    const marked = formatDate(start + 3 * DAY);
    assert.equal((await labelsOf('unused-token'))['kubernetes.io/legacy-token-invalid-since'], marked);
    for (const kept of ['used-token', 'mounted-token', 'not-listed-token']) {
      assert.equal((await labelsOf(kept))['kubernetes.io/legacy-token-invalid-since'], undefined, kept);
    }

    // Invalid for less than a period: kept; for longer: deleted.
    await cacheHas(() => !!running.informers.informerFor<Secret>({ group: '', version: 'v1', resource: 'secrets' }).indexer.getByKey('default/unused-token')?.metadata?.labels?.['kubernetes.io/legacy-token-invalid-since']);
    clock.step(DAY / 2);
    await running.controller.evaluate();
    assert.ok(await secrets.get('unused-token', { namespace: 'default' }));
    clock.step(2 * DAY);
    await running.controller.evaluate();
    await assert.rejects(secrets.get('unused-token', { namespace: 'default' }), (e) => isNotFound(e));
    for (const kept of ['used-token', 'mounted-token', 'not-listed-token']) assert.ok(await secrets.get(kept, { namespace: 'default' }), kept);
  } finally {
    await running.stop();
    await api.close();
  }
});

test('--kube-controller-manager-arg legacy-service-account-token-clean-up-period: a positive duration', () => {
  assert.equal(parseControllerManagerArgs(['legacy-service-account-token-clean-up-period=48h']).legacyServiceAccountTokenCleanUpPeriodMs, 2 * DAY);
  assert.throws(() => parseControllerManagerArgs(['legacy-service-account-token-clean-up-period=0s']), /must be greater than 0/);
});
