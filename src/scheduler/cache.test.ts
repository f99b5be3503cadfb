import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.js';
import { nodesWithAffinityPods, nodesWithRequiredAntiAffinityPods } from './framework/node-info.js';
import { makeNode, makePod } from './testing/builders.js';

const cpuOn = (cache: SchedulerCache, node: string) => cache.nodeInfos().find((n) => n.name === node)?.requested.milliCPU;

describe('SchedulerCache', () => {
  test('an assumed pod counts on its node at once and is confirmed by the informer without double counting', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1', { cpu: '4' }));
    const pod = makePod({ name: 'p', requests: [{ cpu: '1' }] });
    cache.assumePod(pod, 'n1');
    assert.equal(cpuOn(cache, 'n1'), 1000);
    assert.ok(cache.isAssumed(pod));
    cache.updatePod({ ...pod, spec: { ...pod.spec!, nodeName: 'n1' } });
    assert.equal(cpuOn(cache, 'n1'), 1000);
    assert.equal(cache.isAssumed(pod), false);
    cache.removePod(pod);
    assert.equal(cpuOn(cache, 'n1'), 0);
    assert.equal(cache.podCount, 0);
  });

  test('the bound version of an assumed pod keeps the requests worked out for it; a version with other requests is worked out again', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1', { cpu: '4' }));
    const pod = makePod({ name: 'p', requests: [{ cpu: '1' }] });
    cache.assumePod(pod, 'n1');
    const infoOn = () => cache.nodeInfos().find((n) => n.name === 'n1')!.pods[0]!;
    const assumed = infoOn();
    const bound: Pod = JSON.parse(JSON.stringify({ ...pod, spec: { ...pod.spec!, nodeName: 'n1' } }));
    cache.updatePod(bound);
    assert.equal(infoOn().pod, bound);
    assert.equal(infoOn().requested, assumed.requested);
    assert.equal(cpuOn(cache, 'n1'), 1000);
    const resized: Pod = { ...bound, spec: { ...bound.spec!, containers: [{ name: 'c0', resources: { requests: { cpu: '2' } } }] } };
    cache.updatePod(resized);
    assert.notEqual(infoOn().requested, assumed.requested);
    assert.equal(cpuOn(cache, 'n1'), 2000);
  });

  test('forgetting an assumed pod (bind failed) frees its resources; confirmed pods are not forgotten', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1', { cpu: '4' }));
    const pod = makePod({ name: 'p', requests: [{ cpu: '2' }] });
    cache.assumePod(pod, 'n1');
    assert.throws(() => cache.assumePod(pod, 'n1'), /can't be assumed/);
    cache.forgetPod(pod);
    assert.equal(cpuOn(cache, 'n1'), 0);
    const bound = { ...pod, spec: { ...pod.spec!, nodeName: 'n1' } };
    cache.addPod(bound);
    cache.forgetPod(bound);
    assert.equal(cpuOn(cache, 'n1'), 2000);
  });

  test('the informer may place a pod elsewhere than assumed; the API wins', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1', { cpu: '4' }));
    cache.addNode(makeNode('n2', { cpu: '4' }));
    const pod = makePod({ name: 'p', requests: [{ cpu: '1' }] });
    cache.assumePod(pod, 'n1');
    cache.addPod({ ...pod, spec: { ...pod.spec!, nodeName: 'n2' } });
    assert.equal(cpuOn(cache, 'n1'), 0);
    assert.equal(cpuOn(cache, 'n2'), 1000);
  });

  test('pods seen before their node are kept; a removed node leaves the snapshot', () => {
    const cache = new SchedulerCache();
    const pod = makePod({ name: 'p', requests: [{ cpu: '1' }], spec: { nodeName: 'late' } });
    cache.addPod(pod);
    assert.equal(cache.nodeInfos().length, 0);
    const node = makeNode('late', { cpu: '2' });
    cache.addNode(node);
    assert.equal(cpuOn(cache, 'late'), 1000);
    cache.updateNode({ ...node, metadata: { ...node.metadata, labels: { zone: 'a' } } });
    assert.equal(cache.nodeInfos()[0]?.node?.metadata?.labels?.zone, 'a');
    cache.removeNode(node);
    assert.equal(cache.nodeInfos().length, 0);
    cache.addNode(node);
    assert.equal(cpuOn(cache, 'late'), 1000, 'its pods are still counted when it returns');
  });

  test('the nodes holding pods with affinity and required anti-affinity follow pods and nodes coming and going', () => {
    const cache = new SchedulerCache();
    for (const n of ['n1', 'n2', 'n3']) cache.addNode(makeNode(n, { cpu: '4' }));
    const anti = makePod({
      name: 'anti',
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } }] } } },
    });
    const preferred = makePod({
      name: 'preferred',
      spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'zone', labelSelector: {} } }] } } },
    });
    const names = (list: readonly { name: string }[]) => list.map((n) => n.name).sort();
    const check = (affinity: string[], requiredAnti: string[]) => {
      const nodes = cache.nodeInfos();
      assert.deepEqual(names(nodesWithAffinityPods(nodes)), affinity);
      assert.deepEqual(names(nodesWithRequiredAntiAffinityPods(nodes)), requiredAnti);
      // The same answer as walking every node (what an unregistered list gets).
      assert.deepEqual(names(nodesWithAffinityPods([...nodes])), affinity);
      assert.deepEqual(names(nodesWithRequiredAntiAffinityPods([...nodes])), requiredAnti);
    };
    check([], []);
    cache.addPod(makePod({ name: 'plain', spec: { nodeName: 'n1' } }));
    cache.assumePod(anti, 'n1');
    check(['n1'], ['n1']);
    cache.addPod({ ...preferred, spec: { ...preferred.spec!, nodeName: 'n2' } });
    check(['n1', 'n2'], ['n1']);
    cache.forgetPod(anti);
    check(['n2'], []);
    cache.addPod({ ...anti, spec: { ...anti.spec!, nodeName: 'n3' } });
    check(['n2', 'n3'], ['n3']);
    cache.removeNode(makeNode('n3'));
    check(['n2'], []);
    cache.addNode(makeNode('n3', { cpu: '4' }));
    check(['n2', 'n3'], ['n3']);
    cache.removePod(preferred);
    check(['n3'], ['n3']);
  });
});
