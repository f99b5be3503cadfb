import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const np = (spec: Record<string, unknown>): KubeObject => {
  const o: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'ns' }, spec };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('networkpolicies strategy', () => {
  test('defaults protocol TCP and policyTypes', () => {
    const ingressOnly = np({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    assert.deepEqual(ingressOnly.spec, { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
    const withEgress = np({ podSelector: {}, egress: [{}] });
    assert.deepEqual((withEgress.spec as { policyTypes: string[] }).policyTypes, ['Ingress', 'Egress']);
    const explicit = np({ podSelector: {}, policyTypes: ['Egress'] });
    assert.deepEqual((explicit.spec as { policyTypes: string[] }).policyTypes, ['Egress']);
  });

  test('accepts upstream success cases', () => {
    const spec = {
      podSelector: { matchLabels: { a: 'b' } },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { c: 'd' } }, namespaceSelector: { matchLabels: { e: 'f' } } }, { ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.3.0/24', '192.168.4.0/24'] } }],
          ports: [{ port: 80 }, { port: 'http', protocol: 'UDP' }, { port: 30000, endPort: 32768 }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: 'fd00:192:168::/48', except: ['fd00:192:168:3::/64'] } }] }],
    };
    assert.deepEqual(Strategy.validate(np(spec)), []);
  });

  test('rejects upstream failure cases', () => {
    const v = (spec: Record<string, unknown>) => summary(Strategy.validate(np({ podSelector: {}, ...spec })));
    assert.deepEqual(v({ ingress: [{ from: [{}] }] }), ['FieldValueRequired spec.ingress[0].from[0]: must specify a peer']);
    assert.deepEqual(v({ ingress: [{ from: [{ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }] }] }), [
      'FieldValueForbidden spec.ingress[0].from[0]: may not specify both ipBlock and another peer',
    ]);
    assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '' } }] }] }), ['FieldValueRequired spec.ingress[0].from[0].ipBlock.cidr: ']);
    assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.0.0/16', '10.0.0.0/24'] } }] }] }), [
      'FieldValueInvalid spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of `cidr`',
      'FieldValueInvalid spec.ingress[0].from[0].ipBlock.except[1]: must be a strict subset of `cidr`',
    ]);
    assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '192.168.5.6' } }] }] }), [
      'FieldValueInvalid spec.ingress[0].from[0].ipBlock.cidr: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    assert.deepEqual(v({ ingress: [{ ports: [{ port: 80, protocol: 'HTTP' }] }] }), [
      'FieldValueNotSupported spec.ingress[0].ports[0].protocol: supported values: "TCP", "UDP", "SCTP"',
    ]);
    assert.deepEqual(v({ egress: [{ ports: [{ port: 32000, endPort: 30000 }] }] }), ['FieldValueInvalid spec.egress[0].ports[0].endPort: must be greater than or equal to `port`']);
    assert.deepEqual(v({ egress: [{ ports: [{ port: 'http', endPort: 30000 }] }] }), [
      'FieldValueInvalid spec.egress[0].ports[0].endPort: may not be specified when `port` is non-numeric',
    ]);
    assert.deepEqual(v({ egress: [{ ports: [{ endPort: 30000 }] }] }), ['FieldValueInvalid spec.egress[0].ports[0].endPort: may not be specified when `port` is not specified']);
    assert.deepEqual(v({ ingress: [{ ports: [{ port: 0 }] }] }), ['FieldValueInvalid spec.ingress[0].ports[0].port: must be between 1 and 65535, inclusive']);
    assert.deepEqual(v({ policyTypes: ['Foo'] }), ['FieldValueNotSupported spec.policyTypes[0]: supported values: "Ingress", "Egress"']);
    assert.deepEqual(v({ policyTypes: ['Ingress', 'Egress', 'Ingress'] }), ['FieldValueInvalid spec.policyTypes: may not specify more than two policyTypes']);
  });
});
