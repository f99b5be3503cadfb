import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlEnv, runKubectl } from './kubectl.js';

test('KUBECONFIG defaults to the server kubeconfig only when unset and present', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-kubectl-'));
  try {
    const path = join(dir, 'kubeconfig.yaml');
    assert.equal(kubectlEnv({}, path).KUBECONFIG, undefined);
    await writeFile(path, 'apiVersion: v1\n');
    assert.equal(kubectlEnv({}, path).KUBECONFIG, path);
    assert.equal(kubectlEnv({ KUBECONFIG: '/elsewhere' }, path).KUBECONFIG, '/elsewhere');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the exit code of kubectl is passed on; a missing binary is a clear error', async () => {
  assert.equal(await runKubectl(['-c', 'exit 3'], '/bin/sh'), 3);
  await assert.rejects(runKubectl([], '/nonexistent/kubectl'), /kubectl not found at \/nonexistent\/kubectl/);
});
