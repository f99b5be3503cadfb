// Image tarballs into the runtime without a registry: `skiff images import FILE` and, at agent start, every archive
// in <data-dir>/agent/images/ (like k3s's airgap folder). OCI archives and docker-archive tarballs both work: containerd's
// importer reads either, in the CRI's k8s.io namespace so the kubelet sees them.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CTR = '/usr/bin/ctr';

/** The archive names taken from the images folder. */
export const IMAGE_ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|oci)$/;

/** Imports one archive; returns the image names it held. */
export async function importImageArchive(socket: string, file: string): Promise<string[]> {
  if (!existsSync(CTR)) throw new Error(`${CTR} not found: install Debian's containerd package (apt-get install -y containerd)`);
  const args = ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', '--no-unpack=false', file];
  let out: { stdout: string; stderr: string };
  try {
    out = await run(CTR, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`importing ${file}: ${(e.stderr ?? '').trim() || e.message}`);
  }
  // ctr prints "unpacking NAME (sha256:…)...done" per image.
  return [...out.stdout.matchAll(/unpacking (\S+) \(/g)].map((m) => m[1]!);
}

/** Imports every archive in `dir` (missing folder: nothing to do); a bad file is reported and skipped. */
export async function importImagesDir(
  socket: string,
  dir: string,
  log?: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names: string[] = [];
  for (const f of (await readdir(dir)).sort()) {
    if (!IMAGE_ARCHIVE.test(f)) continue;
    try {
      const imported = await importImageArchive(socket, join(dir, f));
      log?.('imported images', { file: f, images: imported.join(',') });
      names.push(...imported);
    } catch (err) {
      log?.('image import failed', { file: f, err: (err as Error).message });
    }
  }
  return names;
}

/**
 * Where `skiff images import` notes the images it imported (one name a line): the kubelet's image GC keeps them as it
 * keeps the airgap folder's, since a node without a registry could not get them back.
 */
export function importedImagesFile(agentDir: string): string {
  return join(agentDir, 'etc', 'imported-images');
}

export async function recordImportedImages(agentDir: string, names: readonly string[]): Promise<void> {
  const file = importedImagesFile(agentDir);
  const known = new Set(readImportedImages(agentDir));
  const added = names.filter((n) => !known.has(n));
  if (added.length === 0) return;
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, added.map((n) => `${n}\n`).join(''));
}

/** The names `skiff images import` noted (none when it never ran). */
export function readImportedImages(agentDir: string): string[] {
  try {
    return readFileSync(importedImagesFile(agentDir), 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}
