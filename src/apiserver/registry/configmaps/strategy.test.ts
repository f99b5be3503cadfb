import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy as configMaps } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('configmaps', () => {
  const cm = (body: Json): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, ...body });
  test('keys, duplicates with binaryData, size', () => {
    assert.deepEqual(configMaps.validate(cm({ data: { 'game.properties': 'x' } })), []);
    assert.deepEqual(brief(configMaps.validate(cm({ data: { 'a b': 'x' } }))), ['FieldValueInvalid data[a b]']);
    assert.deepEqual(brief(configMaps.validate(cm({ data: { a: 'x' }, binaryData: { a: b64('y') } }))), ['FieldValueInvalid data[a]']);
    assert.deepEqual(brief(configMaps.validate(cm({ data: { a: 'x'.repeat(1024 * 1024 + 1) } }))), ['FieldValueTooLong ']);
  });
  test('immutable config maps freeze data and binaryData', () => {
    const frozen = cm({ immutable: true, data: { a: '1' } });
    assert.deepEqual(brief(configMaps.validateUpdate!(cm({ immutable: true, data: { a: '2' }, binaryData: { b: b64('x') } }), frozen)), [
      'FieldValueForbidden data',
      'FieldValueForbidden binaryData',
    ]);
    assert.deepEqual(configMaps.validateUpdate!(cm({ data: { a: '2' } }), cm({ data: { a: '1' } })), []);
  });
});
