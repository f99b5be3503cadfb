// Pod-level cgroups under the QoS hierarchy, as upstream's kubelet makes them with the cgroupfs driver:
// kubepods/pod<uid> (Guaranteed), kubepods/burstable/pod<uid>, kubepods/besteffort/pod<uid>, given to containerd as
// the sandbox's cgroup parent. The pod's cgroup carries the pod's cpu shares (sum of requests), CFS quota and memory
// limit (sums of limits, when every container declares one), so the whole pod is bounded as upstream bounds it.
// The path is relative: runc nests it under its own cgroup (containerd's, i.e. the agent's), so an agent running
// inside a delegated cgroup (as on these machines, memory at /process_api/<id>) stays inside it. cgroup v1 (also on
// hybrid hosts, whose controllers are v1) is supported; without the cpu and memory v1 controllers pods keep the
// runtime's default placement.
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
  const out: PodResourceConfig = { cpuShares: Math.max(MIN_SHARES, Math.floor((cpuReq * 1024) / 1000)) };
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

export class PodCgroups {
  private constructor(
    private readonly cpu: Hierarchy,
    private readonly memory: Hierarchy,
    private readonly all: Hierarchy[],
  ) {}

  /** The runtime process's hierarchies, or undefined when pod cgroups cannot be managed here (no v1 cpu+memory). */
  static async detect(runtimePid: number, agentDir: string): Promise<PodCgroups | undefined> {
    let hs: Hierarchy[];
    try {
      hs = hierarchiesOf(await readFile('/proc/self/mountinfo', 'utf8'), await readFile(`/proc/${runtimePid}/cgroup`, 'utf8'));
    } catch {
      return undefined;
    }
    const cpu = hs.find((h) => h.controllers.includes('cpu'));
    const memory = hs.find((h) => h.controllers.includes('memory'));
    if (!cpu || !memory) return undefined;
    await writeFile(join(agentDir, CGROUPS_STATE_FILE), JSON.stringify(hs.map((h) => h.dir)));
    return new PodCgroups(cpu, memory, hs);
  }

  /** Absolute folder of the pod's memory cgroup (for tests and diagnostics). */
  memoryDir(pod: Pod): string {
    return join(this.memory.dir, podCgroupParent(pod));
  }

  /** Creates the QoS and pod cgroups with the pod's limits; returns the cgroup parent for the sandbox. */
  async ensure(pod: Pod): Promise<string> {
    const parent = podCgroupParent(pod);
    const cfg = podResourceConfig(pod);
    const besteffort = join(this.cpu.dir, KUBEPODS, 'besteffort');
    await mkdir(besteffort, { recursive: true });
    await put(besteffort, 'cpu.shares', MIN_SHARES);
    const cpuDir = join(this.cpu.dir, parent);
    await mkdir(cpuDir, { recursive: true });
    await put(cpuDir, 'cpu.shares', cfg.cpuShares);
    await put(cpuDir, 'cpu.cfs_period_us', CPU_PERIOD);
    await put(cpuDir, 'cpu.cfs_quota_us', cfg.cpuQuota ?? -1);
    const memDir = join(this.memory.dir, parent);
    await mkdir(memDir, { recursive: true });
    if (cfg.memoryLimit !== undefined) await put(memDir, 'memory.limit_in_bytes', cfg.memoryLimit);
    return parent;
  }

  /** Removes the pod's cgroup from every hierarchy (once its containers are gone). */
  async remove(uid: string): Promise<void> {
    await removePodCgroups(
      this.all.map((h) => h.dir),
      uid,
    );
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
