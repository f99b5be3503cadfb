import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLine, parseCriLog, selectLines, streamLog } from './logs.js';

const LOG = [
  '2026-01-01T00:00:01.000000001Z stdout F one',
  '2026-01-01T00:00:02.000000000Z stderr P par',
  '2026-01-01T00:00:02.500000000Z stderr F tial',
  '2026-01-01T00:00:03.000000000Z stdout F ',
  '2026-01-01T00:00:04.000000000Z stdout F four',
].join('\n') + '\n';

test('CRI log lines: partial lines joined, empty lines kept, timestamps as written', () => {
  const lines = parseCriLog(LOG);
  assert.deepEqual(lines.map((l) => l.text), ['one', 'partial', '', 'four']);
  assert.equal(lines[1]?.stream, 'stderr');
  assert.equal(formatLine(lines[0]!, true), '2026-01-01T00:00:01.000000001Z one\n');
  assert.deepEqual(selectLines(lines, { tailLines: 2 }).map((l) => l.text), ['', 'four']);
  assert.deepEqual(selectLines(lines, { tailLines: 0 }), []);
  assert.deepEqual(selectLines(lines, { sinceMs: Date.parse('2026-01-01T00:00:03Z') }).map((l) => l.text), ['', 'four']);
});

test('streamLog: limitBytes, and follow until the container stops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-logs-'));
  try {
    const file = join(dir, '0.log');
    await writeFile(file, LOG);
    let out = '';
    await streamLog(file, { limitBytes: 6 }, { write: (s) => ((out += s), true), closed: () => false }, async () => false);
    assert.equal(out, 'one\npa');

    out = '';
    let running = true;
    let polls = 0;
    await streamLog(
      file,
      { follow: true, tailLines: 1 },
      { write: (s) => ((out += s), true), closed: () => false },
      async () => {
        polls++;
        if (polls === 1) await appendFile(file, '2026-01-01T00:00:05.000000000Z stdout F five\n');
        if (polls === 2) running = false;
        return running;
      },
      1,
    );
    assert.equal(out, 'four\nfive\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
