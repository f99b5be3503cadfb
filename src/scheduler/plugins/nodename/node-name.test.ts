import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework/cycle-state.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod, nodeInfos } from '../../testing/builders.js';
import { ERR_REASON_NODE_NAME, NodeName } from './node-name.js';

// Upstream TestNodeName.
for (const c of [
  { name: 'no host specified', nodeName: undefined, fits: true },
  { name: 'host matches', nodeName: 'foo', fits: true },
  { name: 'host doesn\'t match', nodeName: 'bar', fits: false },
]) {
  test(`NodeName: ${c.name}`, () => {
    const [info] = nodeInfos([makeNode('foo')]);
    const s = new NodeName().filter(new CycleState(), makePod({ spec: c.nodeName ? { nodeName: c.nodeName } : {} }), info!);
    if (c.fits) assert.equal(s, undefined);
    else assert.deepEqual([s?.code, s?.reasons], [Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_NAME]]);
  });
}
