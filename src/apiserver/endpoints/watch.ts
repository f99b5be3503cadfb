// Watch: a chunked stream of {"type","object"} lines, as upstream. Starting points follow upstream's resourceVersion
// rules: unset or "0" sends the current state as ADDED events first; a number N sends every change after N; a
// compacted N ends with an ERROR event carrying 410 Expired. Selectors apply to both the old and the new object, so
// an object moving out of the selection is reported as DELETED and one moving in as ADDED.
import type { KubeObject } from '../../api/object.js';
import { apiVersionOf } from '../../api/object.js';
import { ApiError, fieldErr, type FieldError } from '../../machinery/errors.js';
import type { StoreWatchEvent, StoreWatchIndex } from '../registry/store.js';
import type { FieldSelector } from '../../machinery/fields.js';
import { negotiate } from './negotiation.js';
import { boolParam, intParam } from './params.js';
import { compileFilter } from './filter.js';
import type { ResourceRequest } from './resource.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How often bookmarks are offered when the client allows them (upstream: about once a minute). */
const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;
/** Tests shorten the bookmark interval with this variable (milliseconds), read once when the server starts. */
export const BOOKMARK_INTERVAL_ENV = 'SKIFF_WATCH_BOOKMARK_INTERVAL_MS';

function bookmarkIntervalFromEnv(): number {
  const raw = process.env[BOOKMARK_INTERVAL_ENV];
  const ms = raw ? Number(raw) : NaN;
  return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_BOOKMARK_INTERVAL_MS;
}
const BOOKMARK_INTERVAL_MS = bookmarkIntervalFromEnv();

/** Upstream's validateWatchOptions: the rules for sendInitialEvents, resourceVersionMatch and bookmarks on a watch. */
function validateWatchOptions(query: URLSearchParams): void {
  const errs: FieldError[] = [];
  const match = query.get('resourceVersionMatch') ?? '';
  const sendInitial = query.get('sendInitialEvents');
  if (sendInitial !== null) {
    if (match !== 'NotOlderThan') {
      errs.push(fieldErr.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
  }
  if (match) {
    if (sendInitial === null) {
      errs.push(fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    }
    if (match !== 'NotOlderThan') {
      errs.push(fieldErr.notSupported('resourceVersionMatch', match, ['NotOlderThan']));
    }
    if (query.get('continue')) {
      errs.push(fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
  }
  if (errs.length) throw ApiError.invalid('meta.k8s.io', 'ListOptions', '', errs);
}

export interface WatchOptions {
  /** Closes every open watch on shutdown; returns a function that unregisters. */
  registerLongRunning(close: () => void): () => void;
  /** Called when the watch starts and stops (metrics). */
  onStart?(resource: string, group: string): void;
  onStop?(resource: string, group: string): void;
  bookmarkIntervalMs?: number;
}

/** Encoded event lines per (shared, never mutated) watch event object and event type. */
const encodedLines = new WeakMap<object, Partial<Record<WatchEventType, string>>>();

export async function handleWatch(r: ResourceRequest, opts: WatchOptions): Promise<void> {
  const neg = negotiate(r.req.headers.accept, r.query.get('includeObject'));
  // Not listRequest(): a watch may name resourceVersionMatch without a resourceVersion (watch-list from "now").
  validateWatchOptions(r.query);
  const { filter: selected, filtered, fields } = compileFilter(r.served, r.query, r.services);
  const filter = selected ?? (() => true);
  const rvParam = r.query.get('resourceVersion') ?? '';
  const bookmarks = boolParam(r.query, 'allowWatchBookmarks');
  const sendInitialParam = r.query.get('sendInitialEvents');
  const sendInitial = sendInitialParam === 'true';
  const timeoutSeconds = intParam(r.query, 'timeoutSeconds');
  const store = r.served.store;
  const info = r.served.info;
  const apiVersion = apiVersionOf(info.group, info.version);

  // Where to start, and which objects to announce first.
  let initial: KubeObject[] = [];
  let startRevision: number;
  const wantsState = rvParam === '' || rvParam === '0' || sendInitial;
  if (wantsState && sendInitialParam !== 'false') {
    const current = await store.list({ namespace: r.namespace, resourceVersion: rvParam || undefined, filter: selected, filtered });
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
  // Plain JSON of a stored object is the same line for every watcher that sends it: encode it once.
  const shareable = neg.output === 'object' && !r.served.converter;
  const encode = (type: WatchEventType, obj: KubeObject | object): string => {
    if (shareable && type !== 'ERROR' && type !== 'BOOKMARK') {
      let lines = encodedLines.get(obj);
      if (!lines) encodedLines.set(obj, (lines = {}));
      return (lines[type] ??= JSON.stringify({ type, object: obj }) + '\n');
    }
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
  // A stored object's event line made from its stored text (see Store.getJson), when the store could give it.
  const encodePut = (type: 'ADDED' | 'MODIFIED', e: StoreWatchEvent & { type: 'put' }): string => {
    if (!shareable) return encode(type, e.object);
    // Keyed by the (shared) event: its object is decoded only if the stored text cannot be used.
    let lines = encodedLines.get(e);
    if (!lines) encodedLines.set(e, (lines = {}));
    const cached = lines[type];
    if (cached !== undefined) return cached;
    const json = e.json;
    return (lines[type] = json === undefined ? JSON.stringify({ type, object: e.object }) + '\n' : `{"type":"${type}","object":${json}}\n`);
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
    opts.onStop?.(info.resource, info.group);
    res.end();
  };
  const unregister = opts.registerLongRunning(close);
  opts.onStart?.(info.resource, info.group);
  r.req.on('close', close);
  res.on('error', close);

  const chunks: string[] = [];
  for (const obj of initial) chunks.push(encode('ADDED', obj));
  // Without bookmarks the client simply gets the initial ADDED events, as upstream.
  if (sendInitial && bookmarks) chunks.push(bookmark(startRevision, { 'k8s.io/initial-events-end': 'true' }));
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
        const rv = e.type === 'put' ? e.revision : Number(e.object.metadata.resourceVersion);
        if (rv <= lastRevision && e.type !== 'delete') continue;
        lastRevision = Math.max(lastRevision, rv);
        if (e.type === 'delete') {
          if (filter(e.object)) out.push(encode('DELETED', e.object));
          continue;
        }
        const now = filter(e.object);
        // Unfiltered watches never look at the previous object (decoding it is left to those that do).
        const before = !e.hasPrev ? false : selected ? selected(e.prev!) : true;
        if (now && before) out.push(encodePut('MODIFIED', e));
        else if (now) out.push(encodePut('ADDED', e));
        else if (before && e.prev) {
          // Leaving the selection: upstream reports the last matching state at the revision of the change.
          const gone = { ...e.prev, metadata: { ...e.prev.metadata, resourceVersion: e.object.metadata.resourceVersion } };
          out.push(encode('DELETED', gone));
        }
      }
      if (out.length) res.write(out.length === 1 ? out[0] : out.join(''));
    },
    onError: (err) => {
      if (closed) return;
      void (async () => {
        let status;
        if (err.code === 'Compacted') {
          // Upstream names the requested revision and the newest one that is gone.
          const compacted = await store.oldestRevision().then((oldest) => oldest - 1, () => startRevision);
          status = ApiError.expired(`too old resource version: ${startRevision} (${compacted})`).status;
        } else {
          status = ApiError.internal(err.message).status;
        }
        if (closed) return;
        res.write(encode('ERROR', status));
        close();
      })();
    },
  }, watchIndex(r, fields));
  if (closed) handles.watch.stop();
}

/** Fields whose exact-value watches are indexed, as upstream's watch cache indexes pods by spec.nodeName. */
const INDEXED_FIELDS = ['spec.nodeName', 'metadata.name'];

/**
 * The index hint for a watch whose field selector demands one value of an indexed field (kubelets watch their pods
 * by spec.nodeName, single objects by metadata.name), so the store hands it only events carrying that value.
 */
function watchIndex(r: ResourceRequest, fields: FieldSelector | undefined): StoreWatchIndex | undefined {
  if (!fields || r.served.converter) return undefined;
  const { services } = r;
  const { info } = r.served;
  for (const field of INDEXED_FIELDS) {
    const value = fields.requiresExactMatch(field);
    if (value === undefined) continue;
    const valueOf =
      field === 'metadata.name'
        ? (obj: KubeObject) => obj.metadata.name ?? ''
        : (obj: KubeObject) => services.selectableFields(info, obj)[field] ?? '';
    return { field, value, valueOf };
  }
  return undefined;
}
