// The mirroring plan: one slice per address type and port set, ready and not-ready addresses, invalid IPs and the
// per-subset limit counted, unchanged slices left alone, label/annotation changes and recycled slices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { reconcileMirror, shouldMirror } from './reconciler.js';

const endpoints = (subsets: Endpoints['subsets'], labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'ext', namespace: 'ns', uid: 'u1', labels, annotations },
  subsets,
});

test('addresses of both families and readiness map to one slice per address type and ports', () => {
  const ep = endpoints(
    [
      { addresses: [{ ip: '198.18.1.1', nodeName: 'n1' }, { ip: '2001:db8::0001' }], notReadyAddresses: [{ ip: '198.18.1.2', hostname: 'h' }], ports: [{ name: 'http', port: 80 }] },
      { addresses: [{ ip: 'not-an-ip' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    ],
    { team: 'a' },
    { note: 'x', 'endpoints.kubernetes.io/last-change-trigger-time': 't', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  );
  const plan = reconcileMirror(ep, []);
  assert.equal(plan.invalidAddresses, 1);
  assert.equal(plan.addressesSkipped, 1);
  assert.deepEqual(plan.update, []);
  assert.deepEqual(plan.delete, []);
  assert.equal(plan.create.length, 2, 'IPv4 and IPv6 for the http ports; nothing for the subset whose only address is invalid');
  const v4 = plan.create.find((s) => s.addressType === 'IPv4')!;
  assert.deepEqual(v4.endpoints, [
    { addresses: ['198.18.1.1'], conditions: { ready: true }, nodeName: 'n1' },
    { addresses: ['198.18.1.2'], conditions: { ready: false }, hostname: 'h' },
  ]);
  assert.deepEqual(v4.ports, [{ name: 'http', port: 80, protocol: 'TCP' }]);
  assert.equal(v4.metadata?.generateName, 'ext-');
  assert.deepEqual(v4.metadata?.labels, { team: 'a', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
  assert.deepEqual(v4.metadata?.annotations, { note: 'x' });
  assert.deepEqual(v4.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
  const v6 = plan.create.find((s) => s.addressType === 'IPv6')!;
  assert.deepEqual(v6.endpoints?.[0].addresses, ['2001:db8::1'], 'IPs are written in canonical form');
});

test('the per-subset limit skips the rest; an unchanged slice is left alone; a changed one is updated in place', () => {
  const ep = endpoints([{ addresses: [{ ip: '198.18.1.1' }, { ip: '198.18.1.2' }, { ip: '198.18.1.3' }], ports: [{ port: 80 }] }]);
  const limited = reconcileMirror(ep, [], 2);
  assert.equal(limited.addressesSkipped, 1);
  assert.equal(limited.invalidAddresses, 0);
  assert.equal(limited.create[0].endpoints?.length, 2);

  const created = { ...reconcileMirror(ep, []).create[0] };
  const stored: EndpointSlice = { ...created, metadata: { ...created.metadata, name: 'ext-abc', resourceVersion: '7', generateName: undefined } };
  const same = reconcileMirror(ep, [stored]);
  assert.deepEqual([same.create, same.update, same.delete], [[], [], []]);

  const relabelled = reconcileMirror(endpoints(ep.subsets, { tier: 'b' }), [stored]);
  assert.equal(relabelled.update.length, 1, 'a label change on the Endpoints reaches the slice');
  assert.equal(relabelled.update[0].metadata?.labels?.tier, 'b');

  const fewer = reconcileMirror(endpoints([{ addresses: [{ ip: '198.18.1.1' }], ports: [{ port: 80 }] }]), [stored]);
  assert.equal(fewer.update.length, 1);
  assert.equal(fewer.update[0].metadata?.name, 'ext-abc');
  assert.equal(fewer.update[0].metadata?.resourceVersion, '7');
  assert.deepEqual(fewer.update[0].endpoints?.map((e) => e.addresses[0]), ['198.18.1.1']);
});

test('new ports recycle the old slice; no addresses delete it; skip-mirror and leader records are not mirrored', () => {
  const ep = endpoints([{ addresses: [{ ip: '198.18.1.1' }], ports: [{ port: 80 }] }]);
  const created = reconcileMirror(ep, []).create[0];
  const stored: EndpointSlice = { ...created, metadata: { ...created.metadata, name: 'ext-abc', resourceVersion: '7', generateName: undefined } };
  const moved = reconcileMirror(endpoints([{ addresses: [{ ip: '198.18.1.1' }], ports: [{ port: 8080 }] }]), [stored]);
  assert.deepEqual(moved.create, []);
  assert.deepEqual(moved.delete, []);
  assert.equal(moved.update[0].metadata?.name, 'ext-abc');
  assert.equal(moved.update[0].metadata?.generateName, undefined);
  assert.deepEqual(moved.update[0].ports, [{ name: '', port: 8080, protocol: 'TCP' }]);

  const empty = reconcileMirror(endpoints([]), [stored]);
  assert.deepEqual(empty.delete.map((s) => s.metadata?.name), ['ext-abc']);

  assert.equal(shouldMirror(endpoints([], { 'endpointslice.kubernetes.io/skip-mirror': 'true' })), false);
  assert.equal(shouldMirror(endpoints([], {}, { 'control-plane.alpha.kubernetes.io/leader': '{}' })), false);
  assert.equal(shouldMirror(ep), true);
});
