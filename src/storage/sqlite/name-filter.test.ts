import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameFilter } from './name-filter.js';

test('the name filter never answers "no" for a name it was given, across layers, and rarely "maybe" for others', () => {
  const f = new NameFilter(100);
  assert.equal(f.mightContain('/registry/pods/ns/a'), false);
  const added: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    const name = `/registry/${i % 3 ? 'pods' : 'events'}/ns-${i % 7}/p-${i.toString(36)}-${(i * 7919) % 10007}`;
    f.add(name);
    added.push(name);
    // Every name added so far, not only the newest: earlier layers stay as they were.
    if (i % 5000 === 0) for (const a of added) assert.ok(f.mightContain(a), a);
  }
  for (const a of added) assert.ok(f.mightContain(a), a);
  f.add(added[0]!);
  assert.ok(f.size <= added.length);
  assert.ok(f.size > added.length * 0.98, `${f.size} of ${added.length}`);
  let maybe = 0;
  const others = 60_000;
  for (let i = 0; i < others; i++) if (f.mightContain(`/registry/pods/ns-${i % 7}/q-${i.toString(36)}`)) maybe++;
  assert.ok(maybe / others < 0.015, `false-positive rate ${maybe / others}`);
  // Unicode and empty names.
  const g = new NameFilter();
  for (const name of ['', 'é', '\u{1F600}', 'a\u0000b']) g.add(name);
  for (const name of ['', 'é', '\u{1F600}', 'a\u0000b']) assert.ok(g.mightContain(name));
});
