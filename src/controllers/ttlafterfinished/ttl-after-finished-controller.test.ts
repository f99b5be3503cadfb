// The TTL-after-finished controller against an in-process API with a FakeClock: finished Jobs go ttlSecondsAfterFinished
// after their Complete/Failed transition, deleted in the foreground; a TTL raised meanwhile is honoured.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, type ResourceClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { ControllerManager } from '../manager.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { TTLAfterFinishedController, timeLeft } from './ttl-after-finished-controller.js';

const NS = 'ttl-test';

describe('timeLeft', () => {
  const job = (ttl: number | undefined, finishedAt: string | undefined, deleting = false): Job => ({
    metadata: { name: 'j', ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { template: {}, ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
    status: finishedAt ? { conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: finishedAt }] } : {},
  });
  test('expiry counts from the finish transition; unfinished, TTL-less and deleting Jobs need nothing', () => {
    const now = Date.parse('2024-01-01T00:01:00Z');
    assert.equal(timeLeft(job(100, '2024-01-01T00:00:00Z'), now), 40_000);
    assert.equal(timeLeft(job(0, '2024-01-01T00:00:00Z'), now), -60_000);
    assert.equal(timeLeft(job(undefined, '2024-01-01T00:00:00Z'), now), undefined);
    assert.equal(timeLeft(job(10, undefined), now), undefined);
    assert.equal(timeLeft(job(10, '2024-01-01T00:00:00Z', true), now), undefined);
  });
});

describe('TTLAfterFinishedController against an in-process API', () => {
  let srv: InProcessApi;
  let manager: ControllerManager;
  let clock: FakeClock;
  let jobs: ResourceClient<Job>;

  before(async () => {
    srv = await startInProcessApi();
    clock = new FakeClock(Date.now());
    manager = new ControllerManager({
      client: srv.client,
      controllers: [{ name: 'ttl-after-finished', create: (ctx) => new TTLAfterFinishedController(ctx, 2) }],
      leaderElection: false,
      clock,
      log: createLogger('error'),
    });
    manager.start();
    jobs = srv.client.resource<Job>({ group: 'batch', version: 'v1', resource: 'jobs' });
    await srv.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ metadata: { name: NS } });
  });
  after(async () => {
    await manager?.stop();
    await srv?.close();
  });

  const create = (name: string, ttl?: number) =>
    jobs.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: NS },
      spec: {
        ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}),
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      },
    });
  const finish = async (name: string) => {
    const now = new Date(Math.floor(clock.now() / 1000) * 1000).toISOString().replace('.000', '');
    await jobs.patch(
      name,
      {
        status: {
          startTime: now,
          failed: 1,
          conditions: [
            { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
            { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
          ],
        },
      },
      { namespace: NS, type: 'merge', subresource: 'status' },
    );
  };
  /** Deleted: gone, or (no garbage collector here) marked with the foregroundDeletion finalizer. */
  const deleted = async (name: string): Promise<boolean> => {
    try {
      const j = await jobs.get(name, { namespace: NS });
      return !!j.metadata?.deletionTimestamp && (j.metadata.finalizers ?? []).includes('foregroundDeletion');
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  };
  const exists = async (name: string) => !(await deleted(name));

  test('deleted once the TTL after finishing passes, not before; Jobs without TTL stay', async () => {
    await create('short', 10);
    await create('forever');
    await finish('short');
    await finish('forever');
    await eventually('the controller queued the expiry', async () => clock.pendingTimers() > 0);
    clock.step(8_000);
    assert.equal(await exists('short'), true);
    clock.step(3_000);
    await eventually('short deleted in the foreground', () => deleted('short'));
    assert.equal(await exists('forever'), true);
  });

  test('a TTL raised before expiry is honoured (the live Job decides)', async () => {
    await create('raised', 5);
    await finish('raised');
    await jobs.patch('raised', { spec: { ttlSecondsAfterFinished: 60 } }, { namespace: NS, type: 'merge' });
    clock.step(6_000);
    // The update event re-queued it with the new TTL; give the controller a moment to act wrongly, then check.
    await create('witness', 5);
    await finish('witness');
    clock.step(6_000);
    await eventually('the witness deleted', () => deleted('witness'));
    assert.equal(await exists('raised'), true);
    clock.step(60_000);
    await eventually('raised deleted after its new TTL', () => deleted('raised'));
  });

  test('a Job that finished long ago is deleted at once', async () => {
    await create('old', 0);
    await finish('old');
    await eventually('old deleted', () => deleted('old'));
  });
});
