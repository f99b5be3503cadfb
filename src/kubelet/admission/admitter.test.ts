import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { PodAdmitter } from './admitter.js';
import type { AdmitResult } from './types.js';

const pod = (uid: string, created: string, extra: Partial<Pod> = {}): Pod => ({ metadata: { name: uid, namespace: 'default', uid, creationTimestamp: created }, spec: { containers: [{ name: 'c' }] }, ...extra });

/** Admits at most `capacity` pods beside the others (like OutOfpods). */
function setup(capacity: number) {
  const pods = new Map<string, Pod>();
  const seen: string[][] = [];
  const admitter = new PodAdmitter({
    handlers: [
      (p, others): AdmitResult => {
        seen.push([p.metadata!.uid!, ...others.map((o) => o.metadata!.uid!)]);
        return others.length < capacity ? { admit: true } : { admit: false, reason: 'OutOfpods', message: 'full' };
      },
    ],
    current: (uid) => pods.get(uid),
  });
  return { admitter, pods, seen };
}

test('after a restart the existing pods are admitted in creation order, each against the ones before it', async () => {
  const { admitter, pods, seen } = setup(2);
  const a = pod('a', '2026-11-27T10:00:02Z');
  const b = pod('b', '2026-11-27T10:00:01Z');
  const c = pod('c', '2026-11-27T10:00:03Z');
  const done = pod('d', '2026-11-27T10:00:00Z', { status: { phase: 'Succeeded' } });
  for (const p of [a, b, c, done]) pods.set(p.metadata!.uid!, p);
  // A pod's own sync asks before the start-up batch ran: it waits for it.
  const early = admitter.admit(c);
  await admitter.admitExisting([a, c, done, b]);
  assert.deepEqual(seen, [['b'], ['a', 'b'], ['c', 'b', 'a']]);
  assert.deepEqual((await early).admit, false);
  assert.deepEqual(await admitter.admit(a), { admit: true });
  assert.equal(seen.length, 3, 'decided once per pod');
});

test('later pods are decided one at a time against the active admitted ones; finished and forgotten pods free their place', async () => {
  const { admitter, pods } = setup(1);
  await admitter.admitExisting([]);
  const a = pod('a', '2026-11-27T10:00:00Z');
  const b = pod('b', '2026-11-27T10:00:01Z');
  pods.set('a', a);
  pods.set('b', b);
  const [ra, rb] = await Promise.all([admitter.admit(a), admitter.admit(b)]);
  assert.deepEqual([ra.admit, rb.admit], [true, false]);
  pods.set('a', { ...a, status: { phase: 'Succeeded' } });
  const c = pod('c', '2026-11-27T10:00:02Z');
  pods.set('c', c);
  assert.equal((await admitter.admit(c)).admit, true);
  admitter.forget('c');
  pods.delete('c');
  const d = pod('d', '2026-11-27T10:00:03Z');
  pods.set('d', d);
  assert.equal((await admitter.admit(d)).admit, true);
  assert.deepEqual(admitter.activePods().map((p) => p.metadata?.uid), ['d']);
});
