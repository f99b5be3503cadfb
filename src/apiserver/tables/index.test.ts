import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { isApiError } from '../../machinery/errors.js';
import { defaultPrinter, printerFor, toTable } from './index.js';

const NOW = new Date('2024-06-01T12:00:00Z');

const cm = (name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', resourceVersion: rv, uid: `uid-${name}`, creationTimestamp: '2024-06-01T11:00:00Z', labels: { a: 'b' } },
  data: { k: 'v' },
});

describe('printerFor', () => {
  // Kinds upstream has no printer for: kubectl shows NAME and CREATED AT.
  const defaults = new Set(['bindings', 'limitranges', 'roles', 'clusterroles', 'customresourcedefinitions']);
  for (const r of BUILTIN_RESOURCES) {
    test(`${r.group || 'core'}/${r.version}/${r.resource}`, () => {
      const p = printerFor(r.group, r.resource);
      assert.equal(p === defaultPrinter, defaults.has(r.resource));
      // (upstream also marks VolumeAttachment's Attacher column with format "name")
      assert.equal(p.columns.find((c) => c.format === 'name')?.name, 'Name');
    });
  }
  test('unknown resources (custom resources) get the default table', () => {
    assert.equal(printerFor('example.com', 'widgets'), defaultPrinter);
  });
  test('both event APIs share the printer', () => assert.equal(printerFor('events.k8s.io', 'events'), printerFor('', 'events')));
});

describe('default table', () => {
  test('columns and cells as upstream DefaultTableConvertor', () => {
    assert.deepEqual(
      defaultPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', '', 0],
      ],
    );
    const role: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', creationTimestamp: '2024-05-01T10:00:00+02:00' } };
    assert.deepEqual(defaultPrinter.cells(role, NOW), ['r', '2024-05-01T08:00:00Z']);
    assert.deepEqual(defaultPrinter.cells({ apiVersion: 'v1', kind: 'X', metadata: { name: 'z', creationTimestamp: 'bogus' } }, NOW), ['z', '0001-01-01T00:00:00Z']);
  });
  test('an empty default table has null rows, printers have []', () => {
    assert.equal(toTable(defaultPrinter, [], { now: NOW, includeObject: 'Metadata' }).rows, null);
    assert.deepEqual(toTable(printerFor('', 'configmaps'), [], { now: NOW, includeObject: 'Metadata' }).rows, []);
  });
});

describe('toTable', () => {
  const printer = printerFor('', 'configmaps');
  test('list with PartialObjectMetadata rows and list metadata', () => {
    const table = toTable(printer, [cm('a', '5'), cm('b', '7')], {
      now: NOW,
      includeObject: 'Metadata',
      listMeta: { resourceVersion: '9', continue: 'tok', remainingItemCount: 3 },
    });
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '9', continue: 'tok', remainingItemCount: 3 });
    assert.deepEqual(table.columnDefinitions?.map((c) => c.name), ['Name', 'Data', 'Age']);
    assert.deepEqual(table.rows?.map((r) => r.cells), [
      ['a', 1, '60m'],
      ['b', 1, '60m'],
    ]);
    assert.deepEqual(table.rows?.[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('a', '5').metadata });
  });
  test('single object takes its resourceVersion', () => {
    const table = toTable(printer, [cm('a', '5')], { now: NOW, includeObject: 'Object' });
    assert.deepEqual(table.metadata, { resourceVersion: '5' });
    assert.deepEqual(table.rows?.[0].object, cm('a', '5'));
  });
  test('includeObject=None leaves the object out', () => {
    const table = toTable(printer, [cm('a', '5')], { now: NOW, includeObject: 'None' });
    assert.equal(table.rows?.[0].object, undefined);
    assert.equal('object' in (table.rows?.[0] ?? {}), false);
  });
  test('watch events after the first omit column definitions', () => {
    const table = toTable(printer, [cm('a', '5')], { now: NOW, includeObject: 'Metadata', omitColumnDefinitions: true });
    assert.equal(table.columnDefinitions, null);
    assert.equal(table.rows?.length, 1);
    assert.match(JSON.stringify(table), /"columnDefinitions":null/);
  });
  test('v1beta1 tables carry v1beta1 PartialObjectMetadata', () => {
    const table = toTable(printer, [cm('a', '5')], { now: NOW, includeObject: 'Metadata', apiVersion: 'meta.k8s.io/v1beta1' });
    assert.equal(table.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal((table.rows?.[0].object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
  });
  test('finished pods carry the Completed row condition', () => {
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Succeeded' } };
    const table = toTable(printerFor('', 'pods'), [pod], { now: NOW, includeObject: 'None' });
    assert.deepEqual(table.rows?.[0].conditions, [
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
  });
  test('malformed objects print without throwing', () => {
    const broken: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: 'nonsense', status: 42 };
    assert.doesNotThrow(() => toTable(printerFor('', 'pods'), [broken], { now: NOW, includeObject: 'Metadata' }));
  });
  test('a printer failure becomes an internal ApiError naming the object', () => {
    const broken: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec: { template: { spec: { containers: 7 } } } };
    assert.throws(
      () => toTable(printerFor('apps', 'deployments'), [broken], { now: NOW, includeObject: 'Metadata' }),
      (e: unknown) => isApiError(e) && e.status.code === 500 && /Deployment ns\/d/.test(e.status.message ?? ''),
    );
  });
});
