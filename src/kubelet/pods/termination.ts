// terminationMessagePath / terminationMessagePolicy as upstream's kubelet handles them: a file made per container run
// on the node and mounted at the path; when the container exits its content (at most 4096 bytes) becomes
// state.terminated.message, and with FallbackToLogsOnError an empty file on a failure takes the last 80 log lines
// (at most 2048 bytes) instead.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Mount } from '../cri/types.js';
import { parseCriLog } from '../server/logs.js';

export const MAX_TERMINATION_MESSAGE = 4096;
export const FALLBACK_LOG_LINES = 80;
export const FALLBACK_LOG_BYTES = 2048;
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Makes the run's message file under <podsDir>/<uid>/containers/<name>/ and returns the mount for it. */
export async function terminationMessageMount(podsDir: string, pod: Pod, c: Container): Promise<Mount | undefined> {
  const path = c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  if (!path) return undefined;
  const dir = join(podsDir, pod.metadata?.uid ?? '', 'containers', c.name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, randomBytes(4).toString('hex'));
  await writeFile(file, '', { mode: 0o666 });
  await chmod(file, 0o666);
  return { containerPath: path, hostPath: file };
}

async function readAtMost(path: string, max: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString();
  } finally {
    await fh.close();
  }
}

/** The last 80 lines of a CRI log file, at most their last 2048 bytes. */
export async function lastLogLines(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    return `Error on reading termination message from logs: ${(err as Error).message}`;
  }
  const out = Buffer.from(
    parseCriLog(text)
      .slice(-FALLBACK_LOG_LINES)
      .map((l) => `${l.text}\n`)
      .join(''),
  );
  return out.subarray(Math.max(0, out.length - FALLBACK_LOG_BYTES)).toString();
}

export interface ExitedContainerInfo {
  exitCode: number;
  reason: string;
  /** The runtime's own message. */
  message: string;
  mounts: Mount[];
  annotations: Record<string, string>;
  /** Absolute path of the container's log. */
  logPath: string;
}

/** Upstream's message of an exited container: the runtime's message, then ": " and the termination message. */
export async function terminationMessage(c: ExitedContainerInfo): Promise<string> {
  const path = c.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? '';
  const fallback = c.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' && c.exitCode !== 0 && c.reason !== 'ContainerCannotRun';
  let msg = '';
  let checkLogs = fallback;
  const mount = path ? c.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) {
    try {
      msg = await readAtMost(mount.hostPath, MAX_TERMINATION_MESSAGE);
      checkLogs = fallback && msg.length === 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        msg = `Error on reading termination log ${mount.hostPath}: ${(err as Error).message}`;
        checkLogs = false;
      }
    }
  }
  if (checkLogs && c.logPath) msg = await lastLogLines(c.logPath);
  if (!msg) return c.message;
  return c.message ? `${c.message}: ${msg}` : msg;
}
