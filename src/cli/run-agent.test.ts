import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { AGENT_V8_FLAGS } from './run-agent.js';

test('the agent V8 flags take effect when set at run time: the young generation stays at its initial size', () => {
  // Allocation churn that grows new space to its 32 MiB maximum with V8's defaults.
  const script = `
    const v8 = require('node:v8');
    for (const f of JSON.parse(process.argv[1])) v8.setFlagsFromString(f);
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.space_size));`;
  const newSpace = (flags: string[]) => Number(execFileSync(process.execPath, ['-e', script, JSON.stringify(flags)], { encoding: 'utf8' }));
  const tuned = newSpace(AGENT_V8_FLAGS);
  assert.ok(tuned <= 4 * 1024 * 1024, `new space ${tuned} bytes with ${AGENT_V8_FLAGS.join(' ')}`);
  assert.ok(newSpace([]) > tuned, 'the default grows it');
});
