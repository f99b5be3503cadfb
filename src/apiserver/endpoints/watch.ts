// Watch: a chunked stream of {"type","object"} lines, as upstream. Starting points follow upstream's resourceVersion
// rules: unset or "0" sends the current state as ADDED events first; a number N sends every change after N; a
// compacted N ends with an ERROR event carrying 410 Expired. Selectors apply to both the old and the new object, so
// an object moving out of the selection is reported as DELETED and one moving in as ADDED.
import type { KubeObject } from '../../api/object.js';
import { apiVersionOf } from '../../api/object.js';
import { ApiError } from '../../machinery/errors.js';
import type { StoreWatchEvent } from '../registry/store.js';
import { negotiate } from './negotiation.js';
import { boolParam, intParam } from './params.js';
import { listRequest, type ResourceRequest } from './resource.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How often bookmarks are offered when the client allows them (upstream: about once a minute). */
const BOOKMARK_INTERVAL_MS = 60_000;

export interface WatchOptions {
  /** Closes every open watch on shutdown; returns a function that unregisters. */
  registerLongRunning(close: () => void): () => void;
  /** Called when the watch starts and stops (metrics). */
  onStart?(): void;
  onStop?(): void;
  bookmarkIntervalMs?: number;
}

export async function handleWatch(r: ResourceRequest, opts: WatchOptions): Promise<void> {
  const neg = negotiate(r.req.headers.accept, r.query.get('includeObject'));
  const list = listRequest(r);
  const filter = list.filter ?? (() => true);
  const rvParam = r.query.get('resourceVersion') ?? '';
  const bookmarks = boolParam(r.query, 'allowWatchBookmarks');
  const sendInitialParam = r.query.get('sendInitialEvents');
  const sendInitial = sendInitialParam === 'true';
  if (sendInitialParam !== null) {
    if (list.resourceVersionMatch !== 'NotOlderThan') {
      throw ApiError.invalid('meta.k8s.io', 'ListOptions', '', [
        { type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" },
      ]);
    }
    if (sendInitial && !bookmarks) {
      throw ApiError.invalid('meta.k8s.io', 'ListOptions', '', [
        { type: 'FieldValueForbidden', field: 'allowWatchBookmarks', detail: 'allowWatchBookmarks must be set to true when sendInitialEvents is set' },
      ]);
    }
  } else if (list.resourceVersionMatch) {
    throw ApiError.badRequest('resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  }
  const timeoutSeconds = intParam(r.query, 'timeoutSeconds');
  const store = r.served.store;
  const info = r.served.info;
  const apiVersion = apiVersionOf(info.group, info.version);

  // Where to start, and which objects to announce first.
  let initial: KubeObject[] = [];
  let startRevision: number;
  const wantsState = rvParam === '' || rvParam === '0' || sendInitial;
  if (wantsState && sendInitialParam !== 'false') {
    const current = await store.list({ namespace: r.namespace, resourceVersion: rvParam || undefined, filter, filtered: Boolean(list.filter) });
    initial = current.items;
    startRevision = Number(current.metadata.resourceVersion);
  } else if (rvParam === '' || rvParam === '0') {
    startRevision = await store.currentRevision();
  } else {
    if (!/^\d+$/.test(rvParam)) throw ApiError.badRequest(`invalid resource version: "${rvParam}"`);
    startRevision = Number(rvParam);
  }

  const res = r.res;
  res.writeHead(200, {
    'Content-Type': neg.output === 'table' ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  let sentColumns = false;
  const encode = (type: WatchEventType, obj: KubeObject | object): string => {
    let out: unknown = obj;
    if (type !== 'ERROR' && type !== 'BOOKMARK' && 'metadata' in obj) {
      const served = r.served.converter ? r.served.converter.fromStored(obj as KubeObject) : (obj as KubeObject);
      out = served;
      if (neg.output === 'table') {
        const printer = r.services.tables.printerFor(info.group, info.resource);
        out = r.services.tables.toTable(printer, [served], {
          now: r.services.now(),
          includeObject: neg.includeObject,
          omitColumnDefinitions: sentColumns,
        });
        sentColumns = true;
      } else if (neg.output === 'metadata') {
        out = { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: served.metadata };
      }
    }
    return JSON.stringify({ type, object: out }) + '\n';
  };
  const bookmark = (revision: number, annotations?: Record<string, string>) =>
    encode('BOOKMARK', {
      kind: info.kind,
      apiVersion,
      metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) },
    });

  let lastRevision = startRevision;
  let closed = false;
  // Filled in below; close() may run before either exists (client gone during set-up).
  const handles: { watch?: { stop(): void }; timer?: NodeJS.Timeout } = {};
  const close = () => {
    if (closed) return;
    closed = true;
    handles.watch?.stop();
    if (handles.timer) clearTimeout(handles.timer);
    unregister();
    opts.onStop?.();
    res.end();
  };
  const unregister = opts.registerLongRunning(close);
  opts.onStart?.();
  r.req.on('close', close);
  res.on('error', close);

  const chunks: string[] = [];
  for (const obj of initial) chunks.push(encode('ADDED', obj));
  if (sendInitial) chunks.push(bookmark(startRevision, { 'k8s.io/initial-events-end': 'true' }));
  if (chunks.length) res.write(chunks.join(''));

  const seconds = timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : 1800 + Math.floor(Math.random() * 1800);
  handles.timer = setTimeout(close, seconds * 1000);

  handles.watch = store.watch(r.namespace, startRevision, bookmarks ? (opts.bookmarkIntervalMs ?? BOOKMARK_INTERVAL_MS) : undefined, {
    onEvents: (events: StoreWatchEvent[]) => {
      if (closed) return;
      const out: string[] = [];
      for (const e of events) {
        if (e.type === 'progress') {
          if (bookmarks && e.revision > lastRevision) {
            lastRevision = e.revision;
            out.push(bookmark(e.revision));
          }
          continue;
        }
        const rv = Number(e.object.metadata.resourceVersion);
        if (rv <= lastRevision && e.type !== 'delete') continue;
        lastRevision = Math.max(lastRevision, rv);
        if (e.type === 'delete') {
          if (filter(e.object)) out.push(encode('DELETED', e.object));
          continue;
        }
        const now = filter(e.object);
        const before = e.prev ? filter(e.prev) : false;
        if (now && before) out.push(encode('MODIFIED', e.object));
        else if (now) out.push(encode('ADDED', e.object));
        else if (before) out.push(encode('DELETED', e.object));
      }
      if (out.length) res.write(out.join(''));
    },
    onError: (err) => {
      if (closed) return;
      const status =
        err.code === 'Compacted'
          ? ApiError.expired(`too old resource version: ${startRevision} (${err.message})`).status
          : ApiError.internal(err.message).status;
      res.write(encode('ERROR', status));
      close();
    },
  });
  if (closed) handles.watch.stop();
}
