import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>, status?: unknown): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'i', namespace: 'ns', ...(annotations ? { annotations } : {}) },
  spec,
  ...(status ? { status } : {}),
});
const backend = { service: { name: 'default-backend', port: { number: 80 } } };
const rule = (host: string, paths: unknown[]) => ({ host, http: { paths } });
const path = (p: string, pathType: string | undefined, b: unknown = backend) => ({ path: p, ...(pathType ? { pathType } : {}), backend: b });
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('ingresses strategy', () => {
  test('accepts upstream success cases', () => {
    assert.deepEqual(Strategy.validate(ing({ defaultBackend: backend })), []);
    assert.deepEqual(
      Strategy.validate(
        ing({
          ingressClassName: 'nginx',
          rules: [rule('foo.bar.com', [path('/foo', 'Prefix'), path('/bar', 'Exact', { service: { name: 'svc', port: { name: 'http' } } })]), rule('*.bar.com', [path('', 'ImplementationSpecific')])],
          tls: [{ hosts: ['foo.bar.com', '*.bar.com'], secretName: 'tls-secret' }],
        }, { 'kubernetes.io/ingress.class': 'nginx' }),
      ),
      [],
    );
    assert.deepEqual(Strategy.validate(ing({ defaultBackend: { resource: { apiGroup: 'example.com', kind: 'StorageBucket', name: 'b' } } })), []);
  });

  test('rejects upstream failure cases', () => {
    assert.deepEqual(summary(Strategy.validate(ing({}))), ['FieldValueInvalid spec: either `defaultBackend` or `rules` must be specified']);
    assert.deepEqual(summary(Strategy.validate(ing({ rules: [rule('foo.com', [path('/', undefined)])] }))), [
      'FieldValueRequired spec.rules[0].http.paths[0].pathType: pathType must be specified',
    ]);
    assert.deepEqual(summary(Strategy.validate(ing({ rules: [rule('foo.com', [path('foo', 'Prefix'), path('/a//b/..', 'Exact'), path('/x', 'Regex')])] }))), [
      'FieldValueInvalid spec.rules[0].http.paths[0].path: must be an absolute path',
      "FieldValueInvalid spec.rules[0].http.paths[1].path: must not contain '//'",
      "FieldValueInvalid spec.rules[0].http.paths[1].path: cannot end with '/..'",
      'FieldValueNotSupported spec.rules[0].http.paths[2].pathType: supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
    assert.deepEqual(summary(Strategy.validate(ing({ rules: [rule('1.2.3.4', [path('/', 'Prefix')])] }))), [
      'FieldValueInvalid spec.rules[0].host: must be a DNS name, not an IP address',
    ]);
    assert.deepEqual(summary(Strategy.validate(ing({ rules: [{ host: 'a.com', http: { paths: [] } }] }))), ['FieldValueRequired spec.rules[0].http.paths: ']);
    assert.deepEqual(summary(Strategy.validate(ing({ defaultBackend: { service: { name: 'svc', port: { name: 'http', number: 80 } } } }))), [
      'FieldValueInvalid spec.defaultBackend: cannot set both port name & port number',
    ]);
    assert.deepEqual(summary(Strategy.validate(ing({ defaultBackend: { service: { name: 'svc', port: {} } } }))), ['FieldValueRequired spec.defaultBackend: port name or number is required']);
    assert.deepEqual(summary(Strategy.validate(ing({ defaultBackend: { service: backend.service, resource: { kind: 'k', name: 'n' } } }))), [
      'FieldValueInvalid spec.defaultBackend: cannot set both resource and service backends',
    ]);
    assert.deepEqual(summary(Strategy.validate(ing({ defaultBackend: {} }))), ['FieldValueInvalid spec.defaultBackend: resource or service backend is required']);
    assert.equal(Strategy.validate(ing({ defaultBackend: { service: { name: '1svc', port: { number: 80 } } } }))[0]?.field, 'spec.defaultBackend.service.name');
    assert.deepEqual(summary(Strategy.validate(ing({ defaultBackend: backend, ingressClassName: 'a' }, { 'kubernetes.io/ingress.class': 'b' }))), [
      'FieldValueInvalid annotations.kubernetes.io/ingress.class: must match `ingressClassName` when both are specified',
    ]);
  });

  test('warns about the deprecated class annotation and regex-like paths', () => {
    const o = ing({ rules: [rule('a.com', [path('/grafana/?(.*)', 'Prefix'), path('/ok', 'Exact'), path('/x(.*)', 'ImplementationSpecific')])] }, { 'kubernetes.io/ingress.class': 'nginx' });
    assert.deepEqual(Strategy.warnings!(o), [
      `annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`,
      'path /grafana/?(.*) cannot be used with pathType Prefix',
    ]);
    assert.deepEqual(Strategy.warnings!(ing({ ingressClassName: 'nginx', defaultBackend: backend })), []);
  });

  test('validates load balancer status', () => {
    const ok = ing({ defaultBackend: backend }, undefined, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'lb.example.com' }] } });
    assert.deepEqual(Strategy.validateStatusUpdate!(ok, ok), []);
    const bad = ing({ defaultBackend: backend }, undefined, { loadBalancer: { ingress: [{ ip: 'nope' }, { hostname: '1.2.3.4' }] } });
    assert.deepEqual(
      Strategy.validateStatusUpdate!(bad, ok).map((e) => e.field),
      ['status.loadBalancer.ingress[0].ip', 'status.loadBalancer.ingress[1].hostname'],
    );
  });
});
