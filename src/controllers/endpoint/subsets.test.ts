// Pods → EndpointSubsets as upstream's Endpoints controller computes them: ready and not-ready addresses, named and
// numeric target ports per pod, publishNotReadyAddresses, terminating and terminal pods, headless services without
// ports, hostnames for the pod's subdomain, repacking by port set, and the 1000-address truncation.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { MAX_ENDPOINTS_CAPACITY, capacityAnnotationSetCorrectly, computeSubsets, repackSubsets, subsetsEqualIgnoringResourceVersion, truncateEndpoints } from './subsets.js';
import { TriggerTimeTracker, findPort, shouldPodBeInEndpoints } from '../endpointutil/endpointutil.js';

function pod(name: string, ip: string | undefined, opts: { ready?: boolean; port?: number; node?: string; phase?: string; deleting?: boolean; hostname?: string; subdomain?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: opts.node,
      hostname: opts.hostname,
      subdomain: opts.subdomain,
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }],
    },
    status: {
      phase: opts.phase ?? 'Running',
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

function service(ports: ServicePort[], extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return { metadata: { name: 'svc', namespace: 'ns' }, spec: { selector: { app: 'a' }, clusterIP: '198.19.0.10', ports, ...extra } };
}

describe('computeSubsets', () => {
  test('ready pods in addresses, unready ones in notReadyAddresses, with the named target port resolved per pod', () => {
    const svc = service([{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const { subsets, ready, notReady } = computeSubsets(svc, [
      pod('a', '198.18.0.2', { port: 8080, node: 'n1' }),
      pod('b', '198.18.0.3', { port: 9090 }),
      pod('c', '198.18.0.4', { ready: false, port: 8080 }),
    ]);
    assert.equal(ready, 2);
    assert.equal(notReady, 1);
    // Different ports: one subset per port set.
    assert.deepEqual(subsets, [
      {
        addresses: [{ ip: '198.18.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '198.18.0.4', targetRef: { kind: 'Pod', namespace: 'ns', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '198.18.0.3', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'web', port: 9090, protocol: 'TCP' }],
      },
    ]);
  });

  test('numeric target ports; pods lacking a named port are left out of that port only', () => {
    const svc = service([
      { name: 'a', port: 80, targetPort: 8000 },
      { name: 'd', port: 53, targetPort: 'dns', protocol: 'UDP' },
      { name: 'x', port: 81, targetPort: 'missing' },
    ]);
    const { subsets } = computeSubsets(svc, [pod('a', '198.18.0.2')]);
    assert.equal(subsets.length, 1);
    assert.deepEqual(subsets[0].ports, [
      { name: 'a', port: 8000, protocol: 'TCP' },
      { name: 'd', port: 53, protocol: 'UDP' },
    ]);
  });

  test('pods without IP, terminal pods and terminating pods are left out; publishNotReadyAddresses keeps terminating and unready ones ready', () => {
    const ports = [{ port: 80, targetPort: 8080 }];
    const pods = [pod('noip', undefined), pod('done', '198.18.0.5', { phase: 'Succeeded' }), pod('term', '198.18.0.6', { deleting: true }), pod('unready', '198.18.0.7', { ready: false })];
    const plain = computeSubsets(service(ports), pods);
    assert.deepEqual(plain.subsets.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip)]), [[undefined, ['198.18.0.7']]]);
    const publish = computeSubsets(service(ports, { publishNotReadyAddresses: true }), pods);
    assert.deepEqual(publish.subsets[0].addresses?.map((a) => a.ip), ['198.18.0.6', '198.18.0.7']);
    assert.equal(publish.subsets[0].notReadyAddresses, undefined);
  });

  test('headless service without ports lists its pods with no ports; one with a ClusterIP and no ports lists nothing', () => {
    const headless = computeSubsets(service([], { clusterIP: 'None' }), [pod('a', '198.18.0.2')]);
    assert.deepEqual(headless.subsets, [{ addresses: [{ ip: '198.18.0.2', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }] }]);
    assert.deepEqual(computeSubsets(service([]), [pod('a', '198.18.0.2')]).subsets, []);
  });

  test('the hostname is published only for pods whose subdomain is the service', () => {
    const svc = service([], { clusterIP: 'None' });
    const { subsets } = computeSubsets(svc, [pod('a', '198.18.0.2', { hostname: 'h-a', subdomain: 'svc' }), pod('b', '198.18.0.3', { hostname: 'h-b', subdomain: 'other' })]);
    assert.deepEqual(subsets[0].addresses?.map((a) => a.hostname), ['h-a', undefined]);
  });
});

describe('repackSubsets', () => {
  test('merges addresses offering the same ports, de-duplicates, and not-ready wins over ready', () => {
    const a = { ip: '198.18.0.2', targetRef: { uid: 'a' } };
    const b = { ip: '198.18.0.3', targetRef: { uid: 'b' } };
    const p1 = { name: 'p1', port: 1, protocol: 'TCP' };
    const p2 = { name: 'p2', port: 2, protocol: 'TCP' };
    const out = repackSubsets([
      { addresses: [b], ports: [p1] },
      { addresses: [a], ports: [p1] },
      { addresses: [a], ports: [p1] },
      { addresses: [b], ports: [p2] },
      { addresses: [a], ports: [p2] },
      { notReadyAddresses: [a], ports: [p2] },
    ]);
    assert.deepEqual(out, [
      { addresses: [a, b], ports: [p1] },
      { addresses: [b], notReadyAddresses: [a], ports: [p2] },
    ]);
  });
});

describe('truncation at 1000 addresses', () => {
  const addrs = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ ip: `198.18.${Math.floor((base + i) / 250)}.${((base + i) % 250) + 1}` }));
  test('not-ready addresses are cut first, in proportion per subset', () => {
    const ep: Endpoints = { subsets: [{ addresses: addrs(600, 0), notReadyAddresses: addrs(300, 600) }, { addresses: addrs(200, 900), notReadyAddresses: addrs(100, 1100) }] };
    assert.equal(capacityAnnotationSetCorrectly({}, ep.subsets), false);
    assert.equal(truncateEndpoints(ep), true);
    const total = (ep.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
    assert.equal(total, MAX_ENDPOINTS_CAPACITY);
    assert.equal(ep.subsets?.[0].addresses?.length, 600);
    assert.equal(ep.subsets?.[0].notReadyAddresses?.length, 150);
    assert.equal(ep.subsets?.[1].notReadyAddresses?.length, 50);
  });
  test('more than 1000 ready addresses: all not-ready ones go and ready ones are cut', () => {
    const ep: Endpoints = { subsets: [{ addresses: addrs(900, 0), notReadyAddresses: addrs(10, 900) }, { addresses: addrs(300, 910) }] };
    assert.equal(truncateEndpoints(ep), true);
    assert.equal(ep.subsets?.[0].addresses?.length, 750);
    assert.equal(ep.subsets?.[0].notReadyAddresses, undefined);
    assert.equal(ep.subsets?.[1].addresses?.length, 250);
  });
  test('within capacity nothing changes; a stale over-capacity annotation is not correct', () => {
    const ep: Endpoints = { subsets: [{ addresses: addrs(10, 0) }] };
    assert.equal(truncateEndpoints(ep), false);
    assert.equal(capacityAnnotationSetCorrectly({ 'endpoints.kubernetes.io/over-capacity': 'truncated' }, ep.subsets), false);
    assert.equal(capacityAnnotationSetCorrectly({}, ep.subsets), true);
  });
});

describe('helpers', () => {
  test('subsets compare equal when only target resourceVersions differ', () => {
    const s = (rv: string) => [{ addresses: [{ ip: '198.18.0.2', targetRef: { kind: 'Pod', name: 'a', resourceVersion: rv } }] }];
    assert.equal(subsetsEqualIgnoringResourceVersion(s('1'), s('2')), true);
    assert.equal(subsetsEqualIgnoringResourceVersion(s('1'), [{ notReadyAddresses: s('1')[0].addresses }]), false);
    assert.equal(subsetsEqualIgnoringResourceVersion(undefined, []), true);
  });

  test('findPort: named ports match the protocol; sidecar init containers count; numeric strings are numbers', () => {
    const p = pod('a', '198.18.0.2');
    p.spec!.initContainers = [{ name: 's', restartPolicy: 'Always', ports: [{ name: 'side', containerPort: 7000 }] }, { name: 'i', ports: [{ name: 'init', containerPort: 7001 }] }];
    assert.equal(findPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' }), 53);
    assert.equal(findPort(p, { port: 53, targetPort: 'dns' }), undefined);
    assert.equal(findPort(p, { port: 1, targetPort: 'side' }), 7000);
    assert.equal(findPort(p, { port: 1, targetPort: 'init' }), undefined);
    assert.equal(findPort(p, { port: 1, targetPort: '9000' }), 9000);
    assert.equal(findPort(p, { port: 81 }), 81);
  });

  test('shouldPodBeInEndpoints', () => {
    assert.equal(shouldPodBeInEndpoints(pod('a', '198.18.0.2', { phase: 'Failed' }), true), false);
    assert.equal(shouldPodBeInEndpoints(pod('a', '198.18.0.2', { deleting: true }), false), false);
    assert.equal(shouldPodBeInEndpoints(pod('a', '198.18.0.2', { deleting: true }), true), true);
    assert.equal(shouldPodBeInEndpoints(pod('a', undefined), true), false);
  });

  test('trigger time: the earliest change not seen before; nothing new gives none', () => {
    const t = new TriggerTimeTracker();
    const svc: Service = { metadata: { name: 's', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00Z' } };
    const at = (name: string, time: string): Pod => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: time }] } });
    assert.equal(t.compute(svc, [at('a', '2026-01-01T00:00:05Z')]), '2026-01-01T00:00:00Z');
    assert.equal(t.compute(svc, [at('a', '2026-01-01T00:00:05Z')]), '');
    assert.equal(t.compute(svc, [at('a', '2026-01-01T00:00:09Z'), at('b', '2026-01-01T00:00:07Z')]), '2026-01-01T00:00:07Z');
    t.deleteService('ns', 's');
    assert.equal(t.compute(svc, []), '2026-01-01T00:00:00Z');
  });
});
