// A scripted ListerWatcher for unit tests of reflectors, informers and controllers: tests decide what each list
// returns and push watch events by hand, and can inspect the options every call was made with.
import { ApiError } from '../machinery/errors.js';
import type { ListerWatcher } from './reflector.js';
import type { ListOptions, ObjectList, WatchEvent, WatchOptions, Watcher } from './rest.js';

/** A watch stream fed by the test. */
export class FakeWatcher<T> implements Watcher<T> {
  private readonly queue: WatchEvent<T>[] = [];
  private wake: (() => void) | undefined;
  stopped = false;

  push(ev: WatchEvent<T>): void {
    this.queue.push(ev);
    this.wake?.();
  }

  /** End the stream as a server timeout would. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift() as WatchEvent<T>;
      if (this.stopped) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

type ListReply<T> = ObjectList<T> | ApiError | Error;

export class FakeListerWatcher<T> implements ListerWatcher<T> {
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly watchers: FakeWatcher<T>[] = [];
  /** Replies for the next list calls, in order; when empty, `defaultList` answers. */
  readonly listReplies: ListReply<T>[] = [];
  /** Errors for the next watch calls, in order (undefined: open a FakeWatcher). */
  readonly watchErrors: (Error | undefined)[] = [];
  private watchWaiters: (() => void)[] = [];

  constructor(public defaultList: ObjectList<T>) {}

  async list(opts: ListOptions): Promise<ObjectList<T>> {
    this.listCalls.push(opts);
    const reply = this.listReplies.shift() ?? this.defaultList;
    if (reply instanceof Error) throw reply;
    return structuredClone(reply);
  }

  async watch(opts: WatchOptions): Promise<Watcher<T>> {
    this.watchCalls.push(opts);
    const err = this.watchErrors.shift();
    if (err) throw err;
    const w = new FakeWatcher<T>();
    this.watchers.push(w);
    for (const resolve of this.watchWaiters.splice(0)) resolve();
    return w;
  }

  /** Resolves once `count` watches have been opened in total. */
  async waitForWatches(count: number): Promise<FakeWatcher<T>> {
    while (this.watchers.length < count) await new Promise<void>((resolve) => this.watchWaiters.push(resolve));
    return this.watchers[count - 1];
  }
}

/** A list reply with the given items at `resourceVersion`. */
export function listOf<T>(items: T[], resourceVersion: string, cont?: string): ObjectList<T> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) }, items };
}
