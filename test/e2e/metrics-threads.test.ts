// The API clients' worker thread (scheduler, controller manager, simulated nodes: upstream's kube-scheduler and
// kube-controller-manager, which serve their own go_*/process_* metrics) reports its own Node.js runtime figures at
// the server's /metrics: the nodejs_* families (heap, GC, event loop, handles; per V8 isolate) hold one sample per
// thread, labelled thread="main" or thread="api-clients"; the process_* families are the process's, once and
// unlabelled. Read with the real kubectl from a server with the worker and one without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './harness.js';

async function metricsOf(mode: 'worker' | 'in-process'): Promise<string[]> {
  const saved = process.env.SKIFF_API_CLIENTS;
  process.env.SKIFF_API_CLIENTS = mode;
  let srv: TestServer | undefined;
  try {
    srv = await startTestServer({ args: ['--simulated-nodes', '1'] });
    const r = await srv.kubectl(['get', '--raw', '/metrics']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n');
  } finally {
    if (saved === undefined) delete process.env.SKIFF_API_CLIENTS;
    else process.env.SKIFF_API_CLIENTS = saved;
    await srv?.stop();
  }
}

const samples = (lines: string[], name: string) => lines.filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

test('with the worker, each nodejs_* family has a sample per thread; process_* once', async () => {
  const lines = await metricsOf('worker');
  const heap = samples(lines, 'nodejs_heap_size_used_bytes');
  assert.equal(heap.length, 2, heap.join('\n'));
  assert.match(heap[0]!, /^nodejs_heap_size_used_bytes\{thread="main"\} \d+/);
  assert.match(heap[1]!, /^nodejs_heap_size_used_bytes\{thread="api-clients"\} \d+/);
  assert.notEqual(heap[0]!.split(' ')[1], heap[1]!.split(' ')[1], 'two isolates, two heaps');
  assert.equal(lines.filter((l) => l.startsWith('# TYPE nodejs_heap_size_used_bytes ')).length, 1, 'one family');
  assert.equal(samples(lines, 'nodejs_eventloop_lag_p99_seconds').length, 2);
  assert.ok(samples(lines, 'nodejs_heap_space_size_used_bytes').some((l) => l.includes('thread="api-clients",space="')));
  assert.equal(samples(lines, 'process_resident_memory_bytes').length, 1);
  assert.match(samples(lines, 'process_resident_memory_bytes')[0]!, /^process_resident_memory_bytes \d+/);
  // The worker's own metrics are there as before (the scheduler runs in it).
  assert.ok(lines.some((l) => l.startsWith('# TYPE scheduler_queue_incoming_pods_total ') || l.startsWith('# TYPE scheduler_pending_pods ')));
});

test('without the worker, the one thread\'s samples are labelled thread="main"', async () => {
  const lines = await metricsOf('in-process');
  const heap = samples(lines, 'nodejs_heap_size_used_bytes');
  assert.equal(heap.length, 1, heap.join('\n'));
  assert.match(heap[0]!, /^nodejs_heap_size_used_bytes\{thread="main"\} \d+/);
});
