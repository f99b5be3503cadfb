// The shared controller helpers: claiming by selector and owner reference, expectations with an injected clock, pods
// from templates with their events, readiness and availability, the scale-down order, and status writes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { ApiError } from '../../machinery/errors.js';
import { labelSelectorAsSelector } from '../../machinery/labels.js';
import { FakeClock, RestClient, type EventType, type ObjectLike } from '../../client/index.js';
import {
  ControllerExpectations,
  ControllerRefManager,
  EXPECTATIONS_TIMEOUT_MS,
  PodControl,
  UIDTrackingExpectations,
  activePodLess,
  getControllerOf,
  isPodActive,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  podFromTemplate,
  podNamePrefix,
  recheckDeletionTimestamp,
  sortActivePods,
  sortPodsForDeletion,
  updateStatusIfChanged,
  SupersededVersions,
  onPodUpdate,
  type PodOwnerEvents,
} from './index.js';
import { RecordingTransport } from './fake-transport.js';

const RS_KIND = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
const PODS = { group: '', version: 'v1', resource: 'pods' };

function rs(extra: Partial<ReplicaSet['metadata']> = {}): ReplicaSet {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', ...extra }, spec: { selector: { matchLabels: { app: 'web' } }, template: {} } };
}

function pod(name: string, opts: { labels?: Record<string, string>; owner?: string; ownerController?: boolean; deleting?: boolean; namespace?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'ns',
      uid: `${name}-uid`,
      labels: opts.labels ?? { app: 'web' },
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: opts.owner, controller: opts.ownerController ?? true }] } : {}),
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
  };
}

describe('ControllerRefManager', () => {
  test('keeps owned matches, adopts matching orphans, releases owned non-matches, ignores the rest', async () => {
    const transport = new RecordingTransport();
    const client = new RestClient(transport).resource<Pod>(PODS);
    let checks = 0;
    const m = new ControllerRefManager<Pod>({
      controller: rs(),
      controllerKind: RS_KIND,
      selector: labelSelectorAsSelector({ matchLabels: { app: 'web' } }),
      client,
      canAdopt: async () => void checks++,
    });
    const claimed = await m.claim([
      pod('owned', { owner: 'rs-uid' }),
      pod('orphan'),
      pod('orphan2'),
      pod('stray', { owner: 'rs-uid', labels: { app: 'other' } }),
      pod('theirs', { owner: 'other-uid' }),
      pod('nomatch'.replace('', ''), { labels: { app: 'db' } }),
      pod('dying', { deleting: true }),
      pod('elsewhere', { namespace: 'other' }),
      pod('notcontroller', { owner: 'other-uid', ownerController: false }),
    ]);
    assert.deepEqual(
      claimed.map((p) => p.metadata?.name),
      ['owned', 'orphan', 'orphan2', 'notcontroller'],
    );
    assert.equal(checks, 1, 'the controller is re-checked once, before the first adoption');
    const patches = transport.requests.map((r) => [r.method, r.path, r.contentType, r.body]);
    assert.deepEqual(patches[0], [
      'PATCH',
      '/api/v1/namespaces/ns/pods/orphan',
      'application/strategic-merge-patch+json',
      { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }], uid: 'orphan-uid' } },
    ]);
    assert.deepEqual(patches[2], [
      'PATCH',
      '/api/v1/namespaces/ns/pods/stray',
      'application/strategic-merge-patch+json',
      { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'stray-uid' } },
    ]);
    assert.equal(patches.length, 4, 'two adoptions, one release, one adoption of a non-controller-owned pod');
  });

  test('a controller being deleted adopts and releases nothing; a failed recheck fails adoption', async () => {
    const transport = new RecordingTransport();
    const client = new RestClient(transport).resource<Pod>(PODS);
    const sel = labelSelectorAsSelector({ matchLabels: { app: 'web' } });
    const dying = new ControllerRefManager<Pod>({ controller: rs({ deletionTimestamp: '2026-01-01T00:00:00Z' }), controllerKind: RS_KIND, selector: sel, client, canAdopt: async () => {} });
    const claimed = await dying.claim([pod('orphan'), pod('stray', { owner: 'rs-uid', labels: {} }), pod('owned', { owner: 'rs-uid' })]);
    assert.deepEqual(claimed.map((p) => p.metadata?.name), ['owned']);
    assert.equal(transport.requests.length, 0);

    const recheck = recheckDeletionTimestamp(async () => rs({ uid: 'new-uid' }), rs(), 'ReplicaSet');
    const m = new ControllerRefManager<Pod>({ controller: rs(), controllerKind: RS_KIND, selector: sel, client, canAdopt: recheck });
    await assert.rejects(m.claim([pod('orphan')]), /original ReplicaSet ns\/web is gone: got uid new-uid, wanted rs-uid/);
  });

  test('adopting a pod that vanished is not an error; other failures are', async () => {
    const transport = new RecordingTransport((r) =>
      r.path.endsWith('/gone') ? { status: 404, body: new ApiError({ reason: 'NotFound', code: 404, message: 'gone' }).status } : r.path.endsWith('/bad') ? { status: 500, body: { kind: 'Status', code: 500, message: 'boom' } } : undefined,
    );
    const client = new RestClient(transport).resource<Pod>(PODS);
    const m = new ControllerRefManager<Pod>({ controller: rs(), controllerKind: RS_KIND, selector: labelSelectorAsSelector({ matchLabels: { app: 'web' } }), client, canAdopt: async () => {} });
    assert.deepEqual((await m.claim([pod('gone'), pod('ok')])).map((p) => p.metadata?.name), ['ok']);
    await assert.rejects(m.claim([pod('bad')]), /boom/);
  });
});

describe('expectations', () => {
  test('satisfied when absent, fulfilled, or expired (FakeClock)', () => {
    const clock = new FakeClock(1000);
    const e = new ControllerExpectations(clock);
    assert.ok(e.satisfiedExpectations('ns/a'));
    e.expectCreations('ns/a', 2);
    assert.ok(!e.satisfiedExpectations('ns/a'));
    e.creationObserved('ns/a');
    assert.ok(!e.satisfiedExpectations('ns/a'));
    e.creationObserved('ns/a');
    assert.ok(e.satisfiedExpectations('ns/a'));
    e.expectDeletions('ns/a', 1);
    assert.ok(!e.satisfiedExpectations('ns/a'));
    clock.step(EXPECTATIONS_TIMEOUT_MS);
    assert.ok(!e.satisfiedExpectations('ns/a'), 'not yet past the timeout');
    clock.step(1);
    assert.ok(e.satisfiedExpectations('ns/a'));
    e.raiseExpectations('ns/b', 1, 0);
    assert.equal(e.get('ns/b'), undefined, 'raising without a record does nothing');
    e.deleteExpectations('ns/a');
    assert.equal(e.size(), 0);
  });

  test('UID tracking counts each deleted pod once, and only pods it deleted', () => {
    const e = new UIDTrackingExpectations(new FakeClock());
    e.expectDeletionsOf('ns/rs', ['ns/p1', 'ns/p2']);
    assert.ok(!e.satisfiedExpectations('ns/rs'));
    e.deletionObservedOf('ns/rs', 'ns/p1');
    e.deletionObservedOf('ns/rs', 'ns/p1');
    e.deletionObservedOf('ns/rs', 'ns/other');
    assert.equal(e.get('ns/rs')?.del, 1);
    e.deletionObservedOf('ns/rs', 'ns/p2');
    assert.ok(e.satisfiedExpectations('ns/rs'));
    e.deleteExpectations('ns/rs');
    assert.equal(e.getUIDs('ns/rs'), undefined);
  });
});

describe('pods from templates', () => {
  const template: PodTemplateSpec = {
    metadata: { labels: { app: 'web' }, annotations: { a: 'b' }, finalizers: ['example.com/f'], name: 'ignored' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };

  test('labels, annotations, finalizers and spec copied; generateName and controller reference set', () => {
    const owner = rs();
    const p = podFromTemplate(template, owner, newControllerRef(owner, RS_KIND));
    assert.deepEqual(p.metadata, {
      generateName: 'web-',
      namespace: 'ns',
      labels: { app: 'web' },
      annotations: { a: 'b' },
      finalizers: ['example.com/f'],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
    });
    assert.deepEqual(p.spec, template.spec);
    assert.notEqual(p.spec, template.spec, 'the spec is a copy');
    assert.equal(getControllerOf(p)?.uid, 'rs-uid');
    assert.equal(podNamePrefix('a'.repeat(253)), 'a'.repeat(253), 'too long for a dash: the name alone');
  });

  test('PodControl records SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete on the owner', async () => {
    const events: [EventType, string, string][] = [];
    const sink = { event: (_o: ObjectLike, t: EventType, r: string, m: string) => void events.push([t, r, m]) };
    let fail = false;
    const transport = new RecordingTransport((r) => {
      if (fail) return { status: 403, body: { kind: 'Status', code: 403, reason: 'Forbidden', message: 'exceeded quota' } };
      if (r.method === 'POST') return { status: 201, body: { ...(r.body as object), metadata: { name: 'web-abcde' } } };
      return undefined;
    });
    const pc = new PodControl(new RestClient(transport).resource<Pod>(PODS), sink);
    const owner = rs();
    const created = await pc.createPod('ns', template, owner, newControllerRef(owner, RS_KIND));
    assert.equal(created.metadata?.name, 'web-abcde');
    await pc.deletePod('ns', 'web-abcde', owner);
    fail = true;
    await assert.rejects(pc.createPod('ns', template, owner, newControllerRef(owner, RS_KIND)));
    await assert.rejects(pc.deletePod('ns', 'web-abcde', owner));
    assert.deepEqual(events, [
      ['Normal', 'SuccessfulCreate', 'Created pod: web-abcde'],
      ['Normal', 'SuccessfulDelete', 'Deleted pod: web-abcde'],
      ['Warning', 'FailedCreate', 'Error creating: exceeded quota'],
      ['Warning', 'FailedDelete', 'Error deleting: exceeded quota'],
    ]);
    await assert.rejects(pc.createPod('ns', { spec: { containers: [] } }, owner, newControllerRef(owner, RS_KIND)), /no labels/);
  });
});

function readyPod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; created?: string; restarts?: number; cost?: string } = {}): Pod {
  return {
    metadata: { name, uid: name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z', ...(o.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}) },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:00Z' }],
      containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: true, restartCount: o.restarts ?? 0 }],
    },
  };
}

describe('pod state and deletion order', () => {
  test('ready, available after minReadySeconds, active', () => {
    const p = readyPod('p', { readySince: '2026-01-01T00:00:00Z' });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    assert.ok(isPodReady(p));
    assert.ok(isPodAvailable(p, 0, t0));
    assert.ok(!isPodAvailable(p, 10, t0 + 10_000), 'exactly minReadySeconds is not yet available');
    assert.ok(isPodAvailable(p, 10, t0 + 10_001));
    assert.ok(!isPodReady(readyPod('q', { ready: false })));
    assert.ok(isPodActive(p));
    assert.ok(!isPodActive(readyPod('s', { phase: 'Succeeded' })));
    assert.ok(!isPodActive({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }));
  });

  test("upstream's order: unassigned, pending, not ready, cheaper, doubled up, newer ready, more restarts, newer", () => {
    const byName = (pods: Pod[]) => pods.map((p) => p.metadata?.name);
    assert.deepEqual(
      byName(
        sortActivePods([
          readyPod('old', { node: 'n', created: '2026-01-01T00:00:00Z' }),
          readyPod('running-notready', { node: 'n', ready: false }),
          readyPod('unassigned'),
          readyPod('pending', { node: 'n', phase: 'Pending', ready: false }),
          readyPod('restarts', { node: 'n', restarts: 5 }),
          readyPod('new', { node: 'n', created: '2026-01-02T00:00:00Z' }),
          readyPod('ready-late', { node: 'n', readySince: '2026-01-03T00:00:00Z' }),
        ]),
      ),
      ['unassigned', 'pending', 'running-notready', 'ready-late', 'restarts', 'new', 'old'],
    );
    assert.ok(activePodLess(readyPod('cheap', { node: 'n', cost: '-5' }), readyPod('dear', { node: 'n', created: '2020-01-01T00:00:00Z' })));
    // Doubled up: the pod on the node with more related pods goes first.
    const a = readyPod('a', { node: 'busy' });
    const b = readyPod('b', { node: 'quiet' });
    const related = [a, readyPod('a2', { node: 'busy' }), b];
    assert.deepEqual(byName(sortPodsForDeletion([b, a], related, Date.parse('2026-02-01T00:00:00Z'))), ['a', 'b']);
    // Logarithmic buckets: pods created a second apart a month ago count as the same age, then uid decides.
    const now = Date.parse('2026-02-01T00:00:00Z');
    const x = readyPod('x', { node: 'n', created: '2026-01-01T00:00:01Z' });
    const y = readyPod('y', { node: 'n', created: '2026-01-01T00:00:00Z' });
    assert.deepEqual(byName(sortPodsForDeletion([y, x], [], now)), ['x', 'y']);
    assert.deepEqual(byName(sortPodsForDeletion([readyPod('z', { node: 'n', created: '2026-01-01T00:00:01Z' }), readyPod('a', { node: 'n', created: '2026-01-01T00:00:00Z' })], [], now)), ['a', 'z']);
  });
});

describe('updateStatusIfChanged', () => {
  test('writes nothing when equal, PUTs status when changed, retries once on conflict with a fresh read', async () => {
    let conflicts = 1;
    const transport = new RecordingTransport((r) => {
      if (r.method === 'PUT' && conflicts-- > 0) return { status: 409, body: { kind: 'Status', code: 409, reason: 'Conflict', message: 'stale' } };
      if (r.method === 'GET') return { status: 200, body: { ...rs(), metadata: { ...rs().metadata, resourceVersion: '7' }, status: { replicas: 1 } } };
      return undefined;
    });
    const client = new RestClient(transport).resource<ReplicaSet>({ group: 'apps', version: 'v1', resource: 'replicasets' });
    const obj = { ...rs(), status: { replicas: 2 } };
    assert.equal(await updateStatusIfChanged(client, obj, { replicas: 2 }), obj);
    assert.equal(transport.requests.length, 0);
    const written = await updateStatusIfChanged(client, obj, { replicas: 3 });
    assert.deepEqual(transport.requests.map((r) => `${r.method} ${r.path}`), [
      'PUT /apis/apps/v1/namespaces/ns/replicasets/web/status',
      'GET /apis/apps/v1/namespaces/ns/replicasets/web',
      'PUT /apis/apps/v1/namespaces/ns/replicasets/web/status',
    ]);
    assert.equal(written.metadata?.resourceVersion, '7');
    assert.deepEqual(written.status, { replicas: 3 });
    assert.deepEqual(obj.status, { replicas: 2 }, 'the cached object is not modified');
  });
});

describe('SupersededVersions', () => {
  test('a cached copy our write replaced is stale until the cache shows a newer version', () => {
    const s = new SupersededVersions();
    assert.equal(s.isStale('ns/a', '5'), false, 'nothing written yet');
    s.replaced('ns/a', '5');
    s.replaced('ns/a', '6');
    assert.equal(s.isStale('ns/a', '5'), true);
    assert.equal(s.isStale('ns/a', '6'), true, 'every replaced version counts');
    assert.equal(s.isStale('ns/b', '5'), false, 'per key');
    assert.equal(s.isStale('ns/a', '7'), false, 'the cache caught up');
    assert.equal(s.isStale('ns/a', '5'), false, 'records are dropped once caught up');
    s.replaced('ns/a', '8');
    s.forget('ns/a');
    assert.equal(s.isStale('ns/a', '8'), false);
    s.replaced('ns/a', undefined);
    assert.equal(s.isStale('ns/a', ''), false, 'an object without a version records nothing');
  });
});

describe('onPodUpdate', () => {
  const owner = (uid: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${uid}`, uid, controller: true });
  const pod = (rv: string, opts: { ref?: string; ready?: boolean; labels?: Record<string, string> } = {}): Pod => ({
    metadata: { name: 'p', namespace: 'ns', resourceVersion: rv, labels: opts.labels, ownerReferences: opts.ref ? [owner(opts.ref)] : undefined },
    status: { conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }] },
  });
  const run = (old: Pod, cur: Pod, minReady = 0) => {
    const seen: string[] = [];
    const h: PodOwnerEvents<string> = {
      ownerOf: (p) => getControllerOf(p)?.uid,
      ownersMatching: (p) => (p.metadata?.labels?.app ? ['by-selector'] : []),
      enqueue: (o, after) => seen.push(after === undefined ? o : `${o}+${after}`),
      minReadySeconds: () => minReady,
      isReady: isPodReady,
      availabilitySlackMs: 1000,
    };
    onPodUpdate(old, cur, h);
    return seen;
  };
  test('resyncs are ignored; the owner is enqueued; a newly ready pod is looked at again after minReadySeconds', () => {
    assert.deepEqual(run(pod('1', { ref: 'a' }), pod('1', { ref: 'a' })), []);
    assert.deepEqual(run(pod('1', { ref: 'a' }), pod('2', { ref: 'a' })), ['a']);
    assert.deepEqual(run(pod('1', { ref: 'a' }), pod('2', { ref: 'a', ready: true }), 5), ['a', 'a+6000']);
    assert.deepEqual(run(pod('1', { ref: 'a', ready: true }), pod('2', { ref: 'a', ready: true }), 5), ['a']);
  });
  test('a changed controller reference enqueues both owners; orphans go to the owners that match them', () => {
    assert.deepEqual(run(pod('1', { ref: 'a' }), pod('2', { ref: 'b' })), ['a', 'b']);
    assert.deepEqual(run(pod('1', { ref: 'a' }), pod('2', { labels: { app: 'x' } })), ['a', 'by-selector']);
    assert.deepEqual(run(pod('1', { labels: { app: 'x' } }), pod('2', { labels: { app: 'x' } })), [], 'same labels, no owner: nothing to do');
    assert.deepEqual(run(pod('1', {}), pod('2', { labels: { app: 'x' } })), ['by-selector']);
  });
});
