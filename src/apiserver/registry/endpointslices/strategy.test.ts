import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const slice = (addressType: string, endpoints: unknown[], ports: unknown[] = []): KubeObject => {
  const o: KubeObject = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', namespace: 'ns' }, addressType, endpoints, ports };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('endpointslices strategy', () => {
  test('defaults port name and protocol', () => {
    const o = slice('IPv4', [], [{ port: 80 }]);
    assert.deepEqual(o.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  });

  test('accepts valid slices of each address type', () => {
    const ep = (a: string) => ({ addresses: [a], conditions: { ready: true }, hostname: 'h', zone: 'z1', nodeName: 'node-1', hints: { forZones: [{ name: 'z1' }] } });
    assert.deepEqual(Strategy.validate(slice('IPv4', [ep('10.1.2.3')], [{ name: 'http', port: 80, appProtocol: 'kubernetes.io/h2c' }])), []);
    assert.deepEqual(Strategy.validate(slice('IPv6', [ep('2001:db8::1')])), []);
    assert.deepEqual(Strategy.validate(slice('FQDN', [ep('foo.example.com')])), []);
  });

  test('rejects bad address types and addresses (upstream cases)', () => {
    assert.deepEqual(summary(Strategy.validate(slice('', []))), ['FieldValueRequired addressType: ']);
    assert.deepEqual(summary(Strategy.validate(slice('IP', []))), ['FieldValueNotSupported addressType: supported values: "FQDN", "IPv4", "IPv6"']);
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', [{ addresses: [] }]))), ['FieldValueRequired endpoints[0].addresses: must contain at least 1 address']);
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', [{ addresses: ['2001:db8::1'] }]))), ['FieldValueInvalid endpoints[0].addresses[0]: must be a valid IPv4 address']);
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', [{ addresses: ['169.254.169.254', '0.0.0.0', '224.0.0.1'] }]))), [
      'FieldValueInvalid endpoints[0].addresses[0]: may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      'FieldValueInvalid endpoints[0].addresses[1]: may not be unspecified (0.0.0.0)',
      'FieldValueInvalid endpoints[0].addresses[2]: may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
    ]);
    assert.deepEqual(summary(Strategy.validate(slice('IPv6', [{ addresses: ['fe80::1', '::', 'ff02::1'] }]))), [
      'FieldValueInvalid endpoints[0].addresses[0]: may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      'FieldValueInvalid endpoints[0].addresses[1]: may not be unspecified (::)',
      'FieldValueInvalid endpoints[0].addresses[2]: may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
    ]);
    // skiff's pods run on loopback addresses, so (unlike upstream) those are endpoints too.
    assert.deepEqual(Strategy.validate(slice('IPv4', [{ addresses: ['127.0.0.5'] }])), []);
    assert.deepEqual(Strategy.validate(slice('IPv6', [{ addresses: ['::1'] }])), []);
    assert.equal(Strategy.validate(slice('FQDN', [{ addresses: ['foo'] }]))[0]?.detail, 'should be a domain with at least two segments separated by dots');
    assert.equal(Strategy.validate(slice('IPv4', [{ addresses: ['1.2.3.4'], hostname: 'Bad_Host' }]))[0]?.field, 'endpoints[0].hostname');
  });

  test('limits endpoints, addresses and ports', () => {
    const many = Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] }));
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', many))), ['FieldValueTooMany endpoints: must have at most 1000 items']);
    const addrs = Array.from({ length: 101 }, (_, i) => `10.0.0.${(i % 250) + 1}`);
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', [{ addresses: addrs }]))), ['FieldValueTooMany endpoints[0].addresses: must have at most 100 items']);
    const ports = Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, port: i + 1 }));
    assert.deepEqual(summary(Strategy.validate(slice('IPv4', [], ports))), ['FieldValueTooMany ports: must have at most 100 items']);
  });

  test('rejects duplicate and invalid ports', () => {
    const errs = Strategy.validate(slice('IPv4', [], [{ name: 'a', port: 1 }, { name: 'a', port: 2, protocol: 'HTTP' }, { name: 'Bad_Name', port: 3, appProtocol: 'bad proto' }]));
    assert.deepEqual(
      errs.map((e) => `${e.type} ${e.field}`),
      ['FieldValueDuplicate ports[1].name', 'FieldValueNotSupported ports[1].protocol', 'FieldValueInvalid ports[2].name', 'FieldValueInvalid ports[2].appProtocol'],
    );
  });

  test('addressType is immutable', () => {
    assert.deepEqual(Strategy.validateUpdate!(slice('IPv4', []), slice('IPv4', [])), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(slice('IPv6', []), slice('IPv4', []))), ['FieldValueInvalid addressType: field is immutable']);
  });
});
