// Which keys the revision log has never held, without asking SQLite: a Bloom filter over every name written. A create
// looks its key up first (is there a live row, or a tombstone to supersede?); for a new key that lookup always misses,
// and the filter answers it from memory. "No" is exact: every name with a row is in the filter (names are added
// before their first row is written and never removed, so compaction or a rolled-back write only leaves extra names,
// which cost one SQL lookup each, as before). "Maybe" falls back to SQL.
//
// The filter grows by adding a layer for twice as many names as the last, so it never needs the names again. A name
// answers "maybe" if any layer has all its bits set, so each layer gets 3 more bits per name than the one before
// (false-positive rates ~0.8 %, 0.25 %, 0.07 %, ...: under 1.2 % in all). Memory: 150,000 names in ~600 KB, against
// ~80 bytes per name for a Set of strings.

/** Bits tested per name. */
const HASHES = 7;
const BITS_PER_NAME = 10;
const MORE_BITS_PER_LAYER = 3;

interface Layer {
  bits: Uint32Array;
  /** Bit count - 1 (the bit count is a power of two). */
  mask: number;
  capacity: number;
  count: number;
}

export class NameFilter {
  private readonly layers: Layer[] = [];

  constructor(initialCapacity = 4096) {
    this.addLayer(Math.max(64, initialCapacity));
  }

  /** Names added so far (a name added twice, or colliding with earlier ones, counts once or not at all). */
  get size(): number {
    let n = 0;
    for (const l of this.layers) n += l.count;
    return n;
  }

  add(name: string): void {
    const h1 = hash(name);
    const h2 = mix(h1) | 1;
    if (this.test(h1, h2)) return;
    let layer = this.layers[this.layers.length - 1]!;
    if (layer.count >= layer.capacity) layer = this.addLayer(layer.capacity * 2);
    const { bits, mask } = layer;
    for (let i = 0, h = h1; i < HASHES; i++, h = (h + h2) | 0) {
      const bit = h & mask;
      bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    layer.count++;
  }

  /** False only for names never added. */
  mightContain(name: string): boolean {
    const h1 = hash(name);
    return this.test(h1, mix(h1) | 1);
  }

  private test(h1: number, h2: number): boolean {
    for (const { bits, mask } of this.layers) {
      let all = true;
      for (let i = 0, h = h1; i < HASHES; i++, h = (h + h2) | 0) {
        const bit = h & mask;
        if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  }

  private addLayer(capacity: number): Layer {
    let size = 1024;
    while (size < capacity * (BITS_PER_NAME + MORE_BITS_PER_LAYER * this.layers.length)) size *= 2;
    const layer: Layer = { bits: new Uint32Array(size / 32), mask: size - 1, capacity, count: 0 };
    this.layers.push(layer);
    return layer;
  }
}

/** FNV-1a over the UTF-16 code units, then a murmur3 finaliser so every bit depends on every unit. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

function mix(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
