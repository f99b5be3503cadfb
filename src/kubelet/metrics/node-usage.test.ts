import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nodeBootTime, parseMeminfo, procStatBusyNanoSeconds, readNodeUsage, workingSet } from './node-usage.js';

async function fixture(files: Record<string, string>, fn: (root: string) => void | Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'skiff-node-usage-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const PROC_STAT = 'cpu  1000 50 200 9000 30 5 10 7 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nbtime 1700000000\n';
const MEMINFO = 'MemTotal:       1000 kB\nMemFree:         400 kB\nMemAvailable:    700 kB\nInactive(file):  100 kB\n';

test('cgroup v1 (and hybrid): root cpuacct.usage and memory usage minus total_inactive_file', async () => {
  await fixture(
    {
      'sys/fs/cgroup/cpuacct/cpuacct.usage': '123456789\n',
      'sys/fs/cgroup/memory/memory.usage_in_bytes': '5000\n',
      'sys/fs/cgroup/memory/memory.stat': 'cache 10\ninactive_file 1\ntotal_inactive_file 1200\n',
      'proc/stat': PROC_STAT,
      'proc/meminfo': MEMINFO,
    },
    (root) => {
      assert.deepEqual(readNodeUsage(root, () => 42), { cpuUsageNanoSeconds: 123456789, memoryWorkingSetBytes: 3800, timestamp: 42 });
      assert.equal(nodeBootTime(root), 1_700_000_000_000);
    },
  );
});

test('cgroup v2: root cpu.stat usage_usec; memory from /proc/meminfo by the same formula', async () => {
  await fixture({ 'sys/fs/cgroup/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n', 'proc/stat': PROC_STAT, 'proc/meminfo': MEMINFO }, (root) => {
    const u = readNodeUsage(root, () => 1);
    assert.equal(u.cpuUsageNanoSeconds, 2_500_000);
    assert.equal(u.memoryWorkingSetBytes, (1000 - 400 - 100) * 1024);
  });
});

test('no cgroup files: busy time from /proc/stat (user+nice+system+irq+softirq+steal)', async () => {
  await fixture({ 'proc/stat': PROC_STAT, 'proc/meminfo': MEMINFO }, (root) => {
    assert.equal(readNodeUsage(root).cpuUsageNanoSeconds, ((1000 + 50 + 200 + 5 + 10 + 7) / 100) * 1e9);
  });
  assert.equal(procStatBusyNanoSeconds('nothing'), undefined);
  assert.equal(parseMeminfo(MEMINFO).get('Inactive(file)'), 100 * 1024);
  assert.equal(workingSet(10, 20), 0);
});
