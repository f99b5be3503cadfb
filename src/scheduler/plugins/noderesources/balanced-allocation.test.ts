import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { NodeResourcesBalancedAllocation } from './balanced-allocation.js';

const GPU = 'nvidia.com/gpu';
const node = (name: string, milliCPU: number, memory: number, extra: Record<string, string> = {}) =>
  makeNode(name, { cpu: `${milliCPU}m`, memory: `${memory}`, pods: '100', ...extra });
const spec = (reqs: Record<string, string>[], nodeName: string): Pod => makePod({ requests: reqs, spec: { nodeName } });
const cpuOnly = (n = 'node1') => spec([{ cpu: '1000m', memory: '0' }, { cpu: '2000m', memory: '0' }], n);
const cpuAndMemory = (n = 'node2') => spec([{ cpu: '1000m', memory: '2000' }, { cpu: '2000m', memory: '3000' }], n);
const cpuAndMemoryAndGPU = (n = 'node1') => spec([{ cpu: '1000m', memory: '2000' }, { cpu: '2000m', memory: '3000', [GPU]: '3' }], n);

function scores(plugin: NodeResourcesBalancedAllocation, pod: Pod, infos: ReturnType<typeof nodeInfos>, runPreScore = true): number[] {
  const state = new CycleState();
  if (runPreScore) plugin.preScore(state, pod);
  return infos.map((n) => plugin.score(state, pod, n));
}

describe('NodeResourcesBalancedAllocation (upstream balanced_allocation_test cases)', () => {
  const three = { resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: GPU, weight: 1 }] };
  test('nothing scheduled, nothing requested', () => {
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(), makePod(), nodeInfos([node('node1', 4000, 10000), node('node2', 4000, 10000)])), [100, 100]);
  });
  test('nothing scheduled, resources requested, differently sized nodes', () => {
    const got = scores(new NodeResourcesBalancedAllocation(), cpuAndMemory(), nodeInfos([node('node1', 4000, 10000), node('node2', 6000, 10000)]));
    assert.deepEqual(got, [87, 100]);
  });
  test('resources requested, pods scheduled with resources', () => {
    const infos = nodeInfos([node('node1', 10000, 20000), node('node2', 10000, 20000)], [cpuOnly(), cpuAndMemory()]);
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(), cpuAndMemory(), infos), [82, 95]);
  });
  test('resources requested, pods scheduled with resources, differently sized nodes', () => {
    const infos = nodeInfos([node('node1', 10000, 20000), node('node2', 10000, 50000)], [cpuOnly(), cpuAndMemory()]);
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(), cpuAndMemory(), infos), [82, 80]);
  });
  test('requested resources at node capacity', () => {
    const infos = nodeInfos([node('node1', 6000, 10000), node('node2', 6000, 10000)], [cpuOnly(), cpuAndMemory()]);
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(), cpuOnly(), infos), [50, 75]);
  });
  test('include scalar resource on a node for balanced resource allocation', () => {
    const infos = nodeInfos([node('node1', 3500, 40000, { [GPU]: '8' }), node('node2', 3500, 40000, { [GPU]: '8' })], [cpuAndMemory(), cpuAndMemoryAndGPU()]);
    const pod = makePod({ requests: [{ memory: '0', [GPU]: '1' }] });
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(three), pod, infos), [70, 65]);
  });
  test('node without the scalar resource should skip the scalar resource', () => {
    const infos = nodeInfos([node('node1', 3500, 40000, { [GPU]: '8' }), node('node2', 3500, 40000)]);
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(three), cpuAndMemory(), infos), [63, 63]);
  });
  test('resources requested, pods scheduled with resources if PreScore not called', () => {
    const infos = nodeInfos([node('node1', 10000, 20000), node('node2', 10000, 20000)], [cpuOnly(), cpuAndMemory()]);
    assert.deepEqual(scores(new NodeResourcesBalancedAllocation(), cpuAndMemory(), infos, false), [82, 95]);
  });
});
