// What the PLEG's relist reads from ListPodSandbox / ListContainers replies, straight from the protobuf bytes: each
// item's id, state and one label (the pod UID). Every other field (metadata, image, timestamps, the other labels and
// annotations) is skipped without being decoded, so a relist every second over many pods makes a few small strings
// instead of full message objects.

/** One sandbox or container as the relist sees it. */
export interface RelistItem {
  id: string;
  /** The CRI enum name (SANDBOX_READY, CONTAINER_RUNNING, ...). */
  state: string;
  /** The value of the wanted label ('' when absent). */
  label: string;
}

const SANDBOX_STATES = ['SANDBOX_READY', 'SANDBOX_NOTREADY'];
const CONTAINER_STATES = ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'];

/** Field numbers of id, state and labels in PodSandbox and Container (api.proto). */
const SANDBOX = { id: 1, state: 3, labels: 5, states: SANDBOX_STATES };
const CONTAINER = { id: 1, state: 6, labels: 8, states: CONTAINER_STATES };

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  /** Skips the value of a field of wire type `wire`. */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const len = this.varint();
      this.pos += len;
    }
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw new Error('truncated protobuf field');
  }
}

function bytesEqual(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

const utf8 = new TextDecoder();

/** The value of map entry (key = 1, value = 2) in buf[start, end) when its key is `key`, else undefined. */
function mapEntryValue(buf: Uint8Array, start: number, end: number, key: Uint8Array): string | undefined {
  const r = new Reader(buf, start, end);
  let matched = false;
  let value = '';
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 2 && (field === 1 || field === 2)) {
      const len = r.varint();
      const s = r.pos;
      r.pos += len;
      if (r.pos > end) throw new Error('truncated protobuf field');
      if (field === 1) {
        if (!bytesEqual(buf, s, r.pos, key)) return undefined;
        matched = true;
      } else value = utf8.decode(buf.subarray(s, r.pos));
    } else r.skip(wire);
  }
  return matched ? value : undefined;
}

function decodeList(buf: Uint8Array, kind: typeof SANDBOX, labelKey: string): RelistItem[] {
  const key = new TextEncoder().encode(labelKey);
  const items: RelistItem[] = [];
  const top = new Reader(buf, 0, buf.length);
  while (top.pos < buf.length) {
    const tag = top.varint();
    if (tag !== ((1 << 3) | 2)) {
      top.skip(tag & 7);
      continue;
    }
    const len = top.varint();
    const end = top.pos + len;
    if (end > buf.length) throw new Error('truncated protobuf message');
    const r = new Reader(buf, top.pos, end);
    top.pos = end;
    let id = '';
    let state = 0;
    let label = '';
    while (r.pos < end) {
      const t = r.varint();
      const field = Math.floor(t / 8);
      const wire = t & 7;
      if (field === kind.id && wire === 2) {
        const l = r.varint();
        id = utf8.decode(buf.subarray(r.pos, r.pos + l));
        r.pos += l;
      } else if (field === kind.state && wire === 0) state = r.varint();
      else if (field === kind.labels && wire === 2) {
        const l = r.varint();
        const v = mapEntryValue(buf, r.pos, r.pos + l, key);
        if (v !== undefined) label = v;
        r.pos += l;
      } else r.skip(wire);
      if (r.pos > end) throw new Error('truncated protobuf field');
    }
    items.push({ id, state: kind.states[state] ?? kind.states[kind.states.length - 1]!, label });
  }
  return items;
}

/** A ListPodSandboxResponse's items: id, state and the value of label `labelKey`. */
export function decodeSandboxList(buf: Uint8Array, labelKey: string): RelistItem[] {
  return decodeList(buf, SANDBOX, labelKey);
}

/** A ListContainersResponse's containers: id, state and the value of label `labelKey`. */
export function decodeContainerList(buf: Uint8Array, labelKey: string): RelistItem[] {
  return decodeList(buf, CONTAINER, labelKey);
}
