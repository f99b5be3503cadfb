// Pod-level cgroups under the QoS hierarchy, as upstream's kubelet makes them with the cgroupfs driver:
// kubepods/pod<uid> (Guaranteed), kubepods/burstable/pod<uid>, kubepods/besteffort/pod<uid>, given to containerd as
// the sandbox's cgroup parent. The pod's cgroup carries the pod's cpu shares (sum of requests), CFS quota and memory
// limit (sums of limits, when every container declares one), so the whole pod is bounded as upstream bounds it.
// The path is relative: runc nests it under its own cgroup (containerd's, i.e. the agent's), so an agent running
// inside a delegated cgroup (as on these machines, memory at /process_api/<id>) stays inside it. cgroup v1 (also on
// hybrid hosts, whose controllers are v1) and cgroup v2-only hosts are supported (see V2Layout); without cpu and memory
// controllers pods keep the runtime's default placement. The QoS folders follow upstream's qos manager: BestEffort
// gets the minimum cpu shares, Burstable the sum of its pods' cpu requests, updated as pods come and go.
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../machinery/quantity.js';
import { qosClassOf } from './qos.js';

export const KUBEPODS = 'kubepods';
const CPU_PERIOD = 100_000;
const MIN_SHARES = 2;
/** Where the kubelet records the hierarchy folders it uses, for `skiff killall`. */
export const CGROUPS_STATE_FILE = 'cgroups.json';

export interface PodResourceConfig {
  cpuShares: number;
  cpuQuota?: number;
  memoryLimit?: number;
}

function sumOrMax(pod: Pod, get: (c: Container) => number | undefined): { value: number; all: boolean } {
  const spec = pod.spec;
  let all = true;
  const val = (c: Container) => {
    const v = get(c);
    if (v === undefined) all = false;
    return v ?? 0;
  };
  const sidecars = (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  let running = 0;
  for (const c of [...sidecars, ...(spec?.containers ?? [])]) running += val(c);
  // A regular init container runs alone (with the sidecars started before it): the pod needs the larger of the two.
  let initMax = 0;
  let sidecarsSoFar = 0;
  for (const c of spec?.initContainers ?? []) {
    if (c.restartPolicy === 'Always') sidecarsSoFar += get(c) ?? 0;
    else initMax = Math.max(initMax, val(c) + sidecarsSoFar);
  }
  return { value: Math.max(running, initMax), all };
}

const milli = (q: unknown) => (q === undefined ? undefined : parseQuantity(String(q)).milliValue());
const bytes = (q: unknown) => (q === undefined ? undefined : parseQuantity(String(q)).value());

/** Upstream's ResourceConfigForPod: shares from requests, quota and memory limit only when every container has one. */
export function podResourceConfig(pod: Pod): PodResourceConfig {
  const qos = qosClassOf(pod);
  if (qos === 'BestEffort') return { cpuShares: MIN_SHARES };
  const cpuReq = sumOrMax(pod, (c) => milli(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu) ?? 0).value;
  const cpuLim = sumOrMax(pod, (c) => milli(c.resources?.limits?.cpu));
  const memLim = sumOrMax(pod, (c) => bytes(c.resources?.limits?.memory));
  const out: PodResourceConfig = { cpuShares: milliCpuToShares(cpuReq) };
  if (cpuLim.all && cpuLim.value > 0) out.cpuQuota = Math.max(1000, Math.floor((cpuLim.value * CPU_PERIOD) / 1000));
  if (memLim.all && memLim.value > 0) out.memoryLimit = memLim.value;
  return out;
}

/** The pod's cgroup parent, relative to the runtime's own cgroup. */
export function podCgroupParent(pod: Pod): string {
  const uid = pod.metadata?.uid ?? '';
  switch (qosClassOf(pod)) {
    case 'Guaranteed':
      return `${KUBEPODS}/pod${uid}`;
    case 'Burstable':
      return `${KUBEPODS}/burstable/pod${uid}`;
    default:
      return `${KUBEPODS}/besteffort/pod${uid}`;
  }
}

interface Hierarchy {
  controllers: string[];
  /** Absolute folder of the runtime's own cgroup in this hierarchy. */
  dir: string;
}

/** v1 hierarchies from mountinfo and a process's /proc/<pid>/cgroup: where its cgroup is in each. */
export function hierarchiesOf(mountinfo: string, procCgroup: string): Hierarchy[] {
  const own = new Map<string, string>();
  for (const line of procCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1] ?? '', m[2]!);
  }
  const out: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const [fstype, , superOpts] = right.split(' ');
    if (fstype === 'cgroup2') {
      // The unified hierarchy (hybrid hosts mount it beside the v1 ones): runc makes the pod's folder there too.
      if (own.has('')) out.push({ controllers: [], dir: join(f[4] ?? '', own.get('')!).replace(/(.)\/$/, '$1') });
      continue;
    }
    if (fstype !== 'cgroup') continue;
    const opts = new Set((superOpts ?? '').split(','));
    // The /proc/<pid>/cgroup entry whose controllers (or name=…) are exactly this mount's.
    const key = [...own.keys()].find((k) => k !== '' && k.split(',').every((c) => opts.has(c)));
    if (!key) continue;
    const controllers = key.split(',').sort();
    const root = f[3] ?? '/';
    const mountPoint = f[4] ?? '';
    let path = own.get(key)!;
    if (root !== '/' && path.startsWith(root)) path = path.slice(root.length);
    out.push({ controllers, dir: join(mountPoint, path).replace(/(.)\/$/, '$1') });
  }
  return out;
}

async function put(dir: string, file: string, value: string | number): Promise<void> {
  await writeFile(join(dir, file), String(value));
}

/** Upstream's MilliCPUToShares: 1024 shares per CPU, at least 2. */
export function milliCpuToShares(milli: number): number {
  return Math.max(MIN_SHARES, Math.floor((milli * 1024) / 1000));
}

/** Upstream's CpuSharesToCpuWeight (cgroup v2): shares [2, 262144] onto weight [1, 10000]. */
export function cpuSharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The Burstable QoS cgroup's cpu shares: the sum of the Burstable pods' cpu requests (upstream's qos manager). */
export function burstableShares(pods: Pod[]): number {
  let milliCpu = 0;
  for (const pod of pods) {
    if (qosClassOf(pod) !== 'Burstable') continue;
    milliCpu += sumOrMax(pod, (c) => milli(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu) ?? 0).value;
  }
  return milliCpuToShares(milliCpu);
}

/** How one cgroup version writes the pod and QoS folders (paths relative to the runtime's own cgroup). */
interface CgroupLayout {
  /** Makes the folder (in every hierarchy that needs it). */
  make(rel: string): Promise<void>;
  setCpu(rel: string, shares: number, quota: number | undefined): Promise<void>;
  setMemory(rel: string, limit: number): Promise<void>;
  /** The cgroup parent handed to the runtime for the folder. */
  parent(rel: string): string;
  memoryDir(rel: string): string;
  /** Every hierarchy folder pods live under (removal, killall). */
  dirs: string[];
}

/**
 * cgroup v1 (and hybrid hosts): cpu and memory in their own hierarchies. The parent is relative: runc nests it under
 * its own cgroup in each hierarchy (they differ here: memory sits at /process_api/<id>, cpu at /).
 */
class V1Layout implements CgroupLayout {
  constructor(
    private readonly cpu: Hierarchy,
    private readonly memory: Hierarchy,
    readonly dirs: string[],
  ) {}

  async make(rel: string): Promise<void> {
    await mkdir(join(this.cpu.dir, rel), { recursive: true });
    await mkdir(join(this.memory.dir, rel), { recursive: true });
  }

  async setCpu(rel: string, shares: number, quota: number | undefined): Promise<void> {
    const dir = join(this.cpu.dir, rel);
    await put(dir, 'cpu.shares', shares);
    await put(dir, 'cpu.cfs_period_us', CPU_PERIOD);
    await put(dir, 'cpu.cfs_quota_us', quota ?? -1);
  }

  async setMemory(rel: string, limit: number): Promise<void> {
    await put(join(this.memory.dir, rel), 'memory.limit_in_bytes', limit);
  }

  parent(rel: string): string {
    return rel;
  }

  memoryDir(rel: string): string {
    return join(this.memory.dir, rel);
  }
}

/** The leaf the runtime's processes move to on cgroup v2, so its own cgroup may hand controllers down. */
export const V2_RUNTIME_LEAF = 'skiff-runtime';
const V2_CONTROLLERS = ['cpu', 'memory'];

/**
 * cgroup v2: one hierarchy; a folder gets a controller only when its parent lists it in cgroup.subtree_control, and a
 * cgroup with processes cannot do that ("no internal processes"), so the runtime's processes first move to a leaf of
 * their own (as k3s evacuates its root cgroup). The parent given to runc is absolute (from the hierarchy's root):
 * runc then finds the pods where the kubelet made them wherever containerd itself lives.
 */
class V2Layout implements CgroupLayout {
  readonly dirs: string[];

  constructor(
    /** The runtime's cgroup on the host (mount point + its path). */
    private readonly base: string,
    /** The same as runc sees it (its path in /proc/<pid>/cgroup). */
    private readonly path: string,
  ) {
    this.dirs = [base];
  }

  /** Moves the runtime's processes out of its cgroup and enables cpu and memory for the folders below it. */
  static async prepare(base: string, path: string): Promise<boolean> {
    const available = (await readFile(join(base, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
    if (!V2_CONTROLLERS.every((c) => available.includes(c))) return false;
    const enabled = (await readFile(join(base, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
    if (V2_CONTROLLERS.every((c) => enabled.includes(c))) return true;
    const procs = (await readFile(join(base, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '');
    // (The hierarchy's root is exempt from the rule: nothing moves there.)
    if (procs.length > 0 && path !== '/') {
      const leaf = join(base, V2_RUNTIME_LEAF);
      await mkdir(leaf, { recursive: true });
      // One pid per write, as the kernel wants; a process that exited meanwhile is fine.
      for (const pid of procs) await put(leaf, 'cgroup.procs', pid.trim()).catch(() => undefined);
    }
    await put(base, 'cgroup.subtree_control', V2_CONTROLLERS.map((c) => `+${c}`).join(' '));
    return true;
  }

  async make(rel: string): Promise<void> {
    // Each level hands cpu and memory down to the next (the pod's folder to its containers).
    let dir = this.base;
    for (const part of rel.split('/')) {
      dir = join(dir, part);
      await mkdir(dir, { recursive: true });
      await put(dir, 'cgroup.subtree_control', V2_CONTROLLERS.map((c) => `+${c}`).join(' '));
    }
  }

  async setCpu(rel: string, shares: number, quota: number | undefined): Promise<void> {
    const dir = join(this.base, rel);
    await put(dir, 'cpu.weight', cpuSharesToWeight(shares));
    await put(dir, 'cpu.max', `${quota ?? 'max'} ${CPU_PERIOD}`);
  }

  async setMemory(rel: string, limit: number): Promise<void> {
    await put(join(this.base, rel), 'memory.max', limit);
  }

  parent(rel: string): string {
    return join(this.path, rel);
  }

  memoryDir(rel: string): string {
    return join(this.base, rel);
  }
}

/** The cgroup v2 hierarchy and the runtime's folder in it, from mountinfo and /proc/<pid>/cgroup (0::/path). */
export function unifiedOf(mountinfo: string, procCgroup: string): { base: string; path: string } | undefined {
  const m = /^0::(.*)$/m.exec(procCgroup);
  if (!m) return undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'cgroup2') continue;
    const f = left.split(' ');
    const root = f[3] ?? '/';
    let path = m[1]!;
    if (root !== '/' && path.startsWith(root)) path = path.slice(root.length) || '/';
    return { base: join(f[4] ?? '', path).replace(/(.)\/$/, '$1'), path: m[1]! };
  }
  return undefined;
}

export class PodCgroups {
  /** Pods whose cgroups exist or are being made: the Burstable QoS folder's shares follow their requests. */
  private readonly pods = new Map<string, Pod>();
  private lastBurstable: number | undefined;

  private constructor(private readonly layout: CgroupLayout) {}

  /** The runtime process's hierarchies, or undefined when pod cgroups cannot be managed here. */
  static async detect(runtimePid: number, agentDir: string): Promise<PodCgroups | undefined> {
    let mountinfo: string;
    let procCgroup: string;
    try {
      mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
      procCgroup = await readFile(`/proc/${runtimePid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
    return PodCgroups.from(mountinfo, procCgroup, agentDir);
  }

  /**
   * From mountinfo and the runtime's /proc/<pid>/cgroup: cgroup v1 with the cpu and memory controllers (also on
   * hybrid hosts), else cgroup v2 with cpu and memory available to the runtime's cgroup; undefined otherwise.
   */
  static async from(mountinfo: string, procCgroup: string, agentDir: string): Promise<PodCgroups | undefined> {
    const hs = hierarchiesOf(mountinfo, procCgroup);
    const cpu = hs.find((h) => h.controllers.includes('cpu'));
    const memory = hs.find((h) => h.controllers.includes('memory'));
    let layout: CgroupLayout;
    if (cpu && memory) layout = new V1Layout(cpu, memory, hs.map((h) => h.dir));
    else {
      const unified = hs.some((h) => h.controllers.length > 0) ? undefined : unifiedOf(mountinfo, procCgroup);
      if (!unified || !(await V2Layout.prepare(unified.base, unified.path).catch(() => false))) return undefined;
      layout = new V2Layout(unified.base, unified.path);
    }
    await writeFile(join(agentDir, CGROUPS_STATE_FILE), JSON.stringify(layout.dirs));
    return new PodCgroups(layout);
  }

  /** The pod's cgroup parent for the runtime. */
  parent(pod: Pod): string {
    return this.layout.parent(podCgroupParent(pod));
  }

  /** Absolute folder of the pod's memory cgroup (for tests and diagnostics). */
  memoryDir(pod: Pod): string {
    return this.layout.memoryDir(podCgroupParent(pod));
  }

  /**
   * Upstream's UpdateQOSCgroups: BestEffort gets the minimum shares, Burstable the sum of its pods' cpu requests.
   * `active` (when given) replaces the kubelet's view of the pods that hold cgroups (finished pods drop out).
   */
  async updateQos(active?: Pod[]): Promise<void> {
    if (active) {
      this.pods.clear();
      for (const p of active) this.pods.set(p.metadata?.uid ?? '', p);
    }
    const besteffort = `${KUBEPODS}/besteffort`;
    const burstable = `${KUBEPODS}/burstable`;
    await this.layout.make(besteffort);
    await this.layout.make(burstable);
    await this.layout.setCpu(besteffort, MIN_SHARES, undefined);
    const shares = burstableShares([...this.pods.values()]);
    if (shares !== this.lastBurstable) {
      await this.layout.setCpu(burstable, shares, undefined);
      this.lastBurstable = shares;
    }
  }

  /** Creates the QoS and pod cgroups with the pod's limits; returns the cgroup parent for the sandbox. */
  async ensure(pod: Pod): Promise<string> {
    const rel = podCgroupParent(pod);
    const cfg = podResourceConfig(pod);
    // The QoS folders first, with the new pod counted (upstream updates them before making the pod's cgroup).
    this.pods.set(pod.metadata?.uid ?? '', pod);
    await this.updateQos();
    await this.layout.make(rel);
    await this.layout.setCpu(rel, cfg.cpuShares, cfg.cpuQuota);
    if (cfg.memoryLimit !== undefined) await this.layout.setMemory(rel, cfg.memoryLimit);
    return this.layout.parent(rel);
  }

  /** Removes the pod's cgroup from every hierarchy (once its containers are gone); its requests leave the QoS folder. */
  async remove(uid: string): Promise<void> {
    await removePodCgroups(this.layout.dirs, uid);
    if (this.pods.delete(uid)) await this.updateQos();
  }
}

/** rmdir of a cgroup folder after its child folders (a container's cgroup a killed shim left behind). */
async function rmdirTree(dir: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await rmdirTree(join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}

/** Removes pod<uid> under each QoS folder of each hierarchy; folders with processes in them stay. */
export async function removePodCgroups(dirs: string[], uid: string): Promise<void> {
  for (const dir of dirs) {
    for (const qos of ['', 'burstable', 'besteffort']) await rmdirTree(join(dir, KUBEPODS, qos, `pod${uid}`));
  }
}

/** For `skiff killall`: the pods' cgroups of a data dir, then the QoS folders when nothing else uses them. */
export async function removeAgentCgroups(agentDir: string, uids: string[]): Promise<void> {
  let dirs: string[];
  try {
    dirs = JSON.parse(await readFile(join(agentDir, CGROUPS_STATE_FILE), 'utf8')) as string[];
  } catch {
    return;
  }
  for (const uid of uids) await removePodCgroups(dirs, uid);
  for (const dir of dirs) {
    for (const sub of ['burstable', 'besteffort', '']) await rmdir(join(dir, KUBEPODS, sub)).catch(() => undefined);
  }
}
