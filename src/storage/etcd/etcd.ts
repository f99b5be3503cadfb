// Storage on an etcd v3 cluster through the etcd3 client's raw gRPC services. Revisions are etcd's: modRevision is
// mod_revision, compare-and-swap is a txn on mod_revision (create: create_revision == 0).
import { rootCertificates } from 'node:tls';
import {
  Etcd3,
  type CallContext,
  type ICompare,
  type IKeyValue,
  type IRequestOp,
  type ITxnResponse,
} from 'etcd3';
import { prefixEnd } from '../keys.js';
import {
  StorageError,
  type CreateOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type Watch,
  type WatchHandler,
  type WatchOptions,
} from '../types.js';
import { EtcdWatch } from './watch.js';
import { translateEtcdError } from './errors.js';

export interface EtcdStorageOptions {
  /** Deadline for each unary call. Default 10 s. */
  requestTimeoutMs?: number;
}

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

/** Parses k3s's --datastore-endpoint form: "http://h1:2379,h2:2379" or "https://h1:2379,https://h2:2379". */
export function parseEtcdEndpoint(endpoint: string): { hosts: string[]; tls: boolean } {
  const parts = endpoint.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new Error(`invalid etcd endpoint ${JSON.stringify(endpoint)}`);
  const scheme = /^(https?):\/\//.exec(parts[0]!)?.[1];
  if (!scheme) throw new Error(`invalid etcd endpoint ${JSON.stringify(endpoint)}: expected http:// or https://`);
  const hosts = parts.map((p) => {
    const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(p);
    if (!m || (m[1] && m[1] !== scheme)) throw new Error(`invalid etcd endpoint entry ${JSON.stringify(p)}`);
    if (!/:\d+$/.test(m[2]!)) throw new Error(`etcd endpoint entry ${JSON.stringify(p)} needs a port`);
    return m[2]!;
  });
  return { hosts, tls: scheme === 'https' };
}

class EtcdStorage implements Storage {
  readonly name = 'etcd';
  private readonly watches = new Set<EtcdWatch>();
  private readonly leases = new Map<number, { id: string; reuseUntil: number }>();
  private closed = false;

  constructor(readonly client: Etcd3) {}

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(key, () => this.client.kv.range({ key: buf(key) }));
    const kv = res.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const start = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter + '\0' : prefix;
    const res = await this.call(prefix, () =>
      this.client.kv.range({
        key: buf(start === '' ? '\0' : start),
        range_end: buf(prefix === '' ? '\0' : prefixEnd(prefix)),
        limit: opts.limit && opts.limit > 0 ? opts.limit : 0,
        revision: opts.revision && opts.revision > 0 ? opts.revision : 0,
      }),
    );
    const items = res.kvs.map(toKeyValue);
    const revision = opts.revision && opts.revision > 0 ? opts.revision : Number(res.header.revision);
    const result: ListResult = { items, revision, more: res.more };
    if (res.more) result.remaining = Number(res.count) - items.length;
    return result;
  }

  async count(prefix: string): Promise<number> {
    const res = await this.call(prefix, () =>
      this.client.kv.range({
        key: buf(prefix === '' ? '\0' : prefix),
        range_end: buf(prefix === '' ? '\0' : prefixEnd(prefix)),
        count_only: true,
      }),
    );
    return Number(res.count);
  }

  async create(key: string, value: string, opts: CreateOptions = {}): Promise<KeyValue> {
    const lease = await this.lease(key, opts);
    const res = await this.txn(key, [{ key: buf(key), target: 'Create', result: 'Equal', create_revision: 0 }], {
      request_put: { key: buf(key), value: buf(value), lease },
    });
    if (!res.succeeded) throw new StorageError('KeyExists', key, `key already exists: ${key}`);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number, opts: CreateOptions = {}): Promise<KeyValue> {
    const lease = await this.lease(key, opts);
    const res = await this.txn(key, this.modIs(key, expectedRevision), {
      request_put: { key: buf(key), value: buf(value), lease, prev_kv: true },
    });
    if (!res.succeeded) this.failedPrecondition(key, res, expectedRevision);
    const prev = res.responses[0]?.response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedRevision?: number): Promise<{ prev: KeyValue; revision: number }> {
    const op: IRequestOp = { request_delete_range: { key: buf(key), prev_kv: true } };
    const compare = expectedRevision === undefined ? [] : this.modIs(key, expectedRevision);
    const res = await this.txn(key, compare, op);
    if (!res.succeeded) this.failedPrecondition(key, res, expectedRevision);
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new StorageError('NotFound', key, `key not found: ${key}`);
    return { prev: toKeyValue(prev), revision: Number(res.header.revision) };
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): Watch {
    if (this.closed) throw new StorageError('Unavailable', prefix, 'etcd storage is closed');
    const w = new EtcdWatch(this.client, prefix, opts, handler, () => this.watches.delete(w));
    this.watches.add(w);
    return w;
  }

  async currentRevision(): Promise<number> {
    const res = await this.call('', () => this.client.kv.range({ key: buf('\0'), count_only: true }));
    return Number(res.header.revision);
  }

  /** etcd keeps its compact revision readable; ours is not, so compact one revision further (bounded by now). */
  async compact(revision: number): Promise<void> {
    const current = await this.currentRevision();
    if (revision > current) {
      throw new StorageError('Internal', '', `cannot compact to future revision ${revision} (current ${current})`);
    }
    try {
      await this.call('', () => this.client.kv.compact({ revision: Math.min(revision + 1, current), physical: true }));
    } catch (err) {
      if (!(err instanceof StorageError && err.code === 'Compacted')) throw err;
    }
  }

  /** etcd does not report its compact revision directly: find the oldest readable one by bisection. */
  async oldestRevision(): Promise<number> {
    const readable = async (rev: number): Promise<boolean> => {
      try {
        await this.call('', () => this.client.kv.range({ key: buf('\0'), count_only: true, revision: rev }));
        return true;
      } catch (err) {
        if (err instanceof StorageError && err.code === 'Compacted') return false;
        throw err;
      }
    };
    let hi = await this.currentRevision();
    if (await readable(1)) return 1;
    let lo = 1; // unreadable
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await readable(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.stop();
    this.client.close();
  }

  /** The key exists and was last written at `revision` (an absent key's mod_revision is 0, so check both). */
  private modIs(key: string, revision: number): ICompare[] {
    return [
      { key: buf(key), target: 'Create', result: 'Greater', create_revision: 0 },
      { key: buf(key), target: 'Mod', result: 'Equal', mod_revision: revision },
    ];
  }

  private failedPrecondition(key: string, res: ITxnResponse, expectedRevision: number | undefined): never {
    const current = res.responses[0]?.response_range.kvs[0];
    if (!current) throw new StorageError('NotFound', key, `key not found: ${key}`);
    const kv = toKeyValue(current);
    throw new StorageError(
      'Conflict',
      key,
      `revision mismatch for ${key}: expected ${expectedRevision}, current ${kv.modRevision}`,
      kv,
    );
  }

  private txn(key: string, compare: ICompare[], success: IRequestOp): Promise<ITxnResponse> {
    return this.call(key, () =>
      this.client.kv.txn({ compare, success: [success], failure: [{ request_range: { key: buf(key) } }] }),
    );
  }

  /**
   * A lease for a TTL write. Like the Kubernetes API server, one lease serves all writes with the same TTL for a short
   * window (5% of the TTL, at most a minute), granted that much longer, so events do not create a lease each.
   */
  private async lease(key: string, opts: CreateOptions): Promise<string | number> {
    if (!opts.ttlSeconds || opts.ttlSeconds <= 0) return 0;
    const ttl = Math.ceil(opts.ttlSeconds);
    const now = Date.now();
    const cached = this.leases.get(ttl);
    if (cached && cached.reuseUntil > now) return cached.id;
    const reuseSeconds = Math.min(Math.floor(ttl * 0.05), 60);
    const res = await this.call(key, () => this.client.leaseClient.leaseGrant({ TTL: ttl + reuseSeconds }));
    this.leases.set(ttl, { id: res.ID, reuseUntil: now + reuseSeconds * 1000 });
    return res.ID;
  }

  private async call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError('Unavailable', key, 'etcd storage is closed');
    try {
      return await fn();
    } catch (err) {
      throw translateEtcdError(err, key);
    }
  }
}

export async function openEtcdStorage(endpoint: string, opts: EtcdStorageOptions = {}): Promise<Storage> {
  const { hosts, tls } = parseEtcdEndpoint(endpoint);
  const timeout = opts.requestTimeoutMs ?? 10_000;
  const client = new Etcd3({
    hosts,
    dialTimeout: timeout,
    // Large unpaged lists exceed gRPC's 4 MiB default; like the Kubernetes API server, accept any size.
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
    credentials: tls ? { rootCertificate: Buffer.from(rootCertificates.join('\n')) } : undefined,
    defaultCallOptions: (ctx: CallContext) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
  });
  return new EtcdStorage(client);
}
