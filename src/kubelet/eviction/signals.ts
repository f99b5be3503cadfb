// The eviction signals as the node shows them: memory.available as upstream computes it from the root cgroup (the
// machine's memory capacity, MemTotal, less the root cgroup's working set = usage − inactive_file; cgroup v2 hosts,
// whose root has no memory.current, take the same formula from /proc/meminfo), nodefs
// from statfs of the kubelet's directory, imagefs from statfs of the runtime's root (bytes and inodes), pid.available
// from pid_max less the processes running. Pod usage from the runtime's container stats (working set, writable
// layer) plus the pod's emptyDirs and logs on disk.
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerStats } from '../cri/types.js';
import { LABEL_POD_UID } from '../pods/runtime-state.js';
import { diskUsage } from '../pods/eviction.js';
import { podLogDirectory } from '../pods/config.js';
import { parseMeminfo, readNodeUsage } from '../metrics/node-usage.js';
import type { Observations, PodUsage } from './manager.js';

function fsSignals(path: string): { bytes: { available: number; capacity: number }; inodes: { available: number; capacity: number } } | undefined {
  try {
    const fs = statfsSync(path);
    return {
      bytes: { available: Number(fs.bavail) * Number(fs.bsize), capacity: Number(fs.blocks) * Number(fs.bsize) },
      inodes: { available: Number(fs.ffree), capacity: Number(fs.files) },
    };
  } catch {
    return undefined;
  }
}

/** memory.available: capacity (MemTotal) less the root cgroup's working set, never below 0; undefined without /proc. */
export function memoryAvailable(root = '/'): { available: number; capacity: number } | undefined {
  let capacity: number | undefined;
  try {
    capacity = parseMeminfo(readFileSync(join(root, 'proc/meminfo'), 'utf8')).get('MemTotal');
  } catch {
    return undefined;
  }
  if (!capacity) return undefined;
  const workingSet = readNodeUsage(root).memoryWorkingSetBytes;
  return { available: Math.max(0, capacity - workingSet), capacity };
}

export function observeNode(nodefsPath: string, imagefsPath: string, root = '/'): Observations {
  const out: Observations = {};
  const memory = memoryAvailable(root);
  if (memory) out['memory.available'] = memory;
  const nodefs = fsSignals(nodefsPath);
  if (nodefs) {
    out['nodefs.available'] = nodefs.bytes;
    // Some filesystems (btrfs, some tmpfs mounts) report no inode limit: no signal then.
    if (nodefs.inodes.capacity > 0) out['nodefs.inodesFree'] = nodefs.inodes;
  }
  const imagefs = fsSignals(imagefsPath);
  if (imagefs) {
    out['imagefs.available'] = imagefs.bytes;
    if (imagefs.inodes.capacity > 0) out['imagefs.inodesFree'] = imagefs.inodes;
  }
  try {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) || 32768;
    const procs = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    out['pid.available'] = { available: pidMax - procs, capacity: pidMax };
  } catch {
    // no pid signal
  }
  return out;
}

/** Per pod (by uid): containers' working set and writable layer from the runtime, plus emptyDirs and logs on disk. */
export async function podUsageFromRuntime(
  pods: Pod[],
  stats: ContainerStats[],
  src: { emptyDirPath(uid: string, volume: string): string; logRoot: string },
): Promise<Map<string, PodUsage>> {
  const out = new Map<string, PodUsage>();
  const wanted = new Set(pods.map((p) => p.metadata?.uid ?? ''));
  for (const st of stats) {
    const uid = st.attributes?.labels?.[LABEL_POD_UID];
    const name = st.attributes?.metadata?.name;
    if (!uid || !name || !wanted.has(uid)) continue;
    let u = out.get(uid);
    if (!u) out.set(uid, (u = { containers: [] }));
    u.containers.push({ name, memoryBytes: st.memory?.workingSetBytes?.value ?? 0, diskBytes: st.writableLayer?.usedBytes?.value ?? 0 });
  }
  for (const pod of pods) {
    const uid = pod.metadata?.uid ?? '';
    let extra = await diskUsage(podLogDirectory(src.logRoot, pod));
    for (const v of pod.spec?.volumes ?? []) if (v.emptyDir && v.emptyDir.medium !== 'Memory') extra += await diskUsage(src.emptyDirPath(uid, v.name));
    let u = out.get(uid);
    if (!u) out.set(uid, (u = { containers: [] }));
    u.extraDiskBytes = extra;
  }
  return out;
}
