import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './log.js';

test('logfmt lines, quoted only when needed, filtered by level', () => {
  const lines: string[] = [];
  const log = createLogger('info', (l) => lines.push(l));
  log.debug('hidden');
  log.info('skiff is ready', { url: 'https://127.0.0.1:6443', note: 'two words', n: 3, missing: undefined });
  log.error('failed', { err: new Error('boom "x"') });
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^time="\d{4}-\d\d-\d\dT[\d:.]+Z" level=info msg="skiff is ready" url=https:\/\/127\.0\.0\.1:6443 note="two words" n=3\n$/);
  assert.match(lines[1], / level=error msg="failed" err="boom \\"x\\""\n$/);
});
