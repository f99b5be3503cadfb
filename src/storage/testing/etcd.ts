// Starts a throwaway single-member etcd (Debian's /usr/bin/etcd) on free loopback ports, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ETCD_BINARY = '/usr/bin/etcd';

export interface TestEtcd {
  /** Client URL, usable as a datastore endpoint (http://127.0.0.1:PORT). */
  endpoint: string;
  dataDir: string;
  /** Stop etcd and delete its data. */
  stop(): Promise<void>;
  /** SIGKILL etcd and start it again on the same ports and data (clients see a dropped connection). */
  restart(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** etcd answers GET /health with {"health":"true"} once it can serve requests. */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

export async function startEtcd(opts: { timeoutMs?: number } = {}): Promise<TestEtcd> {
  if (!existsSync(ETCD_BINARY)) throw new Error('etcd is not installed: apt-get install etcd-server');
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=test',
    `--data-dir=${join(dataDir, 'data')}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--initial-cluster-state=new',
    '--log-level=error',
  ];
  let proc: ChildProcess | undefined;
  let stderr = '';

  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited(p);
    clearTimeout(timer);
  };
  const stop = async (): Promise<void> => {
    await kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  };
  const launch = async (): Promise<void> => {
    const p = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    p.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    while (!(await healthy(endpoint))) {
      if (p.exitCode !== null || p.signalCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`etcd did not start on ${endpoint}: ${stderr.trim() || 'timed out'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  return {
    endpoint,
    dataDir,
    stop,
    async restart() {
      await kill('SIGKILL');
      await launch();
    },
  };
}
