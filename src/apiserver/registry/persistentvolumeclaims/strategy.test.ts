import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function pvc(spec: Json, status?: Json): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec, ...(status ? { status } : {}) };
  Strategy.defaults!(o);
  return o;
}
const claimSpec = (size = '1Gi'): Json => ({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } });

describe('persistentvolumeclaims', () => {
  test('defaults and create status', () => {
    const o = pvc(claimSpec());
    assert.equal((o.spec as Json).volumeMode, 'Filesystem');
    Strategy.prepareForCreate!(o);
    assert.deepEqual(o.status, { phase: 'Pending' });
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('spec checks', () => {
    assert.deepEqual(brief(Strategy.validate(pvc({ resources: { requests: { storage: '1Gi' } } }))), ['FieldValueRequired spec.accessModes']);
    assert.deepEqual(brief(Strategy.validate(pvc({ accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } }))), [
      'FieldValueNotSupported spec.accessModes',
    ]);
    assert.deepEqual(brief(Strategy.validate(pvc({ accessModes: ['ReadWriteOnce'] }))), ['FieldValueRequired spec.resources[storage]']);
    assert.deepEqual(brief(Strategy.validate(pvc(claimSpec('0')))), ['FieldValueInvalid spec.resources[storage]']);
  });
  test('spec is immutable except storage growth of bound claims', () => {
    const bound = { phase: 'Bound' };
    assert.deepEqual(Strategy.validateUpdate!(pvc(claimSpec('2Gi'), bound), pvc(claimSpec('1Gi'), bound)), []);
    assert.deepEqual(brief(Strategy.validateUpdate!(pvc(claimSpec('2Gi'), { phase: 'Pending' }), pvc(claimSpec('1Gi')))), ['FieldValueForbidden spec']);
    assert.deepEqual(brief(Strategy.validateUpdate!(pvc(claimSpec('500Mi'), bound), pvc(claimSpec('1Gi'), bound))), [
      'FieldValueForbidden spec.resources.requests.storage',
    ]);
    assert.deepEqual(Strategy.validateUpdate!(pvc({ ...claimSpec(), volumeName: 'pv-1' }), pvc(claimSpec())), []);
  });
});
