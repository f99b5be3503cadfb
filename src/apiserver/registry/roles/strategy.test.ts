import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const role = (rules: unknown[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'ns' }, rules });
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('roles strategy', () => {
  test('accepts resource rules', () => {
    assert.deepEqual(Strategy.validate(role([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])), []);
    assert.deepEqual(Strategy.validate(role([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }])), []);
  });
  test('upstream failure cases', () => {
    assert.deepEqual(summary(Strategy.validate(role([{ apiGroups: [''], resources: ['pods'] }]))), [
      'FieldValueRequired rules[0].verbs: verbs must contain at least one value',
    ]);
    assert.deepEqual(summary(Strategy.validate(role([{ verbs: ['get'] }]))), [
      'FieldValueRequired rules[0].apiGroups: resource rules must supply at least one api group',
      'FieldValueRequired rules[0].resources: resource rules must supply at least one resource',
    ]);
    assert.deepEqual(summary(Strategy.validate(role([{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'secrets'], resourceNames: ['x'] }]))), [
      'FieldValueRequired rules[0].resourceNames: resource names cannot apply to multiple resources',
    ]);
    assert.deepEqual(summary(Strategy.validate(role([{ verbs: ['get'], nonResourceURLs: ['/api'], resources: ['pods'] }]))), [
      'FieldValueInvalid rules[0].nonResourceURLs: namespaced rules cannot apply to non-resource URLs',
      'FieldValueInvalid rules[0].nonResourceURLs: rules cannot apply to both regular resources and non-resource URLs',
    ]);
  });
  test('names only need to be path segments', () => {
    assert.deepEqual(Strategy.validateName!('system:controller:foo'), []);
    assert.deepEqual(Strategy.validateName!('a/b'), ["may not contain '/'"]);
    assert.deepEqual(Strategy.validateName!('..'), ["may not be '..'"]);
  });
});
