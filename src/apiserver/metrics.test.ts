import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMemoryStorage } from '../storage/memory/memory.js';
import { Counter } from 'prom-client';
import { addMetricsSource, instrumentStorage, metricsForExport, metricsRegistry, metricsScope, metricsText, metricsVerb, recordRequest, resourceOfKey, watchStarted, watchStopped } from './metrics.js';
import { parseRequestInfo } from './request-info.js';

test('verb and scope labels follow upstream', () => {
  const v = (m: string, u: string) => metricsVerb(parseRequestInfo(m, u));
  assert.deepEqual(
    [v('GET', '/api/v1/pods'), v('GET', '/api/v1/pods?watch=1'), v('GET', '/api/v1/namespaces/a/pods/b'), v('POST', '/api/v1/namespaces/a/pods')],
    ['LIST', 'WATCH', 'GET', 'POST'],
  );
  assert.deepEqual([v('PUT', '/api/v1/nodes/n'), v('DELETE', '/api/v1/namespaces/a/pods'), v('GET', '/healthz')], ['PUT', 'DELETE', 'GET']);
  assert.equal(metricsVerb(parseRequestInfo('PATCH', '/api/v1/nodes/n'), { apply: true }), 'APPLY');
  const s = (m: string, u: string) => metricsScope(parseRequestInfo(m, u));
  assert.deepEqual(
    [s('GET', '/api/v1/namespaces/a/pods/b'), s('POST', '/api/v1/namespaces/a/pods'), s('GET', '/api/v1/namespaces/a/pods'), s('GET', '/api/v1/pods'), s('GET', '/version')],
    ['resource', 'resource', 'namespace', 'cluster', ''],
  );
});

test('storage keys map to qualified resources', () => {
  assert.equal(resourceOfKey('/registry/pods/default/web-0'), 'pods');
  assert.equal(resourceOfKey('/registry/apps/deployments/default/web'), 'deployments.apps');
  assert.equal(resourceOfKey('/registry/autoscaling/horizontalpodautoscalers/default/h'), 'horizontalpodautoscalers.autoscaling');
  assert.equal(resourceOfKey('/registry/example.com/widgets/default/w'), 'widgets.example.com');
});

test('instrumented storage counts operations by resource and passes results through', async () => {
  const storage = instrumentStorage(openMemoryStorage());
  const created = await storage.create('/registry/configmaps/default/c1', '{}');
  assert.equal((await storage.get('/registry/configmaps/default/c1'))?.modRevision, created.modRevision);
  await storage.list('/registry/configmaps/');
  const text = await metricsText();
  assert.match(text, /apiserver_storage_operations_total\{operation="create",resource="configmaps"\} 1/);
  assert.match(text, /apiserver_storage_operations_total\{operation="get",resource="configmaps"\} 1/);
  assert.match(text, /apiserver_storage_operation_duration_seconds_count\{operation="list",resource="configmaps"\} 1/);
  await storage.close();
});

test('requests, watchers and exposition text', async () => {
  recordRequest(parseRequestInfo('GET', '/apis/apps/v1/namespaces/x/deployments/d/scale'), 200, 0.01);
  watchStarted('pods');
  watchStarted('pods');
  watchStopped('pods');
  watchStarted('deployments', 'apps');
  const text = await metricsText();
  assert.match(
    text,
    /apiserver_request_total\{verb="GET",group="apps",version="v1",resource="deployments",subresource="scale",scope="resource",code="200"\} 1/,
  );
  assert.match(text, /apiserver_registered_watchers\{group="",resource="pods"\} 1/);
  assert.match(text, /apiserver_registered_watchers\{group="apps",resource="deployments"\} 1/);
  assert.match(text, /# TYPE apiserver_longrunning_requests gauge/);
});

test('keyed counters and histograms print exactly as prom-client\'s Counter and Histogram', async () => {
  const { Counter, Histogram, Registry } = await import('prom-client');
  const { KeyedMetric, register } = await import('./metrics.js');
  const buckets = [0.005, 0.025, 0.1, 1, 5];
  const promReg = new Registry();
  const pc = new Counter({ name: 'x_total', help: 'h "c"', labelNames: ['verb', 'resource', 'code'], registers: [promReg] });
  const ph = new Histogram({ name: 'x_seconds', help: 'h\\nist', labelNames: ['verb', 'resource'], buckets, registers: [promReg] });
  const keyedReg = new Registry();
  const kc = register(new KeyedMetric('x_total', 'h "c"', 'counter'), keyedReg);
  const kh = register(new KeyedMetric('x_seconds', 'h\\nist', 'histogram', buckets), keyedReg);
  const samples: [string, string, number, number][] = [
    ['GET', 'pods', 200, 0.001],
    ['POST', 'pods', 201, 0.005],
    ['GET', 'pods', 200, 0.0051],
    ['GET', 'a"b\\c\nd', 404, 2],
    ['POST', 'pods', 409, 5],
    ['POST', 'pods', 201, 99],
    ['GET', 'pods', 200, 0],
  ];
  for (const [verb, resource, code, seconds] of samples) {
    pc.inc({ verb, resource, code: String(code) });
    ph.observe({ verb, resource }, seconds);
    kc.inc(`${verb}\0${resource}\0${code}`, () => ({ verb, resource, code: String(code) }));
    kh.observe(`${verb}\0${resource}`, () => ({ verb, resource }), seconds);
  }
  assert.equal(await keyedReg.metrics(), await promReg.metrics());
  assert.deepEqual(await keyedReg.getMetricsAsJSON(), await promReg.getMetricsAsJSON());
  keyedReg.resetMetrics();
  promReg.resetMetrics();
  assert.equal(await keyedReg.metrics(), await promReg.metrics());
});

test('storage key lookup by first segment gives the longest matching prefix, as the full scan', () => {
  for (const [key, want] of [
    ['/registry/pods', 'pods'],
    ['/registry/pods/', 'pods'],
    ['/registry/events/ns/e', 'events'],
    ['/registry/apps/statefulsets/ns/s', 'statefulsets.apps'],
    ['/registry/apps', 'apps'],
    ['/registry/apps/unknownthing/x', 'apps'],
    ['/registry/', ''],
    ['/other/key', ''],
    ['/registry/storage.k8s.io/csinodes/n', 'csinodes.storage.k8s.io'],
  ] as const) assert.equal(resourceOfKey(key), want, key);
});

test("another thread's families replace this registry's families of the same name at /metrics; metricsForExport sends only families with a sample other than zero", async () => {
  new Counter({ name: 'skiff_test_foreign_total', help: 'counted elsewhere', registers: [metricsRegistry] });
  const local = new Counter({ name: 'skiff_test_local_total', help: 'counted here', registers: [metricsRegistry] });
  local.inc(2);
  const exported = await metricsForExport();
  assert.ok(exported.names.includes('skiff_test_local_total'));
  assert.ok(!exported.names.includes('skiff_test_foreign_total'), 'a family with only zero samples is not sent');
  assert.ok(!exported.names.some((n) => n.startsWith('process_') || n.startsWith('nodejs_')), 'process defaults stay with the server thread');
  assert.match(exported.text, /^skiff_test_local_total 2$/m);
  const remove = addMetricsSource(async () => ({ names: ['skiff_test_foreign_total'], text: '# HELP skiff_test_foreign_total counted elsewhere\n# TYPE skiff_test_foreign_total counter\nskiff_test_foreign_total 7\n' }));
  try {
    const text = await metricsText();
    assert.equal(text.split('\n').filter((l) => l.startsWith('# HELP skiff_test_foreign_total')).length, 1);
    assert.match(text, /^skiff_test_foreign_total 7$/m);
    assert.match(text, /^skiff_test_local_total 2$/m);
  } finally {
    remove();
    metricsRegistry.removeSingleMetric('skiff_test_foreign_total');
    metricsRegistry.removeSingleMetric('skiff_test_local_total');
  }
  assert.doesNotMatch(await metricsText(), /skiff_test_foreign_total 7/);
});

test("each thread's Node.js runtime figures at /metrics: one family, samples labelled by thread; process_* only once, unlabelled", async () => {
  const exported = await metricsForExport('api-clients');
  assert.match(exported.threadText ?? '', /^nodejs_heap_size_used_bytes\{thread="api-clients"\} \d/m);
  assert.match(exported.threadText ?? '', /^nodejs_eventloop_lag_p99_seconds\{thread="api-clients"\} /m);
  assert.doesNotMatch(exported.threadText ?? '', /^process_|nodejs_version_info/m, 'the process figures are not the thread\'s');
  // A worker's figures (made distinguishable here by their value).
  const remove = addMetricsSource(async () => ({
    names: [],
    text: '',
    threadText: '# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.\n# TYPE nodejs_heap_size_used_bytes gauge\nnodejs_heap_size_used_bytes{thread="api-clients"} 12345\n',
  }));
  try {
    const text = await metricsText();
    const lines = text.split('\n');
    assert.equal(lines.filter((l) => l.startsWith('# HELP nodejs_heap_size_used_bytes ')).length, 1, 'one family');
    assert.equal(lines.filter((l) => l.startsWith('# TYPE nodejs_heap_size_used_bytes ')).length, 1);
    const samples = lines.filter((l) => l.startsWith('nodejs_heap_size_used_bytes'));
    assert.equal(samples.length, 2, samples.join('\n'));
    assert.match(samples[0]!, /^nodejs_heap_size_used_bytes\{thread="main"\} \d+/);
    assert.equal(samples[1], 'nodejs_heap_size_used_bytes{thread="api-clients"} 12345');
    // The family's lines stay together (HELP, TYPE, samples), as the text format requires.
    const at = lines.findIndex((l) => l.startsWith('# HELP nodejs_heap_size_used_bytes '));
    assert.deepEqual(lines.slice(at + 2, at + 4), samples);
    // Samples with labels of their own (the GC histogram's, once a GC has run) get the thread label first.
    for (const l of lines.filter((x) => x.startsWith('nodejs_gc_duration_seconds'))) assert.match(l, /^nodejs_gc_duration_seconds_\w+\{thread="main",/);
    assert.equal(lines.filter((l) => /^nodejs_\w+ /.test(l) && !l.startsWith('nodejs_version_info')).length, 0, 'no runtime sample without its thread');
    assert.equal(lines.filter((l) => l.startsWith('process_resident_memory_bytes ')).length, 1, 'process figures once, unlabelled');
  } finally {
    remove();
  }
});
