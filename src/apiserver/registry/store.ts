// The generic store: what every resource shares (upstream's genericregistry.Store). Keys, uid and timestamps,
// generation, status/spec separation, optimistic concurrency, finalizers and graceful deletion, list filtering
// and paging. Kind-specific behaviour comes from a Strategy; admission plugins run around validation.
import { randomUUID } from 'node:crypto';
import type { KubeObject, KubeList, ObjectMeta } from '../../api/object.js';
import { apiVersionOf, deepClone, isPlainObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/catalog.js';
import { storagePrefix } from '../../api/catalog.js';
import { ApiError, fieldErr, type FieldError } from '../../machinery/errors.js';
import { FINALIZER_DELETE_DEPENDENTS as FINALIZER_FOREGROUND, FINALIZER_ORPHAN_DEPENDENTS as FINALIZER_ORPHAN, validateObjectMeta, validateObjectMetaUpdate } from '../../machinery/validation.js';
import type { KeyValue, Storage, Watch, WatchEvent, WatchIndex } from '../../storage/types.js';
import { StorageError, isStorageError } from '../../storage/types.js';
import type { Strategy } from './strategy.js';
import type { AdmissionAttributes, MutatingAdmission, Operation, ValidatingAdmission } from '../admission/types.js';
import type { UserInfo } from '../auth/user.js';
import { formatTime } from '../../machinery/time.js';
import { jsonEqual } from '../../machinery/patch/json.js';

export interface StoreOptions {
  info: ResourceInfo;
  storage: Storage;
  strategy: Strategy;
  mutating?: readonly MutatingAdmission[];
  validating?: readonly ValidatingAdmission[];
  now?: () => Date;
  /** Kinds that keep metadata.generation (upstream sets it only for kinds whose strategy does). */
  tracksGeneration?: boolean;
  /** Seconds after which created objects expire (events). */
  ttlSeconds?: number;
  /** Graceful deletion (pods): returns the grace period to apply, or 0 for immediate deletion. */
  gracefulDeletion?: (obj: KubeObject, requested: number | undefined) => number;
  /** What deleting without a propagation policy does to dependents (upstream's DefaultGarbageCollectionPolicy). */
  defaultGarbageCollectionPolicy?: 'OrphanDependents' | 'DeleteDependents';
  /** Kind-specific deletion blockers beyond metadata.finalizers (namespaces: spec.finalizers). */
  deletionHooks?: {
    blocksDeletion(obj: KubeObject): boolean;
    /** Changes made when the object is marked for deletion (namespaces: status.phase Terminating). */
    mark(obj: KubeObject): void;
  };
}

export interface WriteContext {
  user: UserInfo;
  dryRun: boolean;
  /**
   * '' for the main resource, 'status' for the status subresource; any other name (binding, ...) is a
   * subresource whose handler computes the whole new object: only the kind's full validation applies.
   */
  subresource?: string;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
}

export interface DeleteResult {
  /** The object as it was deleted (or as it is now, when deletion is pending on finalizers or a grace period). */
  object: KubeObject;
  /** True when the object is gone from storage; false when only marked for deletion. */
  deleted: boolean;
}

export type StoreWatchEvent =
  /**
   * `prev` (the object before the change, when it existed) is decoded on first use; `hasPrev` says whether there is
   * one without decoding it. Events are shared by every watcher of the store: handlers must not mutate them.
   */
  | {
      type: 'put';
      /** Decoded on first use: a plain JSON watch writes `json` and never needs it. */
      readonly object: KubeObject;
      /** The object's resourceVersion as a number (the event's revision), without decoding it. */
      readonly revision: number;
      readonly prev: KubeObject | undefined;
      hasPrev: boolean;
      /** `object` as JSON text made from the stored text (resourceVersion first in metadata), when that can be done. */
      readonly json?: string;
    }
  | { type: 'delete'; object: KubeObject }
  | { type: 'progress'; revision: number };

/**
 * A watch that selects `field` = `value` (e.g. pods by spec.nodeName): the backend may then hand it only events whose
 * object or previous object has that value. `valueOf` reads the field of a stored object; it must be the same
 * function for every watch naming the same field of this store.
 */
export interface StoreWatchIndex {
  field: string;
  value: string;
  valueOf(obj: KubeObject): string;
}

export interface StoreWatchHandler {
  onEvents(events: StoreWatchEvent[]): void;
  onError(err: StorageError): void;
}

export interface ListRequest {
  namespace?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan' | '';
  /** Returns true for objects to keep; selectors are compiled by the caller. */
  filter?: (obj: KubeObject) => boolean;
  /** Whether a filter is in effect (remainingItemCount is only exact without one). */
  filtered?: boolean;
}

/** Transforms the current object (undefined when absent) into the desired one; used by update and patch. */
export type UpdateFn = (current: KubeObject | undefined) => Promise<KubeObject> | KubeObject;

const CONTINUE_VERSION = 'meta.k8s.io/v1';
/** How many extra storage pages a filtered list may read before it returns a short page with a continue token. */
const MAX_FILTER_PAGES = 64;

export class Store {
  readonly info: ResourceInfo;
  readonly prefix: string;
  private readonly storage: Storage;
  private readonly strategy: Strategy;
  private readonly mutating: readonly MutatingAdmission[];
  private readonly validating: readonly ValidatingAdmission[];
  private readonly now: () => Date;
  private readonly hasStatus: boolean;
  private readonly decodedEvents = new WeakMap<WatchEvent, StoreWatchEvent>();
  /** The stored text and revision of objects `create` returned, for `writtenJson`. */
  private readonly written = new WeakMap<KubeObject, KeyValue>();

  constructor(private readonly opts: StoreOptions) {
    this.info = opts.info;
    this.storage = opts.storage;
    this.strategy = opts.strategy;
    this.mutating = opts.mutating ?? [];
    this.validating = opts.validating ?? [];
    this.now = opts.now ?? (() => new Date());
    this.prefix = storagePrefix(opts.info);
    this.hasStatus = opts.info.subresources.some((s) => s.name === 'status');
  }

  get apiVersion(): string {
    return apiVersionOf(this.info.group, this.info.version);
  }

  key(namespace: string | undefined, name: string): string {
    return this.info.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** Prefix of every key in one namespace (or the whole resource). */
  listPrefix(namespace?: string): string {
    return this.info.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  decode(kv: KeyValue): KubeObject {
    const obj = JSON.parse(kv.value) as KubeObject;
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  private encode(obj: KubeObject): string {
    // resourceVersion is derived from the storage revision on read, never stored. Without one (creates) the object
    // is written as it is: the same text as with it left out of a copy.
    if (obj.metadata.resourceVersion === undefined) return JSON.stringify(obj);
    const { resourceVersion: _rv, ...meta } = obj.metadata;
    return JSON.stringify({ ...obj, metadata: meta });
  }

  private notFound(name: string): ApiError {
    return ApiError.notFound(this.info.group, this.info.resource, name);
  }

  /**
   * The object `create` just returned, as JSON text made from the text it was stored as (resourceVersion first in
   * metadata, as getJson), or undefined for other objects. Only valid while the caller has not changed the object.
   */
  writtenJson(obj: KubeObject): string | undefined {
    const kv = this.written.get(obj);
    return kv ? storedJsonWithVersion(kv) : undefined;
  }

  async get(namespace: string | undefined, name: string, resourceVersion?: string): Promise<KubeObject> {
    return this.decode(await this.getKv(namespace, name, resourceVersion));
  }

  /** The object `get` returns, as JSON text: the stored JSON with its resourceVersion spliced in (see listJson). */
  async getJson(namespace: string | undefined, name: string, resourceVersion?: string): Promise<string> {
    const kv = await this.getKv(namespace, name, resourceVersion);
    return storedJsonWithVersion(kv) ?? JSON.stringify(this.decode(kv));
  }

  private async getKv(namespace: string | undefined, name: string, resourceVersion: string | undefined): Promise<KeyValue> {
    if (resourceVersion && resourceVersion !== '0') await this.ensureFresh(resourceVersion);
    const kv = await this.storage.get(this.key(namespace, name));
    if (!kv) throw this.notFound(name);
    return kv;
  }

  /** Upstream answers a read at a resourceVersion newer than the store with 504 "Too large resource version". */
  private async ensureFresh(resourceVersion: string): Promise<void> {
    const rv = parseResourceVersion(resourceVersion);
    const current = await this.storage.currentRevision();
    if (rv > current) {
      throw new ApiError({
        message: `Timeout: Too large resource version: ${rv}, current: ${current}`,
        reason: 'Timeout',
        code: 504,
        details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
      });
    }
  }

  async list(req: ListRequest): Promise<KubeList> {
    const filter = req.filter;
    const { metadata, items } = await this.listItems(req, (kv) => this.decode(kv), filter ? (obj) => filter(obj) : undefined);
    return { apiVersion: this.apiVersion, kind: `${this.info.kind}List`, metadata, items };
  }

  /**
   * An unfiltered list with each item as JSON text: the stored JSON with its resourceVersion spliced into metadata,
   * without decoding and re-encoding every object (a LIST of 5,000 pods spends most of its time there). The items are
   * the objects `list` returns, as JSON.stringify would write them (metadata's keys in another order).
   */
  async listJson(req: Omit<ListRequest, 'filter' | 'filtered'>): Promise<{ metadata: KubeList['metadata']; items: string[] }> {
    return this.listItems(req, (kv) => storedJsonWithVersion(kv) ?? JSON.stringify(this.decode(kv)), undefined);
  }

  private async listItems<T>(
    req: ListRequest,
    read: (kv: KeyValue) => T,
    keep: ((item: T) => boolean) | undefined,
  ): Promise<{ metadata: KubeList['metadata']; items: T[] }> {
    const prefix = this.listPrefix(req.namespace);
    let startAfter: string | undefined;
    let revision: number | undefined;
    if (req.continue) {
      if (req.resourceVersion && req.resourceVersion !== '0') {
        throw ApiError.badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(req.continue, prefix);
      startAfter = token.startAfter;
      revision = token.revision;
    } else if (req.resourceVersion && req.resourceVersion !== '0') {
      const rv = parseResourceVersion(req.resourceVersion);
      await this.ensureFresh(req.resourceVersion);
      // Exact reads the collection as of that revision; so does the legacy form with a limit and no match.
      const legacyExact = !req.resourceVersionMatch && Boolean(req.limit && req.limit > 0);
      if (req.resourceVersionMatch === 'Exact' || legacyExact) revision = rv;
    } else if (req.resourceVersionMatch === 'Exact') {
      throw ApiError.invalid('meta.k8s.io', 'ListOptions', '', [
        fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
      ]);
    }
    const limit = req.limit && req.limit > 0 ? req.limit : 0;
    const items: T[] = [];
    let more = false;
    let remaining: number | undefined;
    let lastKey: string | undefined;
    let readRevision = revision ?? 0;
    for (let page = 0; ; page++) {
      const want = limit ? limit - items.length : 0;
      // When filtering, read a bit more than needed per page so sparse matches need fewer round trips.
      const pageLimit = want ? (req.filtered ? Math.max(want, 100) : want) : 0;
      let res;
      try {
        res = await this.storage.list(prefix, { limit: pageLimit, startAfter, revision: readRevision || undefined });
      } catch (err) {
        throw this.translateListError(err, req.continue ? startAfter : undefined, prefix);
      }
      readRevision = res.revision;
      for (let i = 0; i < res.items.length; i++) {
        const kv = res.items[i];
        const item = read(kv);
        lastKey = kv.key;
        if (!keep || keep(item)) items.push(item);
        if (limit && items.length >= limit) {
          const moreInPage = i < res.items.length - 1;
          more = moreInPage || res.more;
          if (!req.filtered && more) remaining = (res.remaining ?? 0) + (res.items.length - 1 - i);
          break;
        }
      }
      if (limit && items.length >= limit) break;
      if (!res.more) break;
      startAfter = res.items.length ? res.items[res.items.length - 1].key : startAfter;
      if (page >= MAX_FILTER_PAGES) {
        more = true;
        break;
      }
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(readRevision) };
    if (more && lastKey) {
      metadata.continue = encodeContinue(readRevision, lastKey.slice(prefix.length));
      if (remaining !== undefined) metadata.remainingItemCount = remaining;
    }
    return { metadata, items };
  }

  /** `continueFrom`: the key a compacted continue token would have resumed after. */
  private translateListError(err: unknown, continueFrom: string | undefined, prefix: string): unknown {
    if (isStorageError(err, 'Compacted')) {
      if (continueFrom === undefined) return ApiError.expired('The resourceVersion for the provided list is too old.');
      const expired = ApiError.expired(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
      // As upstream, offer a token that resumes at the same place but reads the newest state (revision 0: latest).
      expired.status.metadata = { continue: encodeContinue(0, continueFrom.slice(prefix.length)) };
      return expired;
    }
    return translateStorageError(err, this.info, '');
  }

  /**
   * Watches the resource (one namespace or all) for changes after `afterRevision`, decoding objects. Deleted
   * objects carry the deletion's revision as their resourceVersion, as upstream reports them.
   */
  watch(
    namespace: string | undefined,
    afterRevision: number,
    progressIntervalMs: number | undefined,
    handler: StoreWatchHandler,
    index?: StoreWatchIndex,
  ): Watch {
    return this.storage.watch(
      this.listPrefix(namespace),
      { afterRevision, progressIntervalMs, ...(index ? { index: this.watchIndex(index) } : {}) },
      {
        onEvents: (events) => {
          const out: StoreWatchEvent[] = [];
          for (const e of events) {
            if (e.type === 'progress') {
              out.push({ type: 'progress', revision: e.revision });
              continue;
            }
            out.push(this.decodedEvent(e));
          }
          handler.onEvents(out);
        },
        onError: (err) => handler.onError(err),
      },
    );
  }

  /** The hub hands the same event to every watcher of a prefix: decode it once for all of them. */
  private decodedEvent(e: WatchEvent & { type: 'put' | 'delete' }): Exclude<StoreWatchEvent, { type: 'progress' }> {
    let decoded = this.decodedEvents.get(e);
    if (!decoded) {
      decoded = this.decodeEvent(e);
      this.decodedEvents.set(e, decoded);
    }
    return decoded as Exclude<StoreWatchEvent, { type: 'progress' }>;
  }

  private watchIndex(index: StoreWatchIndex): WatchIndex {
    return {
      name: `${this.prefix}\u0000${index.field}`,
      prefix: this.prefix,
      value: index.value,
      valuesOf: (e) => {
        const d = this.decodedEvent(e);
        if (d.type === 'delete') return [index.valueOf(d.object)];
        return d.hasPrev ? [index.valueOf(d.object), index.valueOf(d.prev!)] : [index.valueOf(d.object)];
      },
    };
  }

  private decodeEvent(e: WatchEvent & { type: 'put' | 'delete' }): StoreWatchEvent {
    if (e.type === 'delete') {
      const gone = this.decode(e.prev);
      gone.metadata.resourceVersion = String(e.revision);
      return { type: 'delete', object: gone };
    }
    const prevKv = e.prev;
    let prev: KubeObject | undefined;
    const decode = (kv: KeyValue) => this.decode(kv);
    const kv = e.kv;
    let object: KubeObject | undefined;
    let json: string | undefined | null = null;
    return {
      type: 'put',
      revision: kv.modRevision,
      get object() {
        return (object ??= decode(kv));
      },
      hasPrev: prevKv !== undefined,
      get prev() {
        if (prev === undefined && prevKv !== undefined) prev = decode(prevKv);
        return prev;
      },
      get json() {
        if (json === null) json = storedJsonWithVersion(kv);
        return json;
      },
    };
  }

  async currentRevision(): Promise<number> {
    return this.storage.currentRevision();
  }

  /** Oldest revision still readable; everything before it is compacted. */
  async oldestRevision(): Promise<number> {
    return this.storage.oldestRevision();
  }

  async count(namespace?: string): Promise<number> {
    return this.storage.count(this.listPrefix(namespace));
  }

  async create(namespace: string | undefined, input: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    if (input.metadata?.resourceVersion) {
      // Upstream's storage refuses this as an internal error (ErrResourceVersionSetOnCreate).
      throw ApiError.internal('resourceVersion should not be set on objects to be created');
    }
    const obj = deepClone(input);
    this.checkTypeMeta(obj);
    this.checkNamespace(obj, namespace);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    this.strategy.defaults?.(obj);
    this.prepareForCreate(obj);
    this.strategy.prepareForCreate?.(obj);
    await this.admit('CREATE', obj, undefined, ctx);
    this.validateCreate(obj);
    await this.validateAdmission('CREATE', obj, undefined, ctx);
    if (ctx.dryRun) {
      if (await this.storage.get(this.key(namespace, meta.name!))) {
        throw ApiError.alreadyExists(this.info.group, this.info.resource, meta.name!);
      }
      return obj;
    }
    try {
      const kv = await this.storage.create(this.key(namespace, meta.name!), this.encode(obj), {
        ttlSeconds: this.opts.ttlSeconds,
      });
      obj.metadata.resourceVersion = String(kv.modRevision);
      this.written.set(obj, kv);
      return obj;
    } catch (err) {
      if (isStorageError(err, 'KeyExists')) {
        if (input.metadata.generateName && !input.metadata.name) {
          throw new ApiError({
            message: `${this.info.resource} "${meta.name}" already exists, the server was not able to generate a unique name for the object`,
            reason: 'AlreadyExists',
            code: 409,
            details: { name: meta.name, group: this.info.group, kind: this.info.resource, retryAfterSeconds: 1 },
          });
        }
        throw ApiError.alreadyExists(this.info.group, this.info.resource, meta.name!);
      }
      throw translateStorageError(err, this.info, meta.name!);
    }
  }

  /**
   * Read-modify-write with optimistic concurrency (upstream's GuaranteedUpdate). `fn` maps the current object to the
   * desired one; if it carries a resourceVersion that differs from the current one the result is 409 Conflict.
   * Without a resourceVersion the write retries on conflicts. `allowCreate` lets PUT/apply create missing objects.
   */
  async update(
    namespace: string | undefined,
    name: string,
    fn: UpdateFn,
    ctx: WriteContext & { allowCreate?: boolean },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.storage.get(key);
      const current = kv ? this.decode(kv) : undefined;
      if (!current && !ctx.allowCreate) throw this.notFound(name);
      // fn gets a copy of its own; what it returns is copied again unless it is that copy (fn may return objects it
      // keeps, which the store must not change).
      const mine = current ? deepClone(current) : undefined;
      const returned = await fn(mine);
      const desired = returned === mine ? returned : deepClone(returned);
      if (!current) {
        if (ctx.subresource === 'status') throw this.notFound(name);
        if (desired.metadata?.resourceVersion) {
          // Upstream: creating through PUT with a resourceVersion set is refused as a missing object.
          throw this.notFound(name);
        }
        desired.metadata = { ...desired.metadata, name };
        try {
          return { object: await this.create(namespace, desired, ctx), created: true };
        } catch (err) {
          if (err instanceof ApiError && err.reason === 'AlreadyExists' && attempt < 5) continue;
          throw err;
        }
      }
      const pinned = desired.metadata?.resourceVersion;
      if (pinned && pinned !== current.metadata.resourceVersion) {
        throw ApiError.conflict(this.info.group, this.info.resource, name);
      }
      // Without a resourceVersion the update is unconditional (upstream's AllowUnconditionalUpdate).
      if (!pinned) desired.metadata = { ...desired.metadata, resourceVersion: current.metadata.resourceVersion };
      const next = await this.prepareUpdate(namespace, name, desired, current, ctx);
      if (next === current) return { object: current, created: false };
      if (ctx.dryRun) return { object: next, created: false };
      // Removing the last finalizer of an object marked for deletion deletes it.
      if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && this.deletionComplete(next)) {
        try {
          const res = await this.storage.delete(key, kv!.modRevision);
          next.metadata.resourceVersion = String(res.revision);
          return { object: next, created: false };
        } catch (err) {
          if (isStorageError(err, 'Conflict') && !pinned && attempt < 20) continue;
          throw translateStorageError(err, this.info, name);
        }
      }
      try {
        const written = await this.storage.update(key, this.encode(next), kv!.modRevision);
        next.metadata.resourceVersion = String(written.modRevision);
        return { object: next, created: false };
      } catch (err) {
        if (isStorageError(err, 'Conflict') && !pinned && attempt < 20) continue;
        if (isStorageError(err, 'NotFound') && !pinned && attempt < 20) continue;
        throw translateStorageError(err, this.info, name);
      }
    }
  }

  /** Graceful deletion finishes when the grace period has run out (pods); finalizer-only objects finish at once. */
  private deletionComplete(obj: KubeObject): boolean {
    if (this.opts.deletionHooks?.blocksDeletion(obj)) return false;
    return !this.opts.gracefulDeletion || (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /** Shared update path: carry over system fields, separate spec and status, validate, admit. */
  private async prepareUpdate(
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    current: KubeObject,
    ctx: WriteContext,
  ): Promise<KubeObject> {
    const obj = input;
    this.checkTypeMeta(obj);
    this.checkNamespace(obj, namespace);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw ApiError.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const status = ctx.subresource === 'status';
    if (status) {
      // Status updates change only status (and managedFields); everything else is kept (ResetObjectMetaForStatus),
      // unless the kind's status strategy lets metadata through.
      const merged = deepClone(current);
      if (obj.status !== undefined) merged.status = obj.status;
      else delete merged.status;
      if (this.strategy.prepareForStatusUpdate) {
        merged.metadata = { ...obj.metadata, managedFields: obj.metadata.managedFields ?? current.metadata.managedFields };
        if (merged.metadata.managedFields === undefined) delete merged.metadata.managedFields;
      } else if (obj.metadata.managedFields) merged.metadata.managedFields = obj.metadata.managedFields;
      merged.metadata.resourceVersion = obj.metadata.resourceVersion;
      this.copySystemMeta(merged, current);
      this.strategy.prepareForStatusUpdate?.(merged, current);
      const errs = this.strategy.validateStatusUpdate?.(merged, current) ?? [];
      await this.admit('UPDATE', merged, current, ctx);
      if (errs.length) throw ApiError.invalid(this.info.group, this.info.kind, name, errs);
      await this.validateAdmission('UPDATE', merged, current, ctx);
      return sameContent(merged, current) ? current : merged;
    }
    const sub = ctx.subresource ?? '';
    if (sub === 'binding') {
      // Upstream's BindingREST validates the Binding and writes the pod through storage (setPodNodeAndMetadata): the
      // pod itself is not validated again, and a binding always changes it (nodeName was empty).
      this.copySystemMeta(obj, current);
      await this.admit('UPDATE', obj, current, ctx);
      await this.validateAdmission('UPDATE', obj, current, ctx);
      return obj;
    }
    if (sub !== '') {
      this.copySystemMeta(obj, current);
      this.strategy.prepareForSubresourceUpdate?.(sub, obj, current);
      await this.admit('UPDATE', obj, current, ctx);
      const errs = [
        ...validateObjectMetaUpdate(obj.metadata, current.metadata),
        ...this.strategy.validate(obj),
        ...(this.strategy.validateSubresourceUpdate?.(sub, obj, current) ?? []),
      ];
      if (errs.length) throw ApiError.invalid(this.info.group, this.info.kind, name, errs);
      await this.validateAdmission('UPDATE', obj, current, ctx);
      return sameContent(obj, current) ? current : obj;
    }
    this.strategy.defaults?.(obj);
    this.copySystemMeta(obj, current);
    if (this.hasStatus) {
      if (current.status !== undefined) obj.status = deepClone(current.status);
      else delete obj.status;
    }
    this.strategy.prepareForUpdate?.(obj, current);
    if (this.opts.tracksGeneration && specChanged(obj, current)) {
      obj.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    await this.admit('UPDATE', obj, current, ctx);
    const errs: FieldError[] = [
      ...validateObjectMetaUpdate(obj.metadata, current.metadata),
      ...this.strategy.validate(obj),
      ...(this.strategy.validateUpdate?.(obj, current) ?? []),
    ];
    if (errs.length) throw ApiError.invalid(this.info.group, this.info.kind, name, errs);
    await this.validateAdmission('UPDATE', obj, current, ctx);
    return sameContent(obj, current) ? current : obj;
  }

  /** Fields only the server sets survive any client update. */
  private copySystemMeta(obj: KubeObject, current: KubeObject): void {
    const m = obj.metadata;
    const c = current.metadata;
    m.uid = c.uid;
    m.creationTimestamp = c.creationTimestamp;
    m.deletionTimestamp = c.deletionTimestamp;
    m.deletionGracePeriodSeconds = c.deletionGracePeriodSeconds;
    if (c.generation !== undefined) m.generation = c.generation;
    else delete m.generation;
    if (c.namespace !== undefined) m.namespace = c.namespace;
    if (!m.generateName && c.generateName) m.generateName = c.generateName;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName'] as const) {
      if (m[k] === undefined) delete m[k];
    }
  }

  async delete(
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.storage.get(key);
      if (!kv) throw this.notFound(name);
      const current = this.decode(kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw ApiError.conflict(
          this.info.group,
          this.info.resource,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw ApiError.conflict(
          this.info.group,
          this.info.resource,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      await this.admit('DELETE', undefined, current, ctx);
      await this.validateAdmission('DELETE', undefined, current, ctx);
      const marked = this.markForDeletion(current, opts);
      if (marked) {
        if (ctx.dryRun) return { object: marked, deleted: false };
        if (marked === current) return { object: current, deleted: false };
        try {
          const written = await this.storage.update(key, this.encode(marked), kv.modRevision);
          marked.metadata.resourceVersion = String(written.modRevision);
          return { object: marked, deleted: false };
        } catch (err) {
          if (isStorageError(err, 'Conflict') && attempt < 20) continue;
          throw translateStorageError(err, this.info, name);
        }
      }
      if (ctx.dryRun) return { object: current, deleted: true };
      try {
        const res = await this.storage.delete(key, kv.modRevision);
        const gone = this.decode(res.prev);
        return { object: gone, deleted: true };
      } catch (err) {
        if (isStorageError(err, 'Conflict') && attempt < 20) continue;
        throw translateStorageError(err, this.info, name);
      }
    }
  }

  /**
   * Deletion that must wait (finalizers, orphan/foreground propagation, graceful pods) marks the object instead of
   * removing it. Returns the marked object, `current` when already marked the same way, or undefined to delete now.
   */
  private markForDeletion(current: KubeObject, opts: DeleteOptions): KubeObject | undefined {
    const finalizers = this.deletionFinalizers(current, opts);
    const grace = this.opts.gracefulDeletion?.(current, opts.gracePeriodSeconds) ?? 0;
    const blocked = this.opts.deletionHooks?.blocksDeletion(current) ?? false;
    if (finalizers.size === 0 && grace === 0 && !blocked) {
      // A graceful deletion already in progress that is now forced to 0 also ends here.
      return undefined;
    }
    const alreadyMarked = current.metadata.deletionTimestamp !== undefined;
    const next = deepClone(current);
    next.metadata.finalizers = [...finalizers];
    if (!alreadyMarked) {
      const now = this.now();
      next.metadata.deletionTimestamp = formatTime(new Date(now.getTime() + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
      this.opts.deletionHooks?.mark(next);
    } else if (grace < (current.metadata.deletionGracePeriodSeconds ?? 0)) {
      // A shorter grace period may replace a longer one.
      const now = this.now();
      next.metadata.deletionTimestamp = formatTime(new Date(now.getTime() + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
    }
    if (!next.metadata.finalizers.length) delete next.metadata.finalizers;
    return sameContent(next, current) ? current : next;
  }

  /**
   * Upstream's deletionFinalizersForGarbageCollection: the object's finalizers with `orphan` / `foregroundDeletion`
   * decided afresh. An explicit orphanDependents or propagationPolicy decides; without one, a GC finalizer already on
   * the object stays; otherwise the kind's default policy (orphan for core/v1 ReplicationControllers and batch/v1 Jobs).
   */
  private deletionFinalizers(current: KubeObject, opts: DeleteOptions): Set<string> {
    const existing = current.metadata.finalizers ?? [];
    const finalizers = new Set(existing.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND));
    const fromObject = existing.find((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
    let orphan: boolean;
    let foreground: boolean;
    if (opts.orphanDependents !== undefined) {
      orphan = opts.orphanDependents;
      foreground = false;
    } else if (opts.propagationPolicy !== undefined) {
      orphan = opts.propagationPolicy === 'Orphan';
      foreground = opts.propagationPolicy === 'Foreground';
    } else if (fromObject !== undefined) {
      orphan = fromObject === FINALIZER_ORPHAN;
      foreground = fromObject === FINALIZER_FOREGROUND;
    } else {
      orphan = this.opts.defaultGarbageCollectionPolicy === 'OrphanDependents';
      foreground = false;
    }
    if (orphan) finalizers.add(FINALIZER_ORPHAN);
    if (foreground) finalizers.add(FINALIZER_FOREGROUND);
    return finalizers;
  }

  private prepareForCreate(obj: KubeObject): void {
    const m = obj.metadata;
    m.uid = randomUUID();
    m.creationTimestamp = formatTime(this.now());
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (this.opts.tracksGeneration) m.generation = 1;
    else delete m.generation;
    if (this.hasStatus && !this.strategy.keepsStatusOnCreate) delete obj.status;
  }

  private validateMeta(obj: KubeObject): FieldError[] {
    return validateObjectMeta(obj.metadata, {
      namespaced: this.info.namespaced,
      validateName: this.strategy.validateName,
    });
  }

  private validateCreate(obj: KubeObject): void {
    const errs = [...this.validateMeta(obj), ...this.strategy.validate(obj)];
    if (errs.length) throw ApiError.invalid(this.info.group, this.info.kind, obj.metadata.name ?? '', errs);
  }

  private checkTypeMeta(obj: KubeObject): void {
    if (!isPlainObject(obj.metadata)) obj.metadata = {} as ObjectMeta;
    if (obj.kind !== undefined && obj.kind !== this.info.kind) {
      throw ApiError.badRequest(`the kind of the object (${obj.kind}) does not match the kind on the URL (${this.info.kind})`);
    }
    obj.kind = this.info.kind;
    obj.apiVersion = this.apiVersion;
  }

  private checkNamespace(obj: KubeObject, namespace: string | undefined): void {
    const m = obj.metadata;
    if (!this.info.namespaced) {
      delete m.namespace;
      return;
    }
    if (m.namespace && namespace && m.namespace !== namespace) {
      throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (namespace) m.namespace = namespace;
  }

  private attrs(op: Operation, obj: KubeObject | undefined, old: KubeObject | undefined, ctx: WriteContext): AdmissionAttributes {
    const meta = (obj ?? old)!.metadata;
    return {
      operation: op,
      group: this.info.group,
      version: this.info.version,
      resource: this.info.resource,
      subresource: ctx.subresource ?? '',
      kind: this.info.kind,
      namespace: meta.namespace ?? '',
      name: meta.name ?? '',
      object: obj,
      oldObject: old,
      user: ctx.user,
      dryRun: ctx.dryRun,
    };
  }

  private async admit(op: Operation, obj: KubeObject | undefined, old: KubeObject | undefined, ctx: WriteContext): Promise<void> {
    if (!this.mutating.length) return;
    const a = this.attrs(op, obj, old, ctx);
    for (const plugin of this.mutating) await plugin.admit(a);
  }

  private async validateAdmission(op: Operation, obj: KubeObject | undefined, old: KubeObject | undefined, ctx: WriteContext): Promise<void> {
    if (!this.validating.length) return;
    const a = this.attrs(op, obj, old, ctx);
    for (const plugin of this.validating) await plugin.validate(a);
  }
}

/**
 * The stored JSON of `kv` with `"resourceVersion":"<modRevision>"` as the first key of its top-level metadata, or
 * undefined when that object cannot be found by looking at the text before it (then the caller decodes). Stored JSON
 * never carries a resourceVersion (encode drops it), and a quote inside a JSON string is always escaped, so the first
 * `"metadata":{` outside any string, at depth one, is the top-level metadata.
 */
export function storedJsonWithVersion(kv: KeyValue): string | undefined {
  const text = kv.value;
  const at = text.indexOf(METADATA_OPEN);
  if (at < 0 || !atTopLevel(text, at)) return undefined;
  const open = at + METADATA_OPEN.length;
  const rv = `"resourceVersion":"${kv.modRevision}"`;
  return `${text.slice(0, open)}${rv}${text.charCodeAt(open) === 0x7d /* } */ ? '' : ','}${text.slice(open)}`;
}

const METADATA_OPEN = '"metadata":{';

/** Whether position `end` of a JSON object text is directly inside the outermost object, not in a string or nested value. */
function atTopLevel(text: string, end: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return depth === 1 && !inString;
}

function parseResourceVersion(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) {
    throw ApiError.badRequest(`invalid resource version: "${rv}"`);
  }
  return n;
}

function encodeContinue(revision: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_VERSION, rv: revision, start })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { revision: number; startAfter: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw ApiError.badRequest('continue key is not valid: illegal base64 data');
  }
  if (!isPlainObject(parsed) || parsed.v !== CONTINUE_VERSION || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') {
    throw ApiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (parsed.start.includes('..') || parsed.start.startsWith('/')) throw ApiError.badRequest('continue key is not valid: path traversal');
  return { revision: parsed.rv, startAfter: prefix + parsed.start };
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters from upstream's alphabet (no vowels, no confusable digits). */
export function generateName(base: string): string {
  const trimmed = base.length > 58 ? base.slice(0, 58) : base;
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return trimmed + suffix;
}

/** Whether anything but metadata and status differs (what bumps metadata.generation). */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(a), strip(b));
}

/** Equal but for resourceVersion and managedFields timestamps: an update that changes nothing writes nothing. */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const norm = (o: KubeObject) => ({
    ...o,
    metadata: {
      ...o.metadata,
      resourceVersion: undefined,
      managedFields: o.metadata.managedFields?.map((f) => ({ ...f, time: undefined })),
    },
  });
  return jsonEqual(norm(a), norm(b));
}


/** Storage errors become metav1.Status at this boundary. */
export function translateStorageError(err: unknown, info: ResourceInfo, name: string): unknown {
  if (!(err instanceof StorageError)) return err;
  switch (err.code) {
    case 'KeyExists':
      return ApiError.alreadyExists(info.group, info.resource, name);
    case 'NotFound':
      return ApiError.notFound(info.group, info.resource, name);
    case 'Conflict':
      return ApiError.conflict(info.group, info.resource, name);
    case 'Compacted':
      return ApiError.expired(`too old resource version: ${err.message}`);
    case 'Unavailable':
      return new ApiError({ message: `storage is unavailable: ${err.message}`, reason: 'ServiceUnavailable', code: 503 }, { cause: err });
    case 'Internal':
      return ApiError.internal(err.message, err);
  }
}
