// The mirroring controller against an in-process API: a selector-less Service's Endpoints get a mirrored slice that
// follows their changes; a selector on the Service, or the Endpoints going away, removes it; a slice deleted by
// someone else comes back; the apiserver's own "kubernetes" Endpoints (skip-mirror) are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { runControllerUnderTest } from '../testing/in-process-api.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring-controller.js';

test('mirrors Endpoints of selector-less services and cleans up', async () => {
  const t = await runControllerUnderTest((ctx) => new EndpointSliceMirroringController(ctx));
  try {
    const c = t.client;
    await c.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const svcs = c.resource<Service>({ group: '', version: 'v1', resource: 'services' });
    const eps = c.resource<Endpoints>({ group: '', version: 'v1', resource: 'endpoints' });
    const slices = c.resource<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    const mirrored = async () => (await slices.list({ namespace: 'ns', labelSelector: 'kubernetes.io/service-name=ext' })).items;

    await svcs.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } });
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: 'ns' }, subsets: [{ addresses: [{ ip: '198.18.7.1' }], ports: [{ port: 80 }] }] });
    const [first] = await eventually('a mirrored slice', async () => ((await mirrored()).length === 1 ? mirrored() : undefined));
    assert.equal(first.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.deepEqual(first.endpoints?.map((e) => e.addresses[0]), ['198.18.7.1']);

    const ep = await eps.get('ext', { namespace: 'ns' });
    await eps.update({ ...ep, subsets: [{ addresses: [{ ip: '198.18.7.1' }, { ip: '198.18.7.2' }], ports: [{ port: 80 }] }] }, { namespace: 'ns' });
    await eventually('the second address mirrored', async () => (await mirrored())[0]?.endpoints?.length === 2);
    assert.equal((await mirrored())[0].metadata?.name, first.metadata?.name, 'updated in place');

    await slices.delete(first.metadata?.name ?? '', { namespace: 'ns' });
    await eventually('a deleted slice comes back', async () => (await mirrored()).some((s) => s.metadata?.name !== first.metadata?.name));

    const svc = await svcs.get('ext', { namespace: 'ns' });
    await svcs.update({ ...svc, spec: { ...svc.spec, selector: { app: 'x' } } }, { namespace: 'ns' });
    await eventually('a selector removes the mirrored slices', async () => (await mirrored()).length === 0);

    const again = await svcs.get('ext', { namespace: 'ns' });
    await svcs.update({ ...again, spec: { ...again.spec, selector: undefined } }, { namespace: 'ns' });
    await eventually('mirrored again without the selector', async () => (await mirrored()).length === 1);
    await eps.delete('ext', { namespace: 'ns' });
    await eventually('deleting the Endpoints removes the slice', async () => (await mirrored()).length === 0);

    const kube = await slices.list({ namespace: 'default', labelSelector: 'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io' });
    assert.equal(kube.items.length, 0, 'the kubernetes Endpoints carry skip-mirror');
  } finally {
    await t.stop();
  }
});
