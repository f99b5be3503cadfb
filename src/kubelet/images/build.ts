// Builds OCI image archives offline (no registry is reachable on these machines): a root filesystem holding the
// static busybox from Debian's busybox-static package and a symlink per applet, packed as one layer with a
// reproducible tar, plus the config, manifest and index written by hand. `ctr images import` and the kubelet's
// image import read the result like any `docker save`/`skopeo copy oci-archive:` output.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** Where Debian's busybox-static puts its binary. */
export const BUSYBOX_PATH = '/bin/busybox';

/** The names tests and the agent use for the two images. */
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export interface ImageSpecification {
  /** Full reference stored in the archive (`io.containerd.image.name`), e.g. docker.io/library/busybox:latest. */
  name: string;
  /** Image config Entrypoint and Cmd. */
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** The archive's layout: an OCI image layout (default), or `docker save`'s docker-archive (manifest.json, config, layer.tar). */
  format?: 'oci' | 'docker-archive';
}

export interface BuiltImage {
  name: string;
  file: string;
  /** sha256:… of the manifest (the image's digest). */
  digest: string;
  /** sha256:… of the config (the image ID as containerd reports it). */
  id: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The applets the busybox binary offers (`busybox --list`). */
export async function busyboxApplets(busybox = BUSYBOX_PATH): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list']);
  return stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '' && !s.includes('/'));
}

/** Makes the busybox root filesystem in `dir` (which must be empty or missing). */
async function makeBusyboxRootfs(dir: string, busybox: string): Promise<void> {
  if (!existsSync(busybox)) {
    throw new Error(`${busybox} not found: install Debian's busybox-static package (apt-get install -y busybox-static)`);
  }
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'var/www', 'home']) await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile(busybox, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of await busyboxApplets(busybox)) {
    if (applet === 'busybox') continue;
    await symlink('busybox', join(dir, 'bin', applet));
  }
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'etc', 'hostname'), 'localhost\n');
}

/** A reproducible tar of `dir` (sorted names, zero times and owners), as the layer's uncompressed bytes. */
async function reproducibleTar(dir: string, out: string): Promise<void> {
  await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', dir, '-cf', out, '.']);
}

/**
 * Builds an OCI image archive (oci-layout, index.json, blobs/sha256/…) holding one busybox layer and writes it to
 * `file`. The same inputs give the same bytes, so the image ID is stable across builds.
 */
export async function buildBusyboxImage(spec: ImageSpecification, file: string, busybox = BUSYBOX_PATH): Promise<BuiltImage> {
  const work = await mkdtemp(join(tmpdir(), 'skiff-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    await makeBusyboxRootfs(rootfs, busybox);
    const layerTar = join(work, 'layer.tar');
    await reproducibleTar(rootfs, layerTar);
    const layer = await readFile(layerTar);
    const diffId = sha256(layer);
    // Node's gzip header carries no name and a zero mtime (as `gzip -n`), so the digest is reproducible.
    const gz = gzipSync(layer, { level: 6 });
    const layerDigest = sha256(gz);

    const config = Buffer.from(
      JSON.stringify({
        created: '1970-01-01T00:00:00Z',
        architecture: goArch(),
        os: 'linux',
        config: {
          Env: spec.env ?? [DEFAULT_PATH],
          ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
          ...(spec.cmd ? { Cmd: spec.cmd } : {}),
          ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: '1970-01-01T00:00:00Z', created_by: 'skiff: busybox-static root filesystem' }],
      }),
    );
    const configDigest = sha256(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: gz.length }],
      }),
    );
    const manifestDigest = sha256(manifest);
    if (spec.format === 'docker-archive') {
      // docker save's layout: the config as <id>.json, each layer uncompressed as <dir>/layer.tar, and manifest.json
      // naming them with the image's tags. The importer writes its own manifest (so `digest` is the OCI one's).
      const archive = join(work, 'archive');
      const configFile = `${configDigest.slice('sha256:'.length)}.json`;
      const layerFile = `${diffId.slice('sha256:'.length)}/layer.tar`;
      await mkdir(join(archive, diffId.slice('sha256:'.length)), { recursive: true });
      await writeFile(join(archive, configFile), config);
      await writeFile(join(archive, layerFile), layer);
      await writeFile(join(archive, 'manifest.json'), JSON.stringify([{ Config: configFile, RepoTags: [spec.name], Layers: [layerFile] }]));
      await reproducibleTar(archive, file);
      return { name: spec.name, file, digest: manifestDigest, id: configDigest };
    }
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: goArch(), os: 'linux' },
          annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': refName(spec.name) },
        },
      ],
    };

    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const blob = (digest: string) => join(blobs, digest.slice('sha256:'.length));
    await writeFile(blob(layerDigest), gz);
    await writeFile(blob(configDigest), config);
    await writeFile(blob(manifestDigest), manifest);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));
    await reproducibleTar(layout, file);
    return { name: spec.name, file, digest: manifestDigest, id: configDigest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The tag part of a reference (what `org.opencontainers.image.ref.name` holds), "latest" when there is none. */
function refName(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(at + 1);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}

/** Node's process.arch in Go's GOARCH spelling (what image configs use). */
export function goArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return process.arch; // arm64, arm, ppc64, s390x, riscv64 are spelled the same
  }
}

/** The busybox image (default command `sh`) and a pause image (sleeps forever), both from busybox-static. */
export async function buildTestImages(dir: string): Promise<{ busybox: BuiltImage; pause: BuiltImage }> {
  await mkdir(dir, { recursive: true });
  const busybox = await buildBusyboxImage({ name: BUSYBOX_IMAGE, cmd: ['sh'] }, join(dir, 'busybox.oci.tar'));
  const pause = await buildBusyboxImage({ name: PAUSE_IMAGE, entrypoint: ['/bin/sleep', '2147483647'] }, join(dir, 'pause.oci.tar'));
  return { busybox, pause };
}
