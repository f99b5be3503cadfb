// Event recorders as client-go has them. CoreEventRecorder (tools/record) writes core/v1 Events through an event
// correlator: identical events bump `count`/`lastTimestamp` on the first one (a patch), more than 10 similar events
// (same object, type and reason, different messages) within 10 minutes collapse into one "(combined from similar
// events)" event, and a token bucket per object, type and reason (burst 25, one per 5 minutes) drops floods. EventRecorder
// (tools/events) writes events.k8s.io/v1 Events: a repeat of an identical event turns the first into a series.
// Recording never blocks or throws: writes run in the background (core/v1 one at a time, as tools/record's sink
// watcher writes them; events.k8s.io/v1 side by side, as tools/events starts a goroutine per event); flush() waits
// for them. As client-go's broadcasters, at most MAX_QUEUED_EVENTS wait to be written and later ones are dropped.
import type { Event as CoreEvent, EventSource, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { isNotFound } from '../machinery/errors.js';
import { realClock, type Clock } from './clock.js';
import { formatMicroTime, formatTime } from '../machinery/time.js';
import { BucketRateLimiter } from './rate-limiter.js';
import type { ObjectLike, ResourceClient, RestClient } from './rest.js';

export type EventType = 'Normal' | 'Warning';

/** The ObjectReference an event points at (client-go's reference.GetReference). */
export function objectReference(obj: ObjectLike): ObjectReference {
  const m = obj.metadata ?? {};
  return {
    ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
    ...(obj.kind ? { kind: obj.kind } : {}),
    ...(m.namespace ? { namespace: m.namespace } : {}),
    ...(m.name ? { name: m.name } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

let lastNanos = 0n;

/**
 * Upstream event names: "<object name>.<unix nanoseconds in hex>". Our clock has milliseconds, so the nanoseconds are
 * kept strictly increasing to keep two events of one millisecond apart.
 */
function eventName(objectName: string, nowMs: number): string {
  const nanos = BigInt(Math.floor(nowMs)) * 1_000_000n;
  lastNanos = nanos > lastNanos ? nanos : lastNanos + 1n;
  return `${objectName}.${lastNanos.toString(16)}`;
}


/** Events waiting to be written beyond which new ones are dropped (client-go's maxQueuedEvents, DropIfChannelFull). */
export const MAX_QUEUED_EVENTS = 1000;

/** Serialises background writes and lets callers wait for them; drops writes while MAX_QUEUED_EVENTS are waiting. */
class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Writes dropped because the queue was full. */
  dropped = 0;
  constructor(private readonly onError: (err: unknown) => void) {}
  push(write: () => Promise<void>): void {
    if (this.queued >= MAX_QUEUED_EVENTS) {
      this.dropped++;
      return;
    }
    this.queued++;
    this.tail = this.tail
      .then(write)
      .catch(this.onError)
      .finally(() => this.queued--);
  }
  flush(): Promise<void> {
    return this.tail;
  }
}

/**
 * Background writes that run side by side, as client-go's events.k8s.io/v1 broadcaster writes each event in a goroutine
 * of its own; writes of one event name (a create and its series patches) still run in order. Drops writes while
 * MAX_QUEUED_EVENTS are unfinished.
 */
class ConcurrentWrites {
  /** The last write of each event name still running. */
  private readonly tails = new Map<string, Promise<void>>();
  private pending = 0;
  /** Writes dropped because MAX_QUEUED_EVENTS were unfinished. */
  dropped = 0;
  constructor(private readonly onError: (err: unknown) => void) {}
  push(name: string, write: () => Promise<void>): void {
    if (this.pending >= MAX_QUEUED_EVENTS) {
      this.dropped++;
      return;
    }
    this.pending++;
    const before = this.tails.get(name);
    const tail: Promise<void> = (before ? before.then(write) : write())
      .catch(this.onError)
      .finally(() => {
        this.pending--;
        if (this.tails.get(name) === tail) this.tails.delete(name);
      });
    this.tails.set(name, tail);
  }
  /** Waits for every write pushed so far. */
  async flush(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}

export interface CoreEventRecorderOptions {
  /** source.component and reportingComponent, e.g. "deployment-controller". */
  component: string;
  host?: string;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

const MAX_SIMILAR_EVENTS = 10;
const SIMILAR_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;
/** Caches are cleared beyond this many keys (client-go keeps 4096-entry LRUs). */
const CACHE_LIMIT = 4096;

interface Observed {
  name: string;
  count: number;
  firstTimestamp: string;
}

export class CoreEventRecorder {
  private readonly events: ResourceClient<CoreEvent>;
  private readonly clock: Clock;
  private readonly source: EventSource;
  private readonly writes: WriteQueue;
  private readonly similar = new Map<string, { messages: Set<string>; lastMs: number }>();
  private readonly observed = new Map<string, Observed>();
  private readonly spam = new Map<string, BucketRateLimiter<string>>();

  constructor(client: RestClient, private readonly opts: CoreEventRecorderOptions) {
    this.events = client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' });
    this.clock = opts.clock ?? realClock;
    this.source = { component: opts.component, ...(opts.host ? { host: opts.host } : {}) };
    this.writes = new WriteQueue(opts.onError ?? ((e) => console.error('event recording failed:', e)));
  }

  event(obj: ObjectLike, type: EventType, reason: string, message: string): void {
    const ref = objectReference(obj);
    if (!ref.name) return;
    const now = this.clock.now();
    const objectKey = [this.source.component, this.source.host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion].join('\u0000');
    if (this.spamFiltered(`${objectKey}\u0000${type}\u0000${reason}`)) return;

    // Aggregate similar events (same object, type and reason) once too many distinct messages arrive.
    const aggregateKey = `${objectKey}\u0000${type}\u0000${reason}`;
    let record = this.similar.get(aggregateKey);
    if (!record || now - record.lastMs > SIMILAR_INTERVAL_MS) record = { messages: new Set(), lastMs: now };
    record.messages.add(message);
    record.lastMs = now;
    this.remember(this.similar, aggregateKey, record);
    const aggregated = record.messages.size >= MAX_SIMILAR_EVENTS;
    const key = aggregated ? aggregateKey : `${aggregateKey}\u0000${message}`;
    const text = aggregated ? `(combined from similar events): ${message}` : message;

    const namespace = ref.namespace || 'default';
    const stamp = formatTime(new Date(now));
    const seen = this.observed.get(key);
    const next: Observed = seen ? { ...seen, count: seen.count + 1 } : { name: eventName(ref.name, now), count: 1, firstTimestamp: stamp };
    this.remember(this.observed, key, next);
    const fresh: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: next.name, namespace },
      involvedObject: ref,
      reason,
      message: text,
      source: this.source,
      firstTimestamp: next.firstTimestamp,
      lastTimestamp: stamp,
      count: next.count,
      type,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    };
    this.writes.push(async () => {
      if (next.count > 1) {
        try {
          await this.events.patch(next.name, { count: next.count, lastTimestamp: stamp, message: text }, { namespace, type: 'strategic' });
          return;
        } catch (e) {
          // The first event is gone (TTL): record this occurrence anew under the same name.
          if (!isNotFound(e)) throw e;
        }
      }
      await this.events.create(fresh, { namespace });
    });
  }

  /** Wait until every recorded event has been written (or failed). */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** Events dropped because MAX_QUEUED_EVENTS were waiting to be written. */
  get dropped(): number {
    return this.writes.dropped;
  }

  private spamFiltered(key: string): boolean {
    let bucket = this.spam.get(key);
    if (!bucket) {
      bucket = new BucketRateLimiter<string>(SPAM_QPS, SPAM_BURST, this.clock);
      this.remember(this.spam, key, bucket);
    }
    return !bucket.tryAccept();
  }

  private remember<V>(cache: Map<string, V>, key: string, value: V): void {
    if (!cache.has(key) && cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
  }
}

export interface EventRecorderOptions {
  /** reportingController, e.g. "skiff.io/deployment-controller". */
  reportingController: string;
  reportingInstance: string;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

/** events.k8s.io/v1 recorder: identical events (same regarding, related, reason, action, note, type) become a series. */
export class EventRecorder {
  private readonly events: ResourceClient<EventsV1Event>;
  private readonly clock: Clock;
  private readonly writes: ConcurrentWrites;
  private readonly cache = new Map<string, EventsV1Event>();

  constructor(client: RestClient, private readonly opts: EventRecorderOptions) {
    this.events = client.resource<EventsV1Event>({ group: 'events.k8s.io', version: 'v1', resource: 'events' });
    this.clock = opts.clock ?? realClock;
    this.writes = new ConcurrentWrites(opts.onError ?? ((e) => console.error('event recording failed:', e)));
  }

  eventf(regarding: ObjectLike, related: ObjectLike | undefined, type: EventType, reason: string, action: string, note: string): void {
    const ref = objectReference(regarding);
    if (!ref.name) return;
    const rel = related ? objectReference(related) : undefined;
    const now = this.clock.now();
    const key = JSON.stringify([this.opts.reportingController, this.opts.reportingInstance, ref, rel, type, reason, action, note]);
    const known = this.cache.get(key);
    let toWrite: EventsV1Event;
    if (known) {
      const count = (known.series?.count ?? 1) + 1;
      const series = { count, lastObservedTime: formatMicroTime(new Date(now)) };
      this.cache.set(key, { ...known, series });
      // Later repeats only update the cached series, as client-go does between its periodic heartbeats.
      if (known.series) return;
      toWrite = { ...known, series };
    } else {
      toWrite = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: eventName(ref.name, now), namespace: ref.namespace || 'default' },
        eventTime: formatMicroTime(new Date(now)),
        reportingController: this.opts.reportingController,
        reportingInstance: this.opts.reportingInstance,
        action,
        reason,
        regarding: ref,
        ...(rel ? { related: rel } : {}),
        note,
        type,
      };
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, toWrite);
    }
    const namespace = toWrite.metadata?.namespace ?? 'default';
    const name = toWrite.metadata?.name ?? '';
    this.writes.push(name, async () => {
      if (toWrite.series) {
        try {
          await this.events.patch(name, { series: toWrite.series }, { namespace, type: 'merge' });
          return;
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      await this.events.create(toWrite, { namespace });
    });
  }

  /** Write the current count of every cached series (client-go's periodic heartbeat); returns when done. */
  refreshSeries(): Promise<void> {
    for (const ev of this.cache.values()) {
      if (!ev.series) continue;
      const name = ev.metadata?.name ?? '';
      const namespace = ev.metadata?.namespace ?? 'default';
      const series = ev.series;
      this.writes.push(name, async () => {
        await this.events.patch(name, { series }, { namespace, type: 'merge' });
      });
    }
    return this.flush();
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** Events dropped because MAX_QUEUED_EVENTS were waiting to be written. */
  get dropped(): number {
    return this.writes.dropped;
  }
}
