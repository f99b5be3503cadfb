// The Job controller against a real API (in process, memory storage), driven by a FakeClock: the tests play the kubelet
// by writing pod phases through the status subresource, and step the clock for backoff and deadlines.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, type RestClient, type ResourceClient } from '../../client/index.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { ControllerManager } from '../manager.js';
import { JobController, JOB_TRACKING_FINALIZER } from './job-controller.js';

const NS = 'jobs-test';

describe('JobController against an in-process API', () => {
  let srv: InProcessApi;
  let client: RestClient;
  let manager: ControllerManager;
  let clock: FakeClock;
  let jobs: ResourceClient<Job>;
  let pods: ResourceClient<Pod>;
  let events: ResourceClient<Event>;

  before(async () => {
    srv = await startInProcessApi();
    client = srv.client;
    clock = new FakeClock(Date.now());
    manager = new ControllerManager({
      client,
      controllers: [{ name: 'job', create: (ctx) => new JobController(ctx, { syncBatchPeriodMs: 0 }) }],
      leaderElection: false,
      clock,
      log: createLogger('error'),
    });
    manager.start();
    jobs = client.resource<Job>({ group: 'batch', version: 'v1', resource: 'jobs' });
    pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    events = client.resource<Event>({ group: '', version: 'v1', resource: 'events' });
    await client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ metadata: { name: NS } });
  });
  after(async () => {
    await manager?.stop();
    await srv?.close();
  });

  const newJob = (name: string, spec: Partial<NonNullable<Job['spec']>>): Job => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      ...spec,
    },
  });
  const jobPods = async (job: string): Promise<Pod[]> =>
    (await pods.list({ namespace: NS, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items.sort((a, b) =>
      (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    );
  const activePods = async (job: string) => (await jobPods(job)).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const getJob = (name: string) => jobs.get(name, { namespace: NS });
  const cond = (job: Job, type: string) => job.status?.conditions?.find((c) => c.type === type);
  const finish = async (pod: Pod, phase: 'Succeeded' | 'Failed', exitCode = phase === 'Succeeded' ? 0 : 1, conditions: { type: string; status: string }[] = []) => {
    const now = new Date(clock.now()).toISOString();
    await pods.patch(
      pod.metadata?.name ?? '',
      {
        status: {
          phase,
          conditions,
          containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt: now } } }],
        },
      },
      { namespace: NS, type: 'merge', subresource: 'status' },
    );
  };
  const waitActive = async (job: string, n: number) => {
    let out: Pod[] = [];
    await eventually(`${n} active pods of ${job}`, async () => (out = await activePods(job)).length === n, 20_000);
    return out;
  };
  const waitCondition = async (name: string, type: string) => {
    let j: Job | undefined;
    await eventually(`${name} condition ${type}`, async () => cond((j = await getJob(name)), type)?.status === 'True');
    return j!;
  };
  const reasonsOf = async (name: string) =>
    (await events.list({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items.map((e) => e.reason);

  test('activeDeadlineSeconds: running pods are deleted and the Job fails with DeadlineExceeded', async () => {
    await jobs.create(newJob('deadline', { activeDeadlineSeconds: 30, parallelism: 2, completions: 4 }));
    await waitActive('deadline', 2);
    clock.step(31_000);
    const failed = await waitCondition('deadline', 'Failed');
    assert.equal(cond(failed, 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(cond(failed, 'Failed')?.message, 'Job was active longer than specified deadline');
    // Upstream counts exactly the two deleted pods (job-finalizer-race.test.ts pins the cause of an old double count).
    assert.equal(failed.status?.failed, 2);
    assert.equal((await jobPods('deadline')).length, 0, 'deleted pods are gone once their finalizers are');
  });

  test('NonIndexed: completions one at a time, finalizers removed, SuccessCriteriaMet then Complete', async () => {
    await jobs.create(newJob('two', { completions: 2, parallelism: 1 }));
    const [first] = await waitActive('two', 1);
    const created = await getJob('two');
    // Pod shape: owner reference, finalizer, the selector's labels, generateName "<job>-".
    assert.equal(first!.metadata?.ownerReferences?.[0]?.kind, 'Job');
    assert.equal(first!.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
    assert.equal(first!.metadata?.ownerReferences?.[0]?.controller, true);
    assert.deepEqual(first!.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
    assert.equal(first!.metadata?.labels?.['batch.kubernetes.io/controller-uid'], created.metadata?.uid);
    assert.equal(first!.metadata?.labels?.['job-name'], 'two');
    assert.match(first!.metadata?.name ?? '', /^two-[a-z0-9]{5}$/);
    await eventually('status.active=1 and startTime', async () => {
      const j = await getJob('two');
      return j.status?.active === 1 && !!j.status.startTime && j.status.ready === 0;
    });

    await finish(first!, 'Succeeded');
    const [second] = await waitActive('two', 1);
    assert.notEqual(second!.metadata?.name, first!.metadata?.name);
    await eventually('first pod counted and its finalizer gone', async () => {
      const j = await getJob('two');
      const p = await pods.get(first!.metadata!.name!, { namespace: NS });
      return j.status?.succeeded === 1 && (p.metadata?.finalizers ?? []).length === 0;
    });
    await finish(second!, 'Succeeded');
    const done = await waitCondition('two', 'Complete');
    assert.equal(done.status?.succeeded, 2);
    assert.equal(done.status?.active ?? 0, 0);
    assert.ok(done.status?.completionTime);
    assert.equal(cond(done, 'Complete')?.reason, 'CompletionsReached');
    assert.equal(cond(done, 'SuccessCriteriaMet')?.status, 'True');
    assert.deepEqual(done.status?.uncountedTerminatedPods, {});
    for (const p of await jobPods('two')) assert.deepEqual(p.metadata?.finalizers ?? [], []);
    await eventually('SuccessfulCreate and Completed events', async () => {
      const r = await reasonsOf('two');
      return r.includes('SuccessfulCreate') && r.includes('Completed');
    });
  });

  test('failures back off 10 s, then 20 s, and the Job fails with BackoffLimitExceeded', async () => {
    await jobs.create(newJob('flaky', { backoffLimit: 2 }));
    const [p1] = await waitActive('flaky', 1);
    await finish(p1!, 'Failed');
    await eventually('failure counted', async () => (await getJob('flaky')).status?.failed === 1);
    // No replacement before the backoff passes.
    assert.equal((await activePods('flaky')).length, 0);
    clock.step(9_000);
    assert.equal((await activePods('flaky')).length, 0);
    clock.step(1_500);
    const [p2] = await waitActive('flaky', 1);
    await finish(p2!, 'Failed');
    await eventually('second failure counted', async () => (await getJob('flaky')).status?.failed === 2);
    clock.step(15_000);
    assert.equal((await activePods('flaky')).length, 0, 'second backoff is 20 s');
    clock.step(6_000);
    const [p3] = await waitActive('flaky', 1);
    await finish(p3!, 'Failed');
    const failed = await waitCondition('flaky', 'Failed');
    assert.equal(cond(failed, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(cond(failed, 'Failed')?.message, 'Job has reached the specified backoff limit');
    assert.equal(cond(failed, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(failed.status?.failed, 3);
    assert.equal(failed.status?.completionTime, undefined);
    await eventually('BackoffLimitExceeded warning', async () => (await reasonsOf('flaky')).includes('BackoffLimitExceeded'));
  });

  test('Indexed: one pod per index with annotation, label, hostname and env; completedIndexes compressed', async () => {
    await jobs.create(newJob('idx', { completions: 4, parallelism: 3, completionMode: 'Indexed' }));
    const running = await waitActive('idx', 3);
    const byIndex = new Map(running.map((p) => [p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    const p0 = byIndex.get('0')!;
    assert.equal(p0.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], '0');
    assert.equal(p0.spec?.hostname, 'idx-0');
    assert.match(p0.metadata?.name ?? '', /^idx-0-[a-z0-9]{5}$/);
    assert.deepEqual(p0.spec?.containers[0]?.env, [
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    ]);
    await finish(byIndex.get('0')!, 'Succeeded');
    await finish(byIndex.get('2')!, 'Succeeded');
    await eventually('index 3 started and 0,2 completed', async () => {
      const j = await getJob('idx');
      const act = await activePods('idx');
      return j.status?.completedIndexes === '0,2' && act.some((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '3');
    });
    for (const p of await activePods('idx')) await finish(p, 'Succeeded');
    const done = await waitCondition('idx', 'Complete');
    assert.equal(done.status?.completedIndexes, '0-3');
    assert.equal(done.status?.succeeded, 4);
  });

  test('backoffLimitPerIndex: a failed index is recorded, the others finish, the Job fails with FailedIndexes', async () => {
    await jobs.create(newJob('perindex', { completions: 3, parallelism: 3, completionMode: 'Indexed', backoffLimitPerIndex: 0 }));
    const running = await waitActive('perindex', 3);
    const ix = (p: Pod) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
    assert.ok(running.every((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count'] === '0'));
    await finish(running.find((p) => ix(p) === '1')!, 'Failed');
    await eventually('failedIndexes "1"', async () => (await getJob('perindex')).status?.failedIndexes === '1');
    assert.equal((await activePods('perindex')).length, 2, 'a failed index is not retried');
    for (const p of running.filter((p) => ix(p) !== '1')) await finish(p, 'Succeeded');
    const failed = await waitCondition('perindex', 'Failed');
    assert.equal(cond(failed, 'Failed')?.reason, 'FailedIndexes');
    assert.equal(failed.status?.completedIndexes, '0,2');
    assert.equal(failed.status?.failed, 1);
  });

  test('maxFailedIndexes ends the Job early with MaxFailedIndexesExceeded', async () => {
    await jobs.create(newJob('maxfail', { completions: 4, parallelism: 4, completionMode: 'Indexed', backoffLimitPerIndex: 0, maxFailedIndexes: 0 }));
    const running = await waitActive('maxfail', 4);
    await finish(running[0]!, 'Failed');
    const failed = await waitCondition('maxfail', 'Failed');
    assert.equal(cond(failed, 'Failed')?.reason, 'MaxFailedIndexesExceeded');
    assert.equal((await activePods('maxfail')).length, 0, 'the other pods were deleted');
  });

  test('podFailurePolicy: Ignore does not count, FailJob fails at once with the rule message', async () => {
    await jobs.create(
      newJob('pfp', {
        backoffLimit: 0,
        podFailurePolicy: {
          rules: [
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
            { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
          ],
        },
      }),
    );
    const [p1] = await waitActive('pfp', 1);
    await finish(p1!, 'Failed', 137, [{ type: 'DisruptionTarget', status: 'True' }]);
    // An ignored failure still delays the replacement by the pod-failure backoff, as upstream.
    await eventually('the ignored pod released', async () => !(await pods.get(p1!.metadata!.name!, { namespace: NS })).metadata?.finalizers?.length);
    clock.step(10_500);
    const [p2] = await waitActive('pfp', 1);
    assert.notEqual(p2!.metadata?.name, p1!.metadata?.name);
    assert.equal((await getJob('pfp')).status?.failed ?? 0, 0, 'ignored failure is not counted');
    await finish(p2!, 'Failed', 42);
    const failed = await waitCondition('pfp', 'Failed');
    assert.equal(cond(failed, 'Failed')?.reason, 'PodFailurePolicy');
    assert.equal(cond(failed, 'Failed')?.message, `Container main for pod ${NS}/${p2!.metadata?.name} failed with exit code 42 matching FailJob rule at index 1`);
  });

  test('suspend: no pods and Suspended=True; resume creates pods, resets startTime; suspending again deletes them', async () => {
    await jobs.create(newJob('sus', { suspend: true, parallelism: 2, completions: 2 }));
    const suspended = await waitCondition('sus', 'Suspended');
    assert.equal(cond(suspended, 'Suspended')?.reason, 'JobSuspended');
    assert.equal(suspended.status?.startTime, undefined);
    assert.equal((await jobPods('sus')).length, 0);
    clock.step(5_000);
    await jobs.patch('sus', { spec: { suspend: false } }, { namespace: NS, type: 'merge' });
    await waitActive('sus', 2);
    let resumed: Job | undefined;
    await eventually('Suspended=False JobResumed', async () => cond((resumed = await getJob('sus')), 'Suspended')?.status === 'False');
    assert.equal(cond(resumed!, 'Suspended')?.reason, 'JobResumed');
    assert.ok(resumed!.status?.startTime);
    await jobs.patch('sus', { spec: { suspend: true } }, { namespace: NS, type: 'merge' });
    await waitCondition('sus', 'Suspended');
    await eventually('pods deleted on suspend', async () => (await jobPods('sus')).length === 0);
    await eventually('Suspended and Resumed events', async () => {
      const r = await reasonsOf('sus');
      return r.includes('Suspended') && r.includes('Resumed');
    });
  });

  test('successPolicy: the required index succeeding completes the Job and removes the rest', async () => {
    await jobs.create(
      newJob('leader', { completions: 3, parallelism: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0' }] } }),
    );
    const running = await waitActive('leader', 3);
    await finish(running.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0')!, 'Succeeded');
    const done = await waitCondition('leader', 'Complete');
    assert.equal(cond(done, 'SuccessCriteriaMet')?.reason, 'SuccessPolicy');
    assert.equal(cond(done, 'Complete')?.reason, 'SuccessPolicy');
    assert.equal(cond(done, 'Complete')?.message, 'Matched rules at index 0');
    assert.equal(done.status?.completedIndexes, '0');
    assert.equal((await activePods('leader')).length, 0);
  });

  test('an orphan pod matching the selector is adopted and tracked; a deleted Job frees its pods of the finalizer', async () => {
    const labels = { app: 'adopt-me' };
    await pods.create({ metadata: { name: 'stray', namespace: NS, labels }, spec: { containers: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' } });
    const job = await jobs.create(
      newJob('adopt', {
        completions: 1,
        parallelism: 1,
        manualSelector: true,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      }),
    );
    await eventually('stray pod adopted with the finalizer', async () => {
      const p = await pods.get('stray', { namespace: NS });
      return p.metadata?.ownerReferences?.[0]?.uid === job.metadata?.uid && (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
    });
    await eventually('the adopted pod counts as active', async () => (await getJob('adopt')).status?.active === 1);
    assert.equal((await pods.list({ namespace: NS, labelSelector: 'app=adopt-me' })).items.length, 1, 'no second pod was created');
    await jobs.delete('adopt', { namespace: NS, propagationPolicy: 'Background' });
    await eventually('finalizer removed from the pod of the deleted Job', async () => {
      const p = await pods.get('stray', { namespace: NS });
      return !(p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
    });
  });

  test('podReplacementPolicy: TerminatingOrFailed replaces a terminating pod at once, Failed waits until it has failed', async () => {
    // Pods "on a node" (nodeName set) are deleted gracefully, so they stay terminating until the kubelet (here: the test)
    // finishes them.
    const onNode = { restartPolicy: 'Never' as const, nodeName: 'ghost-node', containers: [{ name: 'main', image: 'busybox' }] };
    await jobs.create(newJob('eager', { template: { spec: onNode } }));
    await jobs.create(newJob('patient', { podReplacementPolicy: 'Failed', template: { spec: onNode } }));
    const [eager] = await waitActive('eager', 1);
    const [patient] = await waitActive('patient', 1);
    await pods.delete(eager!.metadata!.name!, { namespace: NS });
    await pods.delete(patient!.metadata!.name!, { namespace: NS });
    await eventually('eager: terminating pod counted failed and replaced after the backoff', async () => {
      const j = await getJob('eager');
      return j.status?.failed === 1 && j.status.terminating === 1;
    });
    clock.step(10_500);
    await waitActive('eager', 1);
    await eventually('patient: one terminating pod, no replacement, nothing counted yet', async () => {
      const j = await getJob('patient');
      return j.status?.terminating === 1 && (j.status.failed ?? 0) === 0 && (j.status.active ?? 0) === 0;
    });
    clock.step(10_500);
    assert.equal((await activePods('patient')).length, 0);
    await finish(patient!, 'Failed');
    await eventually('patient: failure counted once the pod failed', async () => (await getJob('patient')).status?.failed === 1);
    clock.step(10_500);
    await waitActive('patient', 1);
  });
});
