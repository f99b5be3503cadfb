// Acknowledged writes must survive kill -9 of the process: a child creates keys concurrently and prints each one
// as it is acknowledged; it is SIGKILLed mid-stream; every printed key must be there after reopening.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStorage } from './sqlite.js';

const writerScript = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

test('acknowledged creates survive SIGKILL of the writing process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-crash-'));
  try {
    const db = join(dir, 'state.db');
    const child = spawn(process.execPath, [writerScript, db], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let partial = '';
    const killedAt = 3000 + Math.floor(Math.random() * 2000);
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      acknowledged.push(...lines);
      if (acknowledged.length >= killedAt && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const signal = await exit;
    clearTimeout(timeout);
    assert.equal(signal, 'SIGKILL');
    assert.ok(acknowledged.length >= killedAt, `only ${acknowledged.length} creates acknowledged before the kill`);

    const storage = openSqliteStorage({ path: db });
    try {
      const stored = new Set((await storage.list('/crash/')).items.map((kv) => kv.key));
      const missing = acknowledged.filter((k) => !stored.has(k));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged keys lost`);
      // The log continues where it stopped: new revisions are above everything written before the crash.
      const before = await storage.currentRevision();
      assert.ok(before >= acknowledged.length);
      const after = await storage.create('/crash/after-restart', 'x');
      assert.equal(after.modRevision, before + 1);
    } finally {
      await storage.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
