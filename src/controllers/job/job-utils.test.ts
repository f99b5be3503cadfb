// Pure parts of the Job controller, with upstream's table cases: compressed index intervals, pod failure policy
// matching, success policy, pod-failure backoff and the choice of pending indexes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { BackoffStore, getFinishedTime, remainingTimeForFailures, remainingTimePerIndex } from './backoff.js';
import { OrderedIntervals, podGenerateNameWithIndex, getCompletionIndex } from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';
import { matchSuccessPolicy } from './success-policy.js';
import { activePodsForRemoval, ensureJobConditionStatus, firstPendingIndexes, isPodFailed, pastBackoffLimitOnFailure } from './job-controller.js';

const iv = (...pairs: [number, number][]) => new OrderedIntervals(pairs.map(([first, last]) => ({ first, last })));

describe('ordered intervals', () => {
  test('parse (upstream TestParseIndexesFromString)', () => {
    const cases: [string, number, [number, number][]][] = [
      ['', 0, []],
      ['1', 3, [[1, 1]]],
      ['1,3-5,7-9', 10, [[1, 1], [3, 5], [7, 9]]],
      ['1,3-5,7-9', 8, [[1, 1], [3, 5], [7, 7]]],
      ['1,3-5,7-9', 5, [[1, 1], [3, 4]]],
      ['1,3-5,7-9', 3, [[1, 1]]],
      ['1-2,3,5,6-7', 10, [[1, 3], [5, 7]]],
      ['-1,1,2,3-', 5, [[1, 2]]],
      ['1,a,3', 5, [[1, 1], [3, 3]]],
    ];
    for (const [text, completions, want] of cases) {
      assert.deepEqual(OrderedIntervals.parse(text, completions).intervals, iv(...want).intervals, `${text} (${completions})`);
    }
  });

  test('withOrderedIndexes and toString (upstream TestCalculateSucceededIndexes strings)', () => {
    assert.equal(new OrderedIntervals().withOrderedIndexes([]).toString(), '');
    assert.equal(new OrderedIntervals().withOrderedIndexes([1]).toString(), '1');
    assert.equal(new OrderedIntervals().withOrderedIndexes([1, 2]).toString(), '1,2');
    assert.equal(new OrderedIntervals().withOrderedIndexes([0, 1, 2, 4, 5, 10]).toString(), '0-2,4,5,10');
    assert.equal(OrderedIntervals.parse('1-3,9', 100).withOrderedIndexes([0, 4, 5, 7]).toString(), '0-5,7,9');
    assert.equal(OrderedIntervals.parse('3-5', 100).withOrderedIndexes([4, 6]).toString(), '3-6');
  });

  test('merge, has and total', () => {
    const a = iv([0, 2], [6, 8]);
    const b = iv([3, 4], [10, 10]);
    const m = a.merge(b);
    assert.equal(m.toString(), '0-4,6-8,10');
    assert.equal(m.total(), 9);
    for (const [ix, want] of [[0, true], [4, true], [5, false], [8, true], [9, false], [10, true], [11, false]] as const) {
      assert.equal(m.has(ix), want, `has(${ix})`);
    }
  });

  test('generateName with the index, cut to 58 characters', () => {
    assert.equal(podGenerateNameWithIndex('pi', 3), 'pi-3-');
    const long = 'x'.repeat(70);
    const name = podGenerateNameWithIndex(long, 12);
    assert.equal(name.length, 58);
    assert.ok(name.endsWith('-12-'));
    assert.equal(getCompletionIndex({ 'batch.kubernetes.io/job-completion-index': '7' }), 7);
    assert.equal(getCompletionIndex({ 'batch.kubernetes.io/job-completion-index': '-1' }), -1);
    assert.equal(getCompletionIndex({ 'batch.kubernetes.io/job-completion-index': 'a' }), -1);
  });
});

function failedPod(opts: { exitCodes?: [string, number][]; initExitCodes?: [string, number][]; conditions?: [string, string][]; running?: string[] }): Pod {
  return {
    metadata: { namespace: 'default', name: 'mypod' },
    status: {
      phase: 'Failed',
      containerStatuses: [
        ...(opts.exitCodes ?? []).map(([name, exitCode]) => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } })),
        ...(opts.running ?? []).map((name) => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { running: {} } })),
      ],
      initContainerStatuses: (opts.initExitCodes ?? []).map(([name, exitCode]) => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } })),
      conditions: (opts.conditions ?? []).map(([type, status]) => ({ type, status })),
    },
  };
}

describe('pod failure policy (upstream TestMatchPodFailurePolicy)', () => {
  const onExit = (action: string, operator: 'In' | 'NotIn', values: number[], containerName?: string): PodFailurePolicy => ({
    rules: [{ action, onExitCodes: { operator, values, ...(containerName ? { containerName } : {}) } }],
  });

  test('ignore rule on exit codes does not count the failure', () => {
    const m = matchPodFailurePolicy(onExit('Ignore', 'In', [1, 2, 3]), failedPod({ exitCodes: [['main', 2]] }));
    assert.deepEqual(m, { countFailed: false, action: 'Ignore' });
  });

  test('FailJob on exit codes names the container, pod, code, action and rule index', () => {
    const policy: PodFailurePolicy = {
      rules: [
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [10] } },
        { action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 2, 3] } },
      ],
    };
    const m = matchPodFailurePolicy(policy, failedPod({ exitCodes: [['main-container', 2]] }));
    assert.equal(m.action, 'FailJob');
    assert.equal(m.countFailed, true);
    assert.equal(m.failJobMessage, 'Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 1');
  });

  test('NotIn matches other codes but never 0; containerName restricts', () => {
    assert.equal(matchPodFailurePolicy(onExit('FailJob', 'NotIn', [1, 2, 3]), failedPod({ exitCodes: [['main', 42]] })).action, 'FailJob');
    assert.equal(matchPodFailurePolicy(onExit('FailJob', 'NotIn', [1, 2, 3]), failedPod({ exitCodes: [['main', 2]] })).action, undefined);
    assert.equal(matchPodFailurePolicy(onExit('FailJob', 'NotIn', [1, 2, 3]), failedPod({ exitCodes: [['main', 0]] })).action, undefined);
    assert.equal(matchPodFailurePolicy(onExit('FailJob', 'In', [5], 'other'), failedPod({ exitCodes: [['main', 5]] })).action, undefined);
    assert.equal(matchPodFailurePolicy(onExit('FailJob', 'In', [5], 'main'), failedPod({ exitCodes: [['main', 5]] })).action, 'FailJob');
  });

  test('init containers are matched after the regular ones; running containers are skipped', () => {
    assert.equal(matchPodFailurePolicy(onExit('Count', 'In', [7]), failedPod({ initExitCodes: [['init', 7]] })).action, 'Count');
    assert.equal(matchPodFailurePolicy(onExit('Count', 'In', [7]), failedPod({ running: ['main'] })).action, undefined);
  });

  test('no matching rule counts the failure; no policy counts it', () => {
    assert.deepEqual(matchPodFailurePolicy(onExit('Ignore', 'In', [1]), failedPod({ exitCodes: [['main', 2]] })), { countFailed: true });
    assert.deepEqual(matchPodFailurePolicy(undefined, failedPod({ exitCodes: [['main', 2]] })), { countFailed: true });
  });

  test('pod conditions: Ignore DisruptionTarget, FailJob message names the condition', () => {
    const policy: PodFailurePolicy = {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onPodConditions: [{ type: 'ConfigIssue', status: 'True' }] },
      ],
    };
    assert.deepEqual(matchPodFailurePolicy(policy, failedPod({ conditions: [['DisruptionTarget', 'True']] })), { countFailed: false, action: 'Ignore' });
    assert.equal(matchPodFailurePolicy(policy, failedPod({ conditions: [['DisruptionTarget', 'False']] })).action, undefined);
    assert.equal(
      matchPodFailurePolicy(policy, failedPod({ conditions: [['ConfigIssue', 'True']] })).failJobMessage,
      'Pod default/mypod has condition ConfigIssue matching FailJob rule at index 1',
    );
  });

  test('FailIndex counts the failure and names the action', () => {
    assert.deepEqual(matchPodFailurePolicy(onExit('FailIndex', 'In', [3]), failedPod({ exitCodes: [['main', 3]] })), { countFailed: true, action: 'FailIndex' });
  });
});

describe('success policy (upstream TestMatchSuccessPolicy)', () => {
  test('succeededIndexes must all succeed unless succeededCount is reached', () => {
    const succeeded = OrderedIntervals.parse('0-2,4,6-8', 10);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-2,4' }] }, 10, succeeded), 'Matched rules at index 0');
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '3-5' }] }, 10, succeeded), undefined);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '3-5', succeededCount: 1 }] }, 10, succeeded), 'Matched rules at index 0');
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '3-5', succeededCount: 2 }, { succeededCount: 7 }] }, 10, succeeded), 'Matched rules at index 1');
    assert.equal(matchSuccessPolicy({ rules: [{ succeededCount: 8 }] }, 10, succeeded), undefined);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0' }] }, 10, new OrderedIntervals()), undefined);
    assert.equal(matchSuccessPolicy(undefined, 10, succeeded), undefined);
  });
});

describe('pod failure backoff (upstream TestGetRemainingBackoffTime / TestNewBackoffRecord)', () => {
  test('10 s doubling per consecutive failure, capped, minus the time since the last failure', () => {
    const clock = new FakeClock(1_000_000);
    const at = (secondsAgo: number) => clock.now() - secondsAgo * 1000;
    assert.equal(remainingTimeForFailures(clock, 0, undefined), 0);
    assert.equal(remainingTimeForFailures(clock, 1, at(0)), 10_000);
    assert.equal(remainingTimeForFailures(clock, 1, at(3)), 7_000);
    assert.equal(remainingTimeForFailures(clock, 2, at(3)), 17_000);
    assert.equal(remainingTimeForFailures(clock, 4, at(0)), 80_000);
    assert.equal(remainingTimeForFailures(clock, 1, at(20)), 0);
    assert.equal(remainingTimeForFailures(clock, 7, at(0)), 600_000); // 640 s capped at the maximum
    assert.equal(remainingTimeForFailures(clock, 30, at(100)), 500_000);
    assert.equal(remainingTimeForFailures(clock, 3, at(0), 1000, 3000), 3000);
  });

  const finishedPod = (phase: 'Succeeded' | 'Failed', finishedAtMs: number): Pod => ({
    metadata: { name: 'p', creationTimestamp: new Date(0).toISOString() },
    status: { phase, containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: new Date(finishedAtMs).toISOString() } } }] },
  });

  test('a success resets the count to the failures that came after it', () => {
    const store = new BackoffStore();
    let rec = store.newRecord('ns/j', [], [finishedPod('Failed', 10_000), finishedPod('Failed', 20_000)]);
    assert.deepEqual(rec, { key: 'ns/j', failuresAfterLastSuccess: 2, lastFailureTime: 20_000 });
    store.update(rec);
    rec = store.newRecord('ns/j', [], [finishedPod('Failed', 30_000)]);
    assert.deepEqual(rec, { key: 'ns/j', failuresAfterLastSuccess: 3, lastFailureTime: 30_000 });
    store.update(rec);
    rec = store.newRecord('ns/j', [finishedPod('Succeeded', 40_000)], [finishedPod('Failed', 35_000), finishedPod('Failed', 50_000), finishedPod('Failed', 45_000)]);
    assert.deepEqual(rec, { key: 'ns/j', failuresAfterLastSuccess: 2, lastFailureTime: 50_000 });
    rec = store.newRecord('ns/j', [finishedPod('Succeeded', 40_000)], []);
    assert.deepEqual(rec, { key: 'ns/j', failuresAfterLastSuccess: 0, lastFailureTime: undefined });
  });

  test('finish time: containers, then Ready=False, then deletion less grace, then creation', () => {
    assert.equal(getFinishedTime(finishedPod('Failed', 5000)), 5000);
    const readyFalse: Pod = { metadata: {}, status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date(7000).toISOString() }] } };
    assert.equal(getFinishedTime(readyFalse), 7000);
    const deleted: Pod = { metadata: { deletionTimestamp: new Date(40_000).toISOString(), deletionGracePeriodSeconds: 30 } };
    assert.equal(getFinishedTime(deleted), 10_000);
    assert.equal(getFinishedTime({ metadata: { creationTimestamp: new Date(3000).toISOString() } }), 3000);
  });

  test('per index: the failure count annotations of the last failed pod plus one', () => {
    const clock = new FakeClock(100_000);
    const pod = finishedPod('Failed', 100_000);
    pod.metadata!.annotations = { 'batch.kubernetes.io/job-index-failure-count': '1', 'batch.kubernetes.io/job-index-ignored-failure-count': '1' };
    assert.equal(remainingTimePerIndex(clock, pod), 40_000);
    assert.equal(remainingTimePerIndex(clock, undefined), 0);
  });
});

describe('job helpers', () => {
  const job = (spec: Job['spec']): Job => ({ metadata: { name: 'j', namespace: 'ns' }, spec });
  const pod = (name: string, ix: number | undefined, extra: Partial<Pod['status']> = {}, deleting = false): Pod => ({
    metadata: {
      name,
      uid: name,
      ...(deleting ? { deletionTimestamp: new Date(0).toISOString() } : {}),
      ...(ix === undefined ? {} : { annotations: { 'batch.kubernetes.io/job-completion-index': String(ix) } }),
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    status: { phase: 'Running', ...extra },
  });

  test('firstPendingIndexes skips active, succeeded and failed indexes (upstream TestFirstPendingIndexes)', () => {
    const j = job({ completionMode: 'Indexed', completions: 10, template: {} });
    const ctx = {
      job: j,
      pods: [] as Pod[],
      activePods: [pod('a', 2), pod('b', 5)],
      succeededIndexes: OrderedIntervals.parse('0,3,6-7', 10),
      failedIndexes: OrderedIntervals.parse('8', 10),
    };
    assert.deepEqual(firstPendingIndexes(ctx, 3, 10), [1, 4, 9]);
    assert.deepEqual(firstPendingIndexes(ctx, 10, 10), [1, 4, 9]);
    assert.deepEqual(firstPendingIndexes(ctx, 0, 10), []);
    assert.deepEqual(firstPendingIndexes({ ...ctx, activePods: [], succeededIndexes: new OrderedIntervals(), failedIndexes: undefined }, 2, 5), [0, 1]);
    // With podReplacementPolicy Failed, terminating pods hold their index.
    const failedOnly = job({ completionMode: 'Indexed', completions: 3, podReplacementPolicy: 'Failed', template: {} });
    assert.deepEqual(
      firstPendingIndexes({ job: failedOnly, pods: [pod('t', 0, {}, true)], activePods: [], succeededIndexes: new OrderedIntervals(), failedIndexes: undefined }, 3, 3),
      [1, 2],
    );
  });

  test('activePodsForRemoval: duplicates, bad indexes, then the usual order', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, template: {} });
    const pods = [pod('a', 0), pod('b', 0, { conditions: [{ type: 'Ready', status: 'True' }] }), pod('c', 7), pod('d', undefined), pod('e', 1)];
    const rm = activePodsForRemoval(j, pods, 0).map((p) => p.metadata?.name).sort();
    // The not-ready duplicate of index 0, the out-of-range index 7 and the pod without an index go.
    assert.deepEqual(rm, ['a', 'c', 'd']);
    const nonIndexed = job({ completions: 3, template: {} });
    const rm2 = activePodsForRemoval(nonIndexed, [pod('r', undefined, { conditions: [{ type: 'Ready', status: 'True' }] }), pod('n', undefined)], 1);
    assert.deepEqual(rm2.map((p) => p.metadata?.name), ['n']);
  });

  test('a deleted pod counts as failed unless only failed pods are replaced', () => {
    assert.equal(isPodFailed(pod('x', undefined, {}, true), job({ template: {} })), true);
    assert.equal(isPodFailed(pod('x', undefined, {}, true), job({ template: {}, podReplacementPolicy: 'Failed' })), false);
    assert.equal(isPodFailed(pod('x', undefined, { phase: 'Succeeded' }, true), job({ template: {} })), false);
  });

  test('restartPolicy OnFailure: container restarts count against backoffLimit', () => {
    const j = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [] } } });
    const restarts = (n: number): Pod => ({ status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: n }] } });
    assert.equal(pastBackoffLimitOnFailure(j, [restarts(1)]), false);
    assert.equal(pastBackoffLimitOnFailure(j, [restarts(1), restarts(1)]), true);
    assert.equal(pastBackoffLimitOnFailure({ ...j, spec: { ...j.spec!, backoffLimit: 0 } }, [restarts(1)]), true);
  });

  test('ensureJobConditionStatus never appends a False condition and keeps an unchanged one', () => {
    const none = ensureJobConditionStatus([], 'Suspended', 'False', 'JobResumed', 'Job resumed', 0);
    assert.deepEqual(none, { list: [], changed: false });
    const t = ensureJobConditionStatus([], 'Suspended', 'True', 'JobSuspended', 'Job suspended', 0);
    assert.equal(t.changed, true);
    assert.equal(ensureJobConditionStatus(t.list, 'Suspended', 'True', 'JobSuspended', 'Job suspended', 5000).changed, false);
    const f = ensureJobConditionStatus(t.list, 'Suspended', 'False', 'JobResumed', 'Job resumed', 5000);
    assert.deepEqual([f.changed, f.list[0]?.status, f.list[0]?.reason, f.list[0]?.lastTransitionTime], [true, 'False', 'JobResumed', '1970-01-01T00:00:05Z']);
  });
});
