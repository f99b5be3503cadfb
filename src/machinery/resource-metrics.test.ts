import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourceMetrics, renderResourceMetrics, RESOURCE_METRICS } from './resource-metrics.js';

test('renders HELP/TYPE once per metric, sorted labels and millisecond timestamps, and parses back', () => {
  const text = renderResourceMetrics([
    { name: RESOURCE_METRICS.containerCpu, labels: { pod: 'p', namespace: 'ns', container: 'c' }, value: 1.5, timestamp: 1_700_000_000_123 },
    { name: RESOURCE_METRICS.containerCpu, labels: { pod: 'q"x', namespace: 'ns', container: 'a\\b\nc' }, value: 0, timestamp: 1_700_000_000_124 },
    { name: RESOURCE_METRICS.nodeMemory, labels: {}, value: 1048576, timestamp: 1_700_000_000_125 },
    { name: RESOURCE_METRICS.scrapeError, labels: {}, value: 0 },
  ]);
  assert.equal(
    text,
    [
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
      'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} 1.5 1700000000123',
      'container_cpu_usage_seconds_total{container="a\\\\b\\nc",namespace="ns",pod="q\\"x"} 0 1700000000124',
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      'node_memory_working_set_bytes 1048576 1700000000125',
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '',
    ].join('\n'),
  );
  const parsed = parseResourceMetrics(text);
  assert.equal(parsed.length, 4);
  assert.deepEqual(parsed[1], { name: 'container_cpu_usage_seconds_total', labels: { container: 'a\\b\nc', namespace: 'ns', pod: 'q"x' }, value: 0, timestamp: 1_700_000_000_124 });
  assert.deepEqual(parsed[3], { name: 'resource_scrape_error', labels: {}, value: 0 });
});

test('parses other exporters\' spacing, special values and refuses malformed lines', () => {
  const parsed = parseResourceMetrics('a{x="1", y="2",} +Inf\n  b NaN 5\n\n# comment\nc 1e3\n');
  assert.deepEqual(parsed[0], { name: 'a', labels: { x: '1', y: '2' }, value: Infinity });
  assert.ok(Number.isNaN(parsed[1]!.value));
  assert.equal(parsed[1]!.timestamp, 5);
  assert.equal(parsed[2]!.value, 1000);
  assert.throws(() => parseResourceMetrics('novalue'), /without a value/);
  assert.throws(() => parseResourceMetrics('a{x="1} 2'), /unterminated/);
  assert.throws(() => parseResourceMetrics('a{x=1} 2'), /invalid label/);
  assert.throws(() => parseResourceMetrics('a zz'), /invalid sample value/);
});
