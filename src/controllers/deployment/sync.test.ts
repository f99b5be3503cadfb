// The deployment sync against a recording fake of its API writes and a FakeClock, with upstream's table cases
// (rolling_test.go, sync_test.go, progress_test.go, recreate_test.go) plus creation, collision, rollback and progress.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../machinery/errors.js';
import { harness, newDeployment, rs } from './testing.js';
import { computeHash } from './hash.js';
import { oldPodsRunning } from './sync.js';
import {
  DEPRECATED_ROLLBACK_TO,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_INT32,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  maxSurge,
  setReplicasAnnotations,
  type MutableReplicaSet,
} from './util.js';

const T0 = '2016-05-20T00:00:00Z';
const T1 = '2016-05-20T01:00:00Z';
const T2 = '2016-05-20T02:00:00Z';

describe('reconcileNewReplicaSet (upstream table)', () => {
  const cases = [
    { deploymentReplicas: 10, maxSurge: 0, oldReplicas: 10, newReplicas: 0, scaleExpected: false },
    { deploymentReplicas: 10, maxSurge: 2, oldReplicas: 10, newReplicas: 0, scaleExpected: true, expectedNewReplicas: 2 },
    { deploymentReplicas: 10, maxSurge: 2, oldReplicas: 5, newReplicas: 0, scaleExpected: true, expectedNewReplicas: 7 },
    { deploymentReplicas: 10, maxSurge: 2, oldReplicas: 10, newReplicas: 2, scaleExpected: false },
    { deploymentReplicas: 10, maxSurge: 2, oldReplicas: 2, newReplicas: 11, scaleExpected: true, expectedNewReplicas: 10 },
  ];
  for (const [i, c] of cases.entries()) {
    test(`scenario ${i}`, async () => {
      const h = harness();
      const newRS = rs('foo-v2', c.newReplicas, undefined, T0);
      const oldRS = rs('foo-v2', c.oldReplicas, undefined, T0);
      const d = newDeployment('foo', c.deploymentReplicas, { maxSurge: c.maxSurge, maxUnavailable: 0, selector: { foo: 'bar' } });
      const scaled = await h.syncer.reconcileNewReplicaSet([newRS, oldRS], newRS, d);
      if (!c.scaleExpected) {
        assert.equal(scaled, false);
        // Upstream's fake would also see no action: annotations are only written along with a scale.
        assert.equal(h.ops.rsUpdates().filter((r) => r.spec?.replicas !== c.newReplicas).length, 0);
        return;
      }
      assert.equal(scaled, true);
      const updates = h.ops.rsUpdates();
      assert.equal(updates.length, 1);
      assert.equal(updates[0]?.spec?.replicas, c.expectedNewReplicas);
    });
  }
});

describe('reconcileOldReplicaSets (upstream table)', () => {
  const cases = [
    { deploymentReplicas: 10, maxUnavailable: 0, oldReplicas: 10, newReplicas: 0, readyOld: 10, readyNew: 0, scaleExpected: true, expectedOld: 9 },
    { deploymentReplicas: 10, maxUnavailable: 2, oldReplicas: 10, newReplicas: 0, readyOld: 10, readyNew: 0, scaleExpected: true, expectedOld: 8 },
    // Unhealthy old replicas are cleaned up.
    { deploymentReplicas: 10, maxUnavailable: 2, oldReplicas: 10, newReplicas: 0, readyOld: 8, readyNew: 0, scaleExpected: true, expectedOld: 8 },
    // One unhealthy replica cleaned up, one ready pod scaled down.
    { deploymentReplicas: 10, maxUnavailable: 2, oldReplicas: 10, newReplicas: 0, readyOld: 9, readyNew: 0, scaleExpected: true, expectedOld: 8 },
    // Unavailable pods of the new RS do not let old ones be scaled down further.
    { deploymentReplicas: 10, maxUnavailable: 2, oldReplicas: 8, newReplicas: 2, readyOld: 8, readyNew: 0, scaleExpected: false },
  ];
  for (const [i, c] of cases.entries()) {
    test(`scenario ${i}`, async () => {
      const h = harness();
      const newRS = rs('foo-new', c.newReplicas, { foo: 'new' }, T0, c.readyNew);
      const oldRS = rs('foo-old', c.oldReplicas, { foo: 'old' }, T0, c.readyOld);
      const d = newDeployment('foo', c.deploymentReplicas, { maxSurge: 0, maxUnavailable: c.maxUnavailable, selector: { foo: 'new' } });
      const scaled = await h.syncer.reconcileOldReplicaSets([oldRS, newRS], [oldRS], newRS, d);
      assert.equal(scaled, c.scaleExpected);
      const updates = h.ops.rsUpdates();
      if (c.scaleExpected) assert.equal(updates.at(-1)?.spec?.replicas, c.expectedOld);
      else assert.equal(updates.length, 0);
    });
  }
});

describe('cleanupUnhealthyReplicas (upstream table)', () => {
  const cases = [
    { oldReplicas: 10, readyPods: 8, maxCleanupCount: 1, expected: 1 },
    { oldReplicas: 10, readyPods: 8, maxCleanupCount: 3, expected: 2 },
    { oldReplicas: 10, readyPods: 8, maxCleanupCount: 0, expected: 0 },
    { oldReplicas: 10, readyPods: 10, maxCleanupCount: 3, expected: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    test(`scenario ${i}`, async () => {
      const h = harness();
      const oldRS = rs('foo-v2', c.oldReplicas, undefined, T0, c.readyPods);
      const d = newDeployment('foo', 10, { maxSurge: 2, maxUnavailable: 2 });
      const { scaledDown } = await h.syncer.cleanupUnhealthyReplicas([oldRS], d, c.maxCleanupCount);
      assert.equal(scaledDown, c.expected);
    });
  }
});

describe('scaleDownOldReplicaSetsForRollingUpdate (upstream table)', () => {
  const cases = [
    { deploymentReplicas: 10, maxUnavailable: 0, readyPods: 10, oldReplicas: 10, scaleExpected: true, expectedOld: 9 },
    { deploymentReplicas: 10, maxUnavailable: 2, readyPods: 10, oldReplicas: 10, scaleExpected: true, expectedOld: 8 },
    { deploymentReplicas: 10, maxUnavailable: 2, readyPods: 8, oldReplicas: 10, scaleExpected: false },
    { deploymentReplicas: 10, maxUnavailable: 2, readyPods: 10, oldReplicas: 0, scaleExpected: false },
    { deploymentReplicas: 10, maxUnavailable: 2, readyPods: 1, oldReplicas: 10, scaleExpected: false },
  ];
  for (const [i, c] of cases.entries()) {
    test(`scenario ${i}`, async () => {
      const h = harness();
      const oldRS = rs('foo-v2', c.oldReplicas, undefined, T0, c.readyPods);
      const d = newDeployment('foo', c.deploymentReplicas, { maxSurge: 0, maxUnavailable: c.maxUnavailable, selector: { foo: 'bar' } });
      const scaled = await h.syncer.scaleDownOldReplicaSetsForRollingUpdate([oldRS], [oldRS], d);
      if (!c.scaleExpected) {
        assert.equal(scaled, 0);
        return;
      }
      assert.notEqual(scaled, 0);
      const updates = h.ops.rsUpdates();
      assert.equal(updates.length, 1);
      assert.equal(updates[0]?.spec?.replicas, c.expectedOld);
    });
  }
});

describe('scale: proportional scaling (upstream TestScale)', () => {
  const updatedTemplate = (replicas: number) => {
    const d = newDeployment('foo', replicas, { selector: { foo: 'bar' } });
    d.spec!.template.metadata!.labels!.another = 'label';
    return d;
  };
  const dep = (replicas: number, surge?: number, unavail?: number) => newDeployment('foo', replicas, { maxSurge: surge, maxUnavailable: unavail });
  const cases: {
    name: string;
    deployment: Deployment;
    oldDeployment: Deployment;
    newRS?: MutableReplicaSet;
    oldRSs: MutableReplicaSet[];
    expectedNew?: number;
    expectedOld: number[];
    wasntUpdated?: string[];
    desiredReplicasAnnotations?: Record<string, number>;
  }[] = [
    { name: 'normal scaling event: 10 -> 12', deployment: dep(12), oldDeployment: dep(10), newRS: rs('foo-v1', 10, undefined, T2), oldRSs: [], expectedNew: 12, expectedOld: [] },
    { name: 'normal scaling event: 10 -> 5', deployment: dep(5), oldDeployment: dep(10), newRS: rs('foo-v1', 10, undefined, T2), oldRSs: [], expectedNew: 5, expectedOld: [] },
    { name: 'proportional scaling: 5 -> 10', deployment: dep(10), oldDeployment: dep(5), newRS: rs('foo-v2', 2, undefined, T2), oldRSs: [rs('foo-v1', 3, undefined, T1)], expectedNew: 4, expectedOld: [6] },
    { name: 'proportional scaling: 5 -> 3', deployment: dep(3), oldDeployment: dep(5), newRS: rs('foo-v2', 2, undefined, T2), oldRSs: [rs('foo-v1', 3, undefined, T1)], expectedNew: 1, expectedOld: [2] },
    { name: 'proportional scaling: 9 -> 4', deployment: dep(4), oldDeployment: dep(9), newRS: rs('foo-v2', 8, undefined, T2), oldRSs: [rs('foo-v1', 1, undefined, T1)], expectedNew: 4, expectedOld: [0] },
    {
      name: 'proportional scaling: 7 -> 10',
      deployment: dep(10),
      oldDeployment: dep(7),
      newRS: rs('foo-v3', 2, undefined, T2),
      oldRSs: [rs('foo-v2', 3, undefined, T1), rs('foo-v1', 2, undefined, T0)],
      expectedNew: 3,
      expectedOld: [4, 3],
    },
    {
      name: 'proportional scaling: 13 -> 8',
      deployment: dep(8),
      oldDeployment: dep(13),
      newRS: rs('foo-v3', 2, undefined, T2),
      oldRSs: [rs('foo-v2', 8, undefined, T1), rs('foo-v1', 3, undefined, T0)],
      expectedNew: 1,
      expectedOld: [5, 2],
    },
    {
      name: 'leftover distribution: 3 -> 4 (scales up the new replica set)',
      deployment: dep(4),
      oldDeployment: dep(3),
      newRS: rs('foo-v3', 1, undefined, T2),
      oldRSs: [rs('foo-v2', 1, undefined, T1), rs('foo-v1', 1, undefined, T0)],
      expectedNew: 2,
      expectedOld: [1, 1],
    },
    {
      name: 'leftover distribution: 3 -> 2 (scales down the older replica set)',
      deployment: dep(2),
      oldDeployment: dep(3),
      newRS: rs('foo-v3', 1, undefined, T2),
      oldRSs: [rs('foo-v2', 1, undefined, T1), rs('foo-v1', 1, undefined, T0)],
      expectedNew: 1,
      expectedOld: [1, 0],
    },
    {
      name: 'proportional scaling (no new rs): 4 -> 5 (scales up the latest first)',
      deployment: dep(5),
      oldDeployment: dep(4),
      oldRSs: [rs('foo-v2', 2, undefined, T1), rs('foo-v1', 2, undefined, T0)],
      expectedOld: [3, 2],
    },
    {
      name: 'proportional scaling: 6 -> 0',
      deployment: dep(0),
      oldDeployment: dep(6),
      newRS: rs('foo-v3', 3, undefined, T2),
      oldRSs: [rs('foo-v2', 2, undefined, T1), rs('foo-v1', 1, undefined, T0)],
      expectedNew: 0,
      expectedOld: [0, 0],
    },
    {
      name: 'proportional scaling: 0 -> 6',
      deployment: dep(6),
      oldDeployment: dep(6),
      newRS: rs('foo-v3', 0, undefined, T2),
      oldRSs: [rs('foo-v2', 0, undefined, T1), rs('foo-v1', 0, undefined, T0)],
      expectedNew: 6,
      expectedOld: [0, 0],
      wasntUpdated: ['foo-v2', 'foo-v1'],
    },
    {
      name: 'failed rs update',
      deployment: dep(5),
      oldDeployment: dep(5),
      newRS: rs('foo-v3', 2, undefined, T2),
      oldRSs: [rs('foo-v2', 1, undefined, T1), rs('foo-v1', 1, undefined, T0)],
      expectedNew: 2,
      expectedOld: [2, 1],
      wasntUpdated: ['foo-v3', 'foo-v1'],
      desiredReplicasAnnotations: { 'foo-v2': 3 },
    },
    { name: 'deployment with surge pods', deployment: dep(20, 2), oldDeployment: dep(10, 2), newRS: rs('foo-v2', 6, undefined, T2), oldRSs: [rs('foo-v1', 6, undefined, T1)], expectedNew: 11, expectedOld: [11] },
    { name: 'change both surge and size', deployment: dep(50, 6), oldDeployment: dep(10, 3), newRS: rs('foo-v2', 5, undefined, T2), oldRSs: [rs('foo-v1', 8, undefined, T1)], expectedNew: 22, expectedOld: [34] },
    {
      name: 'change both size and template',
      deployment: updatedTemplate(14),
      oldDeployment: newDeployment('foo', 10, { selector: { foo: 'bar' } }),
      oldRSs: [rs('foo-v2', 7, undefined, T2), rs('foo-v1', 3, undefined, T1)],
      expectedOld: [10, 4],
    },
    {
      name: 'saturated but broken new replica set does not affect old pods',
      deployment: dep(2, 1, 1),
      oldDeployment: dep(2, 1, 1),
      newRS: rs('foo-v2', 2, undefined, T2, 0),
      oldRSs: [rs('foo-v1', 1, undefined, T1)],
      expectedNew: 2,
      expectedOld: [1],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const h = harness();
      const annotate = (r: MutableReplicaSet) => {
        const desired = c.desiredReplicasAnnotations?.[r.metadata!.name!] ?? c.oldDeployment.spec!.replicas!;
        setReplicasAnnotations(r, desired, desired + maxSurge(c.oldDeployment));
      };
      if (c.newRS) annotate(c.newRS);
      c.oldRSs.forEach(annotate);
      await h.syncer.scale(c.deployment, c.newRS, c.oldRSs);
      const sizes = new Map<string, number>();
      if (c.newRS) sizes.set(c.newRS.metadata!.name!, c.newRS.spec!.replicas!);
      for (const r of c.oldRSs) sizes.set(r.metadata!.name!, r.spec!.replicas!);
      for (const u of h.ops.rsUpdates()) if (!c.wasntUpdated?.includes(u.metadata!.name!)) sizes.set(u.metadata!.name!, u.spec!.replicas!);
      if (c.expectedNew !== undefined && c.newRS) assert.equal(sizes.get(c.newRS.metadata!.name!), c.expectedNew, 'new');
      assert.deepEqual(
        c.oldRSs.map((r) => sizes.get(r.metadata!.name!)),
        c.expectedOld,
        'old',
      );
    });
  }

  test('every scale names the old and the new size; the replica annotations follow the deployment', async () => {
    const h = harness();
    const newRS = rs('foo-v2', 2, undefined, T2);
    const oldRS = rs('foo-v1', 3, undefined, T1);
    for (const r of [newRS, oldRS]) setReplicasAnnotations(r, 5, 5);
    await h.syncer.scale(dep(10), newRS, [oldRS]);
    assert.deepEqual(
      h.recorder.events.map((e) => `${e.reason}: ${e.message}`),
      ['ScalingReplicaSet: Scaled up replica set foo-v1 to 6 from 3', 'ScalingReplicaSet: Scaled up replica set foo-v2 to 4 from 2'],
    );
    for (const u of h.ops.rsUpdates()) {
      assert.equal(u.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION], '10');
      assert.equal(u.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION], '10');
    }
  });
});

describe('cleanupDeployment (upstream table)', () => {
  const withStatus = (name: string, specReplicas: number, statusReplicas: number): MutableReplicaSet => {
    const r = rs(name, specReplicas, { foo: 'bar' }, T0);
    r.status = { replicas: statusReplicas };
    return r;
  };
  const alreadyDeleted = withStatus('foo-1', 0, 0);
  (alreadyDeleted.metadata as { deletionTimestamp?: string }).deletionTimestamp = T0;
  const cases: { oldRSs: MutableReplicaSet[]; limit: number; expectedDeletions: number }[] = [
    { oldRSs: [withStatus('foo-1', 0, 0), withStatus('foo-2', 0, 0), withStatus('foo-3', 0, 0)], limit: 1, expectedDeletions: 2 },
    // Only RSes with spec and status replicas at 0 are deleted.
    { oldRSs: [withStatus('foo-1', 0, 0), withStatus('foo-2', 0, 1), withStatus('foo-3', 1, 0), withStatus('foo-4', 1, 1)], limit: 0, expectedDeletions: 1 },
    { oldRSs: [withStatus('foo-1', 0, 0), withStatus('foo-2', 0, 0)], limit: 0, expectedDeletions: 2 },
    { oldRSs: [withStatus('foo-1', 1, 1), withStatus('foo-2', 1, 1)], limit: 0, expectedDeletions: 0 },
    { oldRSs: [alreadyDeleted], limit: 0, expectedDeletions: 0 },
    // Unlimited history.
    { oldRSs: [withStatus('foo-1', 0, 0), withStatus('foo-2', 0, 0), withStatus('foo-3', 0, 0)], limit: MAX_INT32, expectedDeletions: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    test(`scenario ${i}`, async () => {
      const h = harness();
      const d = newDeployment('foo', 1, { revisionHistoryLimit: c.limit, selector: { foo: 'bar' } });
      await h.syncer.cleanupDeployment(c.oldRSs, d);
      assert.equal(h.ops.actions.filter((a) => a.verb === 'delete').length, c.expectedDeletions);
    });
  }

  test('the lowest revisions go first', async () => {
    const h = harness();
    const sets = [3, 1, 2].map((rev) => {
      const r = withStatus(`foo-r${rev}`, 0, 0);
      r.metadata!.annotations = { [REVISION_ANNOTATION]: String(rev) };
      return r;
    });
    await h.syncer.cleanupDeployment(sets, newDeployment('foo', 1, { revisionHistoryLimit: 1 }));
    assert.deepEqual(
      h.ops.actions.map((a) => (a.verb === 'delete' ? a.name : '')),
      ['foo-r1', 'foo-r2'],
    );
  });
});

describe('new ReplicaSet, revisions and conditions', () => {
  test('a rolling deployment creates <name>-<hash> with the hash label and selector, the revision and the surge size', async () => {
    const h = harness();
    const d = newDeployment('web', 4, { maxSurge: '25%', maxUnavailable: '25%', selector: { app: 'web' } });
    d.spec!.progressDeadlineSeconds = 600;
    d.metadata!.annotations = { 'kubernetes.io/change-cause': 'first' };
    await h.syncer.syncDeployment(d, [], new Map());
    const create = h.ops.actions.find((a) => a.verb === 'create');
    assert.ok(create && create.resource === 'replicasets' && create.verb === 'create');
    const made = create.obj;
    const hash = computeHash(d.spec!.template);
    assert.equal(made.metadata?.name, `web-${hash}`);
    assert.deepEqual(made.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(made.spec?.selector?.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(made.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(made.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'web-uid', controller: true, blockOwnerDeletion: true }]);
    // No pods yet: 4 replicas + 1 surge allowed, capped at 4.
    assert.equal(made.spec?.replicas, 4);
    assert.deepEqual(made.metadata?.annotations, {
      'kubernetes.io/change-cause': 'first',
      [REVISION_ANNOTATION]: '1',
      [DESIRED_REPLICAS_ANNOTATION]: '4',
      [MAX_REPLICAS_ANNOTATION]: '5',
    });
    assert.deepEqual(h.recorder.events, [{ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set web-${hash} to 4` }]);
    const statusWrite = h.ops.statusUpdates()[0];
    assert.equal(statusWrite?.metadata?.annotations?.[REVISION_ANNOTATION], '1');
    const progressing = statusWrite?.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetCreated');
    assert.equal(progressing?.message, `Created new replica set "web-${hash}"`);
  });

  test('an existing matching RS is found (FoundNewReplicaSet) and its revision raised above the old ones', async () => {
    const h = harness();
    const d = newDeployment('web', 2, { maxSurge: 1, selector: { app: 'web' } });
    d.spec!.progressDeadlineSeconds = 600;
    const old = rs('web-old', 0, { app: 'web' }, T0);
    old.metadata!.annotations = { [REVISION_ANNOTATION]: '4' };
    old.spec!.template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'old' }] } };
    const cur = rs('web-cur', 2, { app: 'web' }, T1);
    cur.metadata!.annotations = { [REVISION_ANNOTATION]: '2' };
    cur.spec!.template = structuredClone(d.spec!.template);
    const { newRS } = await h.syncer.getAllReplicaSetsAndSyncRevision(d, [old, cur], false);
    assert.equal(newRS?.metadata?.annotations?.[REVISION_ANNOTATION], '5');
    assert.equal(newRS?.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '2');
    // Then the deployment takes that revision and, with no Progressing condition yet, FoundNewReplicaSet.
    const again = await h.syncer.getNewReplicaSet(d, [old, newRS!], [old], false);
    assert.equal(again?.metadata?.name, 'web-cur');
    const st = h.ops.statusUpdates().at(-1);
    assert.equal(st?.metadata?.annotations?.[REVISION_ANNOTATION], '5');
    assert.equal(st?.status?.conditions?.[0]?.reason, 'FoundNewReplicaSet');
    assert.equal(st?.status?.conditions?.[0]?.message, 'Found new replica set "web-cur"');
  });

  test('minReadySeconds follows the deployment onto new and existing ReplicaSets', async () => {
    const h = harness();
    const d = newDeployment('web', 2, { maxSurge: 1, selector: { app: 'web' } });
    d.spec!.minReadySeconds = 7;
    await h.syncer.getNewReplicaSet(d, [], [], true);
    const create = h.ops.actions.find((a) => a.verb === 'create');
    assert.ok(create && create.resource === 'replicasets' && create.verb === 'create');
    assert.equal(create.obj.spec?.minReadySeconds, 7);
    const existing = rs('web-cur', 2, { app: 'web' }, T1);
    existing.spec!.template = structuredClone(d.spec!.template);
    existing.metadata!.annotations = { [REVISION_ANNOTATION]: '1' };
    d.spec!.minReadySeconds = 9;
    await h.syncer.getNewReplicaSet(d, [existing], [], false);
    assert.equal(h.ops.rsUpdates().at(-1)?.spec?.minReadySeconds, 9);
  });

  test('a name taken by another template bumps collisionCount and fails; the next hash differs', async () => {
    const h = harness();
    const d = newDeployment('web', 1, { maxSurge: 1, selector: { app: 'web' } });
    const hash = computeHash(d.spec!.template);
    const squatter: ReplicaSet = { metadata: { name: `web-${hash}`, namespace: 'default', uid: 'other' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'x', image: 'x' }] } } } };
    h.ops.cache.set(`default/web-${hash}`, squatter);
    h.ops.fail = (a) => (a.verb === 'create' ? new ApiError({ reason: 'AlreadyExists', code: 409, message: 'exists' }) : undefined);
    await assert.rejects(h.syncer.getNewReplicaSet(d, [], [], true));
    assert.equal(h.ops.statusUpdates()[0]?.status?.collisionCount, 1);
    assert.notEqual(computeHash(d.spec!.template, 1), hash);
  });

  test('our own RS found on AlreadyExists (stale cache) is used, with no event', async () => {
    const h = harness();
    const d = newDeployment('web', 1, { maxSurge: 1, selector: { app: 'web' } });
    const hash = computeHash(d.spec!.template);
    const mine: ReplicaSet = {
      metadata: { name: `web-${hash}`, namespace: 'default', uid: 'mine', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'web-uid', controller: true }] },
      spec: { selector: {}, template: { ...structuredClone(d.spec!.template), metadata: { labels: { app: 'web', 'pod-template-hash': hash } } } },
    };
    h.ops.cache.set(`default/web-${hash}`, mine);
    h.ops.fail = (a) => (a.verb === 'create' ? new ApiError({ reason: 'AlreadyExists', code: 409, message: 'exists' }) : undefined);
    const got = await h.syncer.getNewReplicaSet(d, [], [], true);
    assert.equal(got?.metadata?.uid, 'mine');
    assert.deepEqual(h.recorder.events, []);
  });

  test('a failed create sets Progressing=False ReplicaSetCreateError and a warning event', async () => {
    const h = harness();
    const d = newDeployment('web', 1, { maxSurge: 1, selector: { app: 'web' } });
    d.spec!.progressDeadlineSeconds = 600;
    h.ops.fail = (a) => (a.verb === 'create' ? new ApiError({ reason: 'Forbidden', code: 403, message: 'exceeded quota' }) : undefined);
    await assert.rejects(h.syncer.getNewReplicaSet(d, [], [], true));
    const cond = h.ops.statusUpdates()[0]?.status?.conditions?.[0];
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'ReplicaSetCreateError');
    assert.match(cond?.message ?? '', /^Failed to create new replica set "web-\w+": exceeded quota$/);
    assert.equal(h.recorder.events[0]?.reason, 'ReplicaSetCreateError');
  });
});

describe('syncRolloutStatus (progress)', () => {
  const rolling = () => {
    const d = newDeployment('web', 2, { maxSurge: 1, maxUnavailable: 0, selector: { app: 'web' } });
    d.spec!.progressDeadlineSeconds = 60;
    return d;
  };

  test('progress refreshes lastUpdateTime with ReplicaSetUpdated, keeping the transition time', async () => {
    const h = harness(Date.parse('2026-01-01T00:10:00Z'));
    const d = rolling();
    d.status = {
      replicas: 2,
      updatedReplicas: 0,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', lastUpdateTime: '2026-01-01T00:09:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    const newRS = rs('web-new', 1, { app: 'web' }, T1);
    newRS.status = { replicas: 1 };
    const old = rs('web-old', 2, { app: 'web' }, T0, 2);
    await h.syncer.syncRolloutStatus([old, newRS], newRS, d);
    const cond = h.ops.statusUpdates()[0]?.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(cond?.reason, 'ReplicaSetUpdated');
    assert.equal(cond?.message, 'ReplicaSet "web-new" is progressing.');
    assert.equal(cond?.lastUpdateTime, '2026-01-01T00:10:00Z');
    assert.equal(cond?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  test('no progress: requeued for the deadline; past it Progressing=False ProgressDeadlineExceeded', async () => {
    const h = harness(Date.parse('2026-01-01T00:00:30Z'));
    const d = rolling();
    const newRS = rs('web-new', 1, { app: 'web' }, T1);
    newRS.status = { replicas: 1 };
    const old = rs('web-old', 2, { app: 'web' }, T0, 2);
    old.status = { replicas: 2, availableReplicas: 2, readyReplicas: 2 };
    d.status = {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 1,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
    };
    await h.syncer.syncRolloutStatus([old, newRS], newRS, d);
    assert.equal(h.ops.statusUpdates().length, 0, 'nothing changed');
    // 60 s deadline from 00:00:00, now 00:00:30: check again in 30 s (+1 s skew).
    assert.deepEqual(h.requeued, [{ after: 31_000 }]);

    h.clock.step(31_000);
    await h.syncer.syncRolloutStatus([old, newRS], newRS, d);
    const cond = h.ops.statusUpdates()[0]?.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'ProgressDeadlineExceeded');
    assert.equal(cond?.message, 'ReplicaSet "web-new" has timed out progressing.');
  });

  test('complete: NewReplicaSetAvailable; Available follows minimum availability; ReplicaFailure promoted', async () => {
    const h = harness();
    const d = rolling();
    const newRS = rs('web-new', 2, { app: 'web' }, T1, 2);
    newRS.status = { ...newRS.status!, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: T2 }] };
    d.status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: T0, lastTransitionTime: T0 }] };
    await h.syncer.syncRolloutStatus([newRS], newRS, d);
    const st = h.ops.statusUpdates()[0]?.status;
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Available', 'True', 'MinimumReplicasAvailable'],
        ['Progressing', 'True', 'NewReplicaSetAvailable'],
        ['ReplicaFailure', 'True', 'FailedCreate'],
      ],
    );
    assert.equal(st?.conditions?.[1]?.message, 'ReplicaSet "web-new" has successfully progressed.');
    assert.deepEqual([st?.replicas, st?.updatedReplicas, st?.readyReplicas, st?.availableReplicas, st?.unavailableReplicas, st?.observedGeneration], [2, 2, 2, 2, undefined, 1]);
    // Not available enough: Available=False MinimumReplicasUnavailable.
    const h2 = harness();
    const weak = rs('web-new', 2, { app: 'web' }, T1, 1);
    await h2.syncer.syncRolloutStatus([weak], weak, rolling());
    const av = h2.ops.statusUpdates()[0]?.status?.conditions?.find((c) => c.type === 'Available');
    assert.deepEqual([av?.status, av?.reason, av?.message], ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']);
  });

  test('without progressDeadlineSeconds there is no Progressing condition', async () => {
    const h = harness();
    const d = rolling();
    delete d.spec!.progressDeadlineSeconds;
    d.status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' }] };
    const r = rs('web-new', 2, { app: 'web' }, T1, 2);
    await h.syncer.syncRolloutStatus([r], r, d);
    assert.deepEqual(h.ops.statusUpdates()[0]?.status?.conditions?.map((c) => c.type), ['Available']);
  });
});

describe('paused, rollback, recreate', () => {
  test('pausing sets Progressing=Unknown DeploymentPaused; resuming DeploymentResumed; a paused deployment still scales', async () => {
    const h = harness();
    const d = newDeployment('web', 5, { maxSurge: 1, selector: { app: 'web' } });
    d.spec!.progressDeadlineSeconds = 600;
    d.spec!.paused = true;
    const cur = rs('web-cur', 3, { app: 'web' }, T1, 3);
    cur.spec!.template = structuredClone(d.spec!.template);
    setReplicasAnnotations(cur, 3, 4);
    await h.syncer.syncDeployment(d, [cur], new Map());
    const paused = h.ops.statusUpdates()[0]?.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([paused?.status, paused?.reason, paused?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    assert.equal(h.ops.rsUpdates().at(-1)?.spec?.replicas, 5, 'scaled while paused');
    assert.equal(h.ops.actions.some((a) => a.verb === 'create'), false, 'no rollout while paused');

    const h2 = harness();
    const resumed = structuredClone(d);
    resumed.spec!.paused = false;
    resumed.status = structuredClone(h.ops.statusUpdates().at(-1)!.status);
    await h2.syncer.checkPausedConditions(resumed);
    const cond = h2.ops.statusUpdates()[0]?.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['Unknown', 'DeploymentResumed', 'Deployment is resumed']);
  });

  test('the deprecated rollback annotation restores the revision\'s template and annotations, then is cleared', async () => {
    const h = harness();
    const d = newDeployment('web', 1, { maxSurge: 1, selector: { app: 'web' } });
    d.metadata!.annotations = { [DEPRECATED_ROLLBACK_TO]: '0', [REVISION_ANNOTATION]: '2', 'kubernetes.io/change-cause': 'v2' };
    d.spec!.template.spec!.containers[0]!.image = 'v2';
    const v1 = rs('web-v1', 0, { app: 'web' }, T0);
    v1.metadata!.annotations = { [REVISION_ANNOTATION]: '1', 'kubernetes.io/change-cause': 'v1' };
    v1.spec!.template = { metadata: { labels: { app: 'web', 'pod-template-hash': 'h1' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } };
    const v2 = rs('web-v2', 1, { app: 'web' }, T1);
    v2.metadata!.annotations = { [REVISION_ANNOTATION]: '2' };
    v2.spec!.template = structuredClone(d.spec!.template);
    await h.syncer.syncDeployment(d, [v1, v2], new Map());
    const update = h.ops.actions.find((a) => a.resource === 'deployments' && a.verb === 'update');
    assert.ok(update && update.resource === 'deployments');
    assert.equal(update.obj.spec?.template.spec?.containers[0]?.image, 'v1');
    assert.deepEqual(update.obj.spec?.template.metadata?.labels, { app: 'web' });
    assert.deepEqual(update.obj.metadata?.annotations, { [REVISION_ANNOTATION]: '2', 'kubernetes.io/change-cause': 'v1' });
    assert.deepEqual(h.recorder.events.at(-1), { type: 'Normal', reason: 'DeploymentRollback', message: 'Rolled back deployment "web" to revision 1' });
  });

  test('Recreate scales old RSes to zero, waits for their pods, then creates the new RS at full size', async () => {
    const h = harness();
    const d = newDeployment('web', 3, { selector: { app: 'web' } });
    d.spec!.strategy = { type: 'Recreate' };
    const old = rs('web-old', 3, { app: 'web' }, T0, 3);
    old.spec!.template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'old' }] } };
    const running: Pod = { metadata: { name: 'p', uid: 'p' }, status: { phase: 'Running' } };
    await h.syncer.syncDeployment(d, [old], new Map([['web-old-uid', [running]]]));
    assert.deepEqual(h.ops.rsUpdates().map((r) => r.spec?.replicas), [0]);
    assert.equal(h.ops.actions.some((a) => a.verb === 'create'), false);

    // Scaled down, but a pod still runs: wait.
    const h2 = harness();
    const scaled = structuredClone(old);
    scaled.spec!.replicas = 0;
    scaled.status = { replicas: 0 };
    await h2.syncer.syncDeployment(d, [scaled], new Map([['web-old-uid', [running]]]));
    assert.equal(h2.ops.actions.some((a) => a.verb === 'create'), false);
    assert.equal(oldPodsRunning(undefined, [scaled], new Map([['web-old-uid', [{ ...running, status: { phase: 'Succeeded' } }]]])), false);

    // All gone: the new RS comes at full size.
    const h3 = harness();
    await h3.syncer.syncDeployment(d, [scaled], new Map());
    const create = h3.ops.actions.find((a) => a.verb === 'create');
    assert.ok(create && create.resource === 'replicasets' && create.verb === 'create');
    assert.equal(create.obj.spec?.replicas, 3);
    assert.deepEqual(h3.recorder.events.map((e) => e.message), [`Scaled up replica set ${create.obj.metadata?.name} to 3`]);
  });
});
