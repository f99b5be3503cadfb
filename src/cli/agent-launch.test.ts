import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_BUNDLE, AGENT_NODE_FLAGS, AGENT_TIER_FLAGS, runsKubelet, startMemoryGC } from './agent-launch.js';

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

/** Heap bytes a big function's bytecode still holds after it ran once and V8 then ran major GCs of its own. */
function bytecodeKept(flags: readonly string[]): number {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const v8 = require('node:v8');
       for (const f of ${JSON.stringify(flags)}) v8.setFlagsFromString(f);
       v8.setFlagsFromString('--expose-gc');
       const gc = require('node:vm').runInNewContext('gc');
       let body = '';
       for (let i = 0; i < 40000; i++) body += 'x = (x * 31 + ' + i + ') % 1000003;\\n';
       (0, eval)('globalThis.big = function big() { let x = 0;\\n' + body + 'return x; }');
       body = undefined;
       const used = () => v8.getHeapStatistics().used_heap_size;
       // Large arrays fill the old generation: V8's own major GCs (gc() keeps code ages unchanged).
       function churn() { for (let i = 0; i < 40; i++) { const a = new Array(5e5).fill(i); } }
       churn(); gc();
       const before = used();
       big(); churn(); gc();
       process.stdout.write(String(used() - before));`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.stderr, '');
  return Number(r.stdout);
}

test('with the tier flags, the bytecode of code that ran once is dropped at the next major GCs', () => {
  // The function's bytecode and metadata are ~1.3 MB; the rest of the heap differs by up to ~0.2 MB between runs.
  const withDefaults = bytecodeKept([]);
  const withTierFlags = bytecodeKept(AGENT_TIER_FLAGS);
  assert.ok(withDefaults - withTierFlags > 500_000, `bytecode kept: ${withTierFlags} bytes with the tier flags, ${withDefaults} with V8's defaults`);
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
  const g = startMemoryGC({ checkMs: 3_600_000, thresholdBytes: 500, arrayBuffers: () => ab, heapUsed: () => 0, gc: () => ((ab = 300), gcs++) });
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
    const live = startMemoryGC({ checkMs: 3_600_000, thresholdBytes: 500, arrayBuffers: () => 10_000, heapUsed: () => 0, gc: () => gcs++ });
    live.check();
    live.check();
    live.stop();
    assert.equal(gcs, 2);
  } finally {
    g.stop();
  }
});

test('a full GC runs when the JS heap in use grew by its threshold over what the last full GC left', () => {
  let heap = 10_000;
  let gcs = 0;
  const g = startMemoryGC({ checkMs: 3_600_000, arrayBuffers: () => 0, heapThresholdBytes: 2000, heapUsed: () => heap, gc: () => ((heap = 9_000), gcs++) });
  try {
    heap = 11_999;
    g.check();
    assert.equal(gcs, 0, 'grew by 1999 < 2000');
    heap = 12_000;
    g.check();
    assert.equal(gcs, 1, 'grew by 2000');
    // The base is what the GC left (9000), and follows V8's own GCs down.
    heap = 10_500;
    g.check();
    heap = 8_000;
    g.check();
    heap = 9_999;
    g.check();
    assert.equal(gcs, 1);
    heap = 10_000;
    g.check();
    assert.equal(gcs, 2, '2000 over the lowest seen');
  } finally {
    g.stop();
  }
});

test('with its defaults, the heap trigger collects the garbage a real V8 heap accumulated', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(new URL('./agent-launch.js', import.meta.url).href)});
       const g = m.startMemoryGC({ checkMs: 3_600_000 });
       let keep = [];
       for (let i = 0; i < 300_000; i++) keep.push({ i, s: 'garbage ' + i });
       keep = [];
       g.check();
       g.stop();
       process.stdout.write(String(g.collections));`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '1', 'about 15 MB of garbage over the heap the check started from');
});

test('the V8 gc the agent exposes at run time is callable', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(new URL('./agent-launch.js', import.meta.url).href)}); const g = m.startMemoryGC({ thresholdBytes: 0 }); g.check(); g.stop(); process.stdout.write(String(g.collections));`], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '1');
});

/** The environment of a child without the variables bin/skiff reads. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of ['SKIFF_AGENT_NO_NODE_FLAGS', 'SKIFF_AGENT_DEFAULT_HEAP']) if (!(k in extra)) delete env[k];
  return env;
}

test('bin/skiff runs as JavaScript under node and as an executed script', () => {
  for (const [file, args] of [
    [process.execPath, [SKIFF, 'agent', '--help']],
    [SKIFF, ['agent', '--help']],
  ] as const) {
    assert.match(execFileSync(file, args, { encoding: 'utf8', env: cleanEnv() }), /Run a node agent that joins a skiff server/);
  }
  assert.match(execFileSync(SKIFF, ['--help'], { encoding: 'utf8', env: cleanEnv() }), /Usage: skiff/);
  // The flags are ones this node accepts, quietly (an unknown one makes node exit; --jitless alone warns).
  const r = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', 'process.stdout.write(typeof WebAssembly)'], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'undefined');
});

test('bin/skiff executed gives node the agent flags exactly when runsKubelet says so', () => {
  // A `node` first on PATH that prints what bin/skiff's sh part handed it.
  const dir = mkdtempSync(join(tmpdir(), 'skiff-launch-'));
  try {
    writeFileSync(join(dir, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(dir, 'node'), 0o755);
    const run = (args: string[], extra: Record<string, string> = {}) =>
      execFileSync(SKIFF, args, { encoding: 'utf8', env: cleanEnv({ PATH: `${dir}:${process.env.PATH ?? ''}`, ...extra }) }).trimEnd().split('\n');
    const withFlags = (args: string[]) => [...AGENT_NODE_FLAGS, SKIFF, ...args];
    const plain = (args: string[]) => [SKIFF, ...args];
    const cases = [
      ['agent', '--server', 'https://127.0.0.1:6443', '--token', 'a b'],
      ['agent', '--simulated-nodes', '0'],
      ['agent', '--simulated-nodes=0'],
      ['agent', '--simulated-nodes', '3'],
      ['agent', '--node-name', 'n', '--simulated-nodes=20'],
      ['agent', '--simulated-nodes'],
      ['server', '--data-dir', '/tmp/x'],
      ['kubectl', 'agent'],
    ];
    for (const args of cases) {
      const kubelet = args[0] === 'agent' && runsKubelet(args.slice(1));
      assert.deepEqual(run(args), kubelet ? withFlags(args) : plain(args), args.join(' '));
    }
    assert.equal(cases.filter((a) => a[0] === 'agent' && runsKubelet(a.slice(1))).length, 4);
    // The A/B switches.
    const agent = ['agent', '--server', 'https://127.0.0.1:6443'];
    assert.deepEqual(run(agent, { SKIFF_AGENT_NO_NODE_FLAGS: '1' }), plain(agent));
    assert.deepEqual(run(agent, { SKIFF_AGENT_DEFAULT_HEAP: '1' }), plain(agent));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an executed `skiff agent` is the node process itself, running with the flags', async () => {
  // A server that accepts and never answers: the agent waits for the cluster CA and stays up to be looked at.
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'skiff-launch-agent-'));
  const child = spawn(SKIFF, ['agent', '--server', `https://127.0.0.1:${port}`, '--token', 'launch-test', '--data-dir', dir, '--node-name', 'launch-test'], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    // The sh part exec's node in the same process: the child's pid becomes node (its command name changes from the
    // script's to node's).
    let cmdline: string[] = [];
    for (;;) {
      assert.equal(child.exitCode, null, `skiff agent exited: ${stderr}`);
      let comm = '';
      try {
        comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8');
        cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      } catch {
        assert.fail(`skiff agent exited: ${stderr}`);
      }
      // (An exited, not yet reaped process has an empty cmdline: the next turn reports its exit.)
      if (comm.startsWith('node') && cmdline.length > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(cmdline.slice(1, 1 + AGENT_NODE_FLAGS.length), AGENT_NODE_FLAGS);
    assert.deepEqual(cmdline.slice(1 + AGENT_NODE_FLAGS.length, 3 + AGENT_NODE_FLAGS.length), [SKIFF, 'agent']);
  } finally {
    child.kill('SIGKILL');
    await exited;
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
