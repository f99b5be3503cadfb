// Deployment helpers against upstream's table cases (deployment_util_test.go): fenceposts, new-RS sizing,
// completion, progress and timeout, conditions, annotations and revisions, the template hash.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, DeploymentStatus } from 'kubernetes-types/apps/v1.js';
import { computeHash, safeEncodeString, Fnv32a } from './hash.js';
import { newDeployment, rs } from './testing.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_INT32,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getProportion,
  lastRevision,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  removeCondition,
  resolveFenceposts,
  scaledValueFromIntOrPercent,
  setCondition,
  setDeploymentAnnotationsTo,
  setNewReplicaSetAnnotations,
  isSaturated,
} from './util.js';

describe('resolveFenceposts (upstream TestResolveFenceposts)', () => {
  const cases: { surge?: string; unavail?: string; desired: number; want?: [number, number]; error?: true }[] = [
    { surge: '0%', unavail: '0%', desired: 0, want: [0, 1] },
    { surge: '39%', unavail: '39%', desired: 10, want: [4, 3] },
    { surge: 'oops', unavail: '39%', desired: 10, error: true },
    { surge: '55%', unavail: 'urg', desired: 10, error: true },
    { unavail: '39%', desired: 10, want: [0, 3] },
    { surge: '39%', desired: 10, want: [4, 0] },
    { desired: 10, want: [0, 1] },
  ];
  for (const [i, c] of cases.entries()) {
    test(`case ${i}: surge ${c.surge ?? 'nil'}, unavailable ${c.unavail ?? 'nil'}, desired ${c.desired}`, () => {
      if (c.error) {
        assert.throws(() => resolveFenceposts(c.surge, c.unavail, c.desired));
        return;
      }
      const r = resolveFenceposts(c.surge, c.unavail, c.desired);
      assert.deepEqual([r.surge, r.unavailable], c.want);
    });
  }

  test('percentages: surge rounds up, unavailable down; ints pass through', () => {
    assert.equal(scaledValueFromIntOrPercent('25%', 10, true), 3);
    assert.equal(scaledValueFromIntOrPercent('25%', 10, false), 2);
    assert.equal(scaledValueFromIntOrPercent('25%', 1, true), 1);
    assert.equal(scaledValueFromIntOrPercent('25%', 1, false), 0);
    assert.equal(scaledValueFromIntOrPercent(7, 1, false), 7);
    assert.throws(() => scaledValueFromIntOrPercent('7', 10, false), /not a percentage/);
  });

  test('maxUnavailable and maxSurge of a deployment (defaults 25%/25%; Recreate and zero replicas)', () => {
    const d = newDeployment('foo', 10, { maxSurge: '25%', maxUnavailable: '25%' });
    assert.equal(maxSurge(d), 3);
    assert.equal(maxUnavailable(d), 2);
    // 1 replica at 25%/25%: surge 1, unavailable 0 (the rollout surges first).
    const one = newDeployment('foo', 1, { maxSurge: '25%', maxUnavailable: '25%' });
    assert.equal(maxSurge(one), 1);
    assert.equal(maxUnavailable(one), 0);
    // maxUnavailable never exceeds replicas.
    assert.equal(maxUnavailable(newDeployment('foo', 2, { maxUnavailable: 5 })), 2);
    assert.equal(maxUnavailable(newDeployment('foo', 0, { maxUnavailable: 5 })), 0);
    const recreate: Deployment = { ...d, spec: { ...d.spec!, strategy: { type: 'Recreate' } } };
    assert.equal(maxSurge(recreate), 0);
    assert.equal(maxUnavailable(recreate), 0);
  });
});

describe('newRSNewReplicas (upstream TestNewRSNewReplicas)', () => {
  const cases: [string, 'RollingUpdate' | 'Recreate', number, number, number, number][] = [
    ['can not scale up - to newRSReplicas', 'RollingUpdate', 1, 5, 1, 5],
    ['scale up - to depReplicas', 'RollingUpdate', 6, 2, 10, 6],
    ['recreate - to depReplicas', 'Recreate', 3, 1, 1, 3],
  ];
  for (const [name, type, depReplicas, newRSReplicas, surge, expected] of cases) {
    test(name, () => {
      const d = newDeployment('nginx', depReplicas, { maxSurge: surge, maxUnavailable: 1 });
      d.spec!.strategy = { type, rollingUpdate: { maxUnavailable: 1, maxSurge: surge } };
      const rs5 = rs('rs5', 5, undefined, '2026-01-01T00:00:00Z');
      const newRS = rs('new', newRSReplicas, undefined, '2026-01-01T00:00:00Z');
      assert.equal(newRSNewReplicas(d, [rs5], newRS), expected);
    });
  }
});

describe('DeploymentComplete / DeploymentProgressing / DeploymentTimedOut', () => {
  const withStatus = (desired: number, current: number, updated: number, available: number, maxUnavail: number, surge: number): Deployment => {
    const d = newDeployment('foo', desired, { maxSurge: surge, maxUnavailable: maxUnavail });
    d.status = { replicas: current, updatedReplicas: updated, availableReplicas: available };
    (d.metadata as { generation?: number }).generation = 0;
    return d;
  };
  for (const [name, d, want] of [
    ['not complete: min but not all pods become available', withStatus(5, 5, 5, 4, 1, 0), false],
    ['not complete: min availability is not honored', withStatus(5, 5, 5, 3, 1, 0), false],
    ['complete', withStatus(5, 5, 5, 5, 0, 0), true],
    ['not complete: all pods are available but not updated', withStatus(5, 5, 4, 5, 0, 0), false],
    ['not complete: still running old pods', withStatus(1, 2, 1, 1, 0, 1), false],
    ['not complete: one replica deployment never comes up', withStatus(1, 1, 1, 0, 1, 1), false],
  ] as const) {
    test(`complete: ${name}`, () => assert.equal(deploymentComplete(d, d.status!), want));
  }
  test('complete requires the generation to be observed', () => {
    const d = withStatus(5, 5, 5, 5, 0, 0);
    (d.metadata as { generation?: number }).generation = 2;
    assert.equal(deploymentComplete(d, { ...d.status, observedGeneration: 1 }), false);
    assert.equal(deploymentComplete(d, { ...d.status, observedGeneration: 2 }), true);
  });

  const dep = (current: number, updated: number, ready: number, available: number): Deployment => ({
    status: { replicas: current, updatedReplicas: updated, readyReplicas: ready, availableReplicas: available },
  });
  const st = (current: number, updated: number, ready: number, available: number): DeploymentStatus => ({
    replicas: current,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
  });
  for (const [name, d, s, want] of [
    ['progressing: updated pods', dep(10, 4, 4, 4), st(10, 6, 4, 4), true],
    ['not progressing', dep(10, 4, 4, 4), st(10, 4, 4, 4), false],
    ['progressing: old pods removed', dep(10, 4, 6, 6), st(8, 4, 6, 6), true],
    ['not progressing: less new pods', dep(10, 7, 3, 3), st(10, 6, 3, 3), false],
    ['progressing: less overall but more new pods', dep(10, 4, 7, 7), st(8, 8, 5, 5), true],
    ['progressing: more ready pods', dep(10, 10, 9, 8), st(10, 10, 10, 8), true],
    ['progressing: more available pods', dep(10, 10, 10, 9), st(10, 10, 10, 10), true],
  ] as const) {
    test(`progressing: ${name}`, () => assert.equal(deploymentProgressing(d, s), want));
  }

  const at = (min: number, sec: number) => Date.UTC(2016, 0, 1, 0, min, sec);
  const timed = (pds: number | undefined, from: number, reason = ''): [Deployment, DeploymentStatus] => {
    const status: DeploymentStatus = { conditions: [{ type: 'Progressing', status: 'True', reason, lastUpdateTime: new Date(from).toISOString().replace(/\.\d{3}Z$/, 'Z') }] };
    return [{ spec: { selector: {}, template: {}, ...(pds !== undefined ? { progressDeadlineSeconds: pds } : {}) }, status }, status];
  };
  for (const [name, [d, s], now, want] of [
    ['nil progressDeadlineSeconds specified - no timeout', timed(undefined, at(1, 9)), at(1, 20), false],
    ['infinite progressDeadlineSeconds specified - no timeout', timed(MAX_INT32, at(1, 9)), at(1, 20), false],
    ['progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:09 => 11s', timed(10, at(1, 9)), at(1, 20), true],
    ['progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:11 => 9s', timed(10, at(1, 11)), at(1, 20), false],
    ['previous status was a complete deployment', timed(10, at(1, 9), 'NewReplicaSetAvailable'), at(1, 20), false],
    ['already timed out', timed(10, at(1, 19), 'ProgressDeadlineExceeded'), at(1, 20), true],
  ] as const) {
    test(`timed out: ${name}`, () => assert.equal(deploymentTimedOut(d, s, now), want));
  }
});

describe('conditions (upstream TestSetCondition / TestRemoveCondition)', () => {
  const progressing = () => ({ type: 'Progressing', status: 'False', reason: 'ForSomeReason' });
  const progressing2 = () => ({ type: 'Progressing', status: 'True', reason: 'BecauseItIs' });
  const available = () => ({ type: 'Available', status: 'True', reason: 'AwesomeController' });
  test('set for the first time, simple set, overwrite', () => {
    const s1: DeploymentStatus = {};
    setCondition(s1, available());
    assert.deepEqual(s1, { conditions: [available()] });
    const s2: DeploymentStatus = { conditions: [progressing()] };
    setCondition(s2, available());
    assert.deepEqual(s2, { conditions: [progressing(), available()] });
    const s3: DeploymentStatus = { conditions: [progressing()] };
    setCondition(s3, progressing2());
    assert.deepEqual(s3, { conditions: [progressing2()] });
  });
  test('same status and reason changes nothing; same status keeps the transition time', () => {
    const s: DeploymentStatus = { conditions: [{ ...progressing2(), lastTransitionTime: 'T0', message: 'old' }] };
    setCondition(s, { ...progressing2(), lastTransitionTime: 'T1', message: 'new' });
    assert.equal(s.conditions?.[0]?.message, 'old');
    setCondition(s, { type: 'Progressing', status: 'True', reason: 'Other', lastTransitionTime: 'T2' });
    assert.equal(s.conditions?.[0]?.lastTransitionTime, 'T0');
    assert.equal(s.conditions?.[0]?.reason, 'Other');
  });
  test('remove', () => {
    const s: DeploymentStatus = { conditions: [progressing(), available()] };
    removeCondition(s, 'ReplicaFailure');
    assert.equal(s.conditions?.length, 2);
    removeCondition(s, 'Progressing');
    assert.deepEqual(s.conditions, [available()]);
  });
});

describe('revisions and annotations', () => {
  test('max and last revision', () => {
    const sets = [1, 3, 2].map((r, i) => {
      const x = rs(`r${i}`, 1, undefined, '2026-01-01T00:00:00Z');
      x.metadata!.annotations = { [REVISION_ANNOTATION]: String(r) };
      return x;
    });
    assert.equal(maxRevision(sets), 3);
    assert.equal(lastRevision(sets), 2);
    assert.equal(lastRevision([sets[0]]), 0);
  });

  test('a new RS gets the revision, the replica annotations and the copyable deployment annotations', () => {
    const d = newDeployment('foo', 3, { maxSurge: 1 });
    d.metadata!.annotations = { 'kubernetes.io/change-cause': 'v1', [REVISION_ANNOTATION]: '9', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const x = rs('foo-1', 0, undefined, '2026-01-01T00:00:00Z');
    assert.equal(setNewReplicaSetAnnotations(d, x, '1', false, 2000), true);
    assert.deepEqual(x.metadata!.annotations, {
      'kubernetes.io/change-cause': 'v1',
      [REVISION_ANNOTATION]: '1',
      [DESIRED_REPLICAS_ANNOTATION]: '3',
      [MAX_REPLICAS_ANNOTATION]: '4',
    });
    assert.equal(setNewReplicaSetAnnotations(d, x, '1', true, 2000), false, 'unchanged the second time');
  });

  test('rolling back to an RS moves its old revision into revision-history (numeric comparison, bounded length)', () => {
    const d = newDeployment('foo', 1);
    const x = rs('foo-1', 1, undefined, '2026-01-01T00:00:00Z');
    x.metadata!.annotations = { [REVISION_ANNOTATION]: '9' };
    assert.equal(setNewReplicaSetAnnotations(d, x, '10', true, 2000), true, '9 < 10 numerically');
    assert.equal(x.metadata!.annotations[REVISION_ANNOTATION], '10');
    assert.equal(x.metadata!.annotations[REVISION_HISTORY_ANNOTATION], '9');
    setNewReplicaSetAnnotations(d, x, '12', true, 2000);
    assert.equal(x.metadata!.annotations[REVISION_HISTORY_ANNOTATION], '9,10');
    // A lower revision never overwrites a higher one.
    assert.equal(setNewReplicaSetAnnotations(d, x, '3', true, 2000), false);
    assert.equal(x.metadata!.annotations[REVISION_ANNOTATION], '12');
    // The oldest entries are dropped to stay within the limit.
    setNewReplicaSetAnnotations(d, x, '13', true, 6);
    assert.equal(x.metadata!.annotations[REVISION_HISTORY_ANNOTATION], '10,12');
  });

  test('rollback copies the RS annotations onto the deployment except the skipped ones', () => {
    const d = newDeployment('foo', 1);
    d.metadata!.annotations = { [REVISION_ANNOTATION]: '2', 'kubernetes.io/change-cause': 'edit', other: 'x' };
    const x = rs('foo-1', 1, undefined, '2026-01-01T00:00:00Z');
    x.metadata!.annotations = { [REVISION_ANNOTATION]: '1', 'kubernetes.io/change-cause': 'create', [DESIRED_REPLICAS_ANNOTATION]: '1' };
    setDeploymentAnnotationsTo(d, x);
    assert.deepEqual(d.metadata!.annotations, { [REVISION_ANNOTATION]: '2', 'kubernetes.io/change-cause': 'create' });
  });
});

describe('templates, new and old ReplicaSets', () => {
  test('equalIgnoreHash ignores the hash label and nil-versus-empty differences', () => {
    const a = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    const b = { metadata: { labels: { app: 'x', 'pod-template-hash': 'abc' }, annotations: {} }, spec: { containers: [{ name: 'c', image: 'i', env: [] }] } };
    assert.equal(equalIgnoreHash(a, b), true);
    assert.equal(equalIgnoreHash(a, { ...a, spec: { containers: [{ name: 'c', image: 'j' }] } }), false);
  });

  test('the oldest matching RS is the new one; the others are old, those with replicas also required', () => {
    const d = newDeployment('foo', 3, { selector: { app: 'foo' } });
    const match1 = rs('m1', 0, undefined, '2026-01-01T00:00:02Z');
    const match2 = rs('m2', 0, undefined, '2026-01-01T00:00:01Z');
    for (const m of [match1, match2]) m.spec!.template = { ...structuredClone(d.spec!.template), metadata: { labels: { app: 'foo', 'pod-template-hash': 'h' } } };
    const old1 = rs('o1', 2, undefined, '2026-01-01T00:00:00Z');
    const old2 = rs('o2', 0, undefined, '2026-01-01T00:00:00Z');
    assert.equal(findNewReplicaSet(d, [match1, old1, match2])?.metadata?.name, 'm2');
    const { required, all } = findOldReplicaSets(d, [match1, old1, old2, match2]);
    assert.deepEqual(all.map((r) => r.metadata?.name), ['m1', 'o1', 'o2']);
    assert.deepEqual(required.map((r) => r.metadata?.name), ['o1']);
  });

  test('findActiveOrLatest: the single active, the newest when none, undefined when several', () => {
    const a = rs('a', 0, undefined, '2026-01-01T00:00:00Z');
    const b = rs('b', 0, undefined, '2026-01-01T00:00:05Z');
    assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata?.name, 'b');
    assert.equal(findActiveOrLatest(a, [b])?.metadata?.name, 'a');
    const c = rs('c', 2, undefined, '2026-01-01T00:00:00Z');
    assert.equal(findActiveOrLatest(a, [c, b])?.metadata?.name, 'c');
    assert.equal(findActiveOrLatest(rs('n', 1, undefined, '2026-01-01T00:00:09Z'), [c]), undefined);
  });

  test('saturation needs size, desired-replicas annotation and availability', () => {
    const d = newDeployment('foo', 3);
    const x = rs('x', 3, undefined, '2026-01-01T00:00:00Z', 3);
    assert.equal(isSaturated(d, x), false, 'no annotation');
    x.metadata!.annotations = { [DESIRED_REPLICAS_ANNOTATION]: '3' };
    assert.equal(isSaturated(d, x), true);
    assert.equal(isSaturated(d, rs('y', 3, undefined, '2026-01-01T00:00:00Z', 2)), false);
  });

  test('getProportion stays within what is left to add or remove', () => {
    const d = newDeployment('foo', 10, { maxSurge: 0 });
    const x = rs('x', 5, undefined, '2026-01-01T00:00:00Z');
    x.metadata!.annotations = { [MAX_REPLICAS_ANNOTATION]: '5' };
    assert.equal(getProportion(x, d, 5, 0), 5);
    assert.equal(getProportion(x, d, 5, 3), 2);
    assert.equal(getProportion(x, d, 5, 5), 0);
    assert.equal(getProportion(rs('z', 0, undefined, '2026-01-01T00:00:00Z'), d, 5, 0), 0);
    const down = newDeployment('foo', 2, { maxSurge: 0 });
    assert.equal(getProportion(x, down, -3, 0), -3, 'fraction -3, allowed -3');
    assert.equal(getProportion(x, down, -1, 0), -1, 'never beyond the allowed');
  });
});

describe('pod-template-hash', () => {
  test('FNV-32a as specified (test vectors) and the safe alphabet', () => {
    const h = new Fnv32a();
    h.write(new TextEncoder().encode(''));
    assert.equal(h.sum32(), 0x811c9dc5);
    const a = new Fnv32a();
    a.write(new TextEncoder().encode('a'));
    assert.equal(a.sum32(), 0xe40c292c);
    const f = new Fnv32a();
    f.write(new TextEncoder().encode('foobar'));
    assert.equal(f.sum32(), 0xbf9cf968);
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });

  test('stable, template-sensitive, changed by the collision count, only safe characters', () => {
    const t = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const h = computeHash(t);
    assert.equal(computeHash(structuredClone(t)), h);
    assert.equal(computeHash({ spec: { containers: [{ image: 'nginx', name: 'c' }] }, metadata: { labels: { app: 'x' } } }), h, 'key order does not matter');
    assert.notEqual(computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }), h);
    assert.notEqual(computeHash(t, 1), h);
    assert.notEqual(computeHash(t, 1), computeHash(t, 2));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
});
