// `skiff killall`: removes everything an agent's data dir left running on the host (like k3s-killall.sh): every pod
// sandbox and container (so CNI releases addresses and rules), the containerd of that data dir, stray shims, the
// agent's bridge and leftover mounts. Used by tests and before an uninstall.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { containerdPaths, startContainerd, type Containerd } from './containerd/supervisor.js';
import { CriClient } from './cri/client.js';
import { PAUSE_IMAGE } from './images/build.js';
import { bridgeName, removeMasquerade } from './network/cni.js';
import { removeAgentCgroups } from './pods/cgroups.js';
import { LABEL_POD_UID } from './pods/runtime-state.js';

const run = promisify(execFile);

/** Processes whose command line mentions `needle` (e.g. the containerd socket of a data dir). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(needle)) pids.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/**
 * Sends `signal` to `pid`; false when it exited meanwhile (a shim ends by itself once its sandbox is removed), which
 * must not stop the clean-up halfway.
 */
export function signalIfRunning(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** The parent of process `pid` (0 when it is gone). */
function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The skiff processes (server or agent) running the containerd of this data dir: they would start it again. */
function agentsOf(daemons: number[]): number[] {
  const parents = new Set(daemons.map(parentOf));
  return [...parents].filter((p) => {
    if (p <= 1 || p === process.pid) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('skiff');
    } catch {
      return false;
    }
  });
}

async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some((p) => existsSync(`/proc/${p}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Lines of /proc/self/mountinfo whose mount point is under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export interface KillallReport {
  sandboxes: number;
  containers: number;
}

export async function killall(agentDir: string, log: (msg: string) => void = () => {}): Promise<KillallReport> {
  const paths = containerdPaths(agentDir);
  const report: KillallReport = { sandboxes: 0, containers: 0 };
  const podUids = new Set<string>();
  // No config: the agent used an outside runtime (--container-runtime-endpoint), which is not ours to clear or stop;
  // the pod network and mounts below are still the agent's.
  if (existsSync(paths.config)) await clearRuntime(agentDir, report, podUids, log);

  // The pods' cgroups (empty once their containers are gone) and the QoS folders if no other agent uses them.
  await removeAgentCgroups(agentDir, [...podUids]);

  // The bridge, and mounts left under the data dir (netns, rootfs, shm).
  await run('ip', ['link', 'delete', bridgeName(agentDir)]).catch(() => undefined);
  await removeMasquerade(bridgeName(agentDir)).catch(() => undefined);
  for (const m of await mountsUnder(agentDir)) await run('umount', ['-l', m]).catch(() => undefined);
  return report;
}

/** Stops the agent running this data dir's containerd, every pod sandbox and container in it, then it and its shims. */
async function clearRuntime(agentDir: string, report: KillallReport, podUids: Set<string>, log: (msg: string) => void): Promise<void> {
  const paths = containerdPaths(agentDir);
  // First the agent that supervises this containerd (as k3s-killall.sh stops k3s): it would start it again.
  const agents = agentsOf(processesMentioning(paths.config));
  for (const pid of agents) {
    log(`stopping the agent (pid ${pid})`);
    signalIfRunning(pid, 'SIGTERM');
  }
  await waitGone(agents, 30_000);

  // A containerd for this data dir: the running one, or one started just for the clean-up.
  let started: Containerd | undefined;
  let cri = new CriClient(paths.socket);
  try {
    await cri.version(2000);
  } catch {
    cri.close();
    started = await startContainerd({ agentDir, sandboxImage: PAUSE_IMAGE, readyTimeoutMs: 30_000, supervise: false });
    cri = new CriClient(paths.socket);
  }
  try {
    const containers = await cri.listContainers();
    await Promise.all(containers.map((c) => cri.stopContainer(c.id, 0).catch(() => undefined)));
    for (const c of containers) await cri.removeContainer(c.id).catch(() => undefined);
    report.containers = containers.length;
    const sandboxes = await cri.listPodSandbox();
    for (const s of sandboxes) {
      if (s.labels[LABEL_POD_UID]) podUids.add(s.labels[LABEL_POD_UID]);
      await cri.stopPodSandbox(s.id).catch((err: Error) => log(`stop sandbox ${s.id}: ${err.message}`));
      await cri.removePodSandbox(s.id).catch(() => undefined);
    }
    report.sandboxes = sandboxes.length;
  } finally {
    cri.close();
  }

  // Stop containerd: ours, or the agent's still running.
  if (started) await started.stop();
  const daemons = processesMentioning(paths.config);
  for (const pid of daemons) signalIfRunning(pid, 'SIGTERM');
  await waitGone(daemons, 10_000);
  // Shims of this containerd outlive it.
  const shims = processesMentioning(paths.socket);
  for (const pid of shims) signalIfRunning(pid, 'SIGKILL');
  await waitGone(shims, 5000);
}
