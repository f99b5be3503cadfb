// Upstream's AtomicWriter layout for configMap, secret, downwardAPI and projected volumes, so a running container
// sees a whole new set of files at once:
//   <dir>/..2026_11_27_01_50_00.123456  the payload (files with their modes)
//   <dir>/..data -> ..2026_11_27_01_50_00.123456   swapped by rename(2), which is atomic
//   <dir>/<key> -> ..data/<key>         one user-visible symlink per top-level path of the payload
// A write with the same payload as the current one changes nothing.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits (e.g. 0o644). */
  mode: number;
}

const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** Rejects absolute paths, '..' elements and paths starting with '..' (upstream's validatePath). */
export function validatePayloadPath(p: string): string | undefined {
  if (p === '') return 'invalid path: must not be empty';
  if (p.length > 4096) return `invalid path: must be less than or equal to 4096 characters`;
  if (posix.isAbsolute(p)) return `invalid path: must be relative path: ${p}`;
  if (p.split('/').includes('..')) return `invalid path: must not contain '..': ${p}`;
  if (p.startsWith('..')) return `invalid path: must not start with '..': ${p}`;
  return undefined;
}

function timestampDirName(now: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const ts = `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `..${ts}.${randomBytes(5).readUInt32BE(0)}`;
}

async function readPayload(dir: string, prefix = ''): Promise<Map<string, FileProjection>> {
  const out = new Map<string, FileProjection>();
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readPayload(dir, rel)) out.set(k, v);
    else if (e.isFile()) {
      const full = join(dir, rel);
      out.set(rel, { data: await readFile(full), mode: (await stat(full)).mode & 0o7777 });
    }
  }
  return out;
}

function samePayload(a: Map<string, FileProjection>, b: Map<string, FileProjection>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o || o.mode !== v.mode || !o.data.equals(v.data)) return false;
  }
  return true;
}

const topLevel = (p: string) => p.split('/')[0]!;

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Writes `payload` into `dir` atomically; returns whether anything changed. */
export async function writeAtomically(dir: string, payload: Map<string, FileProjection>, now = new Date()): Promise<boolean> {
  for (const p of payload.keys()) {
    const bad = validatePayloadPath(p);
    if (bad) throw new Error(bad);
  }
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, DATA_DIR);
  let oldTs: string | undefined;
  let oldPayload = new Map<string, FileProjection>();
  try {
    oldTs = await readlink(dataLink);
    oldPayload = await readPayload(join(dir, oldTs));
  } catch {
    oldTs = undefined;
  }
  if (oldTs !== undefined && samePayload(payload, oldPayload)) return false;

  // The new payload in a fresh timestamped directory.
  const ts = timestampDirName(now);
  const tsDir = join(dir, ts);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const [p, f] of payload) {
    const full = join(tsDir, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data, { mode: f.mode });
    await chmod(full, f.mode);
  }

  // Swap ..data over to it.
  const tmp = join(dir, DATA_TMP);
  await rm(tmp, { force: true });
  await symlink(ts, tmp);
  await rename(tmp, dataLink);

  // User-visible links for the new top-level names; stale ones go.
  const wanted = new Set([...payload.keys()].map(topLevel));
  for (const name of wanted) {
    const link = join(dir, name);
    if (!(await exists(link))) await symlink(posix.join(DATA_DIR, name), link);
  }
  for (const name of new Set([...oldPayload.keys()].map(topLevel))) {
    if (!wanted.has(name)) await rm(join(dir, name), { force: true, recursive: true });
  }
  // Older timestamped directories.
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') && e !== ts && e !== DATA_DIR) await rm(join(dir, e), { recursive: true, force: true });
  }
  return true;
}
