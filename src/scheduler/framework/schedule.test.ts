import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { newInTreeRegistry } from '../plugins/registry.js';
import { makeNode, makePod, nodeInfos } from '../testing/builders.js';
import { CycleState } from './cycle-state.js';
import type { FilterPlugin, PreFilterPlugin, ScorePlugin } from './interfaces.js';
import type { NodeInfo } from './node-info.js';
import { buildProfile, defaultedPlugins, mergePluginSet, type ProfileConfig } from './profile.js';
import { Registry } from './registry.js';
import { FitError, NO_NODES_AVAILABLE, schedulePod, selectHost } from './schedule.js';
import { Code, Status } from './status.js';

const defaultProfile = (config: ProfileConfig = {}) => buildProfile(config, newInTreeRegistry(), { ignoreUnknownPlugins: true });

function fitError(fn: () => unknown): FitError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FitError) return err;
    throw err;
  }
  assert.fail('expected a FitError');
}

describe('schedulePod with the default plugins', () => {
  test('the FailedScheduling message counts and sorts reasons as upstream', () => {
    const nodes = [
      makeNode('small', { cpu: '1', memory: '1Gi', pods: '10' }),
      makeNode('tainted-1', { cpu: '8', memory: '8Gi', pods: '10' }, { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }),
      makeNode('tainted-2', { cpu: '8', memory: '8Gi', pods: '10' }, { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }),
    ];
    const pod = makePod({ requests: [{ cpu: '2' }] });
    const err = fitError(() => schedulePod(pod, nodeInfos(nodes), defaultProfile()));
    assert.equal(err.message, '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.');
    assert.deepEqual([...err.diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
  });

  test('several reasons on one node are each counted', () => {
    const nodes = [makeNode('a', { cpu: '1', memory: '1Gi', pods: '10' }), makeNode('b', { cpu: '1', memory: '1Gi', pods: '10' }, { unschedulable: true })];
    const pod = makePod({ requests: [{ cpu: '2', memory: '2Gi' }] });
    const err = fitError(() => schedulePod(pod, nodeInfos(nodes), defaultProfile()));
    // The cordoned node fails at NodeUnschedulable first, as filters run in profile order.
    assert.equal(err.message, '0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable.');
  });

  test('a PreFilter rejection is reported once, not per node', () => {
    const pod = makePod({
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }, { key: 'metadata.name', operator: 'In', values: ['b'] }] }],
            },
          },
        },
      },
    });
    const err = fitError(() => schedulePod(pod, nodeInfos([makeNode('a'), makeNode('b')]), defaultProfile()));
    assert.equal(err.message, '0/2 nodes are available: pod affinity terms conflict.');
  });

  test('a PreFilter result narrows the nodes; the others are not counted', () => {
    const pod = makePod({
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] },
          },
        },
        nodeSelector: { disk: 'ssd' },
      },
    });
    const nodes = [makeNode('a', { pods: '10' }, { labels: { disk: 'ssd' } }), makeNode('b', { pods: '10' })];
    const err = fitError(() => schedulePod(pod, nodeInfos(nodes), defaultProfile()));
    assert.equal(err.message, "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
  });

  test('the least allocated node wins, and a single feasible node is chosen without scoring', () => {
    const nodes = [makeNode('busy', { cpu: '4', memory: '4Gi', pods: '10' }), makeNode('idle', { cpu: '4', memory: '4Gi', pods: '10' })];
    const existing = [makePod({ requests: [{ cpu: '3', memory: '3Gi' }], spec: { nodeName: 'busy' } })];
    const pod = makePod({ requests: [{ cpu: '500m', memory: '512Mi' }] });
    const r = schedulePod(pod, nodeInfos(nodes, existing), defaultProfile());
    assert.equal(r.suggestedHost, 'idle');
    assert.equal(r.feasibleNodes, 2);
    const scores = new Map(r.scores.map((s) => [s.name, s.score]));
    assert.ok(scores.get('idle')! > scores.get('busy')!);

    const one = schedulePod(makePod({ spec: { nodeName: 'busy' } }), nodeInfos(nodes, existing), defaultProfile());
    assert.deepEqual([one.suggestedHost, one.feasibleNodes, one.scores], ['busy', 1, []]);
  });

  test('preferred affinity and PreferNoSchedule taints steer the choice by weight', () => {
    const nodes = [
      makeNode('plain', { pods: '10' }),
      makeNode('preferred', { pods: '10' }, { labels: { tier: 'gold' } }),
      makeNode('preferred-tainted', { pods: '10' }, { labels: { tier: 'gold' }, taints: [{ key: 'x', value: 'y', effect: 'PreferNoSchedule' }] }),
    ];
    const pod = makePod({
      spec: {
        affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] } }] } },
      },
    });
    for (let i = 0; i < 5; i++) assert.equal(schedulePod(pod, nodeInfos(nodes), defaultProfile()).suggestedHost, 'preferred');
  });

  test('topology spread over 3 zones keeps the skew within 1', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) => makeNode(n, { cpu: '8', memory: '8Gi', pods: '100' }, { labels: { zone: `zone${i % 3}` } }));
    const infos = nodeInfos(nodes);
    const perZone = new Map<string, number>();
    for (let i = 0; i < 9; i++) {
      const pod = makePod({
        name: `web-${i}`,
        spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] },
      });
      pod.metadata!.labels = { app: 'web' };
      const host = schedulePod(pod, infos, defaultProfile()).suggestedHost;
      const info = infos.find((n) => n.name === host)!;
      info.addPod({ ...pod, spec: { ...pod.spec!, nodeName: host } });
      const zone = info.node!.metadata!.labels!.zone!;
      perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
      const counts = [...perZone.values()];
      assert.ok(Math.max(...counts) - (perZone.size < 3 ? 0 : Math.min(...counts)) <= 1, `skew after ${i + 1} pods: ${[...perZone]}`);
    }
    assert.deepEqual([...perZone.values()], [3, 3, 3]);
  });

  test('required anti-affinity places one replica per node, then reports the rest unschedulable', () => {
    const nodes = ['a', 'b', 'c'].map((n) => makeNode(n, { cpu: '8', memory: '8Gi', pods: '100' }, { labels: { 'kubernetes.io/hostname': n } }));
    const infos = nodeInfos(nodes);
    const replica = (i: number) => {
      const pod = makePod({
        name: `db-${i}`,
        spec: {
          affinity: {
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] },
          },
        },
      });
      pod.metadata!.labels = { app: 'db' };
      return pod;
    };
    const used = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const pod = replica(i);
      const host = schedulePod(pod, infos, defaultProfile()).suggestedHost;
      assert.ok(!used.has(host));
      used.add(host);
      infos.find((n) => n.name === host)!.addPod({ ...pod, spec: { ...pod.spec!, nodeName: host } });
    }
    const err = fitError(() => schedulePod(replica(3), infos, defaultProfile()));
    assert.equal(err.message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  });

  test('no nodes is an error, not a FitError', () => {
    assert.throws(() => schedulePod(makePod(), [], defaultProfile()), { message: NO_NODES_AVAILABLE });
  });
});

describe('schedulePod with custom plugins', () => {
  const filterBy = (name: string, reject: (n: NodeInfo) => Status | undefined): FilterPlugin => ({ name, filter: (_s, _p, n) => reject(n) });
  const scoreBy = (name: string, f: (n: NodeInfo) => number): ScorePlugin => ({ name, score: (_s, _p, n) => f(n) });
  const registryOf = (...plugins: (FilterPlugin | ScorePlugin | PreFilterPlugin)[]) =>
    new Registry(Object.fromEntries(plugins.map((p) => [p.name, () => p])));
  const profileOf = (registry: Registry, multiPoint: { name: string; weight?: number }[]) =>
    buildProfile({ plugins: { multiPoint: { enabled: multiPoint } } }, registry, { defaults: [] });
  const nodes = nodeInfos([makeNode('a'), makeNode('b'), makeNode('c')]);

  test('weights multiply normalized scores; the highest total wins', () => {
    const reg = registryOf(
      scoreBy('PreferA', (n) => (n.name === 'a' ? 100 : 0)),
      scoreBy('PreferB', (n) => (n.name === 'b' ? 100 : 0)),
    );
    const r = schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'PreferA' }, { name: 'PreferB', weight: 3 }]));
    assert.equal(r.suggestedHost, 'b');
    assert.deepEqual(r.scores, [
      { name: 'a', score: 100 },
      { name: 'b', score: 300 },
      { name: 'c', score: 0 },
    ]);
  });

  test('a Score plugin that throws fails the cycle with upstream\'s "plugin failed with" error', () => {
    const reg = registryOf(
      scoreBy('Broken', (n) => {
        if (n.name === 'b') throw new Error('node not found');
        return 0;
      }),
    );
    assert.throws(() => schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'Broken' }])), { message: 'plugin "Broken" failed with: node not found' });
  });

  test('each cycle normalizes the scores of its own nodes (the per-node score list is reused across cycles)', () => {
    const seen: string[][] = [];
    const plugin: ScorePlugin = {
      name: 'ByName',
      score: (_s, _p, n) => n.name.charCodeAt(0),
      normalizeScore: (_s, _p, scores) => {
        seen.push(scores.map((s) => s.name));
        for (const s of scores) s.score -= 'a'.charCodeAt(0);
        return undefined;
      },
    };
    const profile = profileOf(registryOf(plugin), [{ name: 'ByName' }]);
    const first = schedulePod(makePod(), nodes, profile);
    const others = nodeInfos([makeNode('d'), makeNode('e'), makeNode('f')]);
    const second = schedulePod(makePod(), others, profile);
    assert.deepEqual(seen, [['a', 'b', 'c'], ['d', 'e', 'f']]);
    assert.deepEqual(first.scores.map((s) => s.score), [0, 1, 2]);
    assert.deepEqual(second.scores, [
      { name: 'd', score: 3 },
      { name: 'e', score: 4 },
      { name: 'f', score: 5 },
    ]);
    assert.equal(second.suggestedHost, 'f');
  });

  test('a score outside [0, 100] after normalizing is an error', () => {
    const reg = registryOf(scoreBy('TooHigh', () => 101));
    assert.throws(() => schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'TooHigh' }])), /returns an invalid score 101, it should in the range of \[0, 100\] after normalizing/);
  });

  test('a filter Pending status rejects the node and records the plugin as pending and unschedulable (upstream AddPluginStatus)', () => {
    const reg = registryOf(
      filterBy('Waiting', (n) => (n.name === 'a' ? Status.pending('waiting for a device') : undefined)),
      filterBy('Full', (n) => (n.name === 'a' ? undefined : Status.unschedulable('full'))),
    );
    const err = fitError(() => schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'Waiting' }, { name: 'Full' }])));
    assert.deepEqual([...err.diagnosis.unschedulablePlugins].sort(), ['Full', 'Waiting']);
    assert.deepEqual([...(err.diagnosis.pendingPlugins ?? [])], ['Waiting']);
    assert.equal(err.diagnosis.nodeToStatus.get('a')?.code, Code.Pending);
  });

  test('a filter Error status fails the cycle instead of rejecting the node', () => {
    const reg = registryOf(filterBy('Broken', () => new Status(Code.Error, ['disk on fire'])));
    assert.throws(() => schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'Broken' }])), /running "Broken" filter plugin: disk on fire/);
  });

  test('a PreFilter Skip skips that plugin\'s Filter', () => {
    let filtered = 0;
    const plugin: PreFilterPlugin & FilterPlugin = {
      name: 'Skipper',
      preFilter: () => ({ status: Status.skip() }),
      filter: () => {
        filtered++;
        return Status.unschedulable('never');
      },
    };
    const r = schedulePod(makePod(), nodes, profileOf(registryOf(plugin), [{ name: 'Skipper' }]));
    assert.equal(filtered, 0);
    assert.equal(r.feasibleNodes, 3);
  });

  test('two PreFilter results with no common node are unresolvable', () => {
    const only = (name: string, node: string): PreFilterPlugin => ({ name, preFilter: () => ({ result: { nodeNames: new Set([node]) } }) });
    const reg = registryOf(only('OnlyA', 'a'), only('OnlyB', 'b'));
    const err = fitError(() => schedulePod(makePod(), nodes, profileOf(reg, [{ name: 'OnlyA' }, { name: 'OnlyB' }])));
    assert.equal(err.message, "0/3 nodes are available: node(s) didn't satisfy plugin(s) [OnlyA OnlyB] simultaneously.");
  });

  test('selectHost breaks ties with the random source', () => {
    const scores = [
      { name: 'a', score: 5 },
      { name: 'b', score: 9 },
      { name: 'c', score: 9 },
    ];
    assert.equal(selectHost(scores, () => 0), 'c');
    assert.equal(selectHost(scores, () => 0.99), 'b');
    assert.throws(() => selectHost([]), /empty priorityList/);
  });

  test('the cycle state passed in is the one plugins wrote to', () => {
    const writer: PreFilterPlugin = { name: 'Writer', preFilter: (s) => (s.write('seen', true), undefined) };
    const state = new CycleState();
    schedulePod(makePod() as Pod, nodes, profileOf(registryOf(writer), [{ name: 'Writer' }]), { state });
    assert.equal(state.read<boolean>('seen'), true);
  });
});

describe('registry and profiles', () => {
  test('a duplicate plugin name throws', () => {
    const reg = newInTreeRegistry();
    assert.throws(() => reg.register('NodeName', () => ({ name: 'NodeName' })), /a plugin named NodeName already exists/);
    assert.throws(() => reg.merge(newInTreeRegistry()), /already exists/);
  });

  test('default profile: plugins per extension point in upstream order, with weights', () => {
    const p = defaultProfile();
    assert.equal(p.schedulerName, 'default-scheduler');
    assert.deepEqual(p.plugins.filter.map((x) => x.name), [
      'NodeUnschedulable',
      'NodeName',
      'TaintToleration',
      'NodeAffinity',
      'NodePorts',
      'NodeResourcesFit',
      'VolumeRestrictions',
      'NodeVolumeLimits',
      'VolumeBinding',
      'VolumeZone',
      'PodTopologySpread',
      'InterPodAffinity',
    ]);
    assert.deepEqual(p.plugins.preFilter.map((x) => x.name), ['NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeRestrictions', 'NodeVolumeLimits', 'VolumeBinding', 'VolumeZone', 'PodTopologySpread', 'InterPodAffinity']);
    // VolumeBinding scores only with a capacity shape configured; its PreScore skips otherwise.
    assert.deepEqual(p.plugins.score.map((x) => x.name), [
      'TaintToleration',
      'NodeAffinity',
      'NodeResourcesFit',
      'VolumeBinding',
      'PodTopologySpread',
      'InterPodAffinity',
      'NodeResourcesBalancedAllocation',
      'ImageLocality',
    ]);
    assert.deepEqual(Object.fromEntries(p.scoreWeights), {
      TaintToleration: 3,
      NodeAffinity: 2,
      NodeResourcesFit: 1,
      VolumeBinding: 1,
      PodTopologySpread: 2,
      InterPodAffinity: 2,
      NodeResourcesBalancedAllocation: 1,
      ImageLocality: 1,
    });
    assert.deepEqual(p.plugins.reserve.map((x) => x.name), ['VolumeBinding']);
    assert.deepEqual(p.plugins.preBind.map((x) => x.name), ['VolumeBinding']);
    assert.deepEqual(p.plugins.queueSort.map((x) => x.name), ['PrioritySort']);
    assert.deepEqual(p.plugins.preEnqueue.map((x) => x.name), ['SchedulingGates']);
    assert.deepEqual(p.plugins.postFilter.map((x) => x.name), ['DefaultPreemption']);
  });

  test('an unknown plugin fails the build unless told to ignore it', () => {
    // Without a bind function the registry has no DefaultBinder.
    assert.throws(() => buildProfile({}, newInTreeRegistry()), /plugin "DefaultBinder" does not exist/);
  });

  test('disable per extension point, re-weight, and pass args', () => {
    const p = defaultProfile({
      schedulerName: 'bin-packer',
      plugins: {
        multiPoint: { enabled: [{ name: 'TaintToleration', weight: 7 }] },
        score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] },
        filter: { disabled: [{ name: 'NodePorts' }] },
      },
      pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }],
    });
    assert.equal(p.schedulerName, 'bin-packer');
    assert.ok(!p.plugins.score.some((x) => x.name === 'NodeResourcesBalancedAllocation'));
    assert.ok(!p.plugins.filter.some((x) => x.name === 'NodePorts'));
    assert.ok(p.plugins.preFilter.some((x) => x.name === 'NodePorts'));
    assert.equal(p.scoreWeights.get('TaintToleration'), 7);
    // MostAllocated now prefers the busier node.
    const nodes = [makeNode('busy', { cpu: '4', memory: '4Gi', pods: '10' }), makeNode('idle', { cpu: '4', memory: '4Gi', pods: '10' })];
    const existing = [makePod({ requests: [{ cpu: '3', memory: '3Gi' }], spec: { nodeName: 'busy' } })];
    assert.equal(schedulePod(makePod({ requests: [{ cpu: '500m', memory: '512Mi' }] }), nodeInfos(nodes, existing), p).suggestedHost, 'busy');
  });

  test('score plugins enabled at the score point come first when they override multiPoint, and "*" disables all', () => {
    const p = defaultProfile({ plugins: { score: { enabled: [{ name: 'NodeResourcesFit', weight: 5 }] } } });
    assert.equal(p.plugins.score[0]!.name, 'NodeResourcesFit');
    assert.equal(p.scoreWeights.get('NodeResourcesFit'), 5);
    const none = defaultProfile({ plugins: { score: { disabled: [{ name: '*' }] } } });
    assert.deepEqual(none.plugins.score, []);
    assert.ok(none.plugins.filter.length > 0);
  });

  test('mergePluginSet replaces defaults in place and appends new plugins', () => {
    const merged = mergePluginSet({ enabled: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] }, { enabled: [{ name: 'D' }, { name: 'B', weight: 4 }], disabled: [{ name: 'C' }] });
    assert.deepEqual(merged.enabled, [{ name: 'A' }, { name: 'B', weight: 4 }, { name: 'D' }]);
    assert.deepEqual(defaultedPlugins({ multiPoint: { disabled: [{ name: '*' }] } }).multiPoint?.enabled, []);
  });

  test('bad args and weights are configuration errors', () => {
    assert.throws(() => defaultProfile({ pluginConfig: [{ name: 'NodeResourcesFit', args: 'fast' }] }), /args of plugin NodeResourcesFit must be an object/);
    assert.throws(() => defaultProfile({ plugins: { multiPoint: { enabled: [{ name: 'NodeAffinity', weight: -2 }] } } }), /invalid weight -2/);
    assert.throws(() => defaultProfile({ pluginConfig: [{ name: 'NodeAffinity' }, { name: 'NodeAffinity' }] }), /repeated config/);
    assert.throws(() => defaultProfile({ plugins: { filter: { enabled: [{ name: 'PrioritySort' }] } } }), /does not extend filter plugin/);
    assert.throws(() => defaultProfile({ percentageOfNodesToScore: 101 }), /not in valid range \[0-100\]/);
  });
});
