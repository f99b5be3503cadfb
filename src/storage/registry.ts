// Storage drivers by URL scheme: `sqlite://PATH` (default), `http(s)://host:port[,host:port]` (etcd, k3s's
// --datastore-endpoint form), `memory://`.
import { join } from 'node:path';
import { openMemoryStorage } from './memory/memory.js';
import { openSqliteStorage } from './sqlite/sqlite.js';
import type { Storage, StorageFactory } from './types.js';

const drivers = new Map<string, StorageFactory>();

/** Register a backend for a URL scheme (without the colon). A scheme can be registered once. */
export function registerStorageDriver(scheme: string, factory: StorageFactory): void {
  const key = scheme.toLowerCase();
  if (drivers.has(key)) throw new Error(`storage driver for scheme "${key}:" is already registered`);
  drivers.set(key, factory);
}

export function defaultSqlitePath(dataDir: string): string {
  return join(dataDir, 'server', 'db', 'state.db');
}

registerStorageDriver('sqlite', async (endpoint, { dataDir }) => {
  const path = endpoint.slice('sqlite://'.length);
  return openSqliteStorage({ path: path === '' ? defaultSqlitePath(dataDir) : path });
});
// The etcd client (gRPC) takes a few hundred ms to load: only servers that use etcd pay for it.
const openEtcd: StorageFactory = async (endpoint) => (await import('./etcd/etcd.js')).openEtcdStorage(endpoint);
registerStorageDriver('http', openEtcd);
registerStorageDriver('https', openEtcd);
registerStorageDriver('memory', async () => openMemoryStorage());

export async function openStorage(endpoint: string | undefined, opts: { dataDir: string }): Promise<Storage> {
  if (endpoint === undefined || endpoint === '') return openSqliteStorage({ path: defaultSqlitePath(opts.dataDir) });
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  const factory = scheme ? drivers.get(scheme) : undefined;
  if (!factory) {
    const known = [...drivers.keys()].map((s) => `${s}://`).join(', ');
    throw new Error(`unsupported datastore endpoint ${JSON.stringify(endpoint)}: expected one of ${known}`);
  }
  return factory(endpoint, opts);
}
