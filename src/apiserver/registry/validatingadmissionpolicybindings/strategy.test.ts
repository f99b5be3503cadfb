import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const binding = (spec: Record<string, unknown>): KubeObject => {
  const o: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'b' },
    spec: { policyName: 'demo-policy.example.com', validationActions: ['Deny'], ...spec },
  };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('validatingadmissionpolicybindings strategy', () => {
  test('defaults parameterNotFoundAction and matchResources', () => {
    const spec = binding({ paramRef: { name: 'p' }, matchResources: {} }).spec as Record<string, Record<string, unknown>>;
    assert.equal(spec.paramRef.parameterNotFoundAction, 'Deny');
    assert.equal(spec.matchResources.matchPolicy, 'Equivalent');
    assert.deepEqual(Strategy.validate(binding({ paramRef: { name: 'p', namespace: 'ns' }, matchResources: { namespaceSelector: { matchLabels: { env: 'test' } } } })), []);
  });

  test('upstream failure cases', () => {
    const v = (spec: Record<string, unknown>) => summary(Strategy.validate(binding(spec)));
    assert.deepEqual(v({ policyName: '' }), ['FieldValueRequired spec.policyName: ']);
    assert.deepEqual(v({ paramRef: { name: 'p', selector: {} } }), [
      'FieldValueForbidden spec.paramRef.name: name and selector are mutually exclusive',
      'FieldValueForbidden spec.paramRef.selector: name and selector are mutually exclusive',
    ]);
    assert.deepEqual(v({ paramRef: { parameterNotFoundAction: 'Maybe' } }), [
      'FieldValueRequired spec.paramRef: one of name or selector must be specified',
      'FieldValueNotSupported spec.paramRef.parameterNotFoundAction: supported values: "Deny", "Allow"',
    ]);
    assert.deepEqual(v({ validationActions: [] }), ['FieldValueRequired spec.validationActions: at least one validation action is required']);
    assert.deepEqual(v({ validationActions: ['Deny', 'Warn', 'Warn', 'Block'] }), [
      'FieldValueDuplicate spec.validationActions[2]: ',
      'FieldValueNotSupported spec.validationActions[3]: supported values: "Audit", "Deny", "Warn"',
      'FieldValueInvalid spec.validationActions: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
    ]);
    assert.deepEqual(v({ matchResources: { matchPolicy: 'Loose' } }), ['FieldValueNotSupported spec.matchResouces.matchPolicy: supported values: "Equivalent", "Exact"']);
  });
});
