import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

/** A service as stored after defaulting and allocation (the allocator's part is filled in by hand here). */
function svc(spec: Json = {}, allocated: Json = { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }): KubeObject {
  const o: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
  };
  Strategy.defaults!(o);
  Strategy.prepareForCreate!(o);
  if ((o.spec as Json).type !== 'ExternalName') Object.assign(o.spec as Json, allocated, spec);
  return o;
}
const spec = (o: KubeObject): Json => o.spec as Json;

describe('services', () => {
  test('defaults', () => {
    const s = spec(svc());
    assert.equal(s.type, 'ClusterIP');
    assert.equal(s.sessionAffinity, 'None');
    assert.equal(s.internalTrafficPolicy, 'Cluster');
    assert.deepEqual(s.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    assert.equal(s.externalTrafficPolicy, undefined);
    const np = spec(svc({ type: 'NodePort' }));
    assert.equal(np.externalTrafficPolicy, 'Cluster');
    const lb = spec(svc({ type: 'LoadBalancer' }));
    assert.equal(lb.allocateLoadBalancerNodePorts, true);
    const sticky = spec(svc({ sessionAffinity: 'ClientIP' }));
    assert.deepEqual(sticky.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
    const named = spec(svc({ ports: [{ port: 80, targetPort: 'http' }] }));
    assert.equal((named.ports as Json[])[0].targetPort, 'http');
  });

  test('clusterIP alone is mirrored into clusterIPs on create', () => {
    const o: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } };
    Strategy.defaults!(o);
    Strategy.prepareForCreate!(o);
    assert.deepEqual(spec(o).clusterIPs, ['None']);
  });

  test('valid services', () => {
    assert.deepEqual(Strategy.validate(svc()), []);
    assert.deepEqual(Strategy.validate(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })), []);
    const external: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com.' } };
    Strategy.defaults!(external);
    assert.deepEqual(Strategy.validate(external), []);
  });

  const cases: [string, Json, string[]][] = [
    ['no ports', { ports: [] }, ['FieldValueRequired spec.ports']],
    ['unnamed ports when several', { ports: [{ port: 80 }, { port: 443 }] }, ['FieldValueRequired spec.ports[0].name', 'FieldValueRequired spec.ports[1].name']],
    [
      'duplicate port/protocol',
      { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] },
      ['FieldValueDuplicate spec.ports[1]'],
    ],
    ['bad type', { type: 'Magic' }, ['FieldValueNotSupported spec.type']],
    ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30000 }] }, ['FieldValueForbidden spec.ports[0].nodePort']],
    ['bad session affinity', { sessionAffinity: 'Cookie' }, ['FieldValueNotSupported spec.sessionAffinity']],
    ['clusterIPs mismatch', { clusterIPs: ['10.96.0.11'] }, ['FieldValueInvalid spec.clusterIPs']],
    ['invalid selector label', { selector: { 'bad key!': 'x' } }, ['FieldValueInvalid spec.selector']],
    ['externalTrafficPolicy on ClusterIP', { externalTrafficPolicy: 'Local' }, ['FieldValueInvalid spec.externalTrafficPolicy']],
  ];
  for (const [name, s, expected] of cases) {
    test(name, () => assert.deepEqual(brief(Strategy.validate(svc(s))), expected));
  }

  test('headless NodePort is refused', () => {
    const o = svc({ type: 'NodePort', clusterIP: 'None', clusterIPs: ['None'] });
    assert.deepEqual(brief(Strategy.validate(o)), ['FieldValueInvalid spec.clusterIPs[0]']);
  });

  test('clusterIP may not change once set', () => {
    const old = svc();
    const next = svc({ clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'] });
    const errs = Strategy.validateUpdate!(next, old);
    assert.deepEqual(brief(errs), ['FieldValueInvalid spec.clusterIPs[0]']);
    assert.equal(errs[0].detail, 'may not change once set');
    assert.deepEqual(Strategy.validateUpdate!(svc({ ports: [{ port: 8080 }] }), old), []);
  });

  test('changing to ExternalName drops the allocated fields', () => {
    const old = svc();
    const next = structuredClone(old);
    Object.assign(spec(next), { type: 'ExternalName', externalName: 'example.com' });
    Strategy.prepareForUpdate!(next, old);
    assert.equal(spec(next).clusterIP, undefined);
    assert.equal(spec(next).clusterIPs, undefined);
    assert.equal(spec(next).ipFamilyPolicy, undefined);
    assert.deepEqual(Strategy.validateUpdate!(next, old), []);
  });

  test('field selectors', () => {
    assert.deepEqual(Strategy.selectableFields!(svc()), { 'spec.clusterIP': '10.96.0.10', 'spec.type': 'ClusterIP' });
  });
});
