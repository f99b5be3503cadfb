import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { applyStrategicMergePatch, goSliceStable } from './strategic.js';
import { ApiError } from '../errors.js';
import type { SchemaMap } from './schema.js';
import type { JsonMap } from './json.js';

// A fixture shaped like upstream's strategicpatch testdata (mergeItem): one kind with every patch strategy.
const ref = (name: string) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const schemas: SchemaMap = {
  mergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      mergingList: { type: 'array', items: ref('mergeItem'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      nonMergingList: { type: 'array', items: { $ref: '#/components/schemas/mergeItem' } },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      nonMergingIntList: { type: 'array', items: { type: 'integer' } },
      mergeItemPtr: { ...ref('mergeItem'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      replacingItem: { ...ref('raw'), 'x-kubernetes-patch-strategy': 'replace' },
      retainKeysMap: { ...ref('retainKeysMergeItem'), 'x-kubernetes-patch-strategy': 'retainKeys' },
      retainKeysMergingList: {
        type: 'array',
        items: { $ref: '#/components/schemas/mergeItem' },
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge,retainKeys',
      },
    },
  },
  retainKeysMergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      mergingList: { type: 'array', items: { $ref: '#/components/schemas/mergeItem' }, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
    },
  },
  raw: { type: 'object' },
};

const opts = { schemas, rootSchema: 'mergeItem' };
const y = (s: string) => parse(s) as JsonMap;

// [description, original, patch, expected] — from upstream's strategicMergePatchRawTestCases and
// createStrategicMergePatchTestCaseData (two-way and three-way applications).
const cases: [string, string, string, string][] = [
  ['delete items in lists of scalars', 'mergingIntList: [1, 2, 3, 4]', '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
  ['delete all duplicate items in lists of scalars', 'mergingIntList: [1, 2, 3, 3, 4]', '{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [1, 2, 4]'],
  ['add and delete items in lists of scalars', 'mergingIntList: [1, 2, 3]', '{$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3], mergingIntList: [4]}', 'mergingIntList: [1, 2, 4]'],
  [
    'merge lists of maps',
    'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
    '{$setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]}',
    'mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]',
  ],
  [
    'merge lists of maps with conflict',
    'mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]',
    '{$setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}], mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]}',
    'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]',
  ],
  [
    'add field to map in merging list with conflict',
    'mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]',
    '{$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}',
    'mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]',
  ],
  [
    'delete map from merging list',
    'mergingList: [{name: 1}, {name: 2, other: b}]',
    '{$setElementOrder/mergingList: [{name: 2}], mergingList: [{name: 1, $patch: delete}]}',
    'mergingList: [{name: 2, other: b}]',
  ],
  [
    'delete missing map from merging list with conflict',
    'mergingList: [{name: 3, other: a}]',
    '{$setElementOrder/mergingList: [{name: 2}], mergingList: [{name: 2}, {name: 1, $patch: delete}]}',
    'mergingList: [{name: 2}, {name: 3, other: a}]',
  ],
  [
    'add map and delete map from merging list',
    'mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]',
    '{$setElementOrder/mergingList: [{name: 2}, {name: 3}], mergingList: [{name: 3}, {name: 1, $patch: delete}]}',
    'mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]',
  ],
  [
    'add map and delete map from merging list with conflict',
    'mergingList: [{name: 1, other: a}, {name: 4, other: c}]',
    '{$setElementOrder/mergingList: [{name: 2}, {name: 3}], mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]}',
    'mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]',
  ],
  [
    'delete field from map in merging list',
    'mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]',
    '{$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: null}]}',
    'mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]',
  ],
  ['retainKeys map should clear defaulted field', 'retainKeysMap: {value: foo}', '{retainKeysMap: {$retainKeys: [other], other: bar}}', 'retainKeysMap: {other: bar}'],
  [
    'retainKeys map with discriminated union',
    'retainKeysMap: {name: type1, value: foo}',
    '{retainKeysMap: {$retainKeys: [name, other], name: type2, other: bar}}',
    'retainKeysMap: {name: type2, other: bar}',
  ],
  [
    'retainKeys in a merging list element',
    'retainKeysMergingList: [{name: 1, value: a, other: x}, {name: 2}]',
    '{retainKeysMergingList: [{name: 1, $retainKeys: [name, other], other: y}]}',
    'retainKeysMergingList: [{name: 1, other: y}, {name: 2}]',
  ],
  ['replace whole map with $patch: replace', '{name: 1, value: 1, other: a}', '{$patch: replace, name: 2}', '{name: 2}'],
  ['delete whole map with $patch: delete', '{name: 1, value: 1}', '{$patch: delete}', '{}'],
  ['replace a merging list with a $patch: replace element', 'mergingList: [{name: 1, value: a}, {name: 2}]', '{mergingList: [{name: 3}, {$patch: replace}]}', 'mergingList: [{name: 3}]'],
  ['non-merging list is replaced', 'nonMergingList: [{name: 1}, {name: 2}]', '{nonMergingList: [{name: 3}]}', 'nonMergingList: [{name: 3}]'],
  ['non-merging int list is replaced', 'nonMergingIntList: [1, 2]', '{nonMergingIntList: [2, 3]}', 'nonMergingIntList: [2, 3]'],
  ['merging int list dedups and appends', 'mergingIntList: [1, 2]', '{mergingIntList: [2, 3]}', 'mergingIntList: [1, 2, 3]'],
  ['replace strategy replaces the map', 'replacingItem: {a: 1, b: 2}', '{replacingItem: {c: 3}}', 'replacingItem: {c: 3}'],
  ['simple map merges and null deletes', 'simpleMap: {a: x, b: y}', '{simpleMap: {b: null, c: z}}', 'simpleMap: {a: x, c: z}'],
  ['null for a missing key changes nothing', '{name: 1}', '{value: null}', '{name: 1}'],
  ['nulls inside a newly added map are dropped', '{name: 1}', '{mergeItemPtr: {name: x, value: null}}', '{name: 1, mergeItemPtr: {name: x}}'],
  ['deleteFromPrimitiveList on a missing list adds nothing', '{name: 1}', '{$deleteFromPrimitiveList/mergingIntList: [1]}', '{name: 1}'],
  ['type change replaces the value', '{name: 1, simpleMap: {a: b}}', '{simpleMap: "x"}', '{name: 1, simpleMap: "x"}'],
  [
    'setElementOrder reorders the server list',
    'mergingList: [{name: a}, {name: b}, {name: c}]',
    '{$setElementOrder/mergingList: [{name: c}, {name: b}, {name: a}]}',
    'mergingList: [{name: c}, {name: b}, {name: a}]',
  ],
  [
    'server-only items keep their place relative to patch items',
    'mergingList: [{name: a}, {name: x}, {name: b}]',
    '{$setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}], mergingList: [{name: c}]}',
    'mergingList: [{name: a}, {name: x}, {name: b}, {name: c}]',
  ],
  ['setElementOrder for primitive list', 'mergingIntList: [1, 2, 3]', '{$setElementOrder/mergingIntList: [3, 2, 1]}', 'mergingIntList: [3, 2, 1]'],
];

// Order-preservation cases from upstream (current object + three-way patch → result), including the lists with
// duplicates that pin down Go's exact sort.
const ML = (names: (string | number)[]) => `mergingList: [${names.map((n) => (typeof n === 'number' ? `{name: ${n}}` : n)).join(', ')}]`;
cases.push(
  ['delete an item in a list of primitives and preserve order', 'mergingIntList: [1, 2, 3]', '{$setElementOrder/mergingIntList: [2, 1], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [2, 1]'],
  [
    'add an item in a list and preserve order',
    ML(['{name: 1, other: a}', '{name: 2, value: 2, other: b}']),
    `{$setElementOrder/mergingList: [{name: 3}, {name: 1}, {name: 2}], mergingList: [{name: 3, value: 3}]}`,
    ML(['{name: 3, value: 3}', '{name: 1, other: a}', '{name: 2, value: 2, other: b}']),
  ],
  [
    'add multiple items in a list and preserve order',
    ML(['{name: 1, other: a}', '{name: 2, value: 2, other: b}']),
    `{$setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}], mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]}`,
    ML(['{name: 1, other: a}', '{name: 4, value: 4}', '{name: 2, value: 2, other: b}', '{name: 3, value: 3}']),
  ],
  [
    'delete an item in a list and preserve order',
    ML(['{name: 1, other: a}', '{name: 2, value: 2, other: b}', '{name: 3, value: 3}']),
    `{$setElementOrder/mergingList: [{name: 2}, {name: 1}], mergingList: [{name: 3, $patch: delete}]}`,
    ML(['{name: 2, value: 2, other: b}', '{name: 1, other: a}']),
  ],
  [
    'change an item in a list and preserve order',
    ML(['{name: 1, other: a}', '{name: 2, value: 2, other: b}', '{name: 3, value: 3}']),
    `{$setElementOrder/mergingList: [{name: 2}, {name: 3}, {name: 1}], mergingList: [{name: 3, value: x}]}`,
    ML(['{name: 2, value: 2, other: b}', '{name: 3, value: x}', '{name: 1, other: a}']),
  ],
  [
    'add and delete an item in a list and preserve order',
    ML(['{name: 1, other: a}', '{name: 2, value: 2, other: b}', '{name: 3, value: 3}']),
    `{$setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}], mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]}`,
    ML(['{name: 4, value: 4}', '{name: 2, value: 2, other: b}', '{name: 1, other: a}']),
  ],
  ['set elements order in a list with server-only items', ML([1, 3, 4, 2, 9]), '{$setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 3}, {name: 1}]}', ML([4, 2, 3, 1, 9])],
  ['set elements order in a list with server-only items 2', ML([1, 2, 9, 3, 4]), '{$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}', ML([2, 1, 9, 4, 3])],
  ['set elements order in a list with server-only items 3', ML([1, 2, 7, 9, 8, 3, 4]), '{$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}', ML([2, 1, 7, 9, 8, 4, 3])],
  ['add an item in a int list and preserve order', 'mergingIntList: [1, 2]', '{$setElementOrder/mergingIntList: [3, 1, 2], mergingIntList: [3]}', 'mergingIntList: [3, 1, 2]'],
  ['add multiple items in a int list and preserve order', 'mergingIntList: [1, 2]', '{$setElementOrder/mergingIntList: [1, 4, 2, 3], mergingIntList: [4, 3]}', 'mergingIntList: [1, 4, 2, 3]'],
  ['add and delete an item in a int list and preserve order', 'mergingIntList: [1, 2, 3]', '{$setElementOrder/mergingIntList: [4, 2, 1], mergingIntList: [4], $deleteFromPrimitiveList/mergingIntList: [3]}', 'mergingIntList: [4, 2, 1]'],
  ['set elements order in a int list with server-only items 2', 'mergingIntList: [1, 2, 9, 3, 4]', '{$setElementOrder/mergingIntList: [2, 1, 4, 3]}', 'mergingIntList: [2, 1, 9, 4, 3]'],
  ['set elements order in a int list with server-only items 3', 'mergingIntList: [1, 2, 7, 9, 8, 3, 4]', '{$setElementOrder/mergingIntList: [2, 1, 4, 3]}', 'mergingIntList: [2, 1, 7, 9, 8, 4, 3]'],
  [
    'set element order for a merging list with duplicate',
    ML([1, '{name: 2, value: dup1}', 3, '{name: 2, value: dup2}', 4]),
    '{$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]}',
    ML(['{name: 2, value: dup1}', '{name: 2, value: dup2}', 1, 4, 3]),
  ],
  ['set element order for a merging int list with duplicate', 'mergingIntList: [1, 2, 3, 2, 4]', '{$setElementOrder/mergingIntList: [2, 1, 4, 3, 2]}', 'mergingIntList: [2, 2, 1, 4, 3]'],
);

// retainKeys cases from upstream (current object + three-way patch → result).
cases.push(
  [
    'retainKeys map adds an item in nested merging int list',
    'retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}',
    '{retainKeysMap: {$setElementOrder/mergingIntList: [1, 2, 4], $retainKeys: [mergingIntList, name], mergingIntList: [4]}}',
    'retainKeysMap: {name: foo, mergingIntList: [1, 2, 4, 3]}',
  ],
  [
    'retainKeys map adds and deletes items in nested merging int list',
    'retainKeysMap: {name: foo, mergingIntList: [1, 2, 3, 4]}',
    '{retainKeysMap: {$retainKeys: [mergingIntList, name], mergingIntList: [5], $deleteFromPrimitiveList/mergingIntList: [2], $setElementOrder/mergingIntList: [1, 3, 5]}}',
    'retainKeysMap: {name: foo, mergingIntList: [1, 3, 5, 4]}',
  ],
  ['retainKeys map deletes nested merging int list', 'retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}', '{retainKeysMap: {$retainKeys: [name], mergingIntList: null}}', 'retainKeysMap: {name: foo}'],
  [
    'retainKeys map nested merging list with no change',
    'retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}',
    '{retainKeysMap: {$retainKeys: [mergingList, name, value], $setElementOrder/mergingList: [{name: a}, {name: b}], value: bar}}',
    'retainKeysMap: {name: foo, value: bar, mergingList: [{name: a}, {name: b}, {name: c}]}',
  ],
  [
    'retainKeys map deletes an item in nested merging list',
    'retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}',
    '{retainKeysMap: {$retainKeys: [mergingList, name], $setElementOrder/mergingList: [{name: a}], mergingList: [{name: b, $patch: delete}]}}',
    'retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}',
  ],
  [
    'retainKeys list of maps clears a field',
    'retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]',
    '{$setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}], retainKeysMergingList: [{$retainKeys: [name, value], name: foo}]}',
    'retainKeysMergingList: [{name: bar}, {name: foo, value: a}]',
  ],
  [
    'retainKeys list of maps deletes a field and clears a field',
    'retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]',
    '{$setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}], retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]}',
    'retainKeysMergingList: [{name: bar}, {name: foo}]',
  ],
  [
    'delete and reorder in one list, reorder in another',
    'mergingList: [{name: a, value: a}, {name: b, value: b}]\nmergeItemPtr: [{name: c, value: c}, {name: d, value: d}]',
    '{$setElementOrder/mergingList: [{name: b}], $setElementOrder/mergeItemPtr: [{name: d}, {name: c}], mergingList: [{$patch: delete, name: a}]}',
    'mergingList: [{name: b, value: b}]\nmergeItemPtr: [{name: d, value: d}, {name: c, value: c}]',
  ],
);

describe('strategic merge patch (upstream cases)', () => {
  for (const [name, original, patch, expected] of cases) {
    test(name, () => {
      const before = y(original);
      const frozen = structuredClone(before);
      const got = applyStrategicMergePatch(before, JSON.stringify(y(patch)), opts);
      assert.deepEqual(got, y(expected));
      assert.deepEqual(before, frozen, 'original must not be modified');
    });
  }
});

function expectError(fn: () => unknown, code: number, message: string | RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.status.message, message);
    else assert.match(e.status.message ?? '', message);
    return true;
  });
}

describe('strategic merge patch errors', () => {
  test('missing merge key is an internal error with upstream text', () => {
    expectError(() => applyStrategicMergePatch(y('mergingList: [{name: a}]'), '{"mergingList":[{"value":"x"}]}', opts), 500, 'map: map[value:x] does not contain declared merge key: name');
  });
  test('bad retainKeys is 400', () => {
    expectError(() => applyStrategicMergePatch(y('retainKeysMap: {name: a}'), '{"retainKeysMap":{"$retainKeys":["name"],"value":"x"}}', opts), 400, 'invalid patch format of retainKeys');
  });
  test('retainKeys that is not a list is 400', () => {
    expectError(() => applyStrategicMergePatch(y('retainKeysMap: {name: a}'), '{"retainKeysMap":{"$retainKeys":"name"}}', opts), 400, 'invalid patch format of retainKeys');
  });
  test('list of lists is 422', () => {
    expectError(() => applyStrategicMergePatch(y('mergingIntList: [[1]]'), '{"mergingIntList":[[2]]}', opts), 422, 'the server rejected our request due to an error in our request');
  });
  test('unknown $patch directive in a map', () => {
    expectError(() => applyStrategicMergePatch(y('{}'), '{"$patch":"explode"}', opts), 500, 'unknown patch type: explode in map: map[$patch:explode]');
  });
  test('$patch: merge in a list is refused', () => {
    expectError(() => applyStrategicMergePatch(y('mergingList: [{name: a}]'), '{"mergingList":[{"$patch":"merge"}]}', opts), 500, 'merging lists cannot yet be specified in the patch');
  });
  test('body that is not JSON is 400', () => {
    expectError(() => applyStrategicMergePatch(y('{}'), 'xyz', opts), 400, "invalid character 'x' looking for beginning of value");
  });
  test('objects without a schema (custom resources) refuse strategic merge patch with 415', () => {
    expectError(
      () => applyStrategicMergePatch(y('{}'), '{}', { schemas, rootSchema: undefined }),
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });
  test('array body is 400', () => {
    expectError(() => applyStrategicMergePatch(y('{}'), '[]', opts), 400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
  });
  test('setElementOrder that contradicts the patch list', () => {
    expectError(
      () => applyStrategicMergePatch(y('mergingList: [{name: a}]'), '{"$setElementOrder/mergingList":[{"name":"a"}],"mergingList":[{"name":"b"}]}', opts),
      500,
      /doesn't match \$setElementOrder list/,
    );
  });
});

describe('strategic merge patch on a Deployment-like schema', () => {
  const k8s: SchemaMap = {
    'io.k8s.api.apps.v1.Deployment': { type: 'object', properties: { metadata: ref('meta'), spec: ref('spec') } },
    meta: {
      type: 'object',
      properties: {
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
      },
    },
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        strategy: { ...ref('strategy'), 'x-kubernetes-patch-strategy': 'retainKeys' },
        containers: { type: 'array', items: ref('container'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      },
    },
    strategy: { type: 'object', properties: { type: { type: 'string' }, rollingUpdate: { type: 'object' } } },
    container: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        image: { type: 'string' },
        env: { type: 'array', items: ref('env'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      },
    },
    env: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
  };
  const o = { schemas: k8s, rootSchema: 'io.k8s.api.apps.v1.Deployment' };
  // Without $setElementOrder upstream puts new primitive items first (finalizers below).
  test('kubectl apply patch with $setElementOrder/containers', () => {
    const live = y(`
metadata: {finalizers: [a, b], labels: {app: x}}
spec:
  replicas: 1
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}
  containers: [{name: web, image: nginx:1, env: [{name: A, value: "1"}]}, {name: side, image: busybox}]`);
    const patch = {
      metadata: { finalizers: ['c'], labels: { tier: 'fe' } },
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }],
        containers: [{ name: 'web', image: 'nginx:2', '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'B', value: '2' }] }],
      },
    };
    const got = applyStrategicMergePatch(live, JSON.parse(JSON.stringify(patch)), o);
    assert.deepEqual(
      got,
      y(`
metadata: {finalizers: [c, a, b], labels: {app: x, tier: fe}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  containers: [{name: side, image: busybox}, {name: web, image: "nginx:2", env: [{name: A, value: "1"}, {name: B, value: "2"}]}]`),
    );
  });
  test('finalizer removal via $deleteFromPrimitiveList', () => {
    const got = applyStrategicMergePatch(y('metadata: {finalizers: [a, b, c]}'), '{"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}}', o);
    assert.deepEqual(got, y('metadata: {finalizers: [a, c]}'));
  });
});

describe('Go stable sort port', () => {
  test('sorts stably like sort.SliceStable, across the 20-element insertion-sort blocks', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round++) {
      const items = Array.from({ length: Math.floor(rand() * 120) }, (_, i) => ({ key: Math.floor(rand() * 10), i }));
      const sorted = [...items];
      goSliceStable(sorted, (a, b) => a.key < b.key);
      assert.deepEqual(sorted, [...items].sort((a, b) => a.key - b.key || a.i - b.i));
    }
  });
});
