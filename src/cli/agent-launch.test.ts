import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_BUNDLE, AGENT_TIER_FLAGS, runsKubelet, startExternalMemoryGC } from './agent-launch.js';

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

test('a full GC runs when the ArrayBuffers grew by the threshold over what the last full GC left', () => {
  let ab = 1000;
  let gcs = 0;
  const g = startExternalMemoryGC({ checkMs: 3_600_000, thresholdBytes: 500, arrayBuffers: () => ab, gc: () => ((ab = 300), gcs++) });
  try {
    ab = 1400;
    g.check();
    assert.equal(gcs, 0, 'grew by 400 < 500');
    ab = 1500;
    g.check();
    assert.equal(gcs, 1, 'grew by 500');
    assert.equal(g.collections, 1);
    // The base is now what the GC left (300): 700 is not yet 500 more.
    ab = 700;
    g.check();
    assert.equal(gcs, 1);
    // A GC of V8's own lowers the figure: the base follows it down.
    ab = 100;
    g.check();
    ab = 650;
    g.check();
    assert.equal(gcs, 2, '550 over the lowest seen');
    // Live buffers that stay large do not make a GC every check.
    const live = startExternalMemoryGC({ checkMs: 3_600_000, thresholdBytes: 500, arrayBuffers: () => 10_000, gc: () => gcs++ });
    live.check();
    live.check();
    live.stop();
    assert.equal(gcs, 2);
  } finally {
    g.stop();
  }
});

test('the V8 gc the agent exposes at run time is callable', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(new URL('./agent-launch.js', import.meta.url).href)}); const g = m.startExternalMemoryGC({ thresholdBytes: 0 }); g.check(); g.stop(); process.stdout.write(String(g.collections));`], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '1');
});
