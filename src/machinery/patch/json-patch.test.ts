import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { ApiError } from '../errors.js';

const doc = () => ({ metadata: { name: 'a', labels: { x: '1' } }, spec: { list: ['a', 'b'], replicas: 1 } });

function expectError(fn: () => unknown, code: number, reason: string | undefined, text: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, code);
    assert.equal(e.status.reason, reason);
    const causes = e.status.details?.causes ?? [];
    assert.ok(e.status.message === text || causes.some((c) => c.message === text), `${JSON.stringify(e.status)} lacks ${text}`);
    return true;
  });
}

describe('JSON patch', () => {
  const ok: [string, unknown[], unknown][] = [
    ['add a field', [{ op: 'add', path: '/spec/paused', value: true }], { ...doc(), spec: { ...doc().spec, paused: true } }],
    ['replace', [{ op: 'replace', path: '/spec/replicas', value: 3 }], { ...doc(), spec: { list: ['a', 'b'], replicas: 3 } }],
    ['remove a label with ~1 escaping', [{ op: 'add', path: '/metadata/labels/a~1b', value: 'v' }, { op: 'remove', path: '/metadata/labels/x' }], { ...doc(), metadata: { name: 'a', labels: { 'a/b': 'v' } } }],
    ['append with -', [{ op: 'add', path: '/spec/list/-', value: 'c' }], { ...doc(), spec: { list: ['a', 'b', 'c'], replicas: 1 } }],
    ['insert at index', [{ op: 'add', path: '/spec/list/0', value: 'z' }], { ...doc(), spec: { list: ['z', 'a', 'b'], replicas: 1 } }],
    ['negative index removes from the end', [{ op: 'remove', path: '/spec/list/-1' }], { ...doc(), spec: { list: ['a'], replicas: 1 } }],
    ['move', [{ op: 'move', from: '/spec/replicas', path: '/spec/count' }], { ...doc(), spec: { list: ['a', 'b'], count: 1 } }],
    ['copy', [{ op: 'copy', from: '/metadata/name', path: '/spec/name' }], { ...doc(), spec: { list: ['a', 'b'], replicas: 1, name: 'a' } }],
    ['passing test', [{ op: 'test', path: '/metadata/name', value: 'a' }], doc()],
  ];
  for (const [name, ops, want] of ok) {
    test(name, () => {
      const input = doc();
      assert.deepEqual(applyJsonPatch(input, JSON.stringify(ops)), want);
      assert.deepEqual(input, doc(), 'input untouched');
    });
  }

  test('failing test op is 422 Invalid', () => {
    expectError(() => applyJsonPatch(doc(), '[{"op":"test","path":"/metadata/name","value":"b"}]'), 422, 'Invalid', 'testing value /metadata/name failed: test failed');
  });
  test('remove of a missing key is 422', () => {
    expectError(() => applyJsonPatch(doc(), '[{"op":"remove","path":"/metadata/annotations"}]'), 422, 'Invalid', "error in remove for path: '/metadata/annotations': Unable to remove nonexistent key: annotations: missing value");
  });
  test('add below a missing parent is 422', () => {
    expectError(() => applyJsonPatch(doc(), '[{"op":"add","path":"/metadata/annotations/a","value":"b"}]'), 422, 'Invalid', 'add operation does not apply: doc is missing path: "/metadata/annotations/a": missing value');
  });
  test('replace of a missing key is 422', () => {
    expectError(() => applyJsonPatch(doc(), '[{"op":"replace","path":"/spec/paused","value":true}]'), 422, 'Invalid', 'replace operation does not apply: doc is missing key: /spec/paused: missing value');
  });
  test('unknown op is 422', () => {
    expectError(() => applyJsonPatch(doc(), '[{"op":"frobnicate","path":"/spec"}]'), 422, 'Invalid', 'Unexpected kind: frobnicate: unknown object type');
  });
  test('malformed body is 400', () => {
    expectError(() => applyJsonPatch(doc(), '{"op":"add"}'), 400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expectError(() => applyJsonPatch(doc(), 'garbage'), 400, 'BadRequest', "invalid character 'g' looking for beginning of value");
  });
  test('too many operations is 413', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/metadata/name', value: 'a' }));
    expectError(() => applyJsonPatch(doc(), JSON.stringify(ops)), 413, 'RequestEntityTooLarge', 'The allowed maximum operations in a JSON patch is 10000, got 10001');
  });
});

describe('JSON merge patch', () => {
  test('merges, deletes with null, replaces lists', () => {
    const got = applyMergePatch(doc(), '{"metadata":{"labels":{"x":null,"y":"2"}},"spec":{"list":["q"],"new":{"a":null,"b":1}}}');
    assert.deepEqual(got, { metadata: { name: 'a', labels: { y: '2' } }, spec: { list: ['q'], replicas: 1, new: { b: 1 } } });
  });
  test('invalid bodies are 400 Invalid JSON Patch', () => {
    for (const body of ['nope', 'null', '5', '"s"']) expectError(() => applyMergePatch(doc(), body), 400, 'BadRequest', 'Invalid JSON Patch');
  });
  test('an array patch replaces the document', () => {
    assert.deepEqual(applyMergePatch(doc(), '[1,2]'), [1, 2]);
  });
});
