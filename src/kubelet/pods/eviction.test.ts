import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { diskUsage, hasLocalStorageLimits, isCriticalPod, localStorageViolation } from './eviction.js';

const Mi = 1024 * 1024;
const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: {
    containers: [
      { name: 'a', resources: { limits: { 'ephemeral-storage': '10Mi' } } },
      { name: 'b', resources: { limits: { 'ephemeral-storage': '20Mi' } } },
    ],
    volumes: [
      { name: 'cache', emptyDir: { sizeLimit: '1Mi' } },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } },
      { name: 'free', emptyDir: {} },
    ],
  },
};

test('emptyDir sizeLimit, pod and container ephemeral-storage limits, with upstream messages and order', () => {
  const usage = (cache: number, containers?: [number, number], free = 0) => ({
    emptyDirs: new Map([
      ['cache', cache],
      ['mem', 0],
      ['free', free],
    ]),
    ...(containers ? { containers: new Map([['a', containers[0]], ['b', containers[1]]]) } : {}),
  });
  assert.equal(localStorageViolation(pod, usage(Mi)), undefined, 'at the limit is fine');
  assert.equal(localStorageViolation(pod, usage(Mi + 4096)), 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ');
  assert.equal(localStorageViolation(pod, usage(0, [11 * Mi, 0])), 'Container a exceeded its local ephemeral storage limit "10Mi". ');
  assert.equal(localStorageViolation(pod, usage(0, [5 * Mi, 5 * Mi], 25 * Mi)), 'Pod ephemeral local storage usage exceeds the total limit of containers 30Mi. ');
  assert.equal(localStorageViolation(pod, usage(0, [9 * Mi, 19 * Mi])), undefined);
  assert.ok(hasLocalStorageLimits(pod));
  assert.ok(!hasLocalStorageLimits({ spec: { containers: [{ name: 'x' }], volumes: [{ name: 'v', emptyDir: {} }] } }));
  assert.ok(isCriticalPod({ spec: { containers: [], priority: 2_000_001_000 } }));
});

test('diskUsage counts allocated blocks, hard links once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-du-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'f'), Buffer.alloc(256 * 1024, 1));
    await link(join(dir, 'sub', 'f'), join(dir, 'g'));
    const n = await diskUsage(dir);
    assert.ok(n >= 256 * 1024 && n < 2 * 256 * 1024, String(n));
    assert.equal(await diskUsage(join(dir, 'missing')), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
