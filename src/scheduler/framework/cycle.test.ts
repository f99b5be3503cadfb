import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { newInTreeRegistry } from '../plugins/registry.js';
import { makeNode, makePod, nodeInfos } from '../testing/builders.js';
import { CycleState } from './cycle-state.js';
import {
  MAX_PERMIT_TIMEOUT_MS,
  queueSortComparator,
  runBindPlugins,
  runPermitPlugins,
  runPostFilterPlugins,
  runPreBindPlugins,
  runPreEnqueuePlugins,
  runReservePlugins,
  runUnreservePlugins,
} from './cycle.js';
import type { BindPlugin, Plugin, PermitPlugin, PostFilterPlugin, ReservePlugin } from './interfaces.js';
import { buildProfile } from './profile.js';
import { Registry } from './registry.js';
import { FitError, numFeasibleNodesToFind, schedulePod } from './schedule.js';
import { Code, Status } from './status.js';

const profileWith = (...plugins: Plugin[]) =>
  buildProfile({ plugins: { multiPoint: { enabled: plugins.map((p) => ({ name: p.name })) } } }, new Registry(Object.fromEntries(plugins.map((p) => [p.name, () => p]))), { defaults: [] });
const defaults = () => buildProfile({}, newInTreeRegistry(), { ignoreUnknownPlugins: true });

describe('queue extension points', () => {
  test('PreEnqueue reports the gate that holds the pod', () => {
    const s = runPreEnqueuePlugins(defaults(), makePod({ spec: { schedulingGates: [{ name: 'wait' }] } }));
    assert.deepEqual([s.code, s.plugin, s.message()], [Code.UnschedulableAndUnresolvable, 'SchedulingGates', 'waiting for scheduling gates: [wait]']);
    assert.ok(runPreEnqueuePlugins(defaults(), makePod()).isSuccess());
  });
  test('queue order: priority, then age', () => {
    const cmp = queueSortComparator(defaults());
    const q = [
      { pod: makePod({ name: 'low-old', spec: { priority: 1 } }), timestamp: 1 },
      { pod: makePod({ name: 'high-new', spec: { priority: 10 } }), timestamp: 5 },
      { pod: makePod({ name: 'low-new', spec: { priority: 1 } }), timestamp: 3 },
    ].sort(cmp);
    assert.deepEqual(q.map((p) => p.pod.metadata!.name), ['high-new', 'low-old', 'low-new']);
  });
});

describe('PostFilter', () => {
  test("the PostFilter message is appended to the FitError's", () => {
    const preempt: PostFilterPlugin = { name: 'DefaultPreemption', postFilter: () => ({ status: Status.unschedulable('preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod') }) };
    const profile = profileWith(preempt, { name: 'Never', filter: () => Status.unschedulable('nope') } as Plugin);
    let err: FitError | undefined;
    try {
      schedulePod(makePod(), nodeInfos([makeNode('a')]), profile);
    } catch (e) {
      err = e as FitError;
    }
    assert.ok(err instanceof FitError);
    const { status } = runPostFilterPlugins(profile, new CycleState(), makePod(), err);
    assert.equal(status.code, Code.Unschedulable);
    assert.equal(status.plugin, 'DefaultPreemption');
    assert.equal(err.message, '0/1 nodes are available: 1 nope. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });
  test('a nominated node from PostFilter is returned with success', () => {
    const preempt: PostFilterPlugin = { name: 'P', postFilter: () => ({ result: { nominatedNodeName: 'a' }, status: Status.success() }) };
    const fit = new FitError(makePod(), 1, { nodeToStatus: new Map(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' });
    const out = runPostFilterPlugins(profileWith(preempt), new CycleState(), makePod(), fit);
    assert.deepEqual(out.result, { nominatedNodeName: 'a' });
  });
});

describe('binding cycle extension points', () => {
  const log: string[] = [];
  const reserve = (name: string, status?: Status): ReservePlugin => ({
    name,
    reserve: () => (log.push(`reserve ${name}`), status),
    unreserve: () => void log.push(`unreserve ${name}`),
  });

  test('Reserve stops at the first failure; Unreserve runs all in reverse', () => {
    log.length = 0;
    const profile = profileWith(reserve('A'), reserve('B', new Status(Code.Error, ['disk full'])), reserve('C'));
    const s = runReservePlugins(profile, new CycleState(), makePod(), 'n');
    assert.equal(s.message(), 'running Reserve plugin "B": disk full');
    runUnreservePlugins(profile, new CycleState(), makePod(), 'n');
    assert.deepEqual(log, ['reserve A', 'reserve B', 'unreserve C', 'unreserve B', 'unreserve A']);
  });

  test('Permit: Wait is capped at 15 minutes; a rejection wins', () => {
    const wait: PermitPlugin = { name: 'Gang', permit: () => ({ status: new Status(Code.Wait), timeoutMs: 60 * 60 * 1000 }) };
    const out = runPermitPlugins(profileWith(wait), new CycleState(), makePod(), 'n');
    assert.equal(out.status.code, Code.Wait);
    assert.equal(out.waits.get('Gang'), MAX_PERMIT_TIMEOUT_MS);
    const deny: PermitPlugin = { name: 'Deny', permit: () => ({ status: Status.unschedulable('quota') }) };
    const denied = runPermitPlugins(profileWith(wait, deny), new CycleState(), makePod(), 'n');
    assert.deepEqual([denied.status.code, denied.status.plugin], [Code.Unschedulable, 'Deny']);
  });

  test('Bind: Skip passes to the next binder; no binder at all is Skip', async () => {
    const bound: string[] = [];
    const skip: BindPlugin = { name: 'NotMine', bind: () => Status.skip() };
    const binder: BindPlugin = { name: 'DefaultBinder', bind: async (_s, pod: Pod, node) => (bound.push(`${pod.metadata!.name}→${node}`), undefined) };
    assert.ok((await runBindPlugins(profileWith(skip, binder), new CycleState(), makePod({ name: 'p' }), 'n1')).isSuccess());
    assert.deepEqual(bound, ['p→n1']);
    assert.equal((await runBindPlugins(profileWith(skip), new CycleState(), makePod(), 'n1')).code, Code.Skip);
    const broken: BindPlugin = { name: 'Broken', bind: () => new Status(Code.Error, ['conflict']) };
    assert.equal((await runBindPlugins(profileWith(broken), new CycleState(), makePod(), 'n1')).message(), 'running Bind plugin "Broken": conflict');
    assert.ok((await runPreBindPlugins(profileWith(binder), new CycleState(), makePod(), 'n1')).isSuccess());
  });
});

describe('percentageOfNodesToScore', () => {
  test('numFeasibleNodesToFind as upstream', () => {
    assert.equal(numFeasibleNodesToFind(undefined, 10), 10);
    assert.equal(numFeasibleNodesToFind(undefined, 99), 99);
    assert.equal(numFeasibleNodesToFind(undefined, 1000), 420);
    assert.equal(numFeasibleNodesToFind(undefined, 5000), 500);
    assert.equal(numFeasibleNodesToFind(undefined, 6000), 300);
    assert.equal(numFeasibleNodesToFind(1, 1000), 100);
    assert.equal(numFeasibleNodesToFind(50, 1000), 500);
    assert.equal(numFeasibleNodesToFind(100, 300), 300);
  });
  test('filtering stops after enough feasible nodes and the next cycle starts where this one stopped', () => {
    const infos = nodeInfos(Array.from({ length: 200 }, (_, i) => makeNode(`n${i}`, { pods: '10' })));
    const profile = buildProfile({ percentageOfNodesToScore: 10 }, newInTreeRegistry(), { ignoreUnknownPlugins: true });
    const first = schedulePod(makePod(), infos, profile, { random: () => 0 });
    assert.deepEqual([first.evaluatedNodes, first.feasibleNodes, first.nextStartIndex], [100, 100, 100]);
    const second = schedulePod(makePod(), infos, profile, { startIndex: first.nextStartIndex });
    assert.equal(second.nextStartIndex, 0);
    assert.ok(Number(second.suggestedHost.slice(1)) >= 100);
  });
});
