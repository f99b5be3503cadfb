import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryAvailable } from './signals.js';

const Mi = 1024 * 1024;

function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'skiff-signals-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('memory.available = MemTotal − root cgroup working set (usage − total_inactive_file), not MemAvailable', () => {
  const root = fixture({
    'proc/meminfo': 'MemTotal:       8388608 kB\nMemFree:        1048576 kB\nMemAvailable:   7340032 kB\nInactive(file):  524288 kB\n',
    'sys/fs/cgroup/memory/memory.usage_in_bytes': `${3072 * Mi}\n`,
    'sys/fs/cgroup/memory/memory.stat': `cache 100\ninactive_file 1\ntotal_inactive_file ${1024 * Mi}\n`,
  });
  try {
    // 8 Gi − (3 Gi − 1 Gi) = 6 Gi (MemAvailable would say 7 Gi).
    assert.deepEqual(memoryAvailable(root), { available: 6144 * Mi, capacity: 8192 * Mi });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('memory.available on a cgroup v2 root (no memory controller files): the same formula from /proc/meminfo', () => {
  const root = fixture({ 'proc/meminfo': 'MemTotal:       4194304 kB\nMemFree:        1048576 kB\nMemAvailable:   3670016 kB\nInactive(file):  1048576 kB\n' });
  try {
    // used = 4 Gi − 1 Gi free = 3 Gi; working set = 3 Gi − 1 Gi inactive file = 2 Gi; available = 2 Gi.
    assert.deepEqual(memoryAvailable(root), { available: 2048 * Mi, capacity: 4096 * Mi });
    assert.equal(memoryAvailable(join(root, 'missing')), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
