// The CronJob controller against a real API (in process) with a FakeClock: stepping the clock past a schedule time
// fires the requeue, so a "* * * * *" CronJob runs every simulated minute. Jobs are finished by writing their status.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Namespace } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, type ResourceClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { ControllerManager } from '../manager.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { CronJobController } from './cronjob-controller.js';

const NS = 'cron-test';

describe('CronJobController against an in-process API', () => {
  let srv: InProcessApi;
  let manager: ControllerManager;
  let controller: CronJobController;
  let clock: FakeClock;
  let cronJobs: ResourceClient<CronJob>;
  let jobs: ResourceClient<Job>;
  let events: ResourceClient<Event>;

  before(async () => {
    srv = await startInProcessApi();
    clock = new FakeClock(Date.now());
    manager = new ControllerManager({
      client: srv.client,
      controllers: [{ name: 'cronjob', create: (ctx) => (controller = new CronJobController(ctx, { defaultTimeZone: 'UTC', workers: 2 })) }],
      leaderElection: false,
      clock,
      log: createLogger('error'),
    });
    manager.start();
    cronJobs = srv.client.resource<CronJob>({ group: 'batch', version: 'v1', resource: 'cronjobs' });
    jobs = srv.client.resource<Job>({ group: 'batch', version: 'v1', resource: 'jobs' });
    events = srv.client.resource<Event>({ group: '', version: 'v1', resource: 'events' });
    await srv.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ metadata: { name: NS } });
  });
  after(async () => {
    await manager?.stop();
    await srv?.close();
  });

  const newCronJob = (name: string, spec: Partial<NonNullable<CronJob['spec']>> = {}): CronJob => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
      },
      ...spec,
    },
  });
  const jobsOf = async (cj: string) =>
    (await jobs.list({ namespace: NS })).items.filter((j) => j.metadata?.ownerReferences?.[0]?.name === cj).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const getCJ = (name: string) => cronJobs.get(name, { namespace: NS });
  const reasons = async (name: string) => (await events.list({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items.map((e) => e.reason);
  /**
   * Step the fake clock to just past the next minute boundary, where "* * * * *" fires — once the controller's caches
   * hold what the API has (a real controller's caches lag by milliseconds while schedules are minutes apart).
   */
  const nextMinute = async () => {
    await eventually('controller caches caught up', async () => {
      for (const cj of (await cronJobs.list({ namespace: NS })).items) {
        if (controller.cronJobInformer.lister().namespace(NS).get(cj.metadata!.name!)?.metadata?.resourceVersion !== cj.metadata?.resourceVersion) return false;
      }
      for (const j of (await jobs.list({ namespace: NS })).items) {
        if (controller.jobInformer.lister().namespace(NS).get(j.metadata!.name!)?.metadata?.resourceVersion !== j.metadata?.resourceVersion) return false;
      }
      return true;
    });
    clock.step(60_000 - (clock.now() % 60_000) + 500);
  };
  const complete = async (job: Job, type: 'Complete' | 'Failed' = 'Complete') => {
    const now = new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions =
      type === 'Complete'
        ? [
            { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: now, lastProbeTime: now },
            { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: now, lastProbeTime: now },
          ]
        : [
            { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
            { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
          ];
    await jobs.patch(
      job.metadata?.name ?? '',
      {
        status: {
          startTime: now,
          conditions,
          ...(type === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }),
        },
      },
      { namespace: NS, type: 'merge', subresource: 'status' },
    );
  };
  const suspend = (name: string) => cronJobs.patch(name, { spec: { suspend: true } }, { namespace: NS, type: 'merge' });

  test('fires every minute: deterministic job names, active list, lastScheduleTime, history limit, lastSuccessfulTime', async () => {
    await cronJobs.create(newCronJob('every', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
    await eventually('the CronJob in the cache', async () => (await reasons('every')).length === 0 && !!(await getCJ('every')).metadata?.uid);
    await nextMinute();
    let first: Job | undefined;
    await eventually('the first Job', async () => (first = (await jobsOf('every'))[0]) !== undefined);
    const scheduledMin = Number(first!.metadata?.name?.split('-').pop());
    assert.equal(scheduledMin, Math.floor(clock.now() / 60_000));
    assert.equal(first!.metadata?.labels?.app, 'every');
    assert.equal(first!.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(scheduledMin * 60_000).toISOString().replace('.000', ''));
    assert.equal(first!.metadata?.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(first!.metadata?.ownerReferences?.[0]?.controller, true);
    await eventually('active list and lastScheduleTime', async () => {
      const cj = await getCJ('every');
      return cj.status?.active?.[0]?.name === first!.metadata?.name && cj.status?.lastScheduleTime === new Date(scheduledMin * 60_000).toISOString().replace('.000', '');
    });
    await complete(first!);
    await eventually('SawCompletedJob clears the active list and sets lastSuccessfulTime', async () => {
      const cj = await getCJ('every');
      return (cj.status?.active ?? []).length === 0 && !!cj.status?.lastSuccessfulTime && (await reasons('every')).includes('SawCompletedJob');
    });
    await nextMinute();
    await eventually('the second Job', async () => (await jobsOf('every')).length === 2);
    const second = (await jobsOf('every'))[1]!;
    assert.equal(Number(second.metadata?.name?.split('-').pop()), scheduledMin + 1);
    clock.step(1000);
    await complete(second);
    await eventually('the oldest successful Job deleted (successfulJobsHistoryLimit 1)', async () => {
      const left = await jobsOf('every');
      return left.length === 1 && left[0]!.metadata?.name === second.metadata?.name;
    });
    await eventually('SuccessfulCreate and SuccessfulDelete events', async () => {
      const r = await reasons('every');
      return r.includes('SuccessfulCreate') && r.includes('SuccessfulDelete');
    });
    await suspend('every');
  });

  test('concurrencyPolicy Forbid skips while a Job runs; Replace deletes the running Job', async () => {
    await cronJobs.create(newCronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await cronJobs.create(newCronJob('replace', { concurrencyPolicy: 'Replace' }));
    await eventually('both CronJobs seen', async () => !!(await getCJ('forbid')).metadata?.uid && !!(await getCJ('replace')).metadata?.uid);
    await nextMinute();
    await eventually('first Jobs', async () => (await jobsOf('forbid')).length === 1 && (await jobsOf('replace')).length === 1);
    await eventually('both active', async () => (await getCJ('forbid')).status?.active?.length === 1 && (await getCJ('replace')).status?.active?.length === 1);
    const replaced = (await jobsOf('replace'))[0]!;
    await nextMinute();
    await eventually('JobAlreadyActive for Forbid', async () => (await reasons('forbid')).includes('JobAlreadyActive'));
    assert.equal((await jobsOf('forbid')).length, 1);
    await eventually('Replace: old Job gone, new Job active', async () => {
      const js = await jobsOf('replace');
      const cj = await getCJ('replace');
      return js.length === 1 && js[0]!.metadata?.name !== replaced.metadata?.name && cj.status?.active?.[0]?.name === js[0]!.metadata?.name;
    });
    await suspend('forbid');
    await suspend('replace');
  });

  test('suspend: nothing is created while suspended (a twin that is not suspended fires meanwhile)', async () => {
    await cronJobs.create(newCronJob('sleepy', { suspend: true }));
    await cronJobs.create(newCronJob('awake'));
    await eventually('seen', async () => !!(await getCJ('sleepy')).metadata?.uid && !!(await getCJ('awake')).metadata?.uid);
    await nextMinute();
    await eventually('the twin fired', async () => (await jobsOf('awake')).length === 1 && !!(await getCJ('awake')).status?.lastScheduleTime);
    assert.equal((await jobsOf('sleepy')).length, 0);
    assert.equal((await getCJ('sleepy')).status?.lastScheduleTime, undefined);
    await suspend('awake');
  });

  test('more than 100 missed start times: TooManyMissedTimes, and only the latest is run', async () => {
    await cronJobs.create(newCronJob('late', { suspend: true }));
    const last = new Date(Math.floor(clock.now() / 60_000) * 60_000 - 3 * 3_600_000).toISOString().replace('.000', '');
    await cronJobs.patch('late', { status: { lastScheduleTime: last } }, { namespace: NS, type: 'merge', subresource: 'status' });
    await cronJobs.patch('late', { spec: { suspend: false } }, { namespace: NS, type: 'merge' });
    await eventually('TooManyMissedTimes warning', async () => (await reasons('late')).includes('TooManyMissedTimes'));
    await eventually('one Job for the latest minute', async () => {
      const js = await jobsOf('late');
      return js.length === 1 && Number(js[0]!.metadata?.name?.split('-').pop()) === Math.floor(clock.now() / 60_000);
    });
    await suspend('late');
  });

  test('a Job that went missing is dropped from the active list', async () => {
    await cronJobs.create(newCronJob('missing'));
    await eventually('seen', async () => !!(await getCJ('missing')).metadata?.uid);
    await nextMinute();
    let job: Job | undefined;
    await eventually('a Job', async () => (job = (await jobsOf('missing'))[0]) !== undefined);
    await suspend('missing');
    await jobs.delete(job!.metadata!.name!, { namespace: NS, propagationPolicy: 'Background' });
    await eventually('Job gone', async () => {
      try {
        await jobs.get(job!.metadata!.name!, { namespace: NS });
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    await eventually('active list emptied', async () => (await getCJ('missing')).status?.active === undefined);
  });
});
