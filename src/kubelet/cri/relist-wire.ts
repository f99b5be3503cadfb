// What the PLEG's relist reads from ListPodSandbox / ListContainers replies, straight from the protobuf bytes: each
// item's id, state and one label (the pod UID). Every other field (metadata, image, timestamps, the other labels and
// annotations) is skipped without being decoded, so a relist every second over many pods makes a few small strings
// instead of full message objects. The reader keeps its position in module state (no reader object per message)
// and never builds numbers beyond 2^28 (skipped varints are stepped over, not computed).

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
interface Kind {
  id: number;
  state: number;
  labels: number;
  states: string[];
}
const SANDBOX: Kind = { id: 1, state: 3, labels: 5, states: SANDBOX_STATES };
const CONTAINER: Kind = { id: 1, state: 6, labels: 8, states: CONTAINER_STATES };

const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
let pos = 0;

function truncated(): never {
  throw new Error('truncated protobuf message');
}

/** A varint that fits 28 bits (tags, lengths, enum values); a larger one is an error. */
function small(end: number): number {
  let v = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) truncated();
    const b = buf[pos++]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
  throw new Error('protobuf varint too large here');
}

/** Steps over the value of a field of wire type `wire`. */
function skip(wire: number, end: number): void {
  if (wire === 0) {
    while (pos < end && buf[pos]! >= 0x80) pos++;
    pos++;
  } else if (wire === 1) pos += 8;
  else if (wire === 2) {
    const len = small(end);
    pos += len;
  } else if (wire === 5) pos += 4;
  else throw new Error(`unsupported protobuf wire type ${wire}`);
  if (pos > end) truncated();
}

function bytesEqual(start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

const utf8 = new TextDecoder();

function text(start: number, end: number): string {
  // Ids and UIDs are ASCII: read them without a decoder call when they are.
  let ascii = true;
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) ascii = false;
  return ascii ? buf.toString('latin1', start, end) : utf8.decode(buf.subarray(start, end));
}

/** The value of the map entry (key = 1, value = 2) ending at `end` when its key is `key`, else undefined. */
function mapEntryValue(end: number, key: Uint8Array): string | undefined {
  let matched = false;
  let value = '';
  while (pos < end) {
    const tag = small(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2 && (field === 1 || field === 2)) {
      const len = small(end);
      const s = pos;
      pos += len;
      if (pos > end) truncated();
      if (field === 1) {
        if (!bytesEqual(s, pos, key)) {
          pos = end;
          return undefined;
        }
        matched = true;
      } else value = text(s, pos);
    } else skip(wire, end);
  }
  return matched ? value : undefined;
}

function decodeItem(end: number, kind: Kind, key: Uint8Array): RelistItem {
  let id = '';
  let state = 0;
  let label = '';
  while (pos < end) {
    const tag = small(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === kind.id && wire === 2) {
      const len = small(end);
      if (pos + len > end) truncated();
      id = text(pos, pos + len);
      pos += len;
    } else if (field === kind.state && wire === 0) state = small(end);
    else if (field === kind.labels && wire === 2) {
      const len = small(end);
      const entryEnd = pos + len;
      if (entryEnd > end) truncated();
      const v = mapEntryValue(entryEnd, key);
      if (v !== undefined) label = v;
      pos = entryEnd;
    } else skip(wire, end);
  }
  return { id, state: kind.states[state] ?? kind.states[kind.states.length - 1]!, label };
}

const keys = new Map<string, Buffer>();

function decodeList(reply: Uint8Array, kind: Kind, labelKey: string): RelistItem[] {
  let key = keys.get(labelKey);
  if (!key) keys.set(labelKey, (key = Buffer.from(labelKey)));
  const items: RelistItem[] = [];
  buf = Buffer.isBuffer(reply) ? reply : Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  pos = 0;
  try {
    const end = reply.length;
    while (pos < end) {
      const tag = small(end);
      if (tag !== ((1 << 3) | 2)) {
        skip(tag & 7, end);
        continue;
      }
      const len = small(end);
      const itemEnd = pos + len;
      if (itemEnd > end) truncated();
      items.push(decodeItem(itemEnd, kind, key));
      pos = itemEnd;
    }
  } finally {
    buf = EMPTY;
  }
  return items;
}

/** A ListPodSandboxResponse's items: id, state and the value of label `labelKey`. */
export function decodeSandboxList(reply: Uint8Array, labelKey: string): RelistItem[] {
  return decodeList(reply, SANDBOX, labelKey);
}

/** A ListContainersResponse's containers: id, state and the value of label `labelKey`. */
export function decodeContainerList(reply: Uint8Array, labelKey: string): RelistItem[] {
  return decodeList(reply, CONTAINER, labelKey);
}
