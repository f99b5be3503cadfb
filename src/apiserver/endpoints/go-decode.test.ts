import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntaxError, goTypeError, parseJsonAsGo, summarizeBody, typeMetaError } from './go-decode.js';
import type { SchemaObject } from '../openapi/types.js';

const syntax = (s: string) => goJsonSyntaxError(Buffer.from(s));

test('valid JSON has no syntax error', () => {
  for (const s of ['['.repeat(10000) + ']'.repeat(10000), '{}', ' [ ] ', '{"a":[1,-2.5e+3,0,true,false,null,"\\u00e9\\n\\"x\\""]}', '"s"', '-0.0E-1', '\n{"a":{"b":[]}}\t']) {
    assert.equal(syntax(s), undefined, s);
  }
});

test('syntax errors use the Go scanner wording', () => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['nul', 'unexpected end of JSON input'],
    ['-a', "invalid character 'a' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['01', "invalid character '1' after top-level value"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ["{} '", "invalid character '\\'' after top-level value"],
    ['['.repeat(10001), "invalid character '[' exceeded max depth"],
  ];
  for (const [input, message] of cases) assert.equal(syntax(input), message, JSON.stringify(input));
});

test('body summaries: objects as text, anything else as hex, 30 bytes at most', () => {
  assert.equal(summarizeBody(Buffer.alloc(0)), '<empty>');
  assert.equal(summarizeBody(Buffer.from('{"a":1}')), '{"a":1}');
  assert.equal(summarizeBody(Buffer.from(`{"a":"${'x'.repeat(40)}"}`)), `{"a":"${'x'.repeat(24)} ...`);
  assert.equal(summarizeBody(Buffer.from('[1]')), '5b315d');
  assert.equal(summarizeBody(Buffer.from('y'.repeat(31))), `${'79'.repeat(30)} ...`);
});

test('type meta must be read from an object with string apiVersion and kind', () => {
  assert.equal(typeMetaError({ kind: 'Pod' }), undefined);
  assert.equal(typeMetaError(null), undefined);
  assert.match(typeMetaError('x') ?? '', /^json: cannot unmarshal string into Go value of type struct \{ APIVersion string/);
  assert.equal(typeMetaError({ kind: 5 }), 'json: cannot unmarshal number into Go struct field .kind of type string');
});

const schemas: Record<string, SchemaObject> = {
  'io.k8s.api.test.v1.Thing': {
    type: 'object',
    properties: {
      metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      spec: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.test.v1.ThingSpec' }] },
    },
  },
  'io.k8s.api.test.v1.ThingSpec': {
    type: 'object',
    properties: {
      count: { type: 'integer', format: 'int32' },
      big: { type: 'integer', format: 'int64' },
      ratio: { type: 'number', format: 'double' },
      enabled: { type: 'boolean' },
      items: { type: 'array', items: { $ref: '#/components/schemas/io.k8s.api.test.v1.Item' } },
      size: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' },
      port: { 'x-kubernetes-int-or-string': true },
      created: { type: 'string', format: 'date-time' },
    },
  },
  'io.k8s.api.test.v1.Item': { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } } },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } },
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
};
const typeError = (obj: unknown, root = 'io.k8s.api.test.v1.Thing') => goTypeError(obj, root, (n) => schemas[n]);

test('well-typed objects, nulls, unknown fields and custom-decoded types pass', () => {
  assert.equal(
    typeError({
      metadata: { name: 'a', labels: { x: 'y' } },
      spec: { count: 3, big: 2 ** 40, ratio: 0.5, enabled: true, items: [{ name: 'i', tags: ['t'] }], size: 5, port: 'http', created: '2024-01-01T00:00:00Z', foo: [] },
    }),
    undefined,
  );
  assert.equal(typeError({ metadata: null, spec: { count: null, items: null } }), undefined);
  assert.equal(typeError({ spec: { count: 'x' } }, 'io.example.v1.Custom'), undefined, 'only built-in kinds are typed');
});

test('type errors name the Go struct, the JSON path without indices and the Go type', () => {
  const cases: [unknown, string][] = [
    [{ spec: { count: 'three' } }, 'json: cannot unmarshal string into Go struct field ThingSpec.spec.count of type int32'],
    [{ spec: { count: 1.5 } }, 'json: cannot unmarshal number 1.5 into Go struct field ThingSpec.spec.count of type int32'],
    [{ spec: { count: 2 ** 31 } }, 'json: cannot unmarshal number 2147483648 into Go struct field ThingSpec.spec.count of type int32'],
    [{ spec: { ratio: '1' } }, 'json: cannot unmarshal string into Go struct field ThingSpec.spec.ratio of type float64'],
    [{ spec: { enabled: 'yes' } }, 'json: cannot unmarshal string into Go struct field ThingSpec.spec.enabled of type bool'],
    [{ spec: { items: {} } }, 'json: cannot unmarshal object into Go struct field ThingSpec.spec.items of type []v1.Item'],
    [{ spec: { items: ['x'] } }, 'json: cannot unmarshal string into Go struct field ThingSpec.spec.items of type v1.Item'],
    [{ spec: { items: [{ name: 'a' }, { tags: [1] }] } }, 'json: cannot unmarshal number into Go struct field Item.spec.items.tags of type string'],
    [{ spec: [] }, 'json: cannot unmarshal array into Go struct field Thing.spec of type v1.ThingSpec'],
    [{ metadata: { labels: { a: true } } }, 'json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string'],
    [{ metadata: { labels: [] } }, 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
  ];
  for (const [obj, message] of cases) assert.equal(typeError(obj), message, JSON.stringify(obj));
  assert.equal(typeError({ spec: { created: 7 } }), 'json: cannot unmarshal number into Go value of type string');
  // The first error in document order wins, as Go keeps the first it saw.
  assert.equal(typeError({ spec: { enabled: 1, count: 'x' } }), 'json: cannot unmarshal number into Go struct field ThingSpec.spec.enabled of type bool');
});

test('one lookup keeps its derived types across bodies; another lookup (other schemas) gets its own', () => {
  const lookup = (n: string) => schemas[n];
  const err = 'json: cannot unmarshal string into Go struct field ThingSpec.spec.count of type int32';
  assert.equal(goTypeError({ spec: { count: 'x' } }, 'io.k8s.api.test.v1.Thing', lookup), err);
  assert.equal(goTypeError({ spec: { count: 1, items: [{ name: 'a' }] } }, 'io.k8s.api.test.v1.Thing', lookup), undefined);
  assert.equal(goTypeError({ spec: { count: 'x' } }, 'io.k8s.api.test.v1.Thing', lookup), err);
  // The same kind in a changed set of schemas (as after a custom resource update): count is now a string.
  const changed: Record<string, SchemaObject> = {
    ...schemas,
    'io.k8s.api.test.v1.ThingSpec': { type: 'object', properties: { count: { type: 'string' } } },
  };
  assert.equal(goTypeError({ spec: { count: 'x' } }, 'io.k8s.api.test.v1.Thing', (n) => changed[n]), undefined);
});

test('parseJsonAsGo: JSON.parse for what Go accepts, Go wording for what it refuses, Go depth limit kept', () => {
  assert.deepEqual(parseJsonAsGo(Buffer.from('{"a":[1,"x",null]}')), { value: { a: [1, 'x', null] } });
  assert.deepEqual(parseJsonAsGo(Buffer.from('{"a" 1}')), { error: "invalid character '1' after object key" });
  const deep = '['.repeat(10001) + ']'.repeat(10001);
  assert.deepEqual(parseJsonAsGo(Buffer.from(deep)), { error: "invalid character '[' exceeded max depth" });
  const wide = `[${'1,'.repeat(6000)}1]`;
  assert.equal((parseJsonAsGo(Buffer.from(wide)) as { value: number[] }).value.length, 6001);
});
