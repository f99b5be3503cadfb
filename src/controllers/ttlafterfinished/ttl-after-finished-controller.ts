// Upstream's TTL-after-finished controller (pkg/controller/ttlafterfinished): a finished Job (Complete or Failed) with
// spec.ttlSecondsAfterFinished is deleted that many seconds after the condition's lastTransitionTime. Before deleting,
// the Job is read fresh (its TTL may have changed), and the deletion is preconditioned on its uid and cascades in the
// foreground, so the Job is gone only once its pods are.
import type { Job } from 'kubernetes-types/batch/v1.js';
import { isNotFound } from '../../machinery/errors.js';
import { RateLimitingQueue, metaNamespaceKey, splitMetaNamespaceKey, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };

/** A Job that finished and asks to be cleaned up. */
export function needsCleanup(job: Job): boolean {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  return ttl !== undefined && ttl !== null && finishTime(job) !== undefined;
}

/** lastTransitionTime of the True Complete or Failed condition. */
export function finishTime(job: Job): number | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
      return Number.isNaN(t) ? undefined : t;
    }
  }
  return undefined;
}

/** Milliseconds until the Job expires (≤ 0: expired), or undefined when it needs no cleanup. */
export function timeLeft(job: Job, nowMs: number): number | undefined {
  if (job.metadata?.deletionTimestamp || !needsCleanup(job)) return undefined;
  return finishTime(job)! + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000 - nowMs;
}

export class TTLAfterFinishedController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly informer: SharedIndexInformer<Job>;
  private readonly jobs: ResourceClient<Job>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly workers = 5,
  ) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.jobs = ctx.client.resource<Job>(JOBS);
    this.informer = ctx.informers.informerFor<Job>(JOBS);
    const enqueue = (job: Job) => {
      if (!job.metadata?.deletionTimestamp && needsCleanup(job)) this.queue.add(metaNamespaceKey(job));
    };
    this.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, cur) => enqueue(cur) });
  }

  run(signal: AbortSignal): Promise<void> {
    return runQueueController(
      { name: 'ttl-after-finished', waitForSync: () => this.informer.waitForCacheSync(), queue: this.queue, workers: this.workers, sync: (k) => this.processJob(k), log: this.ctx.log },
      signal,
    );
  }

  /** Not expired yet: come back when it is. Expired: check the live Job, then delete it. */
  private processTTL(job: Job, key: string): boolean {
    const left = timeLeft(job, this.ctx.clock.now());
    if (left === undefined) return false;
    if (left <= 0) return true;
    this.queue.addAfter(key, left);
    return false;
  }

  async processJob(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.informer.lister().namespace(namespace).get(name);
    if (!cached || !this.processTTL(cached, key)) return;
    // The cached TTL may be stale: decide on the live object.
    let fresh: Job;
    try {
      fresh = await this.jobs.get(name, { namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!this.processTTL(fresh, key)) return;
    try {
      await this.jobs.delete(name, { namespace, propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid } });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.ctx.log.debug('cleaned up finished Job', { job: key });
  }
}

export const ttlAfterFinishedControllerDescriptor: ControllerDescriptor = {
  name: 'ttl-after-finished',
  create: (ctx) => new TTLAfterFinishedController(ctx),
};
