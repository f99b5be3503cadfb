import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/index.js';
import { PrioritySort } from './plugins/queuesort/priority-sort.js';
import { SchedulingQueue } from './queue.js';
import { makePod } from './testing/builders.js';

const sorter = new PrioritySort();
const newQueue = (clock: FakeClock, preEnqueue?: (p: ReturnType<typeof makePod>) => boolean) =>
  new SchedulingQueue((a, b) => sorter.less(a, b), { clock, ...(preEnqueue ? { preEnqueue } : {}) });
const withPriority = (name: string, priority: number) => makePod({ name, spec: { priority } });

describe('SchedulingQueue', () => {
  test('pops by priority, then in arrival order', async () => {
    const clock = new FakeClock(1000);
    const q = newQueue(clock);
    q.add(withPriority('low', 1));
    clock.step(1);
    q.add(withPriority('high', 10));
    clock.step(1);
    q.add(withPriority('low2', 1));
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await q.pop())!.pod.metadata!.name);
    assert.deepEqual(order, ['high', 'low', 'low2']);
    q.close();
  });

  test('activeQ keeps priority and arrival order through many adds, deletes and priority updates', async () => {
    const clock = new FakeClock(1000);
    const q = newQueue(clock);
    // Same timestamp for all: arrival order alone breaks ties.
    for (let i = 0; i < 300; i++) q.add(withPriority(`p-${i}`, i % 3));
    for (let i = 0; i < 300; i += 5) q.delete(withPriority(`p-${i}`, i % 3));
    // p-1 (priority 1) jumps to the front; p-2 (priority 2) drops to the back of priority 0.
    q.update(withPriority('p-1', 100));
    q.update(withPriority('p-2', 0));
    assert.equal(q.counts().active, 240);
    const popped: string[] = [];
    for (let i = 0; i < 240; i++) popped.push((await q.pop())!.pod.metadata!.name!);
    const expected = ['p-1'];
    for (const prio of [2, 1, 0]) {
      for (let i = 0; i < 300; i++) {
        if (i % 5 === 0 || i === 1) continue;
        const effective = i === 2 ? 0 : i % 3;
        if (effective === prio) expected.push(`p-${i}`);
      }
    }
    assert.deepEqual(popped, expected);
    assert.equal(q.counts().active, 0);
    q.close();
  });

  test('pop waits for a pod and close releases waiters', async () => {
    const q = newQueue(new FakeClock());
    const waiting = q.pop();
    q.add(makePod({ name: 'a' }));
    assert.equal((await waiting)?.pod.metadata?.name, 'a');
    const last = q.pop();
    q.close();
    assert.equal(await last, undefined);
  });

  test('unschedulable pods wait for a helpful event, then back off 1s, 2s, ... capped at 10s', async () => {
    const clock = new FakeClock(0);
    const q = newQueue(clock);
    q.add(makePod({ name: 'p' }));
    let info = (await q.pop())!;
    q.addUnschedulable(info);
    assert.deepEqual(q.counts(), { active: 0, backoff: 0, unschedulable: 1, gated: 0 });
    clock.step(60_000);
    assert.equal(q.counts().unschedulable, 1, 'time alone does not requeue an unschedulable pod');
    q.moveAllToActiveOrBackoff('NodeAdd');
    assert.equal(q.counts().active, 1, 'its 1s backoff is long over');
    info = (await q.pop())!;
    assert.equal(info.attempts, 2);
    assert.equal(q.backoffDuration(info), 2000);
    q.addUnschedulable(info);
    q.moveAllToActiveOrBackoff('NodeUpdate');
    // The event comes right after the failure: the pod still has its 2s backoff to wait out.
    assert.deepEqual(q.counts(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
    clock.step(1000);
    assert.equal(q.counts().backoff, 1);
    clock.step(1000);
    assert.equal(q.counts().active, 1, 'flushed once 2s passed');
    info.attempts = 10;
    assert.equal(q.backoffDuration(info), 10_000);
    q.close();
  });

  test('an event during the scheduling cycle sends the failed pod to backoff, not unschedulable', async () => {
    const clock = new FakeClock(0);
    const q = newQueue(clock);
    q.add(makePod({ name: 'p' }));
    const info = (await q.pop())!;
    q.moveAllToActiveOrBackoff('AssignedPodDelete');
    q.addUnschedulable(info);
    assert.deepEqual(q.counts(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
    clock.step(1000);
    assert.equal(q.counts().active, 1);
    q.close();
  });

  test('update of an unschedulable pod retries it; delete drops it everywhere', async () => {
    const clock = new FakeClock(0);
    const q = newQueue(clock);
    const pod = makePod({ name: 'p' });
    q.add(pod);
    q.addUnschedulable((await q.pop())!);
    clock.step(5000);
    q.update({ ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } });
    assert.equal(q.counts().active, 1);
    q.delete(pod);
    assert.deepEqual(q.counts(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 });
    q.close();
  });

  test('PreEnqueue keeps gated pods out until an update lets them in', async () => {
    const q = newQueue(new FakeClock(), (p) => !(p.spec?.schedulingGates?.length));
    const gated = makePod({ name: 'g', spec: { schedulingGates: [{ name: 'x' }] } });
    q.add(gated);
    assert.deepEqual(q.counts(), { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
    q.update({ ...gated, spec: { ...gated.spec!, schedulingGates: [] } });
    assert.equal((await q.pop())?.pod.metadata?.name, 'g');
    q.close();
  });

  test('keeps the nominator: pods nominated in their status are added with the pod and leave with it', () => {
    const q = newQueue(new FakeClock());
    const pod = { ...withPriority('p', 5), status: { nominatedNodeName: 'node-a' } };
    q.add(pod);
    assert.deepEqual(q.nominator.podsForNode('node-a').map((p) => p.metadata?.name), ['p']);
    q.delete(pod);
    assert.deepEqual(q.nominator.podsForNode('node-a'), []);
    q.close();
  });
});
