// Maps the etcd3 client's errors (typed gRPC errors, etcdserver messages, circuit breaker) to StorageError.
import { StorageError, type StorageErrorCode } from '../types.js';

const UNAVAILABLE_NAMES = new Set([
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCCancelledError',
  'ClientClosedError',
  'BrokenCircuitError',
  'IsolatedCircuitError',
  'EtcdWatchStreamEnded',
]);

export function etcdErrorCode(err: unknown): StorageErrorCode {
  if (err instanceof StorageError) return err.code;
  const e = err as { name?: string; message?: string; constructor?: { name?: string } };
  const message = e.message ?? '';
  if (message.includes('required revision has been compacted')) return 'Compacted';
  const name = e.constructor?.name ?? e.name ?? '';
  if (UNAVAILABLE_NAMES.has(name) || /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|No connection established/i.test(message)) {
    return 'Unavailable';
  }
  return 'Internal';
}

export function translateEtcdError(err: unknown, key: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = etcdErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const text = code === 'Unavailable' ? `etcd is unavailable: ${message}` : `etcd: ${message}`;
  return new StorageError(code, key, text, undefined, { cause: err });
}
