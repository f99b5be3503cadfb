// Runs containerd for the agent, as k3s does: its own config, root, state and socket under
// <data-dir>/agent/containerd, started with the agent and stopped with it. The packages it needs come from Debian;
// a missing one is named with the command that installs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, type Clock } from '../../client/index.js';
import { CriClient } from '../cri/client.js';
import { registryConfigToml, writeHostsDir, type RegistriesConfig } from '../images/registries.js';

export interface RequiredPackage {
  /** Debian package. */
  pkg: string;
  /** A file the package installs that skiff uses. */
  path: string;
}

/** What the agent needs on the host to run real containers. */
export const AGENT_PACKAGES: readonly RequiredPackage[] = [
  { pkg: 'containerd', path: '/usr/bin/containerd' },
  { pkg: 'containerd', path: '/usr/bin/containerd-shim-runc-v2' },
  { pkg: 'runc', path: '/usr/sbin/runc' },
  { pkg: 'containernetworking-plugins', path: '/usr/lib/cni/bridge' },
  { pkg: 'containernetworking-plugins', path: '/usr/lib/cni/host-local' },
  { pkg: 'containernetworking-plugins', path: '/usr/lib/cni/loopback' },
  { pkg: 'containernetworking-plugins', path: '/usr/lib/cni/portmap' },
  { pkg: 'busybox-static', path: '/bin/busybox' },
];

export const CNI_BIN_DIR = '/usr/lib/cni';

/** Throws an Error naming every missing package and the apt-get command that installs them. */
export function checkAgentPackages(exists: (p: string) => boolean = existsSync): void {
  const missing = [...new Set(AGENT_PACKAGES.filter((r) => !exists(r.path)).map((r) => r.pkg))];
  if (missing.length === 0) return;
  const files = AGENT_PACKAGES.filter((r) => missing.includes(r.pkg)).map((r) => r.path);
  throw new Error(
    `the agent needs the Debian package${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (missing: ${files.join(', ')}); ` +
      `install with: apt-get install -y ${missing.join(' ')}   (or run with --disable-agent)`,
  );
}

export interface ContainerdPaths {
  dir: string;
  config: string;
  root: string;
  state: string;
  socket: string;
  runcRoot: string;
  cniConfDir: string;
  log: string;
  /** hosts.toml per registry (the CRI plugin's registry config_path). */
  certsDir: string;
}

export function containerdPaths(agentDir: string): ContainerdPaths {
  const dir = join(agentDir, 'containerd');
  return {
    dir,
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    runcRoot: join(dir, 'runc'),
    cniConfDir: join(agentDir, 'cni', 'net.d'),
    log: join(dir, 'containerd.log'),
    certsDir: join(dir, 'certs.d'),
  };
}

const tomlString = (s: string) => JSON.stringify(s);

/** containerd 1.6's config (version 2) for the agent; `registries` adds the registry section (config_path, credentials). */
export function containerdConfig(paths: ContainerdPaths, sandboxImage: string, registries: RegistriesConfig = { mirrors: {}, configs: {} }): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by skiff's agent at every start; edits are overwritten.
version = 2
root = ${tomlString(paths.root)}
state = ${tomlString(paths.state)}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${tomlString(paths.socket)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${tomlString(join(paths.dir, 'opt'))}

[${cri}]
  sandbox_image = ${tomlString(sandboxImage)}
  # The machine may lack CAP_SYS_RESOURCE: a negative oom_score_adj would make every sandbox fail to start.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = false

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  Root = ${tomlString(paths.runcRoot)}
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = ${tomlString(CNI_BIN_DIR)}
  conf_dir = ${tomlString(paths.cniConfDir)}
  max_conf_num = 1

${registryConfigToml(registries, paths.certsDir)}`;
}

export interface Containerd {
  socket: string;
  /** The process we run now (a new one after a restart), or undefined when using a runtime that was already running. */
  readonly process?: ChildProcess;
  stop(): Promise<void>;
}

export interface StartContainerdOptions {
  agentDir: string;
  sandboxImage: string;
  /** Private registries (registries.yaml): hosts.toml files and credentials. */
  registries?: RegistriesConfig;
  /** How long to wait for the CRI socket to answer (default 30 s). */
  readyTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Where its exits and failed restarts are reported (default: log). */
  warn?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Start it again when it exits on its own (default true; off for a one-off use such as killall). */
  supervise?: boolean;
}

/** Waits between restarts of a containerd that keeps exiting: 1 s, doubling to 30 s; reset once it ran a minute. */
export const RESTART_BACKOFF = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };
/** How long a stopped containerd gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 10_000;

export interface Launched {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns containerd (`binary`) with the written config and waits until its CRI service answers (or `signal` gives up on it). */
export async function launchContainerd(
  paths: ContainerdPaths,
  log: NodeJS.WritableStream,
  readyTimeoutMs: number,
  signal?: AbortSignal,
  binary = '/usr/bin/containerd',
): Promise<Launched> {
  const child = spawn(binary, ['--config', paths.config], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve((exited = { code, signal })));
    // A process that could not be spawned (EACCES, EAGAIN, ...) reports only this, never 'exit'.
    child.on('error', (err) => {
      if (child.pid !== undefined) return;
      spawnError = err;
      resolve((exited = { code: null, signal: null }));
    });
  });

  const client = new CriClient(paths.socket);
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (spawnError) throw new Error(`containerd could not be run: ${spawnError.message}`, { cause: spawnError });
      if (exited) throw new Error(`containerd exited (code ${exited.code}, signal ${exited.signal}) during start; see ${paths.log}`);
      if (signal?.aborted) throw new Error('containerd start abandoned: stopping');
      try {
        if (existsSync(paths.socket)) {
          await client.version(2000);
          break;
        }
      } catch {
        // not serving yet
      }
      if (Date.now() > deadline) throw new Error(`containerd did not answer on ${paths.socket} within ${readyTimeoutMs} ms; see ${paths.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exit;
    throw err;
  } finally {
    client.close();
  }
  return { child, exit };
}

/** SIGTERM, SIGKILL after STOP_GRACE_MS; resolves once the process is gone. */
async function stopProcess({ child, exit }: Launched, clock: Clock): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = clock.setTimer(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exit;
  timer.cancel();
}

export interface RestartSupervisor {
  /** The process running now (a new one after a restart). */
  readonly current: Launched;
  /** Starts nothing more, waits for a start under way, and stops what runs. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** Starts the process again; gives up (rejects) when `signal` aborts. */
  launch(signal: AbortSignal): Promise<Launched>;
  /** Start it again when it exits on its own (false: only stop() is served). */
  restart: boolean;
  clock?: Clock;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  warn?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * Keeps `first` running: when it exits on its own it is started again after RESTART_BACKOFF's wait, which doubles
 * while starts fail or the restarted process exits within a minute, and goes back to the first step once one ran a
 * minute.
 */
export function superviseRestarts(first: Launched, o: SuperviseOptions): RestartSupervisor {
  const clock = o.clock ?? realClock;
  const stopping = new AbortController();
  let current = first;
  const loop = async (): Promise<void> => {
    let delay = RESTART_BACKOFF.initialMs;
    for (;;) {
      const startedAt = clock.now();
      const how = await current.exit;
      if (stopping.signal.aborted) return;
      if (clock.now() - startedAt >= RESTART_BACKOFF.stableMs) delay = RESTART_BACKOFF.initialMs;
      o.warn?.('containerd: exited, starting it again', { code: how.code, signal: how.signal, inMs: delay });
      // Until a start succeeds: a failed one counts as a run that did not last, so the wait keeps growing.
      for (;;) {
        await clock.sleep(delay, stopping.signal);
        delay = Math.min(delay * 2, RESTART_BACKOFF.maxMs);
        if (stopping.signal.aborted) return;
        try {
          const next = await o.launch(stopping.signal);
          if (stopping.signal.aborted) return await stopProcess(next, clock);
          current = next;
          o.log?.('containerd: running', { pid: next.child.pid });
          break;
        } catch (err) {
          if (stopping.signal.aborted) return;
          o.warn?.('containerd: restart failed', { err: (err as Error).message, inMs: delay });
        }
      }
    }
  };
  const looping = o.restart ? loop() : Promise.resolve();
  return {
    get current() {
      return current;
    },
    async stop() {
      stopping.abort();
      await Promise.all([stopProcess(current, clock), looping]);
    },
  };
}

/**
 * Writes the config, starts containerd and waits until its CRI service answers. It is supervised: when it exits on
 * its own it is started again (with back-off), and the pods' containers, kept by their shims, carry on.
 */
export async function startContainerd(opts: StartContainerdOptions): Promise<Containerd> {
  checkAgentPackages();
  const paths = containerdPaths(opts.agentDir);
  for (const d of [paths.dir, paths.root, paths.state, paths.cniConfDir]) await mkdir(d, { recursive: true });
  const registries = opts.registries ?? { mirrors: {}, configs: {} };
  await writeHostsDir(registries, paths.certsDir);
  await writeFile(paths.config, containerdConfig(paths, opts.sandboxImage, registries));
  const logStream = createWriteStream(paths.log, { flags: 'a' });
  // A process's last output may reach it after stop() ended it.
  logStream.on('error', () => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let first: Launched;
  try {
    first = await launchContainerd(paths, logStream, readyTimeoutMs);
  } catch (err) {
    logStream.end();
    throw err;
  }
  opts.log?.('containerd: running', { pid: first.child.pid, socket: paths.socket });
  const warn = opts.warn ?? opts.log;
  const supervisor = superviseRestarts(first, {
    launch: (signal) => launchContainerd(paths, logStream, readyTimeoutMs, signal),
    restart: opts.supervise !== false,
    ...(opts.log ? { log: opts.log } : {}),
    ...(warn ? { warn: (msg: string, fields?: Record<string, unknown>) => warn(msg, { ...fields, log: paths.log }) } : {}),
  });

  return {
    socket: paths.socket,
    get process() {
      return supervisor.current.child;
    },
    async stop() {
      await supervisor.stop();
      logStream.end();
    },
  };
}

/** A runtime someone else runs (--container-runtime-endpoint): checked, never stopped. */
export async function useExistingRuntime(endpoint: string): Promise<Containerd> {
  const client = new CriClient(endpoint);
  try {
    await client.version(5000);
  } catch (err) {
    throw new Error(`--container-runtime-endpoint ${endpoint}: no CRI runtime answers there (${(err as Error).message})`);
  } finally {
    client.close();
  }
  return { socket: endpoint.replace(/^unix:\/\//, ''), stop: async () => {} };
}
