import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { signalIfRunning } from './killall.js';

test('a process that exited before its signal does not stop the clean-up (process.kill throws ESRCH)', async () => {
  const gone = spawnSync('/bin/true');
  assert.equal(gone.status, 0);
  assert.equal(signalIfRunning(gone.pid, 'SIGKILL'), false);
  const live = spawn('/bin/sleep', ['30']);
  const exited = once(live, 'exit');
  assert.equal(signalIfRunning(live.pid!, 'SIGTERM'), true);
  assert.deepEqual(await exited, [null, 'SIGTERM']);
});
