// The Endpoints and EndpointSlice controllers together against an in-process API: leftover Endpoints without a
// Service are removed at start, selector-less Services keep their hand-made Endpoints, a headless Service's objects
// carry the headless label, --max-endpoints-per-slice splits slices, and a deleted Service takes its Endpoints along.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Namespace, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { SharedInformerFactory, realClock } from '../../client/index.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import type { ControllerContext } from '../manager.js';
import { EndpointsController } from '../endpoint/endpoints-controller.js';
import { EndpointSliceController } from './endpointslice-controller.js';

describe('Endpoints and EndpointSlice controllers against an in-process API', () => {
  let api: InProcessApi;
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  test('leftovers, selector-less and headless services, slice size limit, service deletion', async () => {
    api = await startInProcessApi();
    const client = api.client;
    await client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    await client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' }).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const eps = client.resource<Endpoints>({ group: '', version: 'v1', resource: 'endpoints' });
    const svcs = client.resource<Service>({ group: '', version: 'v1', resource: 'services' });
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const slices = client.resource<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    const addr = { addresses: [{ ip: '198.18.9.9' }], ports: [{ port: 80, protocol: 'TCP' }] };
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'leftover', namespace: 'ns' }, subsets: [addr] });
    await svcs.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } });
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'ns' }, subsets: [addr] });
    for (let i = 1; i <= 5; i++) {
      await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'ns', labels: { app: 'h' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
      await pods.patch(`p${i}`, { status: { podIPs: [{ ip: `198.18.0.${i}` }], conditions: [{ type: 'Ready', status: 'True' }] } }, { namespace: 'ns', type: 'merge', subresource: 'status' });
    }
    await svcs.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'h', namespace: 'ns' }, spec: { clusterIP: 'None', selector: { app: 'h' } } });

    const informers = new SharedInformerFactory(client);
    const ctx: ControllerContext = { client, informers, clock: realClock, log: createLogger('error'), options: { maxEndpointsPerSlice: 2 } };
    const controllers = [new EndpointsController(ctx), new EndpointSliceController(ctx)];
    const abort = new AbortController();
    informers.start();
    const runs = controllers.map((c) => c.run(abort.signal));
    stops.push(async () => {
      abort.abort();
      await Promise.all(runs);
      await informers.shutdown();
    });

    const names = async () => (await eps.list({ namespace: 'ns' })).items.map((e) => e.metadata?.name).sort();
    await eventually('leftover removed, headless Endpoints made', async () => JSON.stringify(await names()) === JSON.stringify(['h', 'manual']));
    assert.deepEqual((await eps.get('manual', { namespace: 'ns' })).subsets, [addr], 'a selector-less service keeps its hand-made Endpoints');
    await eventually('five addresses', async () => (await eps.get('h', { namespace: 'ns' })).subsets?.[0]?.addresses?.length === 5);
    const h = await eps.get('h', { namespace: 'ns' });
    assert.equal(h.metadata?.labels?.['service.kubernetes.io/headless'], '');
    assert.equal(h.subsets?.[0].ports, undefined, 'headless without ports');

    const sizes = async () => (await slices.list({ namespace: 'ns', labelSelector: 'kubernetes.io/service-name=h' })).items.map((s) => s.endpoints?.length ?? 0).sort();
    await eventually('slices of at most 2', async () => JSON.stringify(await sizes()) === JSON.stringify([1, 2, 2]));
    const [one] = (await slices.list({ namespace: 'ns', labelSelector: 'kubernetes.io/service-name=h' })).items;
    assert.equal(one.metadata?.labels?.['service.kubernetes.io/headless'], '');
    assert.equal(one.metadata?.generation, 1);

    await svcs.delete('h', { namespace: 'ns' });
    await eventually('Endpoints deleted with the service', async () => JSON.stringify(await names()) === JSON.stringify(['manual']));
  });
});
