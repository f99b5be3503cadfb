import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_BUNDLE, AGENT_TIER_FLAGS, runsKubelet } from './agent-launch.js';

const SKIFF = fileURLToPath(new URL('../../../bin/skiff', import.meta.url));

test('the containerd agent gets the bundle and the tier flags; simulated nodes keep the full CLI', () => {
  assert.equal(runsKubelet(['--server', 'https://127.0.0.1:6443', '--token', 't']), true);
  assert.equal(runsKubelet(['--simulated-nodes', '0']), true);
  assert.equal(runsKubelet(['--simulated-nodes=0']), true);
  assert.equal(runsKubelet(['--simulated-nodes', '3']), false);
  assert.equal(runsKubelet(['--node-name', 'n', '--simulated-nodes=20']), false);
});

test('V8 knows every tier flag (an unknown one is reported on stderr and ignored)', () => {
  const r = spawnSync(process.execPath, ['-e', `for (const f of ${JSON.stringify(AGENT_TIER_FLAGS)}) require('node:v8').setFlagsFromString(f); [1, 2, 3].map((x) => x * 2);`], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});

test('the agent bundle is built, runs `skiff agent`, and holds no server code', () => {
  assert.ok(existsSync(AGENT_BUNDLE), `${AGENT_BUNDLE} missing: esbuild (a dev dependency) did not run in scripts/build.mjs`);
  const help = execFileSync(process.execPath, [SKIFF, 'agent', '--help'], { encoding: 'utf8' });
  assert.match(help, /Run a node agent that joins a skiff server/);
  assert.match(help, /--container-runtime-endpoint/);
  const source = readFileSync(AGENT_BUNDLE, 'utf8');
  assert.ok(source.includes('Run a node agent that joins a skiff server'));
  // ASCII only: one other character makes V8 keep the whole source as a two-byte string, twice the memory.
  assert.equal(source.search(/[^\x00-\x7f]/), -1, 'the bundle holds a non-ASCII character');
  // The API server's storage and the controllers are not part of the agent.
  assert.ok(!source.includes('better-sqlite3'), 'the bundle holds the storage backend');
  assert.ok(!source.includes('controller manager became leader'), 'the bundle holds the controller manager');
});
