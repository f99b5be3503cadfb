// Container logs as the kubelet serves them: the runtime writes CRI-format lines ("<RFC3339Nano> <stream> <P|F> <text>",
// P = a partial line continued by the next), the kubelet turns them back into the program's output with upstream's
// options: tailLines, sinceSeconds/sinceTime, timestamps, limitBytes and follow.
import { open, stat } from 'node:fs/promises';

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

export interface LogLine {
  time: string;
  stream: string;
  text: string;
}

/** Parses complete CRI log lines (the text without a trailing newline), joining partial ones. */
export class CriLogParser {
  private partial: LogLine | undefined;

  push(raw: string): LogLine | undefined {
    const a = raw.indexOf(' ');
    const b = raw.indexOf(' ', a + 1);
    const c = raw.indexOf(' ', b + 1);
    if (a < 0 || b < 0) return undefined;
    const time = raw.slice(0, a);
    const stream = raw.slice(a + 1, b);
    const tag = c < 0 ? raw.slice(b + 1) : raw.slice(b + 1, c);
    const text = c < 0 ? '' : raw.slice(c + 1);
    if (tag.startsWith('P')) {
      this.partial = this.partial ? { ...this.partial, text: this.partial.text + text } : { time, stream, text };
      return undefined;
    }
    const line = this.partial ? { ...this.partial, text: this.partial.text + text } : { time, stream, text };
    this.partial = undefined;
    return line;
  }
}

export function formatLine(l: LogLine, timestamps: boolean): string {
  return `${timestamps ? `${l.time} ` : ''}${l.text}\n`;
}

/** Every line of a CRI log file's text. */
export function parseCriLog(text: string): LogLine[] {
  const p = new CriLogParser();
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const l = p.push(raw);
    if (l) out.push(l);
  }
  return out;
}

/** RFC3339Nano to ms, keeping sub-millisecond order irrelevant for the since filters. */
const timeMs = (t: string): number => Date.parse(t);

/** The selected part of a finished log (the non-follow case, and the start of a follow). */
export function selectLines(lines: LogLine[], o: LogOptions): LogLine[] {
  let out = lines;
  if (o.sinceMs !== undefined) out = out.filter((l) => timeMs(l.time) >= o.sinceMs!);
  if (o.tailLines !== undefined) out = o.tailLines <= 0 ? [] : out.slice(-o.tailLines);
  return out;
}

export interface LogSink {
  write(chunk: string): boolean;
  /** True once the reader went away. */
  closed(): boolean;
}

/**
 * Writes the log at `path` to `sink`; with follow, keeps reading what the container appends until `stillRunning`
 * says it stopped (and the file is drained) or the sink closes. Returns once done.
 */
export async function streamLog(path: string, o: LogOptions, sink: LogSink, stillRunning: () => Promise<boolean>, pollMs = 200): Promise<void> {
  let budget = o.limitBytes ?? Infinity;
  const emit = (l: LogLine): boolean => {
    if (budget <= 0) return false;
    let s = formatLine(l, o.timestamps ?? false);
    if (Buffer.byteLength(s) > budget) s = Buffer.from(s).subarray(0, budget).toString();
    budget -= Buffer.byteLength(s);
    sink.write(s);
    return budget > 0;
  };
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return;
  }
  try {
    let offset = 0;
    let carry = '';
    const parser = new CriLogParser();
    const readNew = async (): Promise<LogLine[]> => {
      const { size } = await stat(path);
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      offset += bytesRead;
      const text = carry + buf.subarray(0, bytesRead).toString('utf8');
      const nl = text.lastIndexOf('\n');
      carry = nl < 0 ? text : text.slice(nl + 1);
      const lines: LogLine[] = [];
      for (const raw of (nl < 0 ? '' : text.slice(0, nl)).split('\n')) {
        if (raw === '') continue;
        const l = parser.push(raw);
        if (l) lines.push(l);
      }
      return lines;
    };
    for (const l of selectLines(await readNew(), o)) if (!emit(l)) return;
    if (!o.follow) return;
    const since = o.sinceMs;
    for (;;) {
      if (sink.closed()) return;
      const running = await stillRunning();
      const lines = await readNew();
      for (const l of lines) {
        if (since !== undefined && timeMs(l.time) < since) continue;
        if (!emit(l)) return;
      }
      if (!running && lines.length === 0) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await fh.close();
  }
}
