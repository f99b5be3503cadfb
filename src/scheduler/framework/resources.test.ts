import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { makePod } from '../testing/builders.js';
import { NON_ZERO_DEFAULTS, cachedPodRequests, isExtendedResourceName, isScalarResourceName, podRequests, podResource, sameRequests } from './resources.js';

const c = (name: string, requests: Record<string, string>, restartPolicy?: string): Container => ({
  name,
  resources: { requests },
  ...(restartPolicy ? { restartPolicy } : {}),
});
const pod = (containers: Container[], initContainers: Container[] = [], overhead?: Record<string, string>): Pod => ({
  metadata: { name: 'p' },
  spec: { containers, initContainers, ...(overhead ? { overhead } : {}) },
});
const asStrings = (p: Pod, opts = {}) => Object.fromEntries([...podRequests(p, opts)].map(([k, v]) => [k, v.toString()]));

describe('podRequests (upstream TestPodRequestsAndLimits cases)', () => {
  test('containers are summed', () => {
    assert.deepEqual(asStrings(pod([c('a', { cpu: '1', memory: '1Gi' }), c('b', { cpu: '500m' })])), { cpu: '1500m', memory: '1Gi' });
  });
  test('the larger of the containers and the largest init container wins', () => {
    assert.deepEqual(asStrings(pod([c('a', { cpu: '1' })], [c('i1', { cpu: '2' }), c('i2', { cpu: '1500m', memory: '1Mi' })])), { cpu: '2', memory: '1Mi' });
  });
  test('overhead is added unless excluded', () => {
    const p = pod([c('a', { cpu: '1' })], [], { cpu: '250m', memory: '64Mi' });
    assert.deepEqual(asStrings(p), { cpu: '1250m', memory: '64Mi' });
    assert.deepEqual(asStrings(p, { excludeOverhead: true }), { cpu: '1' });
  });
  test('sidecars add to the containers and to init containers started after them', () => {
    // sidecar 1 cpu, then a regular init container of 2 (runs with the sidecar: 3), then containers 1 (+1 sidecar = 2).
    const p = pod([c('a', { cpu: '1' })], [c('sidecar', { cpu: '1' }, 'Always'), c('init', { cpu: '2' })]);
    assert.deepEqual(asStrings(p), { cpu: '3' });
    // An init container before the sidecar does not overlap it.
    const q = pod([c('a', { cpu: '1' })], [c('init', { cpu: '2' }), c('sidecar', { cpu: '1' }, 'Always')]);
    assert.deepEqual(asStrings(q), { cpu: '2' });
    // Sidecars accumulate: two of 1 each with containers of 1 need 3.
    const r = pod([c('a', { cpu: '1' })], [c('s1', { cpu: '1' }, 'Always'), c('s2', { cpu: '1' }, 'Always')]);
    assert.deepEqual(asStrings(r), { cpu: '3' });
  });
  test('non-missing defaults fill only absent requests, per container', () => {
    const p = pod([c('a', {}), c('b', { cpu: '0' })]);
    assert.deepEqual(asStrings(p, { nonMissingContainerRequests: NON_ZERO_DEFAULTS }), { cpu: '100m', memory: String(400 * 1024 * 1024) });
  });
  test('a malformed quantity is an error naming the resource', () => {
    assert.throws(() => podRequests(pod([c('a', { cpu: 'lots' })])), /invalid quantity for resource "cpu"/);
  });
});

test('podResource: integer totals and non-zero requests', () => {
  const r = podResource(makePod({ requests: [{ cpu: '1500m', memory: '1Ki', 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi' }, {}] }));
  assert.equal(r.requested.milliCPU, 1500);
  assert.equal(r.requested.memory, 1024);
  assert.equal(r.requested.scalarResources.get('example.com/gpu'), 2);
  assert.equal(r.requested.scalarResources.get('hugepages-2Mi'), 4 * 1024 * 1024);
  assert.equal(r.nonZeroMilliCPU, 1600);
  assert.equal(r.nonZeroMemory, 1024 + 200 * 1024 * 1024);
});

test('resource name classes', () => {
  assert.ok(isExtendedResourceName('example.com/foo'));
  assert.ok(!isExtendedResourceName('kubernetes.io/foo'));
  assert.ok(!isExtendedResourceName('cpu'));
  assert.ok(!isExtendedResourceName('requests.example.com/foo'));
  assert.ok(isScalarResourceName('hugepages-1Gi'));
  assert.ok(isScalarResourceName('attachable-volumes-aws-ebs'));
  assert.ok(isScalarResourceName('kubernetes.io/batch'));
  assert.ok(!isScalarResourceName('memory'));
});

describe('requests worked out once per pod object', () => {
  test('podResource and cachedPodRequests answer the same objects for one pod object, fresh ones for another', () => {
    const p = pod([c('a', { cpu: '500m', memory: '1Gi' }), c('b', {})]);
    const r = podResource(p);
    assert.equal(podResource(p), r);
    assert.equal(r.requested.milliCPU, 500);
    assert.equal(r.nonZeroMilliCPU, 600);
    assert.equal(cachedPodRequests(p, true), cachedPodRequests(p, true));
    assert.equal(cachedPodRequests(p, true).get('memory')?.value(), 1024 ** 3 + 200 * 1024 * 1024);
    assert.equal(cachedPodRequests(p, false).get('memory')?.value(), 1024 ** 3);
    const other = pod([c('a', { cpu: '2' })]);
    assert.notEqual(podResource(other), r);
    assert.equal(podResource(other).requested.milliCPU, 2000);
  });

  test('sameRequests compares containers, init containers with their restart policy, and overhead as written', () => {
    const base = () => pod([c('a', { cpu: '1' })], [c('i', { memory: '1Gi' }, 'Always')], { cpu: '10m' });
    const p = base();
    assert.ok(sameRequests(p, base()));
    assert.ok(sameRequests(p, { ...p, spec: { ...p.spec!, nodeName: 'n1' } }));
    assert.equal(sameRequests(p, pod([c('a', { cpu: '2' })], [c('i', { memory: '1Gi' }, 'Always')], { cpu: '10m' })), false);
    assert.equal(sameRequests(p, pod([c('a', { cpu: '1' }), c('b', {})], [c('i', { memory: '1Gi' }, 'Always')], { cpu: '10m' })), false);
    assert.equal(sameRequests(p, pod([c('a', { cpu: '1' })], [c('i', { memory: '1Gi' })], { cpu: '10m' })), false);
    assert.equal(sameRequests(p, pod([c('a', { cpu: '1' })], [c('i', { memory: '1Gi' }, 'Always')])), false);
    assert.equal(sameRequests(p, pod([c('a', { cpu: '1', memory: '1' })], [c('i', { memory: '1Gi' }, 'Always')], { cpu: '10m' })), false);
    // Written differently: treated as a change (only costs working them out again).
    assert.equal(sameRequests(p, pod([c('a', { cpu: '1000m' })], [c('i', { memory: '1Gi' }, 'Always')], { cpu: '10m' })), false);
  });
});
