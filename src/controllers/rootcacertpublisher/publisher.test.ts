// The root CA publisher against an in-process API: every namespace gets kube-root-ca.crt with the CA, a tampered copy
// is put back, a deleted one comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { runControllerUnderTest } from '../testing/in-process-api.js';
import { ROOT_CA_CONFIGMAP, rootCACertPublisherDescriptor } from './publisher.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('kube-root-ca.crt is published in every namespace and kept as it should be', async () => {
  const t = await runControllerUnderTest(rootCACertPublisherDescriptor.create, { options: { rootCaPem: CA } });
  try {
    const namespaces = t.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    const cms = t.client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const get = async (ns: string) => (await cms.list({ namespace: ns })).items.find((c) => c.metadata?.name === ROOT_CA_CONFIGMAP);
    await eventually('kube-root-ca.crt in default', async () => (await get('default'))?.data?.['ca.crt'] === CA);
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
    await eventually('kube-root-ca.crt in a new namespace', async () => (await get('fresh'))?.data?.['ca.crt'] === CA);
    const published = (await get('fresh'))!;
    assert.match(published.metadata?.annotations?.['kubernetes.io/description'] ?? '', /^Contains a CA bundle/);

    await cms.update({ ...published, data: { 'ca.crt': 'tampered', extra: 'x' } });
    await eventually('the tampered copy to be put back', async () => {
      const cm = await get('fresh');
      return cm?.data?.['ca.crt'] === CA && cm.data.extra === undefined;
    });
    await cms.delete(ROOT_CA_CONFIGMAP, { namespace: 'fresh' });
    await eventually('the deleted copy to come back', async () => (await get('fresh'))?.data?.['ca.crt'] === CA);
  } finally {
    await t.stop();
  }
});
