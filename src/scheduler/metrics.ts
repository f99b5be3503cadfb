// The scheduler's Prometheus metrics with upstream's names, labels and buckets, in the server's /metrics registry.
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../apiserver/metrics.js';

/** Upstream's ExponentialBuckets(0.001, 2, 15): 1 ms to ~16 s. */
const BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

const attemptDuration = new Histogram({
  name: 'scheduler_scheduling_attempt_duration_seconds',
  help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
  labelNames: ['result', 'profile'],
  buckets: BUCKETS,
  registers: [metricsRegistry],
});

const algorithmDuration = new Histogram({
  name: 'scheduler_scheduling_algorithm_duration_seconds',
  help: 'Scheduling algorithm latency in seconds',
  buckets: BUCKETS,
  registers: [metricsRegistry],
});

const attempts = new Counter({
  name: 'scheduler_schedule_attempts_total',
  help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
  labelNames: ['result', 'profile'],
  registers: [metricsRegistry],
});

/** One attempt ended: `startMs` is when its scheduling cycle began (performance.now()). */
export function observeAttempt(result: AttemptResult, profile: string, startMs: number): void {
  const seconds = (performance.now() - startMs) / 1000;
  attemptDuration.observe({ result, profile }, seconds);
  attempts.inc({ result, profile });
}

export function observeAlgorithm(startMs: number): void {
  algorithmDuration.observe((performance.now() - startMs) / 1000);
}

const incomingPods = new Counter({
  name: 'scheduler_queue_incoming_pods_total',
  help: 'Number of pods added to scheduling queues by event and queue type.',
  labelNames: ['queue', 'event'],
  registers: [metricsRegistry],
});

/** A pod entered a sub-queue ("active", "backoff", "unschedulable", "gated") because of `event`. */
export function observeIncomingPod(queue: 'active' | 'backoff' | 'unschedulable' | 'gated', event: string): void {
  incomingPods.inc({ queue, event });
}
