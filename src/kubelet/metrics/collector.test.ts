import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourceMetrics } from '../../machinery/resource-metrics.js';
import type { Container, ContainerStats } from '../cri/types.js';
import { collectResourceUsage, podUsageFrom, renderMetricsResource, summaryOf } from './collector.js';

const labels = (pod: string, container: string) => ({
  'io.kubernetes.pod.name': pod,
  'io.kubernetes.pod.namespace': 'ns',
  'io.kubernetes.pod.uid': `uid-${pod}`,
  'io.kubernetes.container.name': container,
});

function container(id: string, pod: string, name: string, createdAtMs: number): Container {
  return { id, podSandboxId: `sb-${pod}`, metadata: { name, attempt: 0 }, image: null, imageRef: '', state: 'CONTAINER_RUNNING', createdAt: createdAtMs * 1e6, labels: labels(pod, name), annotations: {} };
}

function stats(id: string, cpuNs: number, ws: number, tsMs: number): ContainerStats {
  return {
    attributes: { id, metadata: { name: 'ignored', attempt: 0 }, labels: {}, annotations: {} },
    cpu: { timestamp: tsMs * 1e6, usageCoreNanoSeconds: { value: cpuNs } },
    memory: { timestamp: tsMs * 1e6, workingSetBytes: { value: ws } },
  };
}

const running = [container('a1', 'web', 'app', 1000), container('a2', 'web', 'side', 2000), container('b1', 'db', 'pg', 3000), { ...container('x', 'other', 'c', 1), labels: {} }];
const allStats = [stats('a1', 2e9, 4096, 10_000), stats('a2', 5e8, 1024, 10_001), stats('b1', 1e9, 100, 10_002), stats('gone', 1, 1, 1), stats('x', 1, 1, 1)];

test('joins container stats with running containers and groups them by pod (unknown or unlabelled left out)', () => {
  const pods = podUsageFrom(allStats, running, 0);
  assert.deepEqual(
    pods.map((p) => [p.namespace, p.name, p.uid, p.containers.map((c) => c.name)]),
    [
      ['ns', 'db', 'uid-db', ['pg']],
      ['ns', 'web', 'uid-web', ['app', 'side']],
    ],
  );
  assert.deepEqual(pods[1]!.containers[0], { name: 'app', startTime: 1000, cpuUsageNanoSeconds: 2e9, cpuTimestamp: 10_000, memoryWorkingSetBytes: 4096, memoryTimestamp: 10_000 });
});

test('/metrics/resource carries node, pod (sum of containers) and container samples; a runtime failure is resource_scrape_error 1', async () => {
  const node = () => ({ cpuUsageNanoSeconds: 7.5e9, memoryWorkingSetBytes: 1e6, timestamp: 9_000 });
  const u = await collectResourceUsage('n1', { listContainerStats: async () => allStats, listContainers: async () => running }, node);
  const samples = parseResourceMetrics(renderMetricsResource(u));
  const find = (name: string, l: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(l).every(([k, v]) => s.labels[k] === v));
  assert.deepEqual(find('container_cpu_usage_seconds_total', { pod: 'web', container: 'app' }), { name: 'container_cpu_usage_seconds_total', labels: { container: 'app', namespace: 'ns', pod: 'web' }, value: 2, timestamp: 10_000 });
  assert.equal(find('container_memory_working_set_bytes', { pod: 'web', container: 'side' })?.value, 1024);
  assert.equal(find('container_start_time_seconds', { pod: 'db', container: 'pg' })?.value, 3);
  assert.deepEqual(find('pod_cpu_usage_seconds_total', { pod: 'web' }), { name: 'pod_cpu_usage_seconds_total', labels: { namespace: 'ns', pod: 'web' }, value: 2.5, timestamp: 10_001 });
  assert.equal(find('pod_memory_working_set_bytes', { pod: 'web' })?.value, 5120);
  assert.deepEqual(find('node_cpu_usage_seconds_total'), { name: 'node_cpu_usage_seconds_total', labels: {}, value: 7.5, timestamp: 9_000 });
  assert.equal(find('node_memory_working_set_bytes')?.value, 1e6);
  assert.equal(find('resource_scrape_error')?.value, 0);

  const summary = summaryOf(u, 0) as { node: { nodeName: string; cpu: { usageCoreNanoSeconds: number } }; pods: { podRef: { name: string }; containers: unknown[]; memory: { workingSetBytes: number } }[] };
  assert.equal(summary.node.nodeName, 'n1');
  assert.equal(summary.node.cpu.usageCoreNanoSeconds, 7.5e9);
  assert.deepEqual(summary.pods.map((p) => [p.podRef.name, p.containers.length, p.memory.workingSetBytes]), [['db', 1, 100], ['web', 2, 5120]]);

  const failing = await collectResourceUsage('n1', { listContainerStats: async () => Promise.reject(new Error('down')), listContainers: async () => running }, node);
  const text = renderMetricsResource(failing);
  assert.match(text, /^resource_scrape_error 1$/m);
  assert.match(text, /^node_cpu_usage_seconds_total 7\.5 9000$/m);
  assert.doesNotMatch(text, /^container_/m);
});
