import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { newInTreeRegistry } from '../plugins/registry.js';
import { makeNode, makePod, nodeInfos } from '../testing/builders.js';
import { CycleState } from './cycle-state.js';
import { Nominator } from './nominator.js';
import { buildProfile } from './profile.js';
import { FitError, runFilterPluginsWithNominatedPods, runPreFilterPlugins, schedulePod } from './schedule.js';
import { Code } from './status.js';

const profile = () => buildProfile({}, newInTreeRegistry(), { ignoreUnknownPlugins: true });

function withPriority(pod: Pod, priority: number, nominatedNodeName?: string): Pod {
  return { ...pod, spec: { ...pod.spec!, priority }, ...(nominatedNodeName ? { status: { nominatedNodeName } } : {}) };
}

describe('Nominator', () => {
  test('add from status or an explicit node, replace, update and delete', () => {
    const n = new Nominator();
    const a = withPriority(makePod({ name: 'a' }), 0, 'node1');
    n.add(a);
    assert.deepEqual(n.podsForNode('node1').map((p) => p.metadata?.name), ['a']);
    n.add(a, 'node2');
    assert.deepEqual(n.podsForNode('node1'), []);
    assert.equal(n.nominatedNodeFor(a), 'node2');
    // An update whose status does not name a node keeps the scheduler's own nomination (status not written yet).
    n.update(makePod({ name: 'a' }), makePod({ name: 'a' }));
    assert.equal(n.nominatedNodeFor(a), 'node2');
    // The status clearing a nomination it had clears it.
    n.update(a, makePod({ name: 'a' }));
    assert.equal(n.nominatedNodeFor(a), undefined);
    n.add(a);
    n.delete(a);
    assert.equal(n.size, 0);
    // No node at all records nothing.
    n.add(makePod({ name: 'b' }));
    assert.equal(n.size, 0);
  });
});

describe('RunFilterPluginsWithNominatedPods', () => {
  const nodes = [makeNode('node1', { cpu: '2', memory: '2Gi', pods: '10' })];

  function run(pod: Pod, nominated: Pod[]) {
    const infos = nodeInfos(nodes);
    const p = profile();
    const state = new CycleState();
    state.allNodes = infos;
    const pre = runPreFilterPlugins(p, state, pod, infos);
    assert.ok(pre.status.isSuccess(), pre.status.message());
    return runFilterPluginsWithNominatedPods(p, state, pod, infos[0]!, () => nominated);
  }

  test('node has no nominated pod', () => {
    assert.ok(run(withPriority(makePod({ requests: [{ cpu: '2' }] }), 0), []).isSuccess());
  });

  test('node has a high-priority nominated pod that takes the room: the pod does not fit', () => {
    const pod = withPriority(makePod({ requests: [{ cpu: '1' }] }), 0);
    const nominated = withPriority(makePod({ requests: [{ cpu: '2' }] }), 100, 'node1');
    const s = run(pod, [nominated]);
    assert.equal(s.code, Code.Unschedulable);
    assert.deepEqual(s.reasons, ['Insufficient cpu']);
    assert.equal(s.plugin, 'NodeResourcesFit');
  });

  test('an equal-priority nominated pod counts too', () => {
    const pod = withPriority(makePod({ requests: [{ cpu: '1' }] }), 7);
    const nominated = withPriority(makePod({ requests: [{ cpu: '2' }] }), 7, 'node1');
    assert.equal(run(pod, [nominated]).code, Code.Unschedulable);
  });

  test('node has a low-priority nominated pod: it is not counted', () => {
    const pod = withPriority(makePod({ requests: [{ cpu: '1' }] }), 100);
    const nominated = withPriority(makePod({ requests: [{ cpu: '2' }] }), 0, 'node1');
    assert.ok(run(pod, [nominated]).isSuccess());
  });

  test('the pod itself nominated to the node is not counted twice', () => {
    const pod = withPriority(makePod({ requests: [{ cpu: '2' }] }), 0, 'node1');
    assert.ok(run(pod, [pod]).isSuccess());
  });

  test('second pass: required pod affinity satisfied only by a nominated pod does not pass', () => {
    const nominated = withPriority({ ...makePod({ name: 'web' }), metadata: { name: 'web', namespace: 'default', uid: 'uid-web', labels: { app: 'web' } } }, 100, 'node1');
    const pod = withPriority(
      makePod({
        spec: {
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
            },
          },
        },
      }),
      0,
    );
    const labelled = [makeNode('node1', { cpu: '2', memory: '2Gi', pods: '10' }, { labels: { 'kubernetes.io/hostname': 'node1' } })];
    const infos = nodeInfos(labelled);
    const p = profile();
    const state = new CycleState();
    state.allNodes = infos;
    runPreFilterPlugins(p, state, pod, infos);
    const s = runFilterPluginsWithNominatedPods(p, state, pod, infos[0]!, () => [nominated]);
    assert.equal(s.code, Code.UnschedulableAndUnresolvable);
    assert.equal(s.plugin, 'InterPodAffinity');
  });

  test('schedulePod skips a node whose room is held for a higher-priority nominated pod', () => {
    const two = [makeNode('node1', { cpu: '2', memory: '2Gi', pods: '10' }), makeNode('node2', { cpu: '2', memory: '2Gi', pods: '10' })];
    const nominated = withPriority(makePod({ requests: [{ cpu: '2' }] }), 100, 'node1');
    const pod = withPriority(makePod({ requests: [{ cpu: '1' }] }), 0);
    const r = schedulePod(pod, nodeInfos(two), profile(), { nominatedPods: (n) => (n === 'node1' ? [nominated] : []) });
    assert.equal(r.suggestedHost, 'node2');
    const both = (): Pod[] => [nominated];
    assert.throws(
      () => schedulePod(pod, nodeInfos(two), profile(), { nominatedPods: both }),
      (err: unknown) => err instanceof FitError && err.message === '0/2 nodes are available: 2 Insufficient cpu.',
    );
  });
});
