import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../testing/builders.js';
import { HostPortInfo, NodeInfo } from './node-info.js';

test('NodeInfo sums requests of its pods and forgets removed ones', () => {
  const info = new NodeInfo(makeNode('n', { cpu: '4', memory: '8Gi', pods: '110' }));
  assert.equal(info.allocatable.milliCPU, 4000);
  assert.equal(info.allocatable.allowedPodNumber, 110);
  const a = makePod({ name: 'a', requests: [{ cpu: '500m', memory: '1Gi' }] });
  const b = makePod({ name: 'b' });
  info.addPod(a);
  info.addPod(b);
  assert.equal(info.requested.milliCPU, 500);
  assert.equal(info.nonZeroRequested.milliCPU, 500);
  // b has no containers, so even non-zero defaults add nothing.
  assert.equal(info.nonZeroRequested.memory, 1024 ** 3);
  const gen = info.generation;
  assert.ok(info.removePod(a));
  assert.ok(info.generation > gen);
  assert.equal(info.requested.milliCPU, 0);
  assert.equal(info.pods.length, 1);
  assert.equal(info.removePod(a), false);
});

test('HostPortInfo counts the same port used twice', () => {
  const ports = new HostPortInfo();
  ports.add('', '', 80);
  ports.add('0.0.0.0', 'TCP', 80);
  ports.add('127.0.0.1', 'UDP', 0);
  assert.equal(ports.size, 1);
  ports.remove(undefined, undefined, 80);
  assert.ok(ports.checkConflict('127.0.0.1', 'TCP', 80));
  ports.remove(undefined, undefined, 80);
  assert.ok(!ports.checkConflict('127.0.0.1', 'TCP', 80));
  assert.equal(ports.size, 0);
});

test('NodeInfo keeps the pods with pod affinity apart, and drops them on removal', () => {
  const info = new NodeInfo(makeNode('n'));
  const anti = makePod({
    name: 'anti',
    spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: {} }] } } },
  });
  const soft = makePod({
    name: 'soft',
    spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'zone' } }] } } },
  });
  info.addPod(anti);
  info.addPod(soft);
  info.addPod(makePod({ name: 'plain' }));
  assert.deepEqual(info.podsWithAffinity.map((p) => p.pod.metadata!.name), ['anti', 'soft']);
  assert.deepEqual(info.podsWithRequiredAntiAffinity.map((p) => p.pod.metadata!.name), ['anti']);
  info.removePod(anti);
  assert.deepEqual(info.podsWithAffinity.map((p) => p.pod.metadata!.name), ['soft']);
  assert.equal(info.podsWithRequiredAntiAffinity.length, 0);
});
