// Pod start-up tracing for benchmarks: with SKIFF_POD_TRACE=FILE the agent appends one JSON line per point of a pod's
// path (informer event, sync start/end, sandbox, image, create, start, status write; `t` in ms since the epoch),
// flushed every 0.5 s and at exit. bench/kubelet.ts's SKIFF_BENCH_TIMELINE gives the other end (create, Running).
// Without the variable every call returns at once.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.SKIFF_POD_TRACE;
let buf: string[] = [];
if (file) {
  const flush = () => {
    if (buf.length) appendFileSync(file, buf.join(''));
    buf = [];
  };
  setInterval(flush, 500).unref();
  process.on('exit', flush);
}

export function trace(uid: string, what: string, extra?: Record<string, unknown>): void {
  if (!file) return;
  buf.push(JSON.stringify({ t: performance.timeOrigin + performance.now(), uid, what, ...extra }) + '\n');
}
