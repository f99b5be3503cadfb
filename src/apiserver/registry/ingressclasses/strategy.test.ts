import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const ic = (spec: Record<string, unknown>): KubeObject => {
  const o: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('ingressclasses strategy', () => {
  test('defaults parameters.scope to Cluster', () => {
    const o = ic({ controller: 'example.com/controller', parameters: { kind: 'k', name: 'n' } });
    assert.equal((o.spec as { parameters: { scope: string } }).parameters.scope, 'Cluster');
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('accepts namespace-scoped parameters', () => {
    assert.deepEqual(Strategy.validate(ic({ controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'example.com', kind: 'k', name: 'n', scope: 'Namespace', namespace: 'ns' } })), []);
  });
  test('rejects upstream failure cases', () => {
    assert.deepEqual(summary(Strategy.validate(ic({}))), ['FieldValueRequired spec.controller: ']);
    assert.deepEqual(summary(Strategy.validate(ic({ controller: 'no-slash' }))), ['FieldValueInvalid spec.controller: must be a domain-prefixed path (such as "acme.io/foo")']);
    assert.equal(Strategy.validate(ic({ controller: `example.com/${'a'.repeat(250)}` }))[0]?.type, 'FieldValueTooLong');
    assert.deepEqual(summary(Strategy.validate(ic({ controller: 'a.io/c', parameters: { kind: 'k', name: 'n', scope: 'Namespace' } }))), [
      "FieldValueRequired spec.parameters.namespace: `parameters.scope` is set to 'Namespace'",
    ]);
    assert.deepEqual(summary(Strategy.validate(ic({ controller: 'a.io/c', parameters: { kind: 'k', name: 'n', scope: 'Cluster', namespace: 'ns' } }))), [
      "FieldValueForbidden spec.parameters.namespace: `parameters.scope` is set to 'Cluster'",
    ]);
    assert.deepEqual(summary(Strategy.validate(ic({ controller: 'a.io/c', parameters: { kind: 'k', name: 'n', scope: 'Global' } }))), [
      'FieldValueNotSupported spec.parameters.scope: supported values: "Cluster", "Namespace"',
    ]);
    assert.deepEqual(summary(Strategy.validate(ic({ controller: 'a.io/c', parameters: { scope: 'Cluster' } }))), [
      'FieldValueRequired spec.parameters.kind: ',
      'FieldValueRequired spec.parameters.name: ',
    ]);
  });
  test('controller is immutable', () => {
    assert.deepEqual(summary(Strategy.validateUpdate!(ic({ controller: 'a.io/d' }), ic({ controller: 'a.io/c' }))), ['FieldValueInvalid spec.controller: field is immutable']);
    assert.deepEqual(Strategy.validateUpdate!(ic({ controller: 'a.io/c', parameters: { kind: 'k', name: 'n' } }), ic({ controller: 'a.io/c' })), []);
  });
});
