import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepClone } from './object.js';

test('deepClone copies JSON-shaped data deeply, keeps undefined members and own "__proto__" keys', () => {
  const src = JSON.parse('{"a":{"b":[1,{"c":"x"}],"__proto__":{"polluted":true}},"n":null}') as Record<string, unknown>;
  (src as { u?: undefined }).u = undefined;
  const copy = deepClone(src);
  assert.deepEqual(copy, src);
  assert.notEqual(copy.a, src.a);
  ((copy.a as { b: unknown[] }).b[1] as { c: string }).c = 'changed';
  assert.equal(((src.a as { b: unknown[] }).b[1] as { c: string }).c, 'x');
  assert.ok(Object.hasOwn(copy.a as object, '__proto__'), '"__proto__" stays an own key');
  assert.equal(Object.getPrototypeOf(copy.a), Object.prototype);
  assert.ok('u' in copy);
});

test('deepClone hands non-plain objects to structuredClone', () => {
  const d = new Date(0);
  const copy = deepClone({ d });
  assert.ok(copy.d instanceof Date);
  assert.notEqual(copy.d, d);
  assert.equal(copy.d.getTime(), 0);
});
