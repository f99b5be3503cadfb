import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const crb = (roleRef: Record<string, unknown>, subjects: unknown[] = []): KubeObject => {
  const o: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef, subjects };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('clusterrolebindings strategy', () => {
  test('accepts ClusterRole refs with namespaced service accounts', () => {
    assert.deepEqual(Strategy.validate(crb({ kind: 'ClusterRole', name: 'admin' }, [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }])), []);
  });
  test('only ClusterRole refs; service accounts need a namespace', () => {
    assert.deepEqual(summary(Strategy.validate(crb({ kind: 'Role', name: 'r' }, [{ kind: 'ServiceAccount', name: 'sa' }]))), [
      'FieldValueNotSupported roleRef.kind: supported values: "ClusterRole"',
      'FieldValueRequired subjects[0].namespace: ',
    ]);
  });
  test('roleRef cannot change', () => {
    const errs = Strategy.validateUpdate!(crb({ kind: 'ClusterRole', name: 'b' }), crb({ kind: 'ClusterRole', name: 'a' }));
    assert.deepEqual(summary(errs), ['FieldValueInvalid roleRef: cannot change roleRef']);
  });
});
