import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const rule = { operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] };
const policy = (spec: Record<string, unknown>, name = 'demo-policy.example.com'): KubeObject => {
  const o: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: { matchConstraints: { resourceRules: [rule] }, validations: [{ expression: 'object.spec.replicas <= 5' }], ...spec },
  };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('validatingadmissionpolicies strategy', () => {
  test('fills upstream defaults', () => {
    const spec = policy({}).spec as Record<string, Record<string, unknown>>;
    assert.equal(spec.failurePolicy, 'Fail');
    assert.equal(spec.matchConstraints.matchPolicy, 'Equivalent');
    assert.deepEqual(spec.matchConstraints.namespaceSelector, {});
    assert.deepEqual(spec.matchConstraints.objectSelector, {});
    assert.equal((spec.matchConstraints.resourceRules as { scope: string }[])[0].scope, '*');
  });

  test('accepts a valid policy', () => {
    assert.deepEqual(
      Strategy.validate(
        policy({
          paramKind: { apiVersion: 'rules.example.com/v1', kind: 'ReplicaLimit' },
          auditAnnotations: [{ key: 'high-replicas', valueExpression: "'yes'" }],
          variables: [{ name: 'replicas', expression: 'object.spec.replicas' }],
          validations: [{ expression: 'true', message: 'ok', reason: 'Forbidden' }],
        }),
      ),
      [],
    );
  });

  test('upstream failure cases', () => {
    const v = (spec: Record<string, unknown>, name?: string) => summary(Strategy.validate(policy(spec, name)));
    assert.deepEqual(v({ failurePolicy: 'Other' }), ['FieldValueNotSupported spec.failurePolicy: supported values: "Fail", "Ignore"']);
    assert.deepEqual(v({ matchConstraints: undefined }), ['FieldValueRequired spec.matchConstraints: ']);
    assert.deepEqual(v({ matchConstraints: {} }), ['FieldValueRequired spec.matchConstraints.resourceRules: ']);
    assert.deepEqual(v({ validations: [] }), [
      'FieldValueRequired spec.validations: validations or auditAnnotations must contain at least one item',
      'FieldValueRequired spec.auditAnnotations: validations or auditAnnotations must contain at least one item',
    ]);
    assert.deepEqual(v({ validations: [{ expression: ' ', message: 'a\nb', reason: 'Teapot' }] }), [
      'FieldValueRequired spec.validations[0].expression: expression is not specified',
      'FieldValueInvalid spec.validations[0].message: message must not contain line breaks',
      'FieldValueNotSupported spec.validations[0].reason: supported values: "Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized"',
    ]);
    assert.deepEqual(v({ paramKind: { apiVersion: 'example.com/', kind: 'Limit' } }), ['FieldValueInvalid spec.paramKind.apiVersion: version must be specified']);
    assert.deepEqual(v({ paramKind: { apiVersion: 'a/b/c', kind: 'Limit' } }), ['FieldValueInvalid spec.paramKind.apiVersion: unexpected GroupVersion string: a/b/c']);
    const paramKindErrs = v({ paramKind: { apiVersion: '', kind: 'bad_kind' } });
    assert.equal(paramKindErrs.length, 2);
    assert.equal(paramKindErrs[0], 'FieldValueRequired spec.paramKind.apiVersion: ');
    assert.match(paramKindErrs[1], /^FieldValueInvalid spec\.paramKind\.kind: may have mixed case, but should otherwise match: /);
    assert.deepEqual(v({ auditAnnotations: [{ key: 'a', valueExpression: '' }, { key: 'a', valueExpression: 'x' }] }), [
      'FieldValueRequired spec.auditAnnotations[0].valueExpression: valueExpression is not specified',
      'FieldValueDuplicate spec.auditAnnotations[1].key: ',
    ]);
    assert.deepEqual(v({ variables: [{ name: '1x', expression: '' }] }), [
      'FieldValueInvalid spec.variables[0].name: name is not a valid CEL identifier',
      'FieldValueRequired spec.variables[0].expression: expression is not specified',
    ]);
    assert.deepEqual(v({ matchConstraints: { resourceRules: [{ ...rule, resourceNames: ['a', 'a', 'b/c'] }] } }), [
      'FieldValueDuplicate spec.matchConstraints.resourceRules[0].resourceNames[1]: ',
      "FieldValueInvalid spec.matchConstraints.resourceRules[0].resourceNames[2]: may not contain '/'",
    ]);
  });
});
