// Hashes controllers put into names and labels (upstream's controller.ComputeHash and history.HashControllerRevision):
// a 32-bit FNV hash printed in decimal, then mapped onto an alphabet without vowels (apimachinery's
// rand.SafeEncodeString) so that names never spell words.

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** rand.SafeEncodeString: every character mapped onto the vowel-free alphabet by its code point. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHANUMS[(ch.codePointAt(0) ?? 0) % SAFE_ALPHANUMS.length];
  return out;
}

/** Go's hash/fnv New32 (FNV-1) or New32a (FNV-1a) over the parts (strings as UTF-8), in order. */
export function fnv32(parts: readonly (string | Uint8Array)[], variant: '1' | '1a'): number {
  let h = FNV_OFFSET;
  for (const part of parts) {
    for (const b of typeof part === 'string' ? Buffer.from(part, 'utf8') : part) {
      if (variant === '1') {
        h = Math.imul(h, FNV_PRIME) >>> 0;
        h = (h ^ b) >>> 0;
      } else {
        h = (h ^ b) >>> 0;
        h = Math.imul(h, FNV_PRIME) >>> 0;
      }
    }
  }
  return h >>> 0;
}

/** JSON with object keys sorted at every level (Go's json.Marshal of maps), so equal values print equally. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJSON(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJSON(x)}`).join(',')}}`;
}

/**
 * controller.ComputeHash: the hash of a pod template plus the collision count (when set), as used for the
 * DaemonSet's controller-revision-hash label. Upstream hashes a printout of the Go struct; the canonical JSON stands in.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  const parts: (string | Uint8Array)[] = [canonicalJSON(template ?? {})];
  if (collisionCount !== undefined && collisionCount !== null) {
    // Upstream writes the int32 in little-endian binary.
    const buf = Buffer.alloc(4);
    buf.writeInt32LE(collisionCount);
    parts.push(buf);
  }
  return safeEncodeString(String(fnv32(parts, '1a')));
}
