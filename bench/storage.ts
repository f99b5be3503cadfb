// Raw storage backend throughput: creates/s and updates/s with the process CPU time per write (CPU survives a loaded
// machine better than wall time), gets/s, time to list 10,000 keys, and the worst write latency while a compaction runs. CLI: `node dist/bench/storage.js sqlite|etcd|memory [n] [concurrency]` prints JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { openEtcdStorage } from '../src/storage/etcd/etcd.js';
import { openMemoryStorage } from '../src/storage/memory/memory.js';
import { openSqliteStorage } from '../src/storage/sqlite/sqlite.js';
import { startEtcd } from '../src/storage/testing/etcd.js';
import type { Storage } from '../src/storage/types.js';

export interface StorageBenchOptions {
  /** Operations per phase. */
  n: number;
  /** Operations in flight at once. */
  concurrency: number;
}

const LIST_SIZE = 10_000;
/** About the size of a small serialized pod. */
const VALUE = JSON.stringify({ kind: 'Pod', apiVersion: 'v1', padding: 'x'.repeat(1000) });

async function inParallel(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return performance.now() - start;
}

const perSecond = (ops: number, ms: number): number => Math.round((ops / ms) * 1000);
/** Process CPU (user + system) per operation in ms, 3 decimals. */
const cpuMsPer = (ops: number, used: NodeJS.CpuUsage): number =>
  Math.round(((used.user + used.system) / 1000 / ops) * 1000) / 1000;

export async function benchStorage(storage: Storage, opts: StorageBenchOptions): Promise<Record<string, number>> {
  const base = `/bench/${Date.now().toString(36)}/`;
  const key = (i: number): string => `${base}items/${String(i).padStart(8, '0')}`;
  const result: Record<string, number> = {};

  let cpu = process.cpuUsage();
  const revisions: number[] = [];
  const createMs = await inParallel(opts.n, opts.concurrency, async (i) => {
    revisions[i] = (await storage.create(key(i), VALUE)).modRevision;
  });
  result.createsPerSec = perSecond(opts.n, createMs);
  result.cpuMsPerCreate = cpuMsPer(opts.n, process.cpuUsage(cpu));

  // Updates of the created keys (the previous value is stored alongside, as for every API update).
  cpu = process.cpuUsage();
  const updateMs = await inParallel(opts.n, opts.concurrency, (i) => storage.update(key(i), VALUE, revisions[i]!));
  result.updatesPerSec = perSecond(opts.n, updateMs);
  result.cpuMsPerUpdate = cpuMsPer(opts.n, process.cpuUsage(cpu));

  const getMs = await inParallel(opts.n, opts.concurrency, (i) => storage.get(key((i * 7919) % opts.n)));
  result.getsPerSec = perSecond(opts.n, getMs);

  if (opts.n < LIST_SIZE) {
    await inParallel(LIST_SIZE - opts.n, opts.concurrency, (i) => storage.create(key(opts.n + i), VALUE));
  }
  const listTimes: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const listed = await storage.list(`${base}items/`, {});
    listTimes.push(performance.now() - start);
    if (listed.items.length < LIST_SIZE) throw new Error(`listed ${listed.items.length} keys, expected ${LIST_SIZE}`);
  }
  result.list10kMs = Math.round(listTimes.sort((a, b) => a - b)[1]! * 10) / 10;

  // History to compact: many revisions of one key; then compact all of it while writes keep coming.
  let kv = await storage.create(`${base}hot`, '0');
  for (let i = 0; i < opts.n; i++) kv = await storage.update(`${base}hot`, String(i), kv.modRevision);
  await storage.create(`${base}marker`, 'x');
  let maxLatency = 0;
  let compacting = true;
  let writes = 0;
  const writer = (async () => {
    while (compacting) {
      const start = performance.now();
      await storage.create(`${base}during/${writes++}`, VALUE);
      maxLatency = Math.max(maxLatency, performance.now() - start);
      // Like requests arriving from the network: let timers and I/O (and compaction batches) run in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const compactStart = performance.now();
  await storage.compact(kv.modRevision);
  result.compactMs = Math.round(performance.now() - compactStart);
  compacting = false;
  await writer;
  result.maxWriteLatencyDuringCompactionMs = Math.round(maxLatency * 10) / 10;
  result.writesDuringCompaction = writes;
  return result;
}

async function main(argv: string[]): Promise<void> {
  const [backend = 'sqlite', nArg = '5000', cArg = '16'] = argv;
  const opts = { n: Number(nArg), concurrency: Number(cArg) };
  if (!Number.isInteger(opts.n) || opts.n <= 0 || !Number.isInteger(opts.concurrency) || opts.concurrency <= 0) {
    throw new Error('usage: storage.js sqlite|etcd|memory [n] [concurrency]');
  }
  const cleanups: Array<() => Promise<void>> = [];
  let storage: Storage;
  if (backend === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    storage = openSqliteStorage({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  } else if (backend === 'etcd') {
    const etcd = await startEtcd();
    cleanups.push(etcd.stop);
    storage = await openEtcdStorage(etcd.endpoint);
  } else if (backend === 'memory') {
    storage = openMemoryStorage();
  } else {
    throw new Error(`unknown backend ${JSON.stringify(backend)}: expected sqlite, etcd or memory`);
  }
  try {
    const result = await benchStorage(storage, opts);
    console.log(JSON.stringify({ backend, ...opts, ...result }));
  } finally {
    await storage.close();
    for (const c of cleanups.reverse()) await c();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
