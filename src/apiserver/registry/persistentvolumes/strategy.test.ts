import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy as pvs } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

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
