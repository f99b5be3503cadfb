import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const cfg = (fields: Record<string, unknown> = {}): KubeObject => {
  const o: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'm' },
    webhooks: [{ name: 'mutate.example.com', clientConfig: { url: 'https://example.com' }, sideEffects: 'NoneOnDryRun', admissionReviewVersions: ['v1beta1'], ...fields }],
  };
  Strategy.defaults!(o);
  return o;
};

describe('mutatingwebhookconfigurations strategy', () => {
  test('defaults reinvocationPolicy Never plus the shared webhook defaults', () => {
    const [h] = cfg().webhooks as Record<string, unknown>[];
    assert.equal(h.reinvocationPolicy, 'Never');
    assert.equal(h.failurePolicy, 'Fail');
    assert.equal(h.timeoutSeconds, 10);
    assert.deepEqual(Strategy.validate(cfg()), []);
  });
  test('rejects unknown reinvocation policies and shares webhook validation', () => {
    assert.deepEqual(
      Strategy.validate(cfg({ reinvocationPolicy: 'Always', sideEffects: undefined })).map((e) => `${e.type} ${e.field}: ${e.detail}`),
      [
        'FieldValueRequired webhooks[0].sideEffects: must specify one of None, NoneOnDryRun',
        'FieldValueNotSupported webhooks[0].reinvocationPolicy: supported values: "IfNeeded", "Never"',
      ],
    );
  });
});
