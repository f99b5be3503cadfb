// --scheduler-config decoding and validation, and the profiles it builds (plugins per extension point, weights,
// args, percentageOfNodesToScore) — as upstream's v1 KubeSchedulerConfiguration.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseSchedulerConfig } from './config.js';
import { buildProfiles } from './scheduler.js';

const HEAD = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';
const parse = (yaml: string) => parseSchedulerConfig(parseYaml(HEAD + yaml));

describe('KubeSchedulerConfiguration', () => {
  test('no profiles: one default-scheduler profile, upstream backoff defaults', () => {
    const c = parse('');
    assert.deepEqual(c.profiles, [{ schedulerName: 'default-scheduler' }]);
    assert.equal(c.podInitialBackoffSeconds, 1);
    assert.equal(c.podMaxBackoffSeconds, 10);
    assert.equal(buildProfiles(c.profiles).get('default-scheduler')?.plugins.filter.map((p) => p.name).includes('NodeResourcesFit'), true);
  });

  test('two profiles: plugins disabled and enabled per extension point, weights, args, percentage', () => {
    const c = parse(`
percentageOfNodesToScore: 50
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  percentageOfNodesToScore: 100
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}, {name: ImageLocality}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
    filter:
      disabled: [{name: TaintToleration}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      apiVersion: kubescheduler.config.k8s.io/v1
      kind: NodeResourcesFitArgs
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}]
`);
    assert.equal(c.percentageOfNodesToScore, 50);
    assert.deepEqual(c.profiles[1]?.pluginConfig, [
      { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }] } } },
    ]);
    const profiles = buildProfiles(c.profiles, { percentageOfNodesToScore: c.percentageOfNodesToScore });
    const def = profiles.get('default-scheduler')!;
    const bp = profiles.get('bin-packing')!;
    assert.equal(def.percentageOfNodesToScore, 50);
    assert.equal(bp.percentageOfNodesToScore, 100);
    assert.ok(def.plugins.filter.some((p) => p.name === 'TaintToleration'));
    assert.ok(!bp.plugins.filter.some((p) => p.name === 'TaintToleration'));
    assert.deepEqual(
      bp.plugins.score.map((p) => p.name),
      ['NodeResourcesFit', 'TaintToleration', 'NodeAffinity', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity'],
    );
    assert.equal(bp.scoreWeights.get('NodeResourcesFit'), 5);
    assert.equal(def.scoreWeights.get('TaintToleration'), 3);
  });

  test('multiPoint disable "*" and a custom list', () => {
    const c = parse(`
profiles:
- schedulerName: minimal
  plugins:
    multiPoint:
      disabled: [{name: "*"}]
      enabled: [{name: PrioritySort}, {name: NodeName}, {name: NodeResourcesFit}, {name: DefaultBinder}]
`);
    const p = buildProfiles(c.profiles).get('minimal')!;
    assert.deepEqual(p.plugins.filter.map((x) => x.name), ['NodeName', 'NodeResourcesFit']);
    assert.deepEqual(p.plugins.bind.map((x) => x.name), ['DefaultBinder']);
  });

  test('validation errors name the field, as upstream does', () => {
    assert.throws(() => parseSchedulerConfig({ apiVersion: 'kubescheduler.config.k8s.io/v1beta3', kind: 'KubeSchedulerConfiguration' }), /apiVersion must be kubescheduler.config.k8s.io\/v1/);
    assert.throws(() => parse('percentageOfNodesToScore: 101\n'), /percentageOfNodesToScore: Invalid value: 101: not in valid range \[0-100\]/);
    assert.throws(() => parse('profiles:\n- schedulerName: a\n- schedulerName: a\n'), /profiles\[1\]\.schedulerName: Duplicate value: "a"/);
    assert.throws(() => parse('bogus: 1\n'), /bogus: unknown field/);
    assert.throws(() => parse('profiles:\n- schedulerName: a\n  plugins:\n    scoring: {}\n'), /profiles\[0\]\.plugins\.scoring: unknown field/);
    assert.throws(() => parse('podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n'), /must be greater than or equal to PodInitialBackoffSeconds/);
    assert.throws(
      () => parse('profiles:\n- schedulerName: a\n  plugins:\n    queueSort:\n      enabled: [{name: PrioritySort}]\n- schedulerName: b\n'),
      /queueSort must be the same for all profiles/,
    );
    assert.throws(() => parse('profiles:\n- schedulerName: a\n  pluginConfig:\n  - name: NodeAffinity\n  - name: NodeAffinity\n'), /Duplicate value: "NodeAffinity"/);
    assert.throws(() => buildProfiles(parse('profiles:\n- schedulerName: a\n  plugins:\n    filter:\n      enabled: [{name: Nope}]\n').profiles), /plugin "Nope" does not exist/);
    // Upstream plugins skiff does not have yet (volumes) may be named.
    assert.doesNotThrow(() => buildProfiles(parse('profiles:\n- schedulerName: a\n  plugins:\n    filter:\n      disabled: [{name: VolumeBinding}]\n').profiles));
  });
});
