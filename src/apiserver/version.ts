// /version: the Kubernetes version skiff implements. kubectl's dispatcher picks kubectl.1.<minor> from it.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '31';
export const GIT_VERSION = `v${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}.0+skiff`;

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

// dist/src/apiserver/version.js -> repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

/** The commit checked out in the source tree, read from .git without running git; '' outside a checkout. */
export function gitCommit(root = ROOT): string {
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(join(root, '.git', ref), 'utf8').trim();
    } catch {
      const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
      return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0] ?? '';
    }
  } catch {
    return '';
  }
}

function treeState(root: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, timeout: 5000 }, (err, stdout) => {
      // "archive" is upstream's word for a build from a source tarball.
      resolve(err ? 'archive' : stdout.trim() === '' ? 'clean' : 'dirty');
    });
  });
}

function buildDate(): string {
  try {
    return statSync(fileURLToPath(import.meta.url)).mtime.toISOString().replace(/\.\d{3}Z$/, 'Z');
  } catch {
    return '1970-01-01T00:00:00Z';
  }
}

let cached: Promise<VersionInfo> | undefined;

export function versionInfo(): Promise<VersionInfo> {
  cached ??= treeState(ROOT).then((state) => ({
    major: KUBERNETES_MAJOR,
    minor: KUBERNETES_MINOR,
    gitVersion: GIT_VERSION,
    gitCommit: gitCommit(),
    gitTreeState: state,
    buildDate: buildDate(),
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
  }));
  return cached;
}
