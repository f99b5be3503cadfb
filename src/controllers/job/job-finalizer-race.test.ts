// Regression test for the activeDeadlineSeconds flake (a Job counting 3 failed pods for 2): a sync took its snapshot
// of the pod cache, then awaited (the claim of the Job's pods may call the API), and only then read the finalizer
// expectations. A finalizer removal observed during that await cleared the expectation while the snapshot still
// showed the finalizer, so the pod — already moved from uncountedTerminatedPods into status.failed — was counted
// again. Here the API call of the claim (releasing a pod that stopped matching) is held until the informer has seen
// the finalizers go, which makes that interleaving certain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { FakeClock, InProcessTransport, RestClient } from '../../client/index.js';
import { buildControllerOn, IN_PROCESS_ADMIN, startInProcessApi } from '../testing/in-process-api.js';
import { JobController, JOB_TRACKING_FINALIZER } from './job-controller.js';

const NS = 'job-race';

test('a finalizer removal seen while the sync claims pods does not count the pod twice', async () => {
  const api = await startInProcessApi();
  const jobs = api.client.resource<Job>({ group: 'batch', version: 'v1', resource: 'jobs' });
  const pods = api.client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
  await api.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ metadata: { name: NS } });
  const job = await jobs.create({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'deadline', namespace: NS },
    spec: {
      activeDeadlineSeconds: 30,
      parallelism: 2,
      completions: 4,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
    },
  });
  const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'deadline', uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true };
  const podOf = (name: string, labels: Record<string, string>, finalizers: string[]): Pod => ({
    metadata: { name, namespace: NS, labels, finalizers, ownerReferences: [owner] },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] },
  });
  const labels = job.spec!.template.metadata!.labels!;
  // The state after the deadline sync: both pods deleted (their finalizer holds them), counted in status.failed.
  const tracked = [];
  for (const name of ['a', 'b']) {
    tracked.push(await pods.create(podOf(name, labels, [JOB_TRACKING_FINALIZER]), { namespace: NS }));
    await pods.delete(name, { namespace: NS });
  }
  // Owned by the Job but no longer matching its selector: the claim releases it with a PATCH.
  await pods.create(podOf('released', { other: 'x' }, []), { namespace: NS });
  const now = new Date().toISOString();
  await jobs.updateStatus({
    ...job,
    status: {
      startTime: now,
      failed: 2,
      terminating: 2,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastProbeTime: now, lastTransitionTime: now },
      ],
    },
  });

  let held = false;
  let podCache: (() => Pod[]) | undefined;
  const hooked = async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    if (!held && req.method === 'PATCH' && (req.url ?? '').includes('/pods/released')) {
      held = true;
      for (const name of ['a', 'b']) {
        await pods.patch(name, { metadata: { finalizers: null } }, { namespace: NS, type: 'merge' });
      }
      await eventually('the informer saw the finalizers go', () =>
        !podCache!().some((p) => ['a', 'b'].includes(p.metadata?.name ?? '') && p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)),
      );
    }
    return api.api.handler(req, res, IN_PROCESS_ADMIN);
  };
  const client = new RestClient(new InProcessTransport(hooked));
  const running = await buildControllerOn(api, (ctx) => new JobController({ ...ctx, client }, { syncBatchPeriodMs: 0 }), {
    clock: new FakeClock(Date.now()),
  });
  try {
    const podInformer = running.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const jobInformer = running.informers.informerFor<Job>({ group: 'batch', version: 'v1', resource: 'jobs' });
    podCache = () => podInformer.lister().namespace(NS).list();
    await eventually('caches hold the deleted pods and the status', () =>
      podCache!().filter((p) => p.metadata?.deletionTimestamp).length === 2 && jobInformer.lister().namespace(NS).get('deadline')?.status?.failed === 2,
    );
    // The earlier sync removed these finalizers and waits to observe it.
    running.controller.finalizerExpectations.expectRemoved(`${NS}/deadline`, tracked.map((p) => p.metadata!.uid!));

    await running.controller.syncJob(`${NS}/deadline`);
    assert.ok(held, 'the claim released the pod through the held PATCH');
    const after = await jobs.get('deadline', { namespace: NS });
    assert.equal(after.status?.failed, 2);
    assert.deepEqual(after.status?.uncountedTerminatedPods ?? {}, {});
  } finally {
    await running.stop();
    await api.close();
  }
});
