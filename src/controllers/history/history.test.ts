// ControllerRevision helpers as pure functions: names, hashes with collision probes, equality, ordering, the template
// snapshot patch and which revisions truncation removes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { fnv1_32 } from './hash.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  controllerRevisionName,
  equalRevision,
  findEqualRevisions,
  hashControllerRevision,
  newControllerRevision,
  nextRevision,
  revisionTemplate,
  revisionsToTruncate,
  sortControllerRevisions,
  templatePatch,
} from './history.js';

const rev = (name: string, revision: number, data: unknown = { spec: { template: { $patch: 'replace' } } }, created = '2026-01-01T00:00:00Z'): ControllerRevision => ({
  metadata: { name, creationTimestamp: created },
  revision,
  data: data as ControllerRevision['data'],
});

describe('ControllerRevision history helpers', () => {
  test('FNV-1 (not 1a) as Go hash/fnv New32', () => {
    // Reference values of FNV-1 32-bit.
    assert.equal(fnv1_32(['']), 0x811c9dc5);
    assert.equal(fnv1_32(['a']), 0x050c5d7e);
    assert.equal(fnv1_32(['foobar']), 0x31f0b262);
    assert.equal(fnv1_32(['foo', 'bar']), fnv1_32(['foobar']));
  });

  test('names are "<owner>-<hash>", the owner part cut to 223 characters', () => {
    assert.equal(controllerRevisionName('web', 'abc'), 'web-abc');
    assert.equal(controllerRevisionName('x'.repeat(300), 'h'), `${'x'.repeat(223)}-h`);
  });

  test('a new revision snapshots the template as a replace patch, labelled and named by its hash; a probe changes the hash', () => {
    const owner = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
    const patch = templatePatch(owner);
    assert.deepEqual(patch, { spec: { template: { $patch: 'replace', metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
    const cr = newControllerRevision(owner, { apiVersion: 'apps/v1', kind: 'StatefulSet' }, { app: 'web' }, patch, 1);
    const hash = cr.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(cr.metadata?.name, `web-${hash}`);
    assert.equal(cr.metadata?.labels?.app, 'web');
    assert.deepEqual(cr.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(hashControllerRevision(cr), hash, 'stable');
    assert.notEqual(hashControllerRevision(cr, 1), hash, 'a collision probe moves it');
    assert.deepEqual(revisionTemplate(cr), owner.spec.template);
  });

  test('equality by hash label and data; order by revision, then creation, then name; next revision', () => {
    const a = rev('a', 1, { x: 1 });
    const b = rev('b', 2, { x: 1 });
    const c = rev('c', 3, { x: 2 });
    assert.ok(equalRevision(a, b));
    assert.ok(!equalRevision(a, c));
    const labelled = { ...b, metadata: { ...b.metadata, labels: { [CONTROLLER_REVISION_HASH_LABEL]: 'h1' } } };
    const other = { ...a, metadata: { ...a.metadata, labels: { [CONTROLLER_REVISION_HASH_LABEL]: 'h2' } } };
    assert.ok(!equalRevision(labelled, other), 'different hash labels differ whatever the data');
    assert.deepEqual(findEqualRevisions([a, b, c], rev('n', 9, { x: 1 })).map((r) => r.metadata?.name), ['a', 'b']);
    const sorted = sortControllerRevisions([c, rev('z', 1, {}, '2026-01-01T00:00:01Z'), rev('y', 1, {}, '2026-01-01T00:00:01Z'), a]);
    assert.deepEqual(sorted.map((r) => r.metadata?.name), ['a', 'y', 'z', 'c']);
    assert.equal(nextRevision(sorted), 4);
    assert.equal(nextRevision([]), 1);
  });

  test('truncation removes the oldest revisions that are not live, beyond the limit', () => {
    const revs = [rev('r1', 1), rev('r2', 2), rev('r3', 3), rev('r4', 4), rev('r5', 5)];
    const live = new Set(['r2', 'r5']);
    assert.deepEqual(revisionsToTruncate(revs, live, 1).map((r) => r.metadata?.name), ['r1', 'r3']);
    assert.deepEqual(revisionsToTruncate(revs, live, 3), []);
    assert.deepEqual(revisionsToTruncate(revs, live, 0).map((r) => r.metadata?.name), ['r1', 'r3', 'r4']);
  });
});
