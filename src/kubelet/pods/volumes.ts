// Pod volumes on the node, laid out as upstream's kubelet does: <pods>/<uid>/volumes/<plugin>/<name> (plugin names
// like kubernetes.io~configmap), the pod's etc-hosts next to them, everything removed when the pod goes. setUp is
// level-triggered: every pod sync brings each volume in line with the API (configMap/secret/downwardAPI/projected
// contents are rewritten atomically only when they changed), so a running container sees updates.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume, VolumeProjection } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../machinery/quantity.js';
import type { KeyValue, Mount } from '../cri/types.js';
import { writeAtomically, type FileProjection } from './atomic-writer.js';
import { expandVars, fieldRefValue } from './config.js';
import { resourceFieldValue } from './env.js';
import { hostNetworkHostsFile, managedHostsFile } from './hosts.js';
import { configMapBytes, optionalRead, PodConfigError, secretBytes, type ObjectSource } from './objects.js';

const run = promisify(execFile);

/** A volume ready on the node: the host path containers mount, and whether it must be mounted read-only. */
export interface PodVolume {
  path: string;
  readOnly: boolean;
}

/** A volume as its plugin set it up, with how the pod's fsGroup applies to it. */
interface SetUpVolume extends PodVolume {
  /** Ownership for the fsGroup: read-write or read-only group rights; absent: not managed (hostPath). */
  ownership?: 'rw' | 'ro';
  /** The files were rewritten by this set-up. */
  rewritten?: boolean;
  /** fsGroupChangePolicy applies (persistent volumes). */
  ownershipPolicy?: boolean;
}

/** A volume that could not be set up: upstream's FailedMount event text. */
export class VolumeSetupError extends Error {
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VolumeContext {
  objects: ObjectSource;
  allocatable: Record<string, string>;
}

const PLUGIN = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

const DEFAULT_MODE = 0o644;
const TOKEN_DEFAULT_EXPIRATION = 3607;

/** Mount points under `dir` (deepest first), from /proc/self/mountinfo. */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const p = line.split(' ')[4];
    if (!p) continue;
    const point = p.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === dir || point.startsWith(dir + '/')) out.push(point);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** labels/annotations as upstream's fieldpath.FormatMap: sorted key="value" lines, no trailing newline. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k]!)}`)
    .join('\n');
}

async function hostPathType(path: string, type: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  const fail = (what: string) => {
    throw new Error(`hostPath type check failed: ${path} is not a ${what}`);
  };
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(path, { mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) fail('directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('directory');
      return;
    case 'FileOrCreate':
      if (!st) {
        const fh = await open(path, constants.O_CREAT | constants.O_WRONLY, 0o644);
        await fh.close();
        return;
      }
      if (!st.isFile()) fail('file');
      return;
    case 'File':
      if (!st?.isFile()) fail('file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('block device');
      return;
    default:
      return; // "" (Unset): no check
  }
}

function keyItems(values: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number, missing: (key: string) => string, optional: boolean | undefined): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  if (!items || items.length === 0) {
    for (const [k, v] of values) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const it of items) {
    const v = values.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new Error(missing(it.key));
    }
    out.set(it.path, { data: v, mode: it.mode ?? defaultMode });
  }
  return out;
}

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

/** Upstream's requiresPermissionChange: the volume's root is not yet owned by the group with the group's rights. */
async function requiresPermissionChange(dir: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return true;
  if (st.gid !== fsGroup || !st.isDirectory()) return true;
  const want = (readOnly ? RO_MASK : RW_MASK) | EXEC_MASK;
  return (st.mode & want) !== want || (st.mode & SETGID) === 0;
}

/**
 * Upstream's SetVolumeOwnership: every file and directory of the volume (children first, the root last, symlinks
 * not followed) gets group `fsGroup` and the group's read (and write unless read-only) rights; directories also
 * the group's execute right and setgid, so files made later inherit the group. With fsGroupChangePolicy
 * OnRootMismatch a volume whose root already matches is left alone.
 */
export async function setVolumeOwnership(dir: string, fsGroup: number | undefined, readOnly: boolean, policy?: string): Promise<void> {
  if (fsGroup === undefined) return;
  if (policy === 'OnRootMismatch' && !(await requiresPermissionChange(dir, fsGroup, readOnly))) return;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    }
    await lchown(path, -1, fsGroup);
    if (st.isSymbolicLink()) return;
    let mask = readOnly ? RO_MASK : RW_MASK;
    if (st.isDirectory()) mask |= SETGID | EXEC_MASK;
    await chmod(path, (st.mode & 0o7777) | mask);
  };
  await visit(dir);
}

export class VolumeManager {
  /** Volumes whose ownership was set for the pod's fsGroup (upstream does it when it mounts them): uid/name. */
  private readonly owned = new Set<string>();

  constructor(
    /** <agent-dir>/pods */
    readonly root: string,
    private readonly clusterDomain: string,
  ) {}

  podDir(uid: string): string {
    return join(this.root, uid);
  }

  /** The folder of the pod's emptyDir `name` (its usage is measured there). */
  emptyDirPath(uid: string, name: string): string {
    return this.volumeDir(uid, PLUGIN.emptyDir, name);
  }

  private volumeDir(uid: string, plugin: string, name: string): string {
    return join(this.podDir(uid), 'volumes', plugin, name);
  }

  /** Sets up (or refreshes) every volume of the pod; the first failure throws a VolumeSetupError. */
  async setUp(pod: Pod, ctx: VolumeContext): Promise<Map<string, PodVolume>> {
    const out = new Map<string, PodVolume>();
    for (const v of pod.spec?.volumes ?? []) {
      try {
        out.set(v.name, await this.setUpVolume(pod, v, ctx));
      } catch (err) {
        if (err instanceof VolumeSetupError) throw err;
        throw new VolumeSetupError(v.name, `MountVolume.SetUp failed for volume "${v.name}" : ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** Sets up the volume, then its ownership for the pod's fsGroup once (and again whenever its files were rewritten). */
  private async setUpVolume(pod: Pod, v: Volume, ctx: VolumeContext): Promise<PodVolume> {
    const vol = await this.setUpSource(pod, v, ctx);
    const sc = pod.spec?.securityContext;
    const key = `${pod.metadata?.uid ?? ''}/${v.name}`;
    // hostPath volumes (and hostPath PVs) are never changed, as upstream's plugin does not manage their ownership;
    // a read-only local PV is left alone too.
    const managed = vol.ownership !== undefined && sc?.fsGroup !== undefined;
    if (managed && (vol.rewritten || !this.owned.has(key))) {
      await setVolumeOwnership(vol.path, sc.fsGroup, vol.ownership === 'ro', vol.ownershipPolicy ? sc.fsGroupChangePolicy : undefined);
      this.owned.add(key);
    }
    return { path: vol.path, readOnly: vol.readOnly };
  }

  private async setUpSource(pod: Pod, v: Volume, ctx: VolumeContext): Promise<SetUpVolume> {
    const uid = pod.metadata?.uid ?? '';
    const ns = pod.metadata?.namespace ?? 'default';
    if (v.hostPath) {
      await hostPathType(v.hostPath.path, v.hostPath.type ?? '');
      return { path: v.hostPath.path, readOnly: false };
    }
    if (v.emptyDir) {
      const dir = this.volumeDir(uid, PLUGIN.emptyDir, v.name);
      await mkdir(dir, { recursive: true });
      if (v.emptyDir.medium === 'Memory') await this.ensureTmpfs(dir, v.emptyDir.sizeLimit as string | undefined);
      // rwx for everyone (upstream's 0777); setgid from an fsGroup stays.
      if (((await stat(dir)).mode & 0o777) !== 0o777) await chmod(dir, 0o777);
      return { path: dir, readOnly: false, ownership: 'rw' };
    }
    if (v.configMap) {
      const src = v.configMap;
      const dir = this.volumeDir(uid, PLUGIN.configMap, v.name);
      const cm = await optionalRead(() => ctx.objects.configMap(ns, src.name ?? ''), src.optional);
      const values = cm ? configMapBytes(cm) : new Map<string, Buffer>();
      const payload = keyItems(values, src.items, src.defaultMode ?? DEFAULT_MODE, (k) => `configmap references non-existent config key: ${k}`, src.optional || !cm);
      const rewritten = await writeAtomically(dir, payload);
      return { path: dir, readOnly: true, ownership: 'ro', rewritten };
    }
    if (v.secret) {
      const src = v.secret;
      const dir = this.volumeDir(uid, PLUGIN.secret, v.name);
      const s = await optionalRead(() => ctx.objects.secret(ns, src.secretName ?? ''), src.optional);
      const values = s ? secretBytes(s) : new Map<string, Buffer>();
      const payload = keyItems(values, src.items, src.defaultMode ?? DEFAULT_MODE, (k) => `references non-existent secret key: ${k}`, src.optional || !s);
      // Secrets never touch the node's disk: their directory is a tmpfs, as upstream's.
      await mkdir(dir, { recursive: true });
      await this.ensureTmpfs(dir, undefined);
      const rewritten = await writeAtomically(dir, payload);
      return { path: dir, readOnly: true, ownership: 'ro', rewritten };
    }
    if (v.downwardAPI) {
      const dir = this.volumeDir(uid, PLUGIN.downwardAPI, v.name);
      const payload = this.downwardPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, ctx);
      const rewritten = await writeAtomically(dir, payload);
      return { path: dir, readOnly: true, ownership: 'ro', rewritten };
    }
    if (v.projected) {
      const dir = this.volumeDir(uid, PLUGIN.projected, v.name);
      const payload = await this.projectedPayload(pod, v.projected.sources ?? [], v.projected.defaultMode ?? DEFAULT_MODE, ctx);
      const rewritten = await writeAtomically(dir, payload);
      return { path: dir, readOnly: true, ownership: 'ro', rewritten };
    }
    if (v.persistentVolumeClaim) return this.claimVolume(pod, v, ctx);
    throw new Error('volume type not supported by this kubelet');
  }

  private downwardPayload(pod: Pod, items: DownwardAPIVolumeFile[] | undefined, defaultMode: number, ctx: VolumeContext): Map<string, FileProjection> {
    const out = new Map<string, FileProjection>();
    for (const it of items ?? []) {
      let value: string | undefined;
      if (it.fieldRef) {
        const path = it.fieldRef.fieldPath;
        if (path === 'metadata.labels') value = formatMap(pod.metadata?.labels);
        else if (path === 'metadata.annotations') value = formatMap(pod.metadata?.annotations);
        else value = fieldRefValue(pod, path, [], []) ?? '';
      } else if (it.resourceFieldRef) {
        const name = it.resourceFieldRef.containerName;
        const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
        if (!c) throw new Error(`container ${name ?? ''} not found`);
        value = resourceFieldValue(it.resourceFieldRef, c, ctx.allocatable);
      }
      if (value === undefined) continue;
      out.set(it.path, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
    }
    return out;
  }

  private async projectedPayload(pod: Pod, sources: VolumeProjection[], defaultMode: number, ctx: VolumeContext): Promise<Map<string, FileProjection>> {
    const ns = pod.metadata?.namespace ?? 'default';
    const out = new Map<string, FileProjection>();
    const add = (m: Map<string, FileProjection>) => {
      for (const [k, v] of m) out.set(k, v);
    };
    for (const s of sources) {
      if (s.configMap) {
        const src = s.configMap;
        const cm = await optionalRead(() => ctx.objects.configMap(ns, src.name ?? ''), src.optional);
        if (cm) add(keyItems(configMapBytes(cm), src.items, defaultMode, (k) => `configmap references non-existent config key: ${k}`, src.optional));
      } else if (s.secret) {
        const src = s.secret;
        const sec = await optionalRead(() => ctx.objects.secret(ns, src.name ?? ''), src.optional);
        if (sec) add(keyItems(secretBytes(sec), src.items, defaultMode, (k) => `references non-existent secret key: ${k}`, src.optional));
      } else if (s.downwardAPI) {
        add(this.downwardPayload(pod, s.downwardAPI.items, defaultMode, ctx));
      } else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        let token: string;
        try {
          token = await ctx.objects.serviceAccountToken(ns, pod.spec?.serviceAccountName ?? 'default', {
            audiences: t.audience ? [t.audience] : [],
            expirationSeconds: t.expirationSeconds ?? TOKEN_DEFAULT_EXPIRATION,
            podName: pod.metadata?.name ?? '',
            podUid: pod.metadata?.uid ?? '',
          });
        } catch (err) {
          throw new Error(`failed to fetch token: ${(err as Error).message}`);
        }
        // Upstream writes the token 0600 unless the volume sets a mode (and 0644 is its default otherwise).
        out.set(t.path, { data: Buffer.from(token, 'utf8'), mode: defaultMode });
      }
      // clusterTrustBundle sources are not supported (a beta feature off by default upstream).
    }
    return out;
  }

  private async claimVolume(pod: Pod, v: Volume, ctx: VolumeContext): Promise<SetUpVolume> {
    const ns = pod.metadata?.namespace ?? 'default';
    const claim = v.persistentVolumeClaim!.claimName;
    const unable = (why: string) => new VolumeSetupError(v.name, `Unable to attach or mount volumes: unmounted volumes=[${v.name}], unattached volumes=[${v.name}]: error processing PVC ${ns}/${claim}: ${why}`);
    let pvc;
    try {
      pvc = await ctx.objects.pvc(ns, claim);
    } catch (err) {
      throw unable(`failed to fetch PVC from API server: ${(err as Error).message}`);
    }
    if (pvc.metadata?.deletionTimestamp) throw unable(`can't start pod because PVC ${ns}/${claim} is being deleted`);
    const pvName = pvc.spec?.volumeName ?? '';
    if (pvc.status?.phase !== 'Bound' || !pvName) throw unable(`PVC ${ns}/${claim} has non-bound phase ("${pvc.status?.phase ?? ''}") or empty pvc.Spec.VolumeName ("${pvName}")`);
    let pv;
    try {
      pv = await ctx.objects.pv(pvName);
    } catch (err) {
      throw unable(`failed to fetch PV ${pvName} from API server: ${(err as Error).message}`);
    }
    const ref = pv.spec?.claimRef;
    if (!ref || ref.name !== claim || (ref.namespace ?? ns) !== ns || (ref.uid && ref.uid !== pvc.metadata?.uid)) {
      throw unable(`PV "${pvName}" is not bound to PVC "${claim}"`);
    }
    const readOnly = v.persistentVolumeClaim!.readOnly ?? false;
    if (pv.spec?.hostPath) {
      await hostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type ?? '');
      return { path: pv.spec.hostPath.path, readOnly };
    }
    if (pv.spec?.local) {
      const st = await stat(pv.spec.local.path).catch(() => undefined);
      if (!st) throw new VolumeSetupError(v.name, `MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${pv.spec.local.path}" does not exist`);
      return { path: pv.spec.local.path, readOnly, ...(readOnly ? {} : { ownership: 'rw', ownershipPolicy: true }) };
    }
    throw new VolumeSetupError(v.name, `MountVolume.SetUp failed for volume "${pvName}" : volume source of PersistentVolume "${pvName}" is not supported by this kubelet (hostPath and local are)`);
  }

  private async ensureTmpfs(dir: string, sizeLimit: string | undefined): Promise<void> {
    if ((await mountsUnder(dir)).includes(dir)) return;
    const opts = ['-t', 'tmpfs'];
    if (sizeLimit !== undefined) opts.push('-o', `size=${parseQuantity(String(sizeLimit)).value()}`);
    await run('mount', [...opts, 'tmpfs', dir]);
  }

  /** Writes the pod's etc-hosts file (rewritten at each container start, as upstream); returns its path. */
  async writeHostsFile(pod: Pod, podIPs: string[]): Promise<string> {
    const dir = this.podDir(pod.metadata?.uid ?? '');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'etc-hosts');
    const text = pod.spec?.hostNetwork ? hostNetworkHostsFile(pod, await readFile('/etc/hosts', 'utf8').catch(() => '')) : managedHostsFile(pod, podIPs, this.clusterDomain);
    await writeFile(file, text, { mode: 0o644 });
    return file;
  }

  /** Removes the pod's directory after unmounting what is mounted under it. */
  async tearDown(uid: string): Promise<void> {
    if (!uid) return;
    for (const k of this.owned) if (k.startsWith(`${uid}/`)) this.owned.delete(k);
    const dir = this.podDir(uid);
    for (const m of await mountsUnder(dir)) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => undefined));
    if ((await mountsUnder(dir)).length > 0) return; // never remove through a mount still in place
    await rm(dir, { recursive: true, force: true });
  }

  /** Pod directories whose pod the kubelet no longer knows (upstream's cleanupOrphanedPodDirs). */
  async cleanupOrphans(known: (uid: string) => boolean): Promise<void> {
    const entries = await readdir(this.root).catch(() => [] as string[]);
    for (const uid of entries) if (!known(uid)) await this.tearDown(uid);
  }
}

/** A subPath that cannot be used: it leaves its volume through a symlink, or it cannot be made. */
export class SubPathError extends Error {
  constructor(
    message: string,
    readonly creating: boolean,
  ) {
    super(message);
  }
}

const within = (path: string, base: string) => path === base || path.startsWith(base.endsWith('/') ? base : base + '/');

/**
 * The real host path of `sub` inside the volume at `volumePath`: each existing component is resolved (symlinks
 * included) and must stay inside the volume; missing components are created as directories (when `create`) one at
 * a time under the resolved parent, with the volume's mode, so a symlink cannot make the kubelet create anything
 * outside the volume either. The resolved path is what the runtime bind-mounts.
 */
export async function resolveSubPath(volumePath: string, sub: string, create: boolean): Promise<string> {
  const base = await realpath(volumePath);
  const parts = sub.split('/').filter((p) => p !== '' && p !== '.');
  // As upstream: a path that exists (through symlinks) is only prepared; one that does not is made first.
  const creating = !(await stat(join(volumePath, sub)).then(
    () => true,
    () => false,
  ));
  let current = base;
  for (const part of parts) {
    const next = join(current, part);
    let resolved: string | undefined;
    try {
      resolved = await realpath(next);
    } catch {
      resolved = undefined;
    }
    if (resolved === undefined) {
      const st = await lstat(next).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new SubPathError(`subpath ${JSON.stringify(join(volumePath, sub))}: dangling symlink ${JSON.stringify(next)}`, creating);
      if (!create) throw new SubPathError(`subpath ${JSON.stringify(join(volumePath, sub))} does not exist`, creating);
      const mode = (await stat(base)).mode & 0o7777;
      await mkdir(next, { mode }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw new SubPathError(`cannot create ${JSON.stringify(next)}: ${err.message}`, true);
      });
      await chmod(next, mode);
      resolved = await realpath(next);
    }
    if (!within(resolved, base)) throw new SubPathError(`subpath ${JSON.stringify(resolved)} not within volume path ${JSON.stringify(base)}`, creating);
    current = resolved;
  }
  return current;
}

/**
 * The CRI mounts of one container: its volumeMounts (subPath/subPathExpr, readOnly, mountPropagation) and the managed
 * /etc/hosts unless the container mounts something there itself.
 */
export async function containerMounts(c: Container, volumes: Map<string, PodVolume>, env: KeyValue[], hostsFile: string | undefined): Promise<Mount[]> {
  const out: Mount[] = [];
  const lookup = (n: string) => env.find((e) => e.key === n)?.value;
  for (const vm of c.volumeMounts ?? []) {
    const vol = volumes.get(vm.name);
    if (!vol) throw new PodConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    let hostPath = vol.path;
    let sub = vm.subPath ?? '';
    if (vm.subPathExpr) sub = expandVars(vm.subPathExpr, lookup);
    if (sub) {
      if (posix.isAbsolute(sub)) throw new PodConfigError(`error SubPath \`${sub}\` must not be an absolute path`);
      if (sub.split('/').includes('..')) throw new PodConfigError(`unable to provision SubPath \`${sub}\`: must not contain '..'`);
      // Resolved through the volume's own symlinks, never outside the volume (upstream's SafeMakeDir and
      // PrepareSafeSubpath); the details stay in the kubelet's log, the container gets upstream's short message.
      try {
        hostPath = await resolveSubPath(vol.path, sub, !vol.readOnly);
      } catch (err) {
        if (!(err instanceof SubPathError)) throw err;
        throw new PodConfigError(`${err.creating ? 'failed to create subPath directory' : 'failed to prepare subPath'} for volumeMount "${vm.name}" of container "${c.name}"`, false, err.message);
      }
    }
    const propagation: Mount['propagation'] =
      vm.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL' : vm.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE';
    out.push({ containerPath: vm.mountPath, hostPath, readonly: (vm.readOnly ?? false) || vol.readOnly, propagation });
  }
  if (hostsFile && !out.some((m) => m.containerPath === '/etc/hosts')) {
    out.push({ containerPath: '/etc/hosts', hostPath: hostsFile, readonly: false, propagation: 'PROPAGATION_PRIVATE' });
  }
  return out;
}
