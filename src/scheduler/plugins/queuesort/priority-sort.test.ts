import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePod } from '../../testing/builders.js';
import { PrioritySort } from './priority-sort.js';

// Upstream TestLess.
const pod = (priority?: number) => makePod({ spec: priority === undefined ? {} : { priority } });
const cases = [
  { name: 'p1.priority less than p2.priority', p1: { pod: pod(100), timestamp: 1 }, p2: { pod: pod(200), timestamp: 1 }, want: false },
  { name: 'p1.priority greater than p2.priority', p1: { pod: pod(200), timestamp: 1 }, p2: { pod: pod(100), timestamp: 1 }, want: true },
  { name: 'equal priority. p1 is added to schedulingQ earlier than p2', p1: { pod: pod(100), timestamp: 1 }, p2: { pod: pod(100), timestamp: 2 }, want: true },
  { name: 'equal priority. p2 is added to schedulingQ earlier than p1', p1: { pod: pod(100), timestamp: 2 }, p2: { pod: pod(100), timestamp: 1 }, want: false },
  { name: 'unset priority counts as 0', p1: { pod: pod(), timestamp: 1 }, p2: { pod: pod(-1), timestamp: 1 }, want: true },
];
for (const c of cases) {
  test(c.name, () => assert.equal(new PrioritySort().less(c.p1, c.p2), c.want));
}
