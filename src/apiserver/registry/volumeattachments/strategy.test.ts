import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const va = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'VolumeAttachment',
  metadata: { name: 'va' },
  spec,
  ...(status ? { status } : {}),
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);
const goodSpec = { attacher: 'myattacher', nodeName: 'mynode', source: { persistentVolumeName: 'pv' } };

describe('volumeattachments strategy', () => {
  test('accepts a valid attachment', () => {
    assert.deepEqual(Strategy.validate(va(goodSpec, { attached: true, attachmentMetadata: { foo: 'bar' } })), []);
  });
  test('rejects missing attacher, node, source (upstream cases)', () => {
    assert.deepEqual(summary(Strategy.validate(va({ attacher: '', nodeName: 'n', source: { persistentVolumeName: 'pv' } }))), [
      'FieldValueRequired spec.attacher: ',
    ]);
    assert.deepEqual(summary(Strategy.validate(va({ attacher: 'a', nodeName: 'n', source: {} }))), [
      'FieldValueRequired spec.source: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    ]);
    assert.deepEqual(summary(Strategy.validate(va({ attacher: 'a', nodeName: 'n', source: { persistentVolumeName: 'pv', inlineVolumeSpec: {} } }))), [
      'FieldValueForbidden spec.source: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    ]);
    assert.deepEqual(summary(Strategy.validate(va({ attacher: 'a', nodeName: 'n', source: { persistentVolumeName: '' } }))), [
      'FieldValueRequired spec.source.persistentVolumeName: must specify non empty persistentVolumeName',
    ]);
    assert.equal(Strategy.validate(va({ attacher: 'a', nodeName: '', source: { persistentVolumeName: 'pv' } }))[0]?.field, 'spec.nodeName');
    assert.equal(Strategy.validate(va({ attacher: 'a/b', nodeName: 'n', source: { persistentVolumeName: 'pv' } }))[0]?.field, 'spec.attacher');
  });
  test('limits status sizes', () => {
    const errs = Strategy.validate(va(goodSpec, { attachmentMetadata: { k: 'x'.repeat(256 * 1024) }, attachError: { message: 'm'.repeat(1025) } }));
    assert.deepEqual(summary(errs), [
      'FieldValueTooLong status.attachmentMetadata: must have at most 262144 bytes',
      'FieldValueTooLong status.attachError.message: must have at most 262144 bytes',
    ]);
  });
  test('spec is read-only', () => {
    assert.deepEqual(Strategy.validateUpdate!(va(goodSpec, { attached: true }), va(goodSpec)), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(va({ ...goodSpec, nodeName: 'other' }), va(goodSpec))), ['FieldValueInvalid spec: field is immutable']);
  });
});
