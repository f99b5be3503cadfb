import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeScrape, MetricsStore, type NodeScrape } from './store.js';
import { parseResourceMetrics } from '../../machinery/resource-metrics.js';

function scrape(t: number, nodeCpu: number, containers: Record<string, { cpu: number; mem: number; start: number }>): NodeScrape {
  const lines = [`node_cpu_usage_seconds_total ${nodeCpu} ${t}`, `node_memory_working_set_bytes 1000 ${t}`];
  for (const [key, c] of Object.entries(containers)) {
    const [ns, pod, name] = key.split('/');
    const l = `{container="${name}",namespace="${ns}",pod="${pod}"}`;
    lines.push(`container_cpu_usage_seconds_total${l} ${c.cpu} ${t}`, `container_memory_working_set_bytes${l} ${c.mem} ${t}`, `container_start_time_seconds${l} ${c.start} ${t}`);
  }
  return decodeScrape(parseResourceMetrics(lines.join('\n')), t);
}

test('rates need two samples: CPU is the difference over the window, memory the latest value', () => {
  const s = new MetricsStore();
  s.store(new Map([['n1', scrape(10_000, 100, { 'ns/p/a': { cpu: 1, mem: 10, start: 5 } })]]));
  assert.equal(s.node('n1'), undefined);
  assert.equal(s.pod('ns', 'p'), undefined);
  s.store(new Map([['n1', scrape(15_000, 102.5, { 'ns/p/a': { cpu: 1.25, mem: 20, start: 5 } })]]));
  assert.deepEqual(s.node('n1'), { timestamp: 15_000, windowMs: 5000, cpuCores: 0.5, memoryBytes: 1000 });
  assert.deepEqual(s.pod('ns', 'p'), { timestamp: 15_000, windowMs: 5000, containers: [{ name: 'a', usage: { timestamp: 15_000, windowMs: 5000, cpuCores: 0.05, memoryBytes: 20 } }] });
  // The kubelet answered with the same sample again: the pair stays, memory updates.
  s.store(new Map([['n1', scrape(15_000, 102.5, { 'ns/p/a': { cpu: 1.25, mem: 30, start: 5 } })]]));
  assert.equal(s.pod('ns', 'p')?.containers[0]?.usage.memoryBytes, 30);
  assert.equal(s.pod('ns', 'p')?.windowMs, 5000);
});

test('a restarted container (new start time or lower counter) starts over; a pod with a container lacking a rate is left out', () => {
  const s = new MetricsStore();
  s.store(new Map([['n1', scrape(1000, 1, { 'ns/p/a': { cpu: 5, mem: 1, start: 1 }, 'ns/q/a': { cpu: 5, mem: 1, start: 1 } })]]));
  s.store(new Map([['n1', scrape(2000, 2, { 'ns/p/a': { cpu: 6, mem: 1, start: 1 }, 'ns/q/a': { cpu: 6, mem: 1, start: 1 } })]]));
  assert.ok(s.pod('ns', 'p') && s.pod('ns', 'q'));
  s.store(new Map([['n1', scrape(3000, 3, { 'ns/p/a': { cpu: 0.1, mem: 1, start: 1 }, 'ns/q/a': { cpu: 7, mem: 1, start: 2 }, 'ns/q/b': { cpu: 1, mem: 1, start: 2 } })]]));
  assert.equal(s.pod('ns', 'p'), undefined, 'counter went down');
  assert.equal(s.pod('ns', 'q'), undefined, 'new start time, and container b has one sample');
  s.store(new Map([['n1', scrape(4000, 4, { 'ns/p/a': { cpu: 0.6, mem: 1, start: 1 } })]]));
  assert.equal(s.pod('ns', 'p')?.containers[0]?.usage.cpuCores, 0.5);
  assert.equal(s.pod('ns', 'q'), undefined, 'gone from the node: forgotten');
  // A node missing from a round is forgotten too.
  s.store(new Map());
  assert.equal(s.node('n1'), undefined);
});

test('samples without a CPU or memory value do not make a container', () => {
  const d = decodeScrape(parseResourceMetrics('container_cpu_usage_seconds_total{container="a",namespace="n",pod="p"} 1 5\nnode_cpu_usage_seconds_total 1 5\n'), 9);
  assert.equal(d.pods.size, 0);
  assert.equal(d.node, undefined, 'no node memory');
});
