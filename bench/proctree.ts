// CPU seconds by process class over a window, for the real-node benchmark: the server, the agent, containerd, the
// shims, the containers' processes, and what each of them ran and reaped in between (CNI plugins and shim `start`
// runs are reaped by containerd, runc runs by the shims, iptables and mount by the agent), read from /proc.
// A process that exited is counted in its reaping parent's cutime/cstime; shims are re-parented to PID 1 and found
// by the containerd socket on their command line; containers are the shims' children.
import { readdir, readFile } from 'node:fs/promises';

const CLK_TCK = 100;

export interface ProcTimes {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime of the process (all its threads), seconds. */
  self: number;
  /** cutime + cstime: children it waited for, seconds. */
  reaped: number;
  /** Clock ticks since boot at which it started (tells a new process with a reused PID apart). */
  start: number;
}

async function readTimes(pid: number): Promise<ProcTimes | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after the command (1-based numbering of proc(5)): 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime, 22 starttime.
    const f = stat.slice(close + 2).split(' ');
    const n = (field: number) => Number(f[field - 3]);
    return { pid, ppid: n(4), comm, self: (n(14) + n(15)) / CLK_TCK, reaped: (n(16) + n(17)) / CLK_TCK, start: n(22) };
  } catch {
    return undefined; // gone
  }
}

export interface ProcClasses {
  server: number;
  agent: number;
  /** Processes the agent ran and reaped (iptables, mount, ctr, ...). */
  agentChildren: number;
  containerd: number;
  /** CNI plugins (and what they ran: iptables for portmap) and the short `containerd-shim-runc-v2 start` runs. */
  containerdChildren: number;
  shims: number;
  /** runc create/start/state/delete runs (reaped by the shims). */
  runc: number;
  /** The containers' processes (pause, the app), including runc init's work before its exec. */
  containers: number;
}

export type ProcSnapshot = Map<number, ProcTimes & { cls: keyof ProcClasses; own: boolean }>;

/** Every process of the node under test, classified: `server` and `agent` PIDs, shims by `containerdSocket`. */
export async function snapshotClasses(serverPid: number, agentPid: number, containerdSocket: string): Promise<ProcSnapshot> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const all = new Map<number, ProcTimes>();
  await Promise.all(
    pids.map(async (pid) => {
      const t = await readTimes(pid);
      if (t) all.set(pid, t);
    }),
  );
  const shims = new Set<number>();
  await Promise.all(
    [...all.values()]
      .filter((p) => p.comm.startsWith('containerd-shim'))
      .map(async (p) => {
        const cmd = await readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '');
        if (cmd.split('\0').includes(containerdSocket)) shims.add(p.pid);
      }),
  );
  const out: ProcSnapshot = new Map();
  const containerd = [...all.values()].find((p) => p.ppid === agentPid && p.comm === 'containerd');
  const put = (p: ProcTimes, cls: keyof ProcClasses) => out.set(p.pid, { ...p, cls, own: true });
  const server = all.get(serverPid);
  if (server) put(server, 'server');
  const agent = all.get(agentPid);
  if (agent) put(agent, 'agent');
  if (containerd) put(containerd, 'containerd');
  for (const pid of shims) put(all.get(pid)!, 'shims');
  // Containers: every descendant of a shim.
  const children = new Map<number, number[]>();
  for (const p of all.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const stack = [...shims].flatMap((s) => children.get(s) ?? []);
  while (stack.length) {
    const pid = stack.pop()!;
    const p = all.get(pid);
    if (!p || out.has(pid)) continue;
    put(p, 'containers');
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds per class between two snapshots (new processes count whole; reaped children go to the parent's class). */
export function classDelta(before: ProcSnapshot, after: ProcSnapshot): ProcClasses {
  const sum: ProcClasses = { server: 0, agent: 0, agentChildren: 0, containerd: 0, containerdChildren: 0, shims: 0, runc: 0, containers: 0 };
  const reapedClass: Partial<Record<keyof ProcClasses, keyof ProcClasses>> = { agent: 'agentChildren', containerd: 'containerdChildren', shims: 'runc' };
  for (const p of after.values()) {
    const b = before.get(p.pid);
    const same = b && b.start === p.start;
    sum[p.cls] += p.self - (same ? b.self : 0);
    const rc = reapedClass[p.cls];
    if (rc) sum[rc] += p.reaped - (same ? b.reaped : 0);
  }
  for (const k of Object.keys(sum) as (keyof ProcClasses)[]) sum[k] = Math.round(sum[k] * 100) / 100;
  return sum;
}
