// Upstream's EndpointSlice reconciler decisions, pure: endpoints from pods (ready/serving/terminating, zone, node,
// hostname), packing at most N per slice, reuse of existing slices, the placeholder slice, slices of other address
// types or owners deleted, and a create paired with a delete turned into an update.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, newEndpointSlice, podToEndpoint, reconcile, sliceLabels, sliceToFill, type ReconcileInput } from './reconciler.js';

const svc: Service = {
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: { team: 'a' } },
  spec: { selector: { app: 'web' }, clusterIP: '198.19.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

function pod(i: number, opts: { ready?: boolean; deleting?: boolean; node?: string; port?: number } = {}): Pod {
  const ip = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  return {
    metadata: { name: `p${i}`, namespace: 'ns', uid: `uid-${i}`, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: opts.node ?? 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
    status: { phase: 'Running', podIPs: [{ ip }], conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

const nodes: Record<string, Node> = { n1: { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } } };

function input(pods: Pod[], existing: EndpointSlice[] = [], max = 100): ReconcileInput {
  return { service: svc, pods, nodeFor: (n) => nodes[n], existing, maxEndpointsPerSlice: max };
}

let seq = 0;
/** The plan's creates as if the API server had stored them. */
function stored(slices: EndpointSlice[]): EndpointSlice[] {
  return slices.map((s) => ({ ...s, metadata: { ...s.metadata, name: `web-${++seq}`, uid: `slice-${seq}`, generation: 1 } }));
}

describe('podToEndpoint', () => {
  test('conditions: ready only when serving and not terminating, unless publishNotReadyAddresses', () => {
    const ep = podToEndpoint(pod(1), nodes.n1, svc, 'IPv4');
    assert.deepEqual(ep, {
      addresses: ['198.18.0.2'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-1' },
      nodeName: 'n1',
      zone: 'z1',
    });
    assert.deepEqual(podToEndpoint(pod(1, { deleting: true }), undefined, svc, 'IPv4').conditions, { ready: false, serving: true, terminating: true });
    assert.deepEqual(podToEndpoint(pod(1, { ready: false }), undefined, svc, 'IPv4').conditions, { ready: false, serving: false, terminating: false });
    const publish = { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } };
    assert.deepEqual(podToEndpoint(pod(1, { ready: false, deleting: true }), undefined, publish, 'IPv4').conditions, { ready: true, serving: false, terminating: true });
  });
});

describe('reconcile', () => {
  test('a new service gets slices of at most maxEndpointsPerSlice, labelled and owned', () => {
    const plan = reconcile(input(Array.from({ length: 250 }, (_, i) => pod(i))));
    assert.deepEqual(plan.create.map((s) => s.endpoints.length).sort((a, b) => b - a), [100, 100, 50]);
    assert.equal(plan.update.length + plan.delete.length, 0);
    const s = plan.create[0];
    assert.equal(s.metadata?.generateName, 'web-');
    assert.deepEqual(s.metadata?.labels, { team: 'a', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: CONTROLLER_NAME });
    assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(s.addressType, 'IPv4');
  });

  test('unchanged pods change nothing; a changed pod updates only its slice; a new pod goes into the slice it fits', () => {
    const pods = Array.from({ length: 150 }, (_, i) => pod(i));
    const existing = stored(reconcile(input(pods)).create);
    assert.deepEqual(reconcile(input(pods, existing)), { create: [], update: [], delete: [], skipped: [] });
    const changed = [...pods];
    changed[3] = pod(3, { ready: false });
    const p1 = reconcile(input(changed, existing));
    assert.equal(p1.update.length, 1);
    assert.equal(p1.update[0].endpoints.find((e) => e.targetRef?.name === 'p3')?.conditions?.ready, false);
    const p2 = reconcile(input([...pods, pod(150)], existing));
    assert.equal(p2.create.length, 0);
    assert.equal(p2.update.length, 1);
    assert.equal(p2.update[0].endpoints.length, 51, 'the half-full slice takes it');
  });

  test('removed pods empty a slice: it is deleted, or reused for new pods of the same ports', () => {
    const existing = stored(reconcile(input([pod(1), pod(2)], [], 1)).create);
    assert.equal(existing.length, 2);
    const p = reconcile(input([pod(1)], existing, 1));
    assert.equal(p.delete.length, 1);
    // A different port set: the emptied slice's name is reused for the new one instead of delete + create.
    const swapped = reconcile(input([pod(1), pod(3, { port: 9090 })], existing, 1));
    assert.equal(swapped.create.length, 0);
    assert.equal(swapped.delete.length, 0);
    assert.equal(swapped.update.length, 1);
    assert.equal(swapped.update[0].metadata?.name, existing.find((s) => s.endpoints[0].targetRef?.name === 'p2')?.metadata?.name);
    assert.deepEqual(swapped.update[0].ports, [{ name: 'http', port: 9090, protocol: 'TCP' }]);
  });

  test('no pods: one placeholder slice with no ports, kept as is on the next sync', () => {
    const p = reconcile(input([]));
    assert.equal(p.create.length, 1);
    assert.deepEqual(p.create[0].endpoints, []);
    assert.deepEqual(p.create[0].ports, []);
    assert.deepEqual(reconcile(input([], stored(p.create))), { create: [], update: [], delete: [], skipped: [] });
  });

  test('slices of another owner or address type are deleted; pods on unknown nodes are skipped', () => {
    const foreign = { ...newEndpointSlice({ ...svc, metadata: { ...svc.metadata, uid: 'old' } }, [], 'IPv4'), metadata: { name: 'web-old', namespace: 'ns', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old' }] } };
    const v6 = { ...newEndpointSlice(svc, [], 'IPv6'), metadata: { name: 'web-v6', namespace: 'ns' } };
    const p = reconcile(input([pod(1), pod(2, { node: 'gone' })], [foreign, v6] as EndpointSlice[]));
    assert.deepEqual(p.delete.map((s) => s.metadata?.name).sort(), ['web-old', 'web-v6']);
    assert.equal(p.create.length, 1);
    assert.deepEqual(p.create[0].endpoints.map((e) => e.targetRef?.name), ['p1']);
    assert.deepEqual(p.skipped, ['p2']);
  });

  test('service label changes update the slices; the headless label follows the ClusterIP', () => {
    const existing = stored(reconcile(input([pod(1)])).create);
    const relabelled = { ...svc, metadata: { ...svc.metadata, labels: { team: 'b' } } };
    const p = reconcile({ ...input([pod(1)], existing), service: relabelled });
    assert.equal(p.update.length, 1);
    assert.equal(p.update[0].metadata?.labels?.team, 'b');
    const headless = { ...svc, spec: { ...svc.spec, clusterIP: 'None' } };
    assert.equal(sliceLabels(undefined, headless).labels['service.kubernetes.io/headless'], '');
  });

  test('sliceToFill picks the slice the remaining endpoints fill most exactly', () => {
    const s = (n: number) => ({ endpoints: Array.from({ length: n }, () => ({ addresses: [] })), addressType: 'IPv4' }) as EndpointSlice;
    const slices = [s(50), s(90), s(70)];
    assert.equal(sliceToFill(slices, 10, 100), slices[1]);
    assert.equal(sliceToFill(slices, 25, 100), slices[2]);
    assert.equal(sliceToFill(slices, 60, 100), undefined);
  });
});
