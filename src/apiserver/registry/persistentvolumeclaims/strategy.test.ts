import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';
import { Strategy as pvs } from '../persistentvolumes/strategy.js';

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

describe('persistentvolumes', () => {
  const pv = (spec: Json): KubeObject => {
    const o: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1', creationTimestamp: '2024-01-01T00:00:00Z' }, spec };
    pvs.defaults!(o);
    return o;
  };
  const valid = (): Json => ({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/pv-1' } });
  test('defaults and create status', () => {
    const o = pv(valid());
    assert.equal((o.spec as Json).persistentVolumeReclaimPolicy, 'Retain');
    assert.equal((o.spec as Json).volumeMode, 'Filesystem');
    pvs.prepareForCreate!(o);
    assert.deepEqual(o.status, { phase: 'Pending', lastPhaseTransitionTime: '2024-01-01T00:00:00Z' });
    assert.deepEqual(pvs.validate(o), []);
  });
  test('spec checks', () => {
    assert.deepEqual(brief(pvs.validate(pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] }))), ['FieldValueRequired spec']);
    assert.deepEqual(brief(pvs.validate(pv({ ...valid(), capacity: { cpu: '1' } }))), ['FieldValueNotSupported spec.capacity']);
    assert.deepEqual(brief(pvs.validate(pv({ ...valid(), nfs: { server: 's', path: '/x' } }))), ['FieldValueForbidden spec.nfs']);
    assert.deepEqual(brief(pvs.validate(pv({ ...valid(), persistentVolumeReclaimPolicy: 'Keep' }))), ['FieldValueNotSupported spec.persistentVolumeReclaimPolicy']);
  });
  test('the volume source is immutable; reclaim policy is not', () => {
    assert.deepEqual(pvs.validateUpdate!(pv({ ...valid(), persistentVolumeReclaimPolicy: 'Delete' }), pv(valid())), []);
    assert.deepEqual(brief(pvs.validateUpdate!(pv({ ...valid(), hostPath: { path: '/other' } }), pv(valid()))), ['FieldValueForbidden spec.persistentvolumesource']);
  });
});
