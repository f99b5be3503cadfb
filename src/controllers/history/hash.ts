// history.HashControllerRevision's hasher: FNV-1 (Go's hash/fnv New32, not the 32a of controller.ComputeHash, which
// lives with the Deployment controller and is shared from there), then rand.SafeEncodeString.
import { safeEncodeString } from '../deployment/hash.js';
import { canonical } from '../deployment/util.js';

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1 over the UTF-8 bytes of the parts, in order (multiply, then xor). */
export function fnv1_32(parts: readonly string[]): number {
  let h = FNV32_OFFSET;
  for (const part of parts) {
    for (const b of new TextEncoder().encode(part)) {
      h = Math.imul(h, FNV32_PRIME) >>> 0;
      h = (h ^ b) >>> 0;
    }
  }
  return h >>> 0;
}

/** A value's canonical JSON (keys sorted, empty values dropped): equal data prints equally. */
export const canonicalJSON = (v: unknown): string => JSON.stringify(canonical(v) ?? null);

/** The FNV-1 hash of the parts in the vowel-free alphabet names use. */
export const safeFnv1Hash = (parts: readonly string[]): string => safeEncodeString(String(fnv1_32(parts)));
