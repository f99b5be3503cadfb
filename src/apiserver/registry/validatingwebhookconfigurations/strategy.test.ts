import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const hook = (fields: Record<string, unknown> = {}) => ({
  name: 'validate.example.com',
  clientConfig: { service: { name: 'svc', namespace: 'ns', path: '/validate' } },
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
  ...fields,
});
const cfg = (webhooks: unknown[]): KubeObject => {
  const o: KubeObject = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'c' }, webhooks };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);
const v = (fields: Record<string, unknown>) => summary(Strategy.validate(cfg([hook(fields)])));

describe('validatingwebhookconfigurations strategy', () => {
  test('fills upstream defaults', () => {
    const [h] = cfg([hook()]).webhooks as Record<string, unknown>[];
    assert.equal(h.failurePolicy, 'Fail');
    assert.equal(h.matchPolicy, 'Equivalent');
    assert.deepEqual(h.namespaceSelector, {});
    assert.deepEqual(h.objectSelector, {});
    assert.equal(h.timeoutSeconds, 10);
    assert.equal((h.rules as { scope: string }[])[0].scope, '*');
    assert.equal((h.clientConfig as { service: { port: number } }).service.port, 443);
    assert.equal(h.reinvocationPolicy, undefined);
  });

  test('accepts a valid configuration', () => {
    assert.deepEqual(Strategy.validate(cfg([hook(), hook({ name: 'b.example.com', clientConfig: { url: 'https://example.com/hook' } })])), []);
  });

  test('webhook-level failures (upstream cases)', () => {
    assert.deepEqual(v({ name: 'no-dots' }), ['FieldValueInvalid webhooks[0].name: should be a domain with at least three segments separated by dots']);
    assert.deepEqual(v({ sideEffects: undefined }), ['FieldValueRequired webhooks[0].sideEffects: must specify one of None, NoneOnDryRun']);
    assert.deepEqual(v({ sideEffects: 'Some' }), ['FieldValueNotSupported webhooks[0].sideEffects: supported values: "None", "NoneOnDryRun"']);
    assert.deepEqual(v({ admissionReviewVersions: [] }), ['FieldValueRequired webhooks[0].admissionReviewVersions: must specify one of v1, v1beta1']);
    assert.deepEqual(v({ admissionReviewVersions: ['v2'] }), ['FieldValueInvalid webhooks[0].admissionReviewVersions: must include at least one of v1, v1beta1']);
    assert.deepEqual(v({ admissionReviewVersions: ['v1', 'v1'] }), ['FieldValueInvalid webhooks[0].admissionReviewVersions[1]: duplicate version']);
    assert.deepEqual(v({ timeoutSeconds: 31 }), ['FieldValueInvalid webhooks[0].timeoutSeconds: the timeout value must be between 1 and 30 seconds']);
    assert.deepEqual(v({ failurePolicy: 'Maybe', matchPolicy: 'Fuzzy' }), [
      'FieldValueNotSupported webhooks[0].failurePolicy: supported values: "Fail", "Ignore"',
      'FieldValueNotSupported webhooks[0].matchPolicy: supported values: "Equivalent", "Exact"',
    ]);
    assert.deepEqual(Strategy.validate(cfg([hook(), hook()])).map((e) => `${e.type} ${e.field}`), ['FieldValueDuplicate webhooks[1].name']);
    // Upstream's order: side effects and timeout come before the selectors and the client config.
    assert.deepEqual(
      Strategy.validate(cfg([hook({ sideEffects: 'Some', timeoutSeconds: 0, objectSelector: { matchLabels: { 'a b': 'c' } }, clientConfig: {} })])).map((e) => e.field),
      ['webhooks[0].sideEffects', 'webhooks[0].timeoutSeconds', 'webhooks[0].objectSelector.matchLabels', 'webhooks[0].clientConfig'],
    );
  });

  test('client config (upstream cases)', () => {
    assert.deepEqual(v({ clientConfig: {} }), ['FieldValueRequired webhooks[0].clientConfig: exactly one of url or service is required']);
    assert.deepEqual(v({ clientConfig: { url: 'http://example.com' } }), [
      "FieldValueInvalid webhooks[0].clientConfig.url: 'https' is the only allowed URL scheme; desired format: https://host[/path]",
    ]);
    assert.deepEqual(v({ clientConfig: { url: 'https://example.com/x?q=1#frag' } }), [
      'FieldValueInvalid webhooks[0].clientConfig.url: fragments are not permitted in the URL',
      'FieldValueInvalid webhooks[0].clientConfig.url: query parameters are not permitted in the URL',
    ]);
    assert.deepEqual(v({ clientConfig: { url: 'https://user:pw@example.com' } }), ['FieldValueInvalid webhooks[0].clientConfig.url: user information is not permitted in the URL']);
    assert.deepEqual(v({ clientConfig: { service: { name: 'svc', namespace: 'ns', path: 'foo//bar', port: 65536 } } }), [
      'FieldValueInvalid webhooks[0].clientConfig.service.port: port is not valid: must be between 1 and 65535, inclusive',
      "FieldValueInvalid webhooks[0].clientConfig.service.path: must start with a '/'",
      'FieldValueInvalid webhooks[0].clientConfig.service.path: segment[1] may not be empty',
    ]);
    assert.deepEqual(v({ clientConfig: { service: { path: '/' } } }), [
      'FieldValueRequired webhooks[0].clientConfig.service.name: ',
      'FieldValueRequired webhooks[0].clientConfig.service.namespace: ',
    ]);
    // Upstream's swapped arguments: a missing name is reported at .namespace.
    assert.deepEqual(v({ clientConfig: { service: { namespace: 'ns' } } }), ['FieldValueRequired webhooks[0].clientConfig.service.namespace: ']);
  });

  test('rules (upstream cases)', () => {
    const rule = (r: Record<string, unknown>) => v({ rules: [{ operations: ['CREATE'], apiGroups: ['a'], apiVersions: ['v1'], resources: ['pods'], ...r }] });
    assert.deepEqual(rule({ operations: [] }), ['FieldValueRequired webhooks[0].rules[0].operations: ']);
    assert.deepEqual(rule({ operations: ['*', 'CREATE'] }), ["FieldValueInvalid webhooks[0].rules[0].operations: if '*' is present, must not specify other operations"]);
    assert.deepEqual(rule({ operations: ['PATCH'] }), [
      'FieldValueNotSupported webhooks[0].rules[0].operations[0]: supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"',
    ]);
    assert.deepEqual(rule({ apiGroups: ['*', 'a'], apiVersions: [''] }), [
      "FieldValueInvalid webhooks[0].rules[0].apiGroups: if '*' is present, must not specify other API groups",
      'FieldValueRequired webhooks[0].rules[0].apiVersions[0]: ',
    ]);
    assert.deepEqual(rule({ resources: ['*/*', 'pods'] }), ["FieldValueInvalid webhooks[0].rules[0].resources: if '*/*' is present, must not specify other resources"]);
    assert.deepEqual(rule({ resources: ['*', 'pods'] }), [
      "FieldValueInvalid webhooks[0].rules[0].resources: if '*' is present, must not specify other resources without subresources",
    ]);
    assert.deepEqual(rule({ resources: ['pods/*', 'pods/status'] }), ["FieldValueInvalid webhooks[0].rules[0].resources[1]: if 'pods/*' is present, must not specify pods/status"]);
    assert.deepEqual(rule({ resources: ['*/status', 'pods/status'] }), ["FieldValueInvalid webhooks[0].rules[0].resources[1]: if '*/status' is present, must not specify pods/status"]);
    assert.deepEqual(rule({ scope: 'Global' }), ['FieldValueNotSupported webhooks[0].rules[0].scope: supported values: "*", "Cluster", "Namespaced"']);
  });

  test('match conditions', () => {
    assert.deepEqual(v({ matchConditions: [{ name: 'a', expression: 'true' }, { name: 'a', expression: ' ' }, { name: '', expression: 'x' }] }), [
      'FieldValueRequired webhooks[0].matchConditions[1].expression: ',
      'FieldValueDuplicate webhooks[0].matchConditions[1].name: ',
      'FieldValueRequired webhooks[0].matchConditions[2].name: ',
    ]);
  });
});
