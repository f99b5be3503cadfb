import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCommit, versionInfo } from './version.js';

test('gitCommit reads loose refs, packed refs and detached heads, and is empty outside a checkout', async () => {
  const root = await mkdtemp(join(tmpdir(), 'skiff-version-'));
  try {
    assert.equal(gitCommit(root), '');
    await mkdir(join(root, '.git/refs/heads'), { recursive: true });
    await writeFile(join(root, '.git/HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(root, '.git/packed-refs'), '# pack-refs with: peeled\nabc123 refs/heads/other\ndef456 refs/heads/main\n');
    assert.equal(gitCommit(root), 'def456');
    await writeFile(join(root, '.git/refs/heads/main'), '0123abcd\n');
    assert.equal(gitCommit(root), '0123abcd');
    await writeFile(join(root, '.git/HEAD'), 'feedbeef\n');
    assert.equal(gitCommit(root), 'feedbeef');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('versionInfo has every field kubectl reads, in upstream form', async () => {
  const v = await versionInfo();
  assert.deepEqual(Object.keys(v), ['major', 'minor', 'gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform']);
  assert.equal(`${v.major}.${v.minor}`, '1.31');
  assert.match(v.buildDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(v.platform, /^[a-z]+\/[a-z0-9]+$/);
  assert.ok(['clean', 'dirty', 'archive'].includes(v.gitTreeState));
});
