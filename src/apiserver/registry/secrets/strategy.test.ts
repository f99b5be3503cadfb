import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function secret(body: Json): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...body };
  Strategy.defaults!(o);
  return o;
}

describe('secrets', () => {
  test('type defaults to Opaque; stringData merges into data', () => {
    const o = secret({ data: { a: b64('1'), b: b64('2') }, stringData: { b: 'two' } });
    assert.equal(o.type, 'Opaque');
    assert.deepEqual(o.data, { a: b64('1'), b: b64('two') });
    assert.equal(o.stringData, undefined);
    assert.deepEqual(Strategy.validate(o), []);
  });

  test('keys and type-specific data', () => {
    assert.deepEqual(brief(Strategy.validate(secret({ data: { 'bad/key': b64('x') } }))), ['FieldValueInvalid data[bad/key]']);
    assert.deepEqual(brief(Strategy.validate(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }))), ['FieldValueRequired data[tls.key]']);
    assert.deepEqual(brief(Strategy.validate(secret({ type: 'kubernetes.io/basic-auth' }))), ['FieldValueRequired data[username]', 'FieldValueRequired data[password]']);
    assert.deepEqual(
      brief(Strategy.validate(secret({ type: 'kubernetes.io/service-account-token' }))),
      ['FieldValueRequired metadata.annotations[kubernetes.io/service-account.name]'],
    );
    assert.deepEqual(
      brief(Strategy.validate(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } }))),
      ['FieldValueInvalid data[.dockerconfigjson]'],
    );
  });

  test('type is immutable; immutable secrets freeze data', () => {
    const old = secret({ data: { a: b64('1') } });
    assert.deepEqual(brief(Strategy.validateUpdate!(secret({ type: 'kubernetes.io/tls', data: { a: b64('1') } }), old)), ['FieldValueInvalid type']);
    const frozen = secret({ immutable: true, data: { a: b64('1') } });
    const changed = secret({ immutable: true, data: { a: b64('2') } });
    const errs = Strategy.validateUpdate!(changed, frozen);
    assert.deepEqual(brief(errs), ['FieldValueForbidden data']);
    assert.equal(errs[0].detail, 'field is immutable when `immutable` is set');
    assert.deepEqual(brief(Strategy.validateUpdate!(secret({ data: { a: b64('1') } }), frozen)), ['FieldValueForbidden immutable']);
    assert.deepEqual(Strategy.validateUpdate!(secret({ immutable: true, data: { a: b64('1') } }), old), []);
  });

  test('field selector on type', () => {
    assert.deepEqual(Strategy.selectableFields!(secret({})), { type: 'Opaque' });
  });
});
