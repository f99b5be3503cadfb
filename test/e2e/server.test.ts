// The real `skiff server` process with the real kubectl: start, identity, public paths, restart, shutdown.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SKIFF_BIN, startTestServer, type TestServer } from './harness.js';

function runSkiff(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SKIFF_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('skiff server (sqlite)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv?.stop();
  });

  test('kubectl version sees server minor 31 (so the dispatcher runs kubectl 1.31)', async () => {
    const r = await srv.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.serverVersion.major, '1');
    assert.equal(v.serverVersion.minor, '31');
    assert.equal(v.serverVersion.gitVersion, 'v1.31.0+skiff');
    assert.equal(v.clientVersion.minor, '31');
  });

  test('health and version paths answer without a client certificate', async () => {
    for (const path of ['/livez', '/readyz', '/healthz']) {
      assert.deepEqual(await srv.getAnonymous(path), { status: 200, body: 'ok' }, path);
    }
    const verbose = await srv.getAnonymous('/readyz?verbose');
    assert.match(verbose.body, /^\[\+\]ping ok\n\[\+\]log ok\n\[\+\]etcd ok\n[\s\S]*\[\+\]shutdown ok\nreadyz check passed\n$/);
    // system:public-info-viewer names /livez, /readyz, /healthz and /version only: single checks need credentials.
    const ping = await srv.getAnonymous('/livez/ping');
    assert.equal(ping.status, 403);
    assert.equal(JSON.parse(ping.body).message, 'forbidden: User "system:anonymous" cannot get path "/livez/ping"');
    assert.equal((await srv.kubectl(['get', '--raw', '/livez/ping'])).stdout, 'ok');
    const version = await srv.getAnonymous('/version');
    assert.equal(version.status, 200);
    assert.equal(JSON.parse(version.body).minor, '31');
  });

  test('an unauthenticated /api gets a 401 Status', async () => {
    const r = await srv.getAnonymous('/api');
    assert.equal(r.status, 401);
    const s = JSON.parse(r.body);
    assert.equal(s.kind, 'Status');
    assert.equal(s.reason, 'Unauthorized');
    assert.equal(s.code, 401);
  });

  test('the kubeconfig is written with mode 0600 and reaches /metrics as admin', async () => {
    assert.equal((await stat(srv.kubeconfig)).mode & 0o777, 0o600);
    const r = await srv.kubectl(['get', '--raw', '/metrics']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /apiserver_request_total\{/);
  });

  test('skiff kubectl runs the real kubectl with KUBECONFIG passed through', async () => {
    const r = await runSkiff(['kubectl', 'version', '-o', 'json', '--cache-dir', join(srv.dataDir, 'kube-cache')], {
      ...process.env,
      KUBECONFIG: srv.kubeconfig,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).serverVersion.minor, '31');
  });

  test('a restart reuses the CA and the old kubeconfig still works', async () => {
    const caBefore = await readFile(join(srv.dataDir, 'server/tls/ca.crt'), 'utf8');
    const oldKubeconfig = join(srv.dataDir, 'old-kubeconfig.yaml');
    await copyFile(srv.kubeconfig, oldKubeconfig);
    await srv.restart();
    assert.equal(await readFile(join(srv.dataDir, 'server/tls/ca.crt'), 'utf8'), caBefore);
    const r = await srv.kubectl(['version', '-o', 'json'], { kubeconfig: oldKubeconfig });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).serverVersion.minor, '31');
    // A hard kill does not lose the PKI or the store either.
    await srv.kill9();
    await srv.restart();
    assert.equal((await srv.kubectl(['get', '--raw', '/readyz'], { kubeconfig: oldKubeconfig })).stdout, 'ok');
  });
});

test('skiff server becomes ready and exits 0 on SIGTERM', async () => {
  const srv = await startTestServer();
  try {
    // How fast is measured by bench/api.ts (startup), not asserted here: wall time depends on the machine's load.
    assert.match(srv.logs(), /msg="skiff is ready"/);
  } finally {
    const exit = await srv.stop();
    assert.equal(exit.code, 0, srv.logs());
    assert.equal(exit.signal, null);
    assert.ok(exit.ms < 5000, `exit took ${Math.round(exit.ms)}ms`);
    assert.match(srv.logs(), /msg="shutdown complete"/);
  }
});

test('SIGTERM with a kubectl watch open still exits 0 promptly and ends the watch', async () => {
  const srv = await startTestServer();
  let stopped = false;
  try {
    // In-process controllers watch namespaces too: wait for the gauge to rise above their count.
    const namespaceWatches = async (): Promise<number> => {
      const m = await srv.kubectl(['get', '--raw', '/metrics']);
      return Number(/apiserver_longrunning_requests\{verb="WATCH",[^}]*resource="namespaces"[^}]*\} (\d+)/.exec(m.stdout)?.[1] ?? 0);
    };
    // The serviceaccount controller having acted means the in-process informers are watching already.
    for (const until = Date.now() + 15_000; (await srv.kubectl(['-n', 'kube-system', 'get', 'sa', 'default'])).code !== 0; ) {
      assert.ok(Date.now() < until, 'controllers never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await namespaceWatches();
    const watch = srv.kubectl(['get', 'namespaces', '--watch'], { timeoutMs: 20_000 });
    // Wait until the watch is established: the long-running gauge shows it.
    const deadline = Date.now() + 15_000;
    for (;;) {
      if ((await namespaceWatches()) > before) break;
      assert.ok(Date.now() < deadline, 'watch never registered');
      await new Promise((r) => setTimeout(r, 100));
    }
    const exit = await srv.stop();
    stopped = true;
    assert.equal(exit.code, 0, srv.logs());
    assert.ok(exit.ms < 5000, `exit took ${Math.round(exit.ms)}ms`);
    const w = await watch;
    assert.match(w.stdout, /kube-system/);
    assert.doesNotMatch(w.stderr, /timed out after/);
  } finally {
    if (!stopped) await srv.stop();
  }
});

test('bad flags are refused with a message naming the flag', async () => {
  const r = await runSkiff(['server', '--service-cidr', '198.19.0.0'], process.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /invalid --service-cidr "198\.19\.0\.0"/);
});

describe('skiff server (etcd)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ datastore: 'etcd' });
  });
  after(async () => {
    await srv?.stop();
  });

  test('serves with etcd as the datastore and survives a restart', async () => {
    const r = await srv.kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(srv.logs(), /msg="storage opened" backend=etcd/);
    assert.equal((await srv.kubectl(['get', '--raw', '/readyz/etcd'])).stdout, 'ok');
    await srv.restart();
    assert.equal((await srv.kubectl(['get', '--raw', '/livez'])).stdout, 'ok');
  });
});
