// Key-range helpers shared by every backend. Keys are compared by UTF-16 code units (JS `<`), which matches the
// byte order SQLite and etcd use for the ASCII keys the API server writes.

/** The smallest key greater than every key starting with `prefix` (etcd's "range_end" for a prefix). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

export function hasPrefix(key: string, prefix: string): boolean {
  return key.startsWith(prefix);
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
