import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseSelector } from '../machinery/labels.js';
import { Indexer, Lister, NAMESPACE_INDEX, metaNamespaceKey, splitMetaNamespaceKey } from './store.js';

const pod = (ns: string, name: string, node: string, labels: Record<string, string> = {}): Pod => ({
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node, containers: [] },
});
const byNode = (p: Pod) => (p.spec?.nodeName ? [p.spec.nodeName] : []);
const names = (ps: Pod[]) => ps.map((p) => metaNamespaceKey(p)).sort();

describe('Indexer', () => {
  test('keys are namespace/name (name alone when cluster-scoped) and split back', () => {
    assert.equal(metaNamespaceKey(pod('ns', 'p', 'n')), 'ns/p');
    assert.equal(metaNamespaceKey({ metadata: { name: 'node1' } }), 'node1');
    assert.deepEqual(splitMetaNamespaceKey('ns/p'), { namespace: 'ns', name: 'p' });
    assert.deepEqual(splitMetaNamespaceKey('node1'), { namespace: '', name: 'node1' });
    assert.throws(() => splitMetaNamespaceKey('a/b/c'), /unexpected key format/);
    assert.throws(() => metaNamespaceKey({ metadata: {} }), /no metadata.name/);
  });

  test('the namespace index and named indexes follow add, update, delete and replace', () => {
    const idx = new Indexer<Pod>(metaNamespaceKey, { node: byNode });
    idx.add(pod('a', 'p1', 'n1'));
    idx.add(pod('a', 'p2', 'n2'));
    idx.add(pod('b', 'p1', 'n1'));
    assert.deepEqual(names(idx.byIndex(NAMESPACE_INDEX, 'a')), ['a/p1', 'a/p2']);
    assert.deepEqual(names(idx.byIndex('node', 'n1')), ['a/p1', 'b/p1']);
    assert.deepEqual(names(idx.index('node', pod('x', 'y', 'n2'))), ['a/p2']);

    const old = idx.update(pod('a', 'p1', 'n2'));
    assert.equal(old?.spec?.nodeName, 'n1');
    assert.deepEqual(names(idx.byIndex('node', 'n1')), ['b/p1'], 'moved out of the old index value');
    assert.deepEqual(names(idx.byIndex('node', 'n2')), ['a/p1', 'a/p2']);

    idx.delete(pod('b', 'p1', 'n1'));
    assert.deepEqual(idx.byIndex('node', 'n1'), []);
    assert.deepEqual(idx.listIndexValues('node').sort(), ['n2'], 'empty index values are dropped');
    assert.equal(idx.deleteKey('zz/none'), undefined);

    idx.replace([pod('c', 'q', 'n3')]);
    assert.deepEqual(idx.listKeys(), ['c/q']);
    assert.deepEqual(idx.byIndex(NAMESPACE_INDEX, 'a'), []);
    assert.deepEqual(names(idx.byIndex('node', 'n3')), ['c/q']);
    assert.throws(() => idx.byIndex('nope', 'x'), /index with name nope does not exist/);
  });

  test('indexers added later index existing objects; duplicate names are refused', () => {
    const idx = new Indexer<Pod>();
    idx.add(pod('a', 'p', 'n1', { app: 'web' }));
    idx.addIndexers({ app: (p) => [p.metadata?.labels?.app ?? ''] });
    assert.deepEqual(names(idx.byIndex('app', 'web')), ['a/p']);
    assert.throws(() => idx.addIndexers({ app: () => [] }), /indexer conflict/);
  });
});

describe('Lister', () => {
  test('lists by namespace and label selector, gets by name', () => {
    const idx = new Indexer<Pod>();
    idx.add(pod('a', 'web-1', 'n', { app: 'web' }));
    idx.add(pod('a', 'db-1', 'n', { app: 'db' }));
    idx.add(pod('b', 'web-2', 'n', { app: 'web' }));
    const lister = new Lister(idx);
    assert.deepEqual(names(lister.list(parseSelector('app=web'))), ['a/web-1', 'b/web-2']);
    assert.equal(lister.list().length, 3);
    assert.deepEqual(names(lister.namespace('a').list()), ['a/db-1', 'a/web-1']);
    assert.deepEqual(names(lister.namespace('a').list(parseSelector('app in (web)'))), ['a/web-1']);
    assert.equal(lister.namespace('b').get('web-2')?.metadata?.name, 'web-2');
    assert.equal(lister.namespace('b').get('web-1'), undefined);
    idx.add({ metadata: { name: 'node1' } });
    assert.equal(lister.get('node1')?.metadata?.name, 'node1');
  });
});
