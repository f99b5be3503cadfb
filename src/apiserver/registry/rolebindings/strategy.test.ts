import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const rb = (roleRef: Record<string, unknown>, subjects: unknown[] = []): KubeObject => {
  const o: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'b', namespace: 'ns' }, roleRef, subjects };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('rolebindings strategy', () => {
  test('defaults roleRef and subject apiGroups', () => {
    const o = rb({ kind: 'Role', name: 'r' }, [{ kind: 'User', name: 'u' }, { kind: 'ServiceAccount', name: 'sa' }, { kind: 'Group', name: 'g' }]);
    assert.deepEqual(o.roleRef, { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
    assert.deepEqual(
      (o.subjects as { apiGroup: string }[]).map((s) => s.apiGroup),
      ['rbac.authorization.k8s.io', '', 'rbac.authorization.k8s.io'],
    );
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('upstream failure cases', () => {
    assert.deepEqual(summary(Strategy.validate(rb({ apiGroup: 'rbac', kind: 'Role', name: 'r' }))), [
      'FieldValueNotSupported roleRef.apiGroup: supported values: "rbac.authorization.k8s.io"',
    ]);
    assert.deepEqual(summary(Strategy.validate(rb({ kind: 'Type', name: 'r' }))), [
      'FieldValueNotSupported roleRef.kind: supported values: "Role", "ClusterRole"',
    ]);
    assert.deepEqual(summary(Strategy.validate(rb({ kind: 'Role' }))), ['FieldValueRequired roleRef.name: ']);
    assert.deepEqual(summary(Strategy.validate(rb({ kind: 'Role', name: 'a/b' }))), ["FieldValueInvalid roleRef.name: may not contain '/'"]);
    const errs = Strategy.validate(
      rb({ kind: 'Role', name: 'r' }, [{ kind: 'User' }, { kind: 'Bad', name: 'x' }, { kind: 'ServiceAccount', name: 'Bad_Name' }, { kind: 'User', name: 'u', apiGroup: 'other' }]),
    );
    assert.deepEqual(
      errs.map((e) => `${e.type} ${e.field}`),
      [
        'FieldValueRequired subjects[0].name',
        'FieldValueInvalid subjects[0].name',
        'FieldValueNotSupported subjects[1].kind',
        'FieldValueInvalid subjects[2].name',
        'FieldValueNotSupported subjects[3].apiGroup',
      ],
    );
    assert.equal(errs[1]?.detail, 'user name cannot be empty');
    assert.equal(errs[2]?.detail, 'supported values: "ServiceAccount", "User", "Group"');
  });
  test('roleRef cannot change', () => {
    const old = rb({ kind: 'Role', name: 'r' });
    assert.deepEqual(Strategy.validateUpdate!(rb({ kind: 'Role', name: 'r' }, [{ kind: 'User', name: 'u' }]), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(rb({ kind: 'ClusterRole', name: 'r' }), old)), ['FieldValueInvalid roleRef: cannot change roleRef']);
  });
});
