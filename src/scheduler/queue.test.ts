import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/index.js';
import { PrioritySort } from './plugins/queuesort/priority-sort.js';
import { ActionType, EVENTS, QueueingHint, registerFor, type ClusterEvent, type ClusterEventWithHint } from './framework/events.js';
import type { QueuedPodInfo } from './framework/interfaces.js';
import { POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS, SchedulingQueue, type QueueingHintMap } from './queue.js';
import { makePod } from './testing/builders.js';

const sorter = new PrioritySort();
const newQueue = (clock: FakeClock, preEnqueue?: (p: ReturnType<typeof makePod>) => boolean) =>
  new SchedulingQueue((a, b) => sorter.less(a, b), { clock, ...(preEnqueue ? { preEnqueue } : {}) });
const nodeLabelChange: ClusterEvent = { resource: 'Node', actionType: ActionType.UpdateNodeLabel, label: 'NodeLabelChange' };
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
    info.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulable(info);
    assert.deepEqual(q.counts(), { active: 0, backoff: 0, unschedulable: 1, gated: 0 });
    clock.step(60_000);
    assert.equal(q.counts().unschedulable, 1, 'time alone does not requeue an unschedulable pod');
    q.moveAllToActiveOrBackoff(EVENTS.NodeAdd);
    assert.equal(q.counts().active, 1, 'its 1s backoff is long over');
    info = (await q.pop())!;
    assert.equal(info.attempts, 2);
    assert.equal(q.backoffDuration(info), 2000);
    info.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulable(info);
    q.moveAllToActiveOrBackoff(nodeLabelChange);
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
    q.moveAllToActiveOrBackoff(EVENTS.AssignedPodDelete);
    info.unschedulablePlugins = new Set(['NodeResourcesFit']);
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
    const info = (await q.pop())!;
    info.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulable(info);
    assert.equal(q.where(pod), 'unschedulable');
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

/** A queue whose pods' profile registered `hints` (plugin name → registrations). */
function hintedQueue(clock: FakeClock, hints: Record<string, ClusterEventWithHint[]>, opts: { maxInUnschedulableMs?: number } = {}) {
  const map: QueueingHintMap = new Map(Object.entries(hints));
  return new SchedulingQueue((a, b) => sorter.less(a, b), {
    clock,
    hintsFor: () => map,
    ...(opts.maxInUnschedulableMs !== undefined ? { podMaxInUnschedulablePodsDurationMs: opts.maxInUnschedulableMs } : {}),
  });
}

/** Pops `name` and fails it as rejected by `unschedulable` (and left Pending by `pending`). */
async function failWith(q: SchedulingQueue, name: string, unschedulable: string[], pending: string[] = []): Promise<QueuedPodInfo> {
  q.add(makePod({ name }));
  const info = (await q.pop())!;
  assert.equal(info.pod.metadata?.name, name);
  info.unschedulablePlugins = new Set(unschedulable);
  info.pendingPlugins = new Set(pending);
  q.addUnschedulable(info);
  return info;
}

const queueAlways = () => QueueingHint.Queue;
const skipAlways = () => QueueingHint.QueueSkip;
const nodeAdd = EVENTS.NodeAdd;

describe('SchedulingQueue with queueing hints', () => {
  // Upstream's TestIsPodWorthRequeuing cases, observed through where the pod goes.
  const cases: {
    name: string;
    unschedulable: string[];
    pending?: string[];
    hints: Record<string, ClusterEventWithHint[]>;
    event: ClusterEvent;
    /** Where the pod ends up right after the event (its 1 s backoff not yet over). */
    want: 'unschedulable' | 'backoff' | 'active';
  }[] = [
    { name: 'no rejector plugins: retried after backoff', unschedulable: [], hints: {}, event: nodeAdd, want: 'backoff' },
    {
      name: 'a wildcard event moves the pod whatever its plugins registered',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, skipAlways)] },
      event: EVENTS.WildCard,
      want: 'backoff',
    },
    {
      name: 'the rejector registered the event and its hint says Queue',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, queueAlways)] },
      event: nodeAdd,
      want: 'backoff',
    },
    {
      name: 'the rejector registered the event without a hint',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add)] },
      event: nodeAdd,
      want: 'backoff',
    },
    {
      name: 'the hint says QueueSkip',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, skipAlways)] },
      event: nodeAdd,
      want: 'unschedulable',
    },
    {
      name: 'a hint that throws counts as Queue',
      unschedulable: ['fooPlugin1'],
      hints: {
        fooPlugin1: [
          registerFor('Node', ActionType.Add, () => {
            throw new Error('boom');
          }),
        ],
      },
      event: nodeAdd,
      want: 'backoff',
    },
    {
      name: 'only a plugin that did not reject the pod registered the event',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Delete, queueAlways)], fooPlugin2: [registerFor('Node', ActionType.Add, queueAlways)] },
      event: nodeAdd,
      want: 'unschedulable',
    },
    {
      name: 'a node label change does not match a registration for allocatable changes',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add | ActionType.UpdateNodeAllocatable, queueAlways)] },
      event: nodeLabelChange,
      want: 'unschedulable',
    },
    {
      name: 'a registration for Pod covers an assigned pod event',
      unschedulable: ['fooPlugin1'],
      hints: { fooPlugin1: [registerFor('Pod', ActionType.Delete, queueAlways)] },
      event: EVENTS.AssignedPodDelete,
      want: 'backoff',
    },
    {
      name: 'one of two rejectors says Queue',
      unschedulable: ['fooPlugin1', 'fooPlugin2'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, skipAlways)], fooPlugin2: [registerFor('Node', ActionType.Add, queueAlways)] },
      event: nodeAdd,
      want: 'backoff',
    },
    {
      name: 'a Pending plugin saying Queue moves the pod to activeQ at once',
      unschedulable: ['fooPlugin1'],
      pending: ['fooPlugin2'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, queueAlways)], fooPlugin2: [registerFor('Node', ActionType.Add, queueAlways)] },
      event: nodeAdd,
      want: 'active',
    },
    {
      name: 'an Unschedulable plugin says Queue and the Pending one QueueSkip: after backoff',
      unschedulable: ['fooPlugin1'],
      pending: ['fooPlugin2'],
      hints: { fooPlugin1: [registerFor('Node', ActionType.Add, queueAlways)], fooPlugin2: [registerFor('Node', ActionType.Add, skipAlways)] },
      event: nodeAdd,
      want: 'backoff',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const clock = new FakeClock(0);
      const q = hintedQueue(clock, c.hints);
      const info = await failWith(q, 'p', c.unschedulable, c.pending);
      if (c.unschedulable.length || c.pending?.length) assert.equal(q.where(info.pod), 'unschedulable');
      else assert.equal(q.where(info.pod), 'backoff', 'a pod no plugin rejected (an error) retries after backoff');
      q.moveAllToActiveOrBackoff(c.event, undefined, {});
      assert.equal(q.where(info.pod), c.want);
      q.close();
    });
  }

  test('hints see the old and new object and the rejected pod', async () => {
    const clock = new FakeClock(0);
    const seen: unknown[] = [];
    const q = hintedQueue(clock, {
      fooPlugin1: [
        registerFor('Node', ActionType.UpdateNodeLabel, (pod, oldObj, newObj) => {
          seen.push(pod.metadata?.name, oldObj, newObj);
          return QueueingHint.QueueSkip;
        }),
      ],
    });
    await failWith(q, 'p', ['fooPlugin1']);
    q.moveAllToActiveOrBackoff(nodeLabelChange, { old: 1 }, { new: 2 });
    assert.deepEqual(seen, ['p', { old: 1 }, { new: 2 }]);
    q.close();
  });

  test('an event during the cycle counts only when the hint says Queue', async () => {
    const clock = new FakeClock(0);
    const q = hintedQueue(clock, { fooPlugin1: [registerFor('Node', ActionType.Add, (_pod, _o, n) => ((n as { fits?: boolean }).fits ? QueueingHint.Queue : QueueingHint.QueueSkip))] });
    q.add(makePod({ name: 'a' }));
    const a = (await q.pop())!;
    q.moveAllToActiveOrBackoff(nodeAdd, undefined, { fits: false });
    a.unschedulablePlugins = new Set(['fooPlugin1']);
    q.addUnschedulable(a);
    assert.equal(q.where(a.pod), 'unschedulable', 'an unhelpful event during the cycle is not a reason to retry');

    q.update(makePod({ name: 'b' }));
    const b = (await q.pop())!;
    // Another pod pops, lands, and more events come, while b is in flight: b still sees the helpful one.
    q.add(makePod({ name: 'c' }));
    const c = (await q.pop())!;
    q.moveAllToActiveOrBackoff(nodeAdd, undefined, { fits: true });
    q.done(c.pod);
    for (let i = 0; i < 600; i++) q.moveAllToActiveOrBackoff(nodeAdd, undefined, { fits: false });
    b.unschedulablePlugins = new Set(['fooPlugin1']);
    q.addUnschedulable(b);
    assert.equal(q.where(b.pod), 'backoff');
    // The helpful node event also moved a (it was already unschedulable then).
    assert.equal(q.where(a.pod), 'backoff');
    q.close();
  });

  test('the rejected pod\'s own update moves it only when a rejector registered that kind of update', async () => {
    const clock = new FakeClock(0);
    const q = hintedQueue(clock, { TaintToleration: [registerFor('Pod', ActionType.UpdatePodTolerations, queueAlways)] });
    const info = await failWith(q, 'p', ['TaintToleration']);
    const pod = info.pod;
    q.update({ ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } });
    assert.equal(q.where(pod), 'unschedulable', 'a label change is not what TaintToleration waits for');
    assert.deepEqual(q.counts().unschedulable, 1);
    q.update({ ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } }, spec: { ...pod.spec!, tolerations: [{ key: 'k', operator: 'Exists' }] } });
    assert.equal(q.where(pod), 'backoff');
    clock.step(1000);
    const again = (await q.pop())!;
    assert.deepEqual(again.pod.spec?.tolerations, [{ key: 'k', operator: 'Exists' }], 'the newest pod is scheduled');
    assert.equal(again.unschedulablePlugins, undefined, 'a new attempt starts with no rejectors');
    q.close();
  });

  test('pods no event helped are retried after podMaxInUnschedulablePodsDuration (5 min)', async () => {
    const clock = new FakeClock(0);
    const q = hintedQueue(clock, { fooPlugin1: [registerFor('Node', ActionType.Add, skipAlways)] });
    assert.equal(POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS, 300_000);
    const info = await failWith(q, 'p', ['fooPlugin1']);
    q.moveAllToActiveOrBackoff(nodeAdd, undefined, {});
    for (let t = 0; t < 300_000; t += 1000) clock.step(1000);
    assert.equal(q.where(info.pod), 'unschedulable', 'not before 5 minutes');
    for (let t = 0; t < 30_000; t += 1000) clock.step(1000);
    assert.equal(q.where(info.pod), 'active', 'the 30 s leftover flush moved it');
    q.close();
  });

  test('the leftover flush honours a configured duration and leaves younger pods', async () => {
    const clock = new FakeClock(0);
    const q = hintedQueue(clock, { fooPlugin1: [] }, { maxInUnschedulableMs: 10_000 });
    const old = await failWith(q, 'old', ['fooPlugin1']);
    clock.step(9_000);
    const young = await failWith(q, 'young', ['fooPlugin1']);
    clock.step(2_000);
    q.flushUnschedulableLeftover();
    assert.equal(q.where(old.pod), 'active');
    assert.equal(q.where(young.pod), 'unschedulable');
    q.close();
  });
});
