import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { NodeResourcesFit, type NodeResourcesFitArgs } from './fit.js';
import { brokenLinearFunction } from './scorers.js';

const EXT_A = 'example.com/aaa';
const EXT_B = 'example.com/bbb';
const HUGE = 'hugepages-2Mi';

/** Requests in upstream's test units: milli-CPU and bytes. */
const res = (cpu: number, mem: number, extra: Record<string, string> = {}): Record<string, string> => ({ cpu: `${cpu}m`, memory: `${mem}`, ...extra });

const podWith = (requests: Record<string, string>[], init: Record<string, string>[] = [], more: Partial<Pod['spec']> = {}): Pod =>
  makePod({
    requests,
    spec: { initContainers: init.map((r, i) => ({ name: `init${i}`, resources: { requests: r } })), ...more },
  });

// The node of upstream's enoughPodsTests: 10m CPU, 20 bytes, 32 pods, 5 of extended resource A, 5 hugepages.
const node = makeNode('node', { cpu: '10m', memory: '20', pods: '32', [EXT_A]: '5', [HUGE]: '5', 'ephemeral-storage': '20' });

function runFilter(pod: Pod, existing: Pod[], args: NodeResourcesFitArgs = {}, n = node): { code: Code; reasons: readonly string[] } {
  const plugin = new NodeResourcesFit(args);
  const state = new CycleState();
  plugin.preFilter(state, pod);
  const s = plugin.filter(state, pod, new NodeInfo(n, existing));
  return { code: s?.code ?? Code.Success, reasons: s?.reasons ?? [] };
}

describe('NodeResourcesFit filter (upstream enoughPodsTests)', () => {
  const cases: { name: string; pod: Pod; existing: Record<string, string>; reasons: string[]; args?: NodeResourcesFitArgs }[] = [
    { name: 'no resources requested always fits', pod: makePod(), existing: res(10, 20), reasons: [] },
    { name: 'too many resources fails', pod: podWith([res(1, 1)]), existing: res(10, 20), reasons: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'too many resources fails due to init container cpu', pod: podWith([res(1, 1)], [res(3, 1)]), existing: res(8, 19), reasons: ['Insufficient cpu'] },
    { name: 'too many resources fails due to highest init container cpu', pod: podWith([res(1, 1)], [res(3, 1), res(2, 1)]), existing: res(8, 19), reasons: ['Insufficient cpu'] },
    { name: 'too many resources fails due to init container memory', pod: podWith([res(1, 1)], [res(1, 3)]), existing: res(9, 19), reasons: ['Insufficient memory'] },
    { name: 'init container fits because it is the max, not the sum', pod: podWith([res(1, 1)], [res(1, 1)]), existing: res(9, 19), reasons: [] },
    { name: 'both resources fit', pod: podWith([res(1, 1)]), existing: res(5, 5), reasons: [] },
    { name: 'one resource memory fits', pod: podWith([res(2, 1)]), existing: res(9, 5), reasons: ['Insufficient cpu'] },
    { name: 'one resource cpu fits', pod: podWith([res(1, 2)]), existing: res(5, 19), reasons: ['Insufficient memory'] },
    { name: 'equal edge case', pod: podWith([res(5, 1)]), existing: res(5, 19), reasons: [] },
    { name: 'equal edge case for init container', pod: podWith([res(4, 1)], [res(5, 1)]), existing: res(5, 19), reasons: [] },
    { name: 'extended resource fits', pod: podWith([res(0, 0, { [EXT_A]: '1' })]), existing: res(0, 0), reasons: [] },
    { name: 'extended resource capacity enforced', pod: podWith([res(0, 0, { [EXT_A]: '10' })]), existing: res(0, 0), reasons: [`Insufficient ${EXT_A}`] },
    { name: 'extended resource allocatable enforced', pod: podWith([res(0, 0, { [EXT_A]: '1' })]), existing: res(0, 0, { [EXT_A]: '5' }), reasons: [`Insufficient ${EXT_A}`] },
    { name: 'extended resource allocatable enforced for multiple containers', pod: podWith([res(0, 0, { [EXT_A]: '3' }), res(0, 0, { [EXT_A]: '3' })]), existing: res(0, 0, { [EXT_A]: '2' }), reasons: [`Insufficient ${EXT_A}`] },
    { name: 'extended resource allocatable admits multiple init containers', pod: podWith([res(0, 0)], [res(0, 0, { [EXT_A]: '3' }), res(0, 0, { [EXT_A]: '3' })]), existing: res(0, 0, { [EXT_A]: '2' }), reasons: [] },
    { name: 'extended resource allocatable enforced for unknown resource', pod: podWith([res(0, 0, { [EXT_B]: '1' })]), existing: res(0, 0), reasons: [`Insufficient ${EXT_B}`] },
    { name: 'hugepages resource capacity enforced', pod: podWith([res(0, 0, { [HUGE]: '10' })]), existing: res(0, 0), reasons: [`Insufficient ${HUGE}`] },
    { name: 'hugepages resource allocatable enforced for multiple containers', pod: podWith([res(0, 0, { [HUGE]: '3' }), res(0, 0, { [HUGE]: '3' })]), existing: res(0, 0, { [HUGE]: '2' }), reasons: [`Insufficient ${HUGE}`] },
    { name: 'skip checking ignored extended resource', pod: podWith([res(0, 0, { [EXT_B]: '1' })]), existing: res(0, 0), reasons: [], args: { ignoredResources: [EXT_B] } },
    { name: 'skip checking ignored extended resource via resource groups', pod: podWith([res(0, 0, { [EXT_B]: '1' })]), existing: res(0, 0), reasons: [], args: { ignoredResourceGroups: ['example.com'] } },
    { name: 'resources + pod overhead fits', pod: podWith([res(1, 1)], [], { overhead: { cpu: '3m', memory: '13' } }), existing: res(5, 5), reasons: [] },
    { name: 'requests + overhead does not fit for memory', pod: podWith([res(1, 1)], [], { overhead: { cpu: '1m', memory: '15' } }), existing: res(5, 5), reasons: ['Insufficient memory'] },
    { name: 'skip checking resource request with quantity zero', pod: podWith([res(1, 1, { [EXT_B]: '0' })]), existing: res(5, 5), reasons: [] },
    { name: 'sidecar requests add to regular containers', pod: podWith([res(1, 1)], [{ ...res(5, 1) }], {}), existing: res(5, 5), reasons: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const existing = makePod({ requests: [c.existing], spec: { nodeName: 'node' } });
      const got = runFilter(c.pod, [existing], c.args);
      assert.deepEqual(got.reasons, c.reasons);
      assert.equal(got.code, c.reasons.length ? Code.Unschedulable : Code.Success);
    });
  }

  test('a restartable init container (sidecar) counts for the whole life of the pod', () => {
    const pod = makePod({
      requests: [res(1, 1)],
      spec: { initContainers: [{ name: 'sidecar', restartPolicy: 'Always', resources: { requests: res(3, 1) } }] },
    });
    // 1 + 3 = 4m needed; 6m free fits, 3m free does not.
    assert.deepEqual(runFilter(pod, [makePod({ requests: [res(4, 1)] })]).reasons, []);
    assert.deepEqual(runFilter(pod, [makePod({ requests: [res(7, 1)] })]).reasons, ['Insufficient cpu']);
  });

  test('pods beyond allocatable pod count: Too many pods', () => {
    const small = makeNode('node', { cpu: '10m', memory: '20', pods: '1' });
    assert.deepEqual(runFilter(makePod(), [makePod()], {}, small).reasons, ['Too many pods']);
    assert.deepEqual(runFilter(podWith([res(1, 1)]), [makePod({ requests: [res(10, 20)] })], {}, small).reasons, [
      'Too many pods',
      'Insufficient cpu',
      'Insufficient memory',
    ]);
  });

  test('ephemeral storage is enforced', () => {
    const pod = podWith([{ 'ephemeral-storage': '25' }]);
    assert.deepEqual(runFilter(pod, []).reasons, ['Insufficient ephemeral-storage']);
  });

  test('filter without PreFilter is an error naming the missing state', () => {
    const plugin = new NodeResourcesFit();
    assert.throws(() => plugin.filter(new CycleState(), makePod(), new NodeInfo(node)), /PreFilterNodeResourcesFit.*not found/);
  });

  test('scoring strategy and weights are validated', () => {
    assert.throws(() => new NodeResourcesFit({ scoringStrategy: { resources: [{ name: 'memory', weight: -1 }] } }), /resources\[0\]\.weight/);
    assert.throws(() => new NodeResourcesFit({ scoringStrategy: { resources: [{ name: 'cpu', weight: 101 }] } }), /should be in range \[1, 100\]/);
    assert.throws(() => new NodeResourcesFit({ scoringStrategy: { type: 'Bogus' as 'LeastAllocated' } }), /Unsupported value: "Bogus"/);
    assert.throws(() => new NodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio' } }), /at least one point/);
  });
});

/** Runs PreScore and Score on every node, as upstream's scoring-strategy tests do. */
export function scoreAll(plugin: NodeResourcesFit, pod: Pod, infos: NodeInfo[]): { name: string; score: number }[] {
  const state = new CycleState();
  plugin.preScore(state, pod);
  return infos.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
}

const cap = (cpu: string, memory: string, extra: Record<string, string> = {}): Record<string, string> => ({ cpu, memory, ...extra });
const reqPod = (reqs: Record<string, string>[], nodeName?: string): Pod => makePod({ requests: reqs, spec: nodeName ? { nodeName } : {} });
const twoContainers = (): Pod => reqPod([{ cpu: '1000', memory: '2000' }, { cpu: '2000', memory: '3000' }]);

describe('LeastAllocated scoring (upstream least_allocated_test cases)', () => {
  const least = (resources?: { name: string; weight: number }[]) => new NodeResourcesFit({ scoringStrategy: { type: 'LeastAllocated', ...(resources ? { resources } : {}) } });
  const cases: { name: string; pod: Pod; nodes: ReturnType<typeof makeNode>[]; existing?: Pod[]; want: number[]; resources?: { name: string; weight: number }[] }[] = [
    { name: 'nothing scheduled, nothing requested', pod: makePod(), nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('4000', '10000'))], want: [100, 100] },
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: twoContainers(), nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))], want: [37, 50] },
    {
      name: 'no resources requested, pods scheduled',
      pod: makePod(),
      nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('4000', '10000'))],
      existing: [reqPod([], 'node1'), reqPod([], 'node1'), reqPod([], 'node2'), reqPod([], 'node2')],
      want: [100, 100],
    },
    {
      name: 'no resources requested, pods scheduled with resources',
      pod: makePod(),
      nodes: [makeNode('node1', cap('10000', '20000')), makeNode('node2', cap('10000', '20000'))],
      existing: [
        reqPod([{ cpu: '3000', memory: '0' }], 'node1'),
        reqPod([{ cpu: '3000', memory: '0' }], 'node1'),
        reqPod([{ cpu: '3000', memory: '0' }], 'node2'),
        reqPod([{ cpu: '3000', memory: '5000' }], 'node2'),
      ],
      want: [70, 57],
    },
    {
      name: 'resources requested, pods scheduled with resources',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('10000', '20000')), makeNode('node2', cap('10000', '20000'))],
      existing: [reqPod([{ cpu: '3000', memory: '0' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')],
      want: [57, 45],
    },
    {
      name: 'resources requested, pods scheduled with resources, differently sized nodes',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('10000', '20000')), makeNode('node2', cap('10000', '50000'))],
      existing: [reqPod([{ cpu: '3000', memory: '0' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')],
      want: [57, 60],
    },
    {
      name: 'requested resources exceed node capacity',
      pod: reqPod([{ cpu: '3000', memory: '0' }]),
      nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('4000', '10000'))],
      existing: [reqPod([{ cpu: '3000', memory: '0' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')],
      want: [50, 25],
    },
    {
      name: 'zero node resources, pods scheduled with resources',
      pod: makePod(),
      nodes: [makeNode('node1'), makeNode('node2')],
      existing: [reqPod([{ cpu: '3000', memory: '0' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')],
      want: [0, 0],
    },
    {
      name: 'different weight on CPU and memory, differently sized nodes',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))],
      want: [41, 50],
      resources: [
        { name: 'memory', weight: 2 },
        { name: 'cpu', weight: 1 },
      ],
    },
    {
      name: 'bypass extended resource if the pod does not request',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('6000', '10000')), makeNode('node2', cap('6000', '10000', { [EXT_A]: '4' }))],
      want: [50, 50],
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: EXT_A, weight: 1 },
      ],
    },
    {
      name: 'honor extended resource if the pod requests',
      pod: reqPod([{ cpu: '1000', memory: '2000' }, { cpu: '2000', memory: '3000', [EXT_A]: '2' }]),
      nodes: [makeNode('node1', cap('6000', '10000', { [EXT_A]: '4' })), makeNode('node2', cap('6000', '10000', { [EXT_A]: '10' }))],
      want: [50, 60],
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: EXT_A, weight: 1 },
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = scoreAll(least(c.resources), c.pod, nodeInfos(c.nodes, c.existing));
      assert.deepEqual(got.map((s) => s.score), c.want);
    });
  }
});

describe('MostAllocated scoring (upstream most_allocated_test cases)', () => {
  const most = (resources?: { name: string; weight: number }[]) => new NodeResourcesFit({ scoringStrategy: { type: 'MostAllocated', ...(resources ? { resources } : {}) } });
  const extended = [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
    { name: EXT_A, weight: 1 },
  ];
  const cases: { name: string; pod: Pod; nodes: ReturnType<typeof makeNode>[]; existing?: Pod[]; want: number[]; resources?: { name: string; weight: number }[] }[] = [
    { name: 'nothing scheduled, nothing requested', pod: makePod(), nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('4000', '10000'))], want: [0, 0] },
    { name: 'nothing scheduled, resources requested, differently sized nodes', pod: twoContainers(), nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))], want: [62, 50] },
    {
      name: 'no resources requested, pods scheduled with resources',
      pod: makePod(),
      nodes: [makeNode('node1', cap('10000', '20000')), makeNode('node2', cap('10000', '20000'))],
      existing: [
        reqPod([{ cpu: '3000', memory: '0' }], 'node1'),
        reqPod([{ cpu: '3000', memory: '0' }], 'node1'),
        reqPod([{ cpu: '3000', memory: '0' }], 'node2'),
        reqPod([{ cpu: '3000', memory: '5000' }], 'node2'),
      ],
      want: [30, 42],
    },
    {
      name: 'resources requested, pods scheduled with resources',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('10000', '20000')), makeNode('node2', cap('10000', '20000'))],
      existing: [reqPod([{ cpu: '3000', memory: '0' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')],
      want: [42, 55],
    },
    {
      name: 'resources requested equal node capacity',
      pod: reqPod([{ cpu: '2000', memory: '4000' }, { cpu: '3000', memory: '5000' }]),
      nodes: [makeNode('node1', cap('5000', '10000')), makeNode('node2', cap('10000', '9000'))],
      want: [95, 75],
    },
    {
      name: 'different weights on CPU and memory',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))],
      want: [58, 50],
      resources: [
        { name: 'memory', weight: 2 },
        { name: 'cpu', weight: 1 },
      ],
    },
    {
      name: 'no resources requested, pods scheduled, nonzero request for resource',
      pod: reqPod([{}]),
      nodes: [makeNode('node1', cap('250m', '1000Mi')), makeNode('node2', cap('250m', '1000Mi'))],
      existing: [reqPod([{}], 'node1'), reqPod([{}], 'node1')],
      want: [80, 30],
    },
    {
      name: 'bypass extended resource if the pod does not request',
      pod: twoContainers(),
      nodes: [makeNode('node1', cap('6000', '10000')), makeNode('node2', cap('6000', '10000', { [EXT_A]: '4' }))],
      want: [50, 50],
      resources: extended,
    },
    {
      name: 'honor extended resource if the pod requests',
      pod: reqPod([{ cpu: '3000', memory: '5000', [EXT_A]: '2' }]),
      nodes: [makeNode('node1', cap('6000', '10000', { [EXT_A]: '4' })), makeNode('node2', cap('6000', '10000', { [EXT_A]: '10' }))],
      want: [50, 40],
      resources: extended,
    },
    {
      name: "if the node doesn't have a resource",
      pod: reqPod([{ cpu: '3000', memory: '4000' }]),
      nodes: [makeNode('node1', cap('6000', '10000')), makeNode('node2', cap('6000', '10000', { [EXT_A]: '4' }))],
      want: [45, 45],
      resources: [
        { name: EXT_A, weight: 2 },
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = scoreAll(most(c.resources), c.pod, nodeInfos(c.nodes, c.existing));
      assert.deepEqual(got.map((s) => s.score), c.want);
    });
  }
});

describe('RequestedToCapacityRatio scoring (upstream requested_to_capacity_ratio_test cases)', () => {
  const shape = [
    { utilization: 0, score: 10 },
    { utilization: 100, score: 0 },
  ];
  const rtcr = (s = shape, resources?: { name: string; weight: number }[]) =>
    new NodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: s }, ...(resources ? { resources } : {}) } });
  test('nothing scheduled, nothing requested', () => {
    const got = scoreAll(rtcr(), makePod(), nodeInfos([makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('4000', '10000'))]));
    // Utilization 0 on both resources: the shape's score 10, scaled to 100.
    assert.deepEqual(got.map((s) => s.score), [100, 100]);
  });
  test('nothing scheduled, resources requested, differently sized nodes', () => {
    // node1: cpu 75% → 25, memory 50% → 50 → 38 (rounded); node2: 50, 50 → 50.
    const got = scoreAll(rtcr(), twoContainers(), nodeInfos([makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))]));
    assert.deepEqual(got.map((s) => s.score), [38, 50]);
  });
  test('broken linear shape favours bin packing', () => {
    const packing = [
      { utilization: 0, score: 0 },
      { utilization: 100, score: 10 },
    ];
    // node1: 75 and 50 → round(62.5) = 63; node2: 50, 50.
    const got = scoreAll(rtcr(packing), twoContainers(), nodeInfos([makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))]));
    assert.deepEqual(got.map((s) => s.score), [63, 50]);
  });
  test('no resources requested, pods scheduled with resources', () => {
    const existing = [reqPod([{ cpu: '3000', memory: '5000' }], 'node1'), reqPod([{ cpu: '3000', memory: '5000' }], 'node2')];
    const got = scoreAll(rtcr(), makePod(), nodeInfos([makeNode('node1', cap('4000', '10000')), makeNode('node2', cap('6000', '10000'))], existing));
    assert.deepEqual(got.map((s) => s.score), [38, 50]);
  });

  // Upstream TestResourceBinPackingSingleExtended / MultipleExtended: shape 0→0, 100→1 on intel.com resources.
  const binPacking = [
    { utilization: 0, score: 0 },
    { utilization: 100, score: 1 },
  ];
  const FOO = 'intel.com/foo';
  const BAR = 'intel.com/bar';
  const extNode = (name: string, ext: Record<string, string>) => makeNode(name, cap('4000m', String(10000 * 1024 * 1024), ext));
  const single = [
    { name: 'nothing requested', pod: makePod(), existing: [] as Pod[], want: [0, 0] },
    { name: 'pods scheduled with less resources', pod: reqPod([{ [FOO]: '2' }]), existing: [makePod()], want: [2, 5] },
    { name: 'on node with existing pod running', pod: reqPod([{ [FOO]: '2' }]), existing: [reqPod([{ [FOO]: '2' }], 'node2')], want: [2, 10] },
    { name: 'pods scheduled with more resources', pod: reqPod([{ [FOO]: '4' }]), existing: [makePod()], want: [5, 10] },
  ];
  for (const c of single) {
    test(`bin packing, single extended resource: ${c.name}`, () => {
      const plugin = rtcr(binPacking, [{ name: FOO, weight: 1 }]);
      const got = scoreAll(plugin, c.pod, nodeInfos([extNode('node1', { [FOO]: '8' }), extNode('node2', { [FOO]: '4' })], c.existing));
      assert.deepEqual(got.map((s) => s.score), c.want);
    });
  }
  test('bin packing, multiple weighted extended resources', () => {
    const plugin = rtcr(binPacking, [
      { name: FOO, weight: 3 },
      { name: BAR, weight: 5 },
    ]);
    const nodes = [extNode('node1', { [FOO]: '8', [BAR]: '4' }), extNode('node2', { [FOO]: '4', [BAR]: '8' })];
    assert.deepEqual(scoreAll(plugin, makePod(), nodeInfos(nodes)).map((s) => s.score), [0, 0]);
    assert.deepEqual(scoreAll(plugin, reqPod([{ [FOO]: '2', [BAR]: '2' }]), nodeInfos(nodes)).map((s) => s.score), [4, 3]);
  });
});

describe('brokenLinearFunction (upstream TestBrokenLinearFunction)', () => {
  const cases: { points: { utilization: number; score: number }[]; at: [number, number][] }[] = [
    {
      points: [
        { utilization: 10, score: 1 },
        { utilization: 90, score: 9 },
      ],
      at: [[-10, 1], [0, 1], [9, 1], [10, 1], [15, 1], [19, 1], [20, 2], [89, 8], [90, 9], [99, 9], [100, 9], [110, 9]],
    },
    {
      points: [
        { utilization: 0, score: 2 },
        { utilization: 40, score: 10 },
        { utilization: 100, score: 0 },
      ],
      at: [[-10, 2], [0, 2], [20, 6], [30, 8], [40, 10], [70, 5], [100, 0], [110, 0]],
    },
    {
      points: [
        { utilization: 0, score: 2 },
        { utilization: 40, score: 2 },
        { utilization: 100, score: 2 },
      ],
      at: [[-10, 2], [0, 2], [20, 2], [30, 2], [40, 2], [70, 2], [100, 2], [110, 2]],
    },
  ];
  cases.forEach((c, i) => {
    test(`case ${i}`, () => {
      const fn = brokenLinearFunction(c.points);
      assert.deepEqual(c.at.map(([p]) => fn(p)), c.at.map(([, want]) => want));
    });
  });
});
