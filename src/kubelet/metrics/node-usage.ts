// The node's own usage, as cAdvisor reports the root cgroup: cumulative CPU time of everything on the machine and
// the memory working set (usage minus inactive file pages, which the kernel can reclaim at once). cgroup v1 (and
// hybrid hosts, whose controllers are v1) read the root cpuacct and memory cgroups; cgroup v2 reads the root
// cpu.stat; what a hierarchy lacks comes from /proc/stat and /proc/meminfo with the same formulas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeUsage {
  /** Cumulative CPU time of the whole node in nanoseconds. */
  cpuUsageNanoSeconds: number;
  /** Memory working set in bytes. */
  memoryWorkingSetBytes: number;
  /** When it was read (ms since the epoch). */
  timestamp: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** "key value" lines (memory.stat, cpu.stat) → numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** /proc/meminfo → bytes by field name ("MemTotal", "Inactive(file)", ...). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return out;
}

/** The first line of /proc/stat → busy CPU time in ns (user, nice, system, irq, softirq, steal; not idle/iowait). */
export function procStatBusyNanoSeconds(text: string, clockTicksPerSecond = 100): number | undefined {
  const m = /^cpu\s+(.+)$/m.exec(text);
  if (!m) return undefined;
  const f = m[1]!.trim().split(/\s+/).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return Math.round((busy / clockTicksPerSecond) * 1e9);
}

/** Working set = usage − inactive_file, never below zero (cAdvisor's rule). */
export function workingSet(usageBytes: number, inactiveFileBytes: number): number {
  return Math.max(0, usageBytes - inactiveFileBytes);
}

/** Reads the node's usage under `root` ("/" on a real host; a fixture folder in tests). */
export function readNodeUsage(root = '/', now: () => number = Date.now): NodeUsage {
  const cg = join(root, 'sys/fs/cgroup');
  let cpu: number | undefined;
  // cgroup v1: cpuacct.usage is in ns (mounted alone or as cpu,cpuacct).
  for (const dir of ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const text = read(join(cg, dir, 'cpuacct.usage'));
    if (text !== undefined && /^\d+/.test(text.trim())) {
      cpu = Number(text.trim());
      break;
    }
  }
  // cgroup v2: cpu.stat usage_usec at the root.
  if (cpu === undefined) {
    const stat = read(join(cg, 'cpu.stat'));
    const usec = stat ? parseFlatKeyed(stat).get('usage_usec') : undefined;
    if (usec !== undefined) cpu = usec * 1000;
  }
  if (cpu === undefined) cpu = procStatBusyNanoSeconds(read(join(root, 'proc/stat')) ?? '') ?? 0;

  let memory: number | undefined;
  const usage = read(join(cg, 'memory', 'memory.usage_in_bytes'));
  const stat = read(join(cg, 'memory', 'memory.stat'));
  if (usage !== undefined && stat !== undefined) {
    const s = parseFlatKeyed(stat);
    memory = workingSet(Number(usage.trim()), s.get('total_inactive_file') ?? s.get('inactive_file') ?? 0);
  }
  if (memory === undefined) {
    // cgroup v2 has no memory.current at the root: the machine's own accounting, same formula.
    const mi = parseMeminfo(read(join(root, 'proc/meminfo')) ?? '');
    const used = (mi.get('MemTotal') ?? 0) - (mi.get('MemFree') ?? 0);
    memory = workingSet(used, mi.get('Inactive(file)') ?? 0);
  }
  return { cpuUsageNanoSeconds: cpu, memoryWorkingSetBytes: memory, timestamp: now() };
}

/** When the machine booted (ms since the epoch), from /proc/stat's btime; 0 when unknown. */
export function nodeBootTime(root = '/'): number {
  const m = /^btime\s+(\d+)$/m.exec(read(join(root, 'proc/stat')) ?? '');
  return m ? Number(m[1]) * 1000 : 0;
}
