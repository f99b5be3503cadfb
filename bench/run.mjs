// `npm run bench`: runs every benchmark in its own process (so RSS figures are not mixed), prints all figures as
// JSON and as a table, with the API server's create throughput as a ratio of the raw backend's measured in the
// same run. Needs `npm run build` first (the npm script does it) and /usr/bin/etcd for the etcd rows.
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

function run(script, args) {
  const r = spawnSync(process.execPath, [`${root}dist/bench/${script}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed with ${r.status}`);
  const line = r.stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

const results = {};
for (const backend of ['sqlite', 'etcd']) {
  // Raw backend at 100 writers in flight, the same concurrency as the API's c100 phase.
  results[`storage-${backend}`] = run('storage.js', [backend, '5000', '100']);
  results[`api-${backend}`] = run('api.js', [backend]);
  const raw = results[`storage-${backend}`].createsPerSec;
  results[`api-${backend}`].create_c100_ratioToRaw = Math.round((results[`api-${backend}`].create_c100_opsPerSec / raw) * 100) / 100;
}
// Deployment controller at scale on simulated nodes (bench/controllers.ts).
results.controllers = run('controllers.js', []);
// scheduler_perf-style workloads (bench/scheduler.ts), one server each; the 5,000-node / 150,000-pod hold case only
// with SKIFF_BENCH_HOLD=1 (it takes several minutes on 2 cores).
for (const [name, figures] of Object.entries(run('scheduler.js', []))) {
  results[`scheduler ${name}`] = figures;
}
// Real node (bench/kubelet.ts): pod startup latency and the agent's RSS/CPU; needs root and containerd (scripts/setup).
results.kubelet = run('kubelet.js', []);
console.log(JSON.stringify(results, null, 2));

const rows = [];
for (const [suite, figures] of Object.entries(results)) {
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value === 'number') rows.push([suite, name, String(value)]);
  }
}
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log('\n' + line(['suite', 'figure', 'value']));
for (const r of rows) console.log(line(r));
