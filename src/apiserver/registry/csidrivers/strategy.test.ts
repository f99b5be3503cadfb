import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const driver = (name: string, spec: Record<string, unknown> = {}): KubeObject => {
  const o: KubeObject = { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name }, spec };
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('csidrivers strategy', () => {
  test('fills upstream defaults', () => {
    assert.deepEqual(driver('io.kubernetes.storage.csi.driver').spec, {
      attachRequired: true,
      podInfoOnMount: false,
      storageCapacity: false,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      volumeLifecycleModes: ['Persistent'],
      requiresRepublish: false,
      seLinuxMount: false,
    });
  });

  test('accepts valid driver names (upstream cases)', () => {
    for (const name of ['io.kubernetes.storage.csi.driver', 'io.kubernetes.storage.csi-driver', 'Io.Kubernetes.Storage.Csi.Driver']) {
      assert.deepEqual(Strategy.validate(driver(name)), [], name);
    }
  });

  test('rejects invalid names', () => {
    assert.deepEqual(summary(Strategy.validate(driver('x'.repeat(64)))), ['FieldValueTooLong name: must have at most 63 bytes']);
    for (const name of ['-io.kubernetes', 'io.kubernetes.storage_csi.driver', 'io/kubernetes']) {
      const errs = Strategy.validate(driver(name));
      assert.ok(errs.length > 0 && errs.every((e) => e.field === 'name' && e.type === 'FieldValueInvalid'), name);
    }
  });

  test('rejects bad fsGroupPolicy, lifecycle modes and token requests', () => {
    const errs = Strategy.validate(
      driver('d', {
        fsGroupPolicy: 'invalid-mode',
        volumeLifecycleModes: ['no-such-mode'],
        tokenRequests: [{ audience: 'a', expirationSeconds: 10 }, { audience: 'a' }],
      }),
    );
    assert.deepEqual(summary(errs), [
      'FieldValueNotSupported spec.fsGroupPolicy: supported values: "File", "None", "ReadWriteOnceWithFSType"',
      'FieldValueInvalid spec.tokenRequests[0].expirationSeconds: may not specify a duration less than 10 minutes',
      'FieldValueDuplicate spec.tokenRequests[1].audience: ',
      'FieldValueNotSupported spec.volumeLifecycleModes: supported values: "Persistent", "Ephemeral"',
    ]);
  });

  test('attachRequired and volumeLifecycleModes are immutable; podInfoOnMount may change', () => {
    const old = driver('d');
    assert.deepEqual(Strategy.validateUpdate!(driver('d', { podInfoOnMount: true }), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(driver('d', { attachRequired: false, volumeLifecycleModes: ['Ephemeral'] }), old)), [
      'FieldValueInvalid spec.attachedRequired: field is immutable',
      'FieldValueInvalid spec.volumeLifecycleModes: field is immutable',
    ]);
  });
});
