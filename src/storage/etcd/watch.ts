// One etcd watch on its own gRPC stream, with prev values, resumed after disconnects from the next revision so no
// event is lost or repeated, and with progress events for bookmarks.
//
// Progress: etcd's own periodic notifications (progress_notify) reach only watchers that are caught up, so they are
// exact. For the caller's interval we also send WatchProgress requests; etcd before 3.4.25 may answer one before
// events already queued for the watcher, so its revision is held briefly and only used once the watcher is known to be
// caught up (never ahead of an event delivered later).
import type { Etcd3, IDuplexStream, IEvent, IKeyValue, IWatchRequest, IWatchResponse } from 'etcd3';
import { prefixEnd } from '../keys.js';
import { StorageError, type KeyValue, type Watch, type WatchEvent, type WatchHandler, type WatchOptions } from '../types.js';
import { eventRevision } from '../watch-hub.js';

/** How long a requested progress revision waits for events that etcd may have sent out of order. */
const PROGRESS_HOLD_MS = 50;
const MAX_BACKOFF_MS = 5000;

function kvOf(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

function toEvent(ev: IEvent): WatchEvent {
  const kv = kvOf(ev.kv);
  const prev = ev.prev_kv ? kvOf(ev.prev_kv) : undefined;
  if (String(ev.type).toLowerCase() === 'delete') {
    return {
      type: 'delete',
      key: kv.key,
      revision: kv.modRevision,
      // etcd omits prev_kv if that revision was compacted meanwhile.
      prev: prev ?? { key: kv.key, value: '', createRevision: 0, modRevision: 0 },
    };
  }
  return prev ? { type: 'put', kv, prev } : { type: 'put', kv };
}

export class EtcdWatch implements Watch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private stopped = false;
  /** Next revision to receive (etcd start_revision); 0 until the first watch is created "from now". */
  private nextRevision: number;
  /** Highest revision delivered to the handler (event or progress). */
  private delivered: number;
  /** Store revision when the current stream's watch was created; caught up once events reach it. */
  private createdAt = 0;
  private caughtUp = false;
  private watchId: string | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private heldProgress: NodeJS.Timeout | undefined;
  private backoffMs = 100;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly opts: WatchOptions,
    private readonly handler: WatchHandler,
    private readonly onStop: () => void,
  ) {
    this.nextRevision = opts.afterRevision > 0 ? opts.afterRevision + 1 : 0;
    this.delivered = opts.afterRevision;
    void this.connect();
    if (opts.progressIntervalMs && opts.progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => this.requestProgress(), opts.progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    if (this.heldProgress) clearTimeout(this.heldProgress);
    this.closeStream();
    this.onStop();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.client.watchClient.watch();
    } catch {
      this.retryLater();
      return;
    }
    if (this.stopped) {
      stream.end();
      return;
    }
    this.stream = stream;
    this.watchId = undefined;
    this.caughtUp = false;
    stream.on('data', (res: IWatchResponse) => this.onResponse(stream, res));
    stream.on('error', () => this.onBroken(stream));
    stream.on('end', () => this.onBroken(stream));
    stream.write({
      create_request: {
        key: Buffer.from(this.prefix === '' ? '\0' : this.prefix),
        range_end: Buffer.from(this.prefix === '' ? '\0' : prefixEnd(this.prefix)),
        start_revision: this.nextRevision,
        prev_kv: true,
        progress_notify: Boolean(this.opts.progressIntervalMs),
      },
    });
  }

  private onResponse(stream: IDuplexStream<IWatchRequest, IWatchResponse>, res: IWatchResponse): void {
    if (this.stopped || stream !== this.stream) return;
    const headerRevision = Number(res.header.revision);
    if (res.canceled) {
      if (Number(res.compact_revision) > 0) {
        this.fail(
          new StorageError(
            'Compacted',
            this.prefix,
            `required revision ${this.nextRevision - 1} has been compacted (compacted revision ${res.compact_revision})`,
          ),
        );
      } else {
        this.fail(new StorageError('Internal', this.prefix, `etcd canceled the watch: ${res.cancel_reason}`));
      }
      return;
    }
    if (res.created) {
      this.watchId = res.watch_id;
      this.createdAt = headerRevision;
      if (this.nextRevision === 0) this.nextRevision = headerRevision + 1;
      this.caughtUp = this.nextRevision > headerRevision;
      this.backoffMs = 100;
      return;
    }
    if (res.events.length > 0) {
      const events = res.events.map(toEvent).filter((e) => eventRevision(e) > this.delivered);
      if (events.length === 0) return;
      const last = eventRevision(events[events.length - 1]!);
      this.delivered = last;
      this.nextRevision = last + 1;
      if (last >= this.createdAt) this.caughtUp = true;
      this.emit(events);
      return;
    }
    if (res.watch_id === this.watchId) {
      // etcd's own notification: only sent to caught-up watchers, so exact.
      this.caughtUp = true;
      this.emitProgress(headerRevision);
    } else if (this.caughtUp) {
      this.holdProgress(headerRevision);
    }
  }

  private holdProgress(revision: number): void {
    if (this.heldProgress) return;
    this.heldProgress = setTimeout(() => {
      this.heldProgress = undefined;
      if (!this.stopped) this.emitProgress(revision);
    }, PROGRESS_HOLD_MS);
  }

  private emitProgress(revision: number): void {
    if (revision <= this.delivered) return;
    this.delivered = revision;
    this.nextRevision = Math.max(this.nextRevision, revision + 1);
    this.emit([{ type: 'progress', revision }]);
  }

  private requestProgress(): void {
    if (this.stopped || !this.stream || this.watchId === undefined) return;
    try {
      this.stream.write({ progress_request: {} });
    } catch {
      // The stream is failing; onBroken reconnects.
    }
  }

  private emit(events: WatchEvent[]): void {
    try {
      this.handler.onEvents(events);
    } catch (err) {
      console.error('storage watch handler threw:', err);
    }
  }

  private fail(err: StorageError): void {
    if (this.stopped) return;
    this.stop();
    try {
      this.handler.onError(err);
    } catch (e) {
      console.error('storage watch error handler threw:', e);
    }
  }

  private onBroken(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
    if (this.stopped || stream !== this.stream) return;
    this.closeStream();
    this.retryLater();
  }

  private retryLater(): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    setTimeout(() => void this.connect(), delay).unref();
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    if (!s) return;
    // Half-close instead of cancel(): the etcd3 client counts a cancelled stream as a host failure and would trip
    // its circuit breaker for every stopped watch.
    try {
      if (this.watchId !== undefined) s.write({ cancel_request: { watch_id: this.watchId } });
      s.end();
    } catch {
      // Already closed.
    }
  }
}
