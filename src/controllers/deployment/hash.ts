// The pod-template-hash (upstream's controller.ComputeHash): FNV-32a over the pod template, then over the collision
// count when there is one, its decimal rendered in the "safe" alphabet (no vowels, no look-alike characters) so the
// result can never spell words and is valid in names and label values. Upstream feeds the hasher Go's printed form
// of the struct; skiff feeds it the template's canonical JSON (sorted keys, empty values dropped), so the values
// differ from a Go cluster's but are stable across restarts and equal for semantically equal templates.
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonical } from './util.js';

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** apimachinery's rand.SafeEncodeString alphabet. */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export class Fnv32a {
  private h = FNV32_OFFSET;
  write(bytes: Uint8Array): void {
    let h = this.h;
    for (const b of bytes) {
      h ^= b;
      h = Math.imul(h, FNV32_PRIME) >>> 0;
    }
    this.h = h;
  }
  sum32(): number {
    return this.h >>> 0;
  }
}

/** Each character of s mapped to the safe alphabet by its byte value. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const hasher = new Fnv32a();
  hasher.write(new TextEncoder().encode(JSON.stringify(canonical(template ?? {}) ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    // Eight bytes, the count little-endian in the first four, as upstream writes it.
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hasher.write(bytes);
  }
  return safeEncodeString(String(hasher.sum32()));
}
