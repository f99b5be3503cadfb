// End-to-end harness: runs the real `bin/skiff server` on a free loopback port with a throwaway data dir, and the
// real /usr/bin/kubectl against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startEtcd, type TestEtcd } from '../../src/storage/testing/etcd.js';

// dist/test/e2e/harness.js -> repository root.
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SKIFF_BIN = join(REPO_ROOT, 'bin', 'skiff');
export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Time from the signal to the process exit. */
  ms: number;
}

export interface TestServer {
  url: string;
  port: number;
  kubeconfig: string;
  dataDir: string;
  /** Milliseconds from spawn to /readyz answering 200 on the last (re)start. */
  readyMs: number;
  /** With `agent: true`: the pod range (--cluster-cidr) reserved for this server alone, e.g. 198.18.123.0/24. */
  clusterCidr?: string;
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number; kubeconfig?: string }): Promise<KubectlResult>;
  /** GET a path with the cluster CA trusted but no client credentials. */
  getAnonymous(path: string): Promise<{ status: number; body: string }>;
  /** Everything the server printed so far (for failure messages). */
  logs(): string;
  /** SIGTERM, wait for exit, then remove the data dir (and etcd). Idempotent. */
  stop(): Promise<ExitInfo>;
  /** SIGKILL and wait; the data dir stays so restart() can bring the server back. */
  kill9(): Promise<ExitInfo>;
  /** Stops the server if running (SIGTERM), then starts it again on the same port and data dir. */
  restart(): Promise<void>;
}

export interface TestServerOptions {
  datastore?: 'sqlite' | 'etcd';
  args?: string[];
  readyTimeoutMs?: number;
  /**
   * Run the local node (kubelet on containerd) instead of passing --disable-agent; stop() then runs
   * `skiff killall` on the data dir so no container, containerd or bridge outlives the test.
   */
  agent?: boolean;
  /** Runs on the fresh data dir before the server starts (e.g. archives for <data-dir>/agent/images). */
  prepareDataDir?: (dataDir: string) => Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed test must not leave servers behind.
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function waitExit(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-e2e-'));
  await opts.prepareDataDir?.(dataDir);
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  let etcd: TestEtcd | undefined;
  if (opts.datastore === 'etcd') etcd = await startEtcd();

  let proc: ChildProcess | undefined;
  let output = '';
  let port = 0;
  let url = '';
  let readyMs = 0;
  let removed = false;

  async function launch(): Promise<void> {
    const args = [
      SKIFF_BIN,
      'server',
      '--data-dir',
      dataDir,
      '--bind-address',
      '127.0.0.1',
      '--https-listen-port',
      String(port),
      '--write-kubeconfig',
      kubeconfig,
      ...(opts.agent ? [] : ['--disable-agent']),
      ...(etcd ? ['--datastore-endpoint', etcd.endpoint] : []),
      ...(opts.args ?? []),
    ];
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
    proc = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    let launchOutput = '';
    const ready = new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        launchOutput += d.toString();
        const m = /msg="skiff is ready" url=(https:\/\/\S+)/.exec(launchOutput);
        if (m) resolve(m[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`skiff server exited (code ${code}, signal ${signal}) before ready:\n${output}`)));
    });
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`skiff server not ready after ${timeoutMs}ms:\n${output}`)), timeoutMs);
    });
    try {
      url = await Promise.race([ready, deadline]);
      port = Number(new URL(url).port);
      const ca = await readFile(join(dataDir, 'server', 'tls', 'ca.crt'), 'utf8');
      for (;;) {
        const r = await Promise.race([httpsGet(`${url}/readyz`, ca).catch(() => undefined), deadline]);
        if (r?.status === 200) break;
        await new Promise((res) => setTimeout(res, 25));
      }
      readyMs = performance.now() - t0;
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async function signal(sig: NodeJS.Signals): Promise<ExitInfo> {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return { code: p?.exitCode ?? null, signal: p?.signalCode ?? null, ms: 0 };
    const t0 = performance.now();
    p.kill(sig);
    const killer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    const r = await waitExit(p);
    clearTimeout(killer);
    return { ...r, ms: performance.now() - t0 };
  }

  // Real pods get real routes: servers running at the same time must not share a pod range.
  const hasCidr = (opts.args ?? []).includes('--cluster-cidr');
  const subnet = opts.agent && !hasCidr ? await reservePodSubnet() : undefined;
  const clusterCidr = subnet ? `198.18.${subnet.octet}.0/24` : undefined;
  if (clusterCidr) opts = { ...opts, args: ['--cluster-cidr', clusterCidr, ...(opts.args ?? [])] };

  try {
    await launch();
  } catch (e) {
    await subnet?.release();
    if (opts.agent) await killallDataDir(dataDir);
    await etcd?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }

  const server: TestServer = {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    kubeconfig,
    dataDir,
    get readyMs() {
      return readyMs;
    },
    clusterCidr,
    kubectl(args, kopts = {}) {
      return new Promise((resolve) => {
        const child = spawn(KUBECTL, ['--kubeconfig', kopts.kubeconfig ?? kubeconfig, '--cache-dir', join(dataDir, 'kube-cache'), ...args], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          stderr += `\n[harness] kubectl timed out after ${kopts.timeoutMs ?? 30_000}ms`;
          child.kill('SIGKILL');
        }, kopts.timeoutMs ?? 30_000);
        child.on('error', (err) => {
          clearTimeout(timer);
          resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` });
        });
        child.on('close', (code, sig) => {
          clearTimeout(timer);
          resolve({ code: code ?? (sig === 'SIGKILL' ? 124 : 128), stdout, stderr });
        });
        child.stdin.end(kopts.stdin ?? '');
      });
    },
    async getAnonymous(path) {
      const ca = await readFile(join(dataDir, 'server', 'tls', 'ca.crt'), 'utf8');
      return httpsGet(`${url}${path}`, ca);
    },
    logs: () => output,
    async stop() {
      const r = await signal('SIGTERM');
      if (!removed) {
        removed = true;
        if (opts.agent) await killallDataDir(dataDir);
        await subnet?.release();
        await etcd?.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
      return r;
    },
    kill9: () => signal('SIGKILL'),
    async restart() {
      if (removed) throw new Error('restart after stop(): the data dir is gone');
      await signal('SIGTERM');
      await launch();
    },
  };
  return server;
}

const SUBNET_DIR = join(tmpdir(), 'skiff-e2e-pod-subnets');

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reserves one /24 of 198.18.0.0/16 (third octet 100..249) across concurrently running test processes: mkdir is
 * atomic, and a reservation whose owner process died is taken over.
 */
export async function reservePodSubnet(): Promise<{ octet: number; release(): Promise<void> }> {
  await mkdir(SUBNET_DIR, { recursive: true });
  const start = 100 + (process.pid % 150);
  for (let i = 0; i < 150; i++) {
    const octet = 100 + ((start - 100 + i) % 150);
    const dir = join(SUBNET_DIR, String(octet));
    try {
      await mkdir(dir);
    } catch {
      const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => '0'));
      if (owner && processAlive(owner)) continue;
      if (!owner) continue; // being created right now by another process
    }
    await writeFile(join(dir, 'pid'), String(process.pid));
    return { octet, release: () => rm(dir, { recursive: true, force: true }) };
  }
  throw new Error(`no free pod /24 left in ${SUBNET_DIR}`);
}

/** Runs `skiff ARGS...` to its end; stdout and stderr together. */
export function runSkiff(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SKIFF_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** `skiff killall --data-dir DIR`: removes the pods, containerd and bridge an agent left behind. */
export async function killallDataDir(dataDir: string): Promise<void> {
  await runSkiff(['killall', '--data-dir', dataDir]);
}

/** The admin client credentials (PEM) embedded in a kubeconfig that `skiff server` wrote. */
export interface KubeconfigCredentials {
  ca: string;
  cert: string;
  key: string;
}

export async function kubeconfigCredentials(kubeconfig: string): Promise<KubeconfigCredentials> {
  const doc = parseYaml(await readFile(kubeconfig, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    ca: b64(doc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(doc.users[0].user['client-certificate-data']),
    key: b64(doc.users[0].user['client-key-data']),
  };
}

type Falsy = false | 0 | '' | null | undefined;

/**
 * Polls `check` (every 50 ms) until it returns something truthy, and returns that; fails with `what` (and
 * `context()`, e.g. server logs) after `timeoutMs`. Tests wait with this instead of sleeping.
 */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  context?: () => string,
): Promise<Exclude<T, Falsy>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, Falsy>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `count` nodes report Ready=True (read with kubectl); fails with the server's recent logs. */
export async function waitForReadyNodes(srv: TestServer, count: number): Promise<void> {
  await eventually(`${count} Ready nodes`, async () => {
    const r = await srv.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    return r.code === 0 && r.stdout.trim().split('\n').filter((s) => s === 'True').length === count;
  }, undefined, () => srv.logs().slice(-3000));
}

/**
 * Waits until the namespace's ServiceAccount `name` ("default") exists: ServiceAccount admission refuses pods whose
 * account the serviceaccount controller has not created yet (as upstream's e2e framework waits after creating a
 * namespace).
 */
export async function waitForServiceAccount(srv: Pick<TestServer, 'kubectl' | 'logs'>, namespace: string, name = 'default'): Promise<void> {
  await eventually(`ServiceAccount ${namespace}/${name}`, async () => (await srv.kubectl(['get', 'serviceaccount', name, '-n', namespace, '-o', 'name'])).code === 0, undefined, () => srv.logs().slice(-3000));
}

/** Sum of a Prometheus counter's samples whose labels include all of `labels`, from /metrics text. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const got = Object.fromEntries([...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}
