import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runConformance } from './conformance.js';
import { openEtcdStorage } from './etcd/etcd.js';
import { openMemoryStorage } from './memory/memory.js';
import { openSqliteStorage } from './sqlite/sqlite.js';
import { startEtcd, type TestEtcd } from './testing/etcd.js';

runConformance('memory', async () => openMemoryStorage());

const dirs: string[] = [];
runConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  dirs.push(dir);
  // Small batches make the compaction test cross several batch boundaries.
  return openSqliteStorage({ path: join(dir, 'state.db'), compactBatchSize: 2 });
});

let etcd: TestEtcd | undefined;
runConformance('etcd', async () => {
  etcd = await startEtcd();
  return openEtcdStorage(etcd.endpoint);
});

after(async () => {
  await etcd?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
