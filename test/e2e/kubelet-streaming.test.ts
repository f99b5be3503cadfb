// Streaming through the API server with real containers: kubectl exec (-i, -t with a pty, exit codes), attach, run -i
// --rm, port-forward (curl through it) and cp, over WebSocket (v5.channel.k8s.io; SPDY/3.1+portforward.k8s.io tunnelled)
// and over the plain SPDY/3.1 upgrade kubectl falls back to. One agent server is shared by every case; `skiff killall`
// removes what it ran in stop().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { eventually, KUBECTL, REPO_ROOT, SKIFF_BIN, startTestServer, type TestServer } from './harness.js';

const NODE = `e2e-stream-${process.pid}`;
const OLD_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.29';

let server: TestServer;
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (stdin given, killed after `timeoutMs`). */
function runProgram(cmd: string, args: string[], opts: { stdin?: string | Buffer; env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 124, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

const kubectlArgs = (args: string[]): string[] => ['--kubeconfig', server.kubeconfig, ...args];
const kubectl = (args: string[], opts: { stdin?: string; env?: Record<string, string>; bin?: string; cwd?: string } = {}) =>
  runProgram(opts.bin ?? KUBECTL, kubectlArgs(args), opts);
const logs = () => server.logs().slice(-4000);

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { stdin: yaml });
  assert.equal(r.code, 0, r.stderr);
}

async function running(name: string): Promise<void> {
  await eventually(
    `pod ${name} running`,
    async () => {
      const r = await kubectl(['get', 'pod', name, '-o', 'json']);
      return r.code === 0 && (JSON.parse(r.stdout) as Pod).status?.containerStatuses?.[0]?.state?.running !== undefined;
    },
    90_000,
    logs,
  );
}

/** `kubectl port-forward` to a random local port on 127.0.0.1; resolves with the port once kubectl listens. */
function portForward(pod: string, remote: number, env: Record<string, string> = {}): Promise<{ port: number; child: ChildProcess; output: () => string }> {
  const child = spawn(KUBECTL, kubectlArgs(['port-forward', '--address', '127.0.0.1', `pod/${pod}`, `:${remote}`]), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`port-forward did not start: ${out}`));
    }, 60_000);
    const check = () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      assert.equal(m[2], String(remote));
      resolve({ port: Number(m[1]), child, output: () => out });
    };
    child.stdout.on('data', check);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`port-forward exited: ${out}`));
    });
  });
}

async function curl(port: number, path: string): Promise<Run> {
  return runProgram('curl', ['-sS', '--max-time', '20', `http://127.0.0.1:${port}${path}`]);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-stream-'));
  const images = await buildTestImages(join(work, 'images'));
  server = await startTestServer({ agent: true, args: ['--node-name', NODE], readyTimeoutMs: 60_000 });
  await eventually(
    'the agent to start containerd',
    async () => (await runProgram(process.execPath, [SKIFF_BIN, 'images', 'import', '--data-dir', server.dataDir, images.busybox.file])).code === 0,
    60_000,
    logs,
  );
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo hello-from-box > /www/index.html && exec httpd -f -p 8080 -h /www']
`);
  await running('box');
});

after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('kubectl exec -i sends stdin until EOF (v5 close signal) and exits with the command exit code', async () => {
  // tr ends only when its stdin is closed: the output proves stdin arrived and its end was passed on.
  const r = await kubectl(['exec', '-i', 'box', '--', 'sh', '-c', 'tr a-z A-Z; echo to-stderr >&2; exit 3'], { stdin: 'hello stdin\nsecond line\n' });
  assert.equal(r.stdout, 'HELLO STDIN\nSECOND LINE\n');
  assert.match(r.stderr, /to-stderr/);
  assert.match(r.stderr, /command terminated with exit code 3/);
  assert.equal(r.code, 3);
  const big = randomBytes(200_000).toString('base64');
  const sum = await kubectl(['exec', '-i', 'box', '--', 'sh', '-c', 'wc -c'], { stdin: big });
  assert.equal(sum.code, 0, sum.stderr);
  assert.equal(sum.stdout.trim(), String(big.length));
});

test('kubectl exec -it runs on a pty: the terminal size arrives through resize, and the exit code comes back', async () => {
  // `script` gives kubectl a pseudo-terminal of 33 rows and 91 columns. The size reaches the container's terminal
  // through the resize channel just after the command started, so the command waits for it (up to 10 s).
  const wait = 'for i in $(seq 20); do s=$(stty size 2>/dev/null); case "$s" in [1-9]*" "[1-9]*) break;; esac; sleep 0.5; done; echo "size:$s"; tty; exit 5';
  const cmd = [KUBECTL, ...kubectlArgs(['exec', '-it', 'box', '--', 'sh', '-c', wait])].map((a) => `'${a}'`).join(' ');
  const r = await runProgram('script', ['-qec', `stty rows 33 cols 91; ${cmd}`, '/dev/null'], { stdin: '' });
  assert.match(r.stdout, /size:33 91\r?\n/);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.equal(r.code, 5, r.stdout + r.stderr);
});

test('kubectl attach -i reaches the container stdin and output; kubectl run -i --rm attaches and deletes the pod', async () => {
  await apply(`
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'while read l; do echo "got:$l"; done; echo stdin-closed']
`);
  await running('reader');
  const r = await kubectl(['attach', '-i', 'reader'], { stdin: 'first\nsecond\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got:first\ngot:second\nstdin-closed/);

  const run = await kubectl(['run', 'once', '-i', '--rm', '--restart=Never', '--image=busybox', '--image-pull-policy=IfNotPresent', '--', 'sh'], { stdin: 'echo via-run-stdin\nexit 0\n' });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /via-run-stdin/);
  assert.match(run.stdout, /pod "once" deleted/);
  const gone = await kubectl(['get', 'pod', 'once']);
  assert.match(gone.stderr, /NotFound/);
});

test('kubectl port-forward (SPDY tunnelled over WebSocket) carries HTTP to busybox httpd: curl through it', async () => {
  const pf = await portForward('box', 8080);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await curl(pf.port, '/index.html');
      assert.equal(r.code, 0, r.stderr + pf.output());
      assert.equal(r.stdout, 'hello-from-box\n');
    }
    assert.match(pf.output(), /Handling connection for \d+/);
  } finally {
    pf.child.kill('SIGTERM');
  }
});

test('port-forward to a port nothing listens on: the runtime\'s error reaches kubectl through the tunnel', async () => {
  const pf = await portForward('box', 9999);
  try {
    const r = await curl(pf.port, '/');
    assert.notEqual(r.code, 0);
    await eventually('the forwarding error in kubectl output', async () => /error forwarding port 9999/.test(pf.output()), 30_000, pf.output);
    assert.match(pf.output(), /connection refused/);
  } finally {
    pf.child.kill('SIGTERM');
  }
});

test('kubectl cp copies a directory into the pod and back, byte for byte', async () => {
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  const blob = randomBytes(300_000);
  await writeFile(join(src, 'blob.bin'), blob);
  await writeFile(join(src, 'sub', 'note.txt'), 'a note\n');
  // kubectl cp wants relative local paths to avoid "removing leading /" surprises: run it from the work dir.
  const to = await kubectl(['cp', 'src', 'box:/tmp/copied'], { cwd: work });
  assert.equal(to.code, 0, to.stderr);
  const inPod = await kubectl(['exec', 'box', '--', 'sh', '-c', 'wc -c < /tmp/copied/blob.bin; cat /tmp/copied/sub/note.txt']);
  assert.equal(inPod.stdout, `300000\na note\n`);
  const back = await kubectl(['cp', 'box:/tmp/copied', 'back'], { cwd: work });
  assert.equal(back.code, 0, back.stderr);
  const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(hash(await readFile(join(work, 'back', 'blob.bin'))), hash(blob));
  assert.equal(await readFile(join(work, 'back', 'sub', 'note.txt'), 'utf8'), 'a note\n');
});

test('the plain SPDY/3.1 upgrade: exec -i and port-forward with WebSockets turned off, and kubectl 1.29 (SPDY only)', async () => {
  const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
  const r = await kubectl(['exec', '-i', 'box', '--', 'sh', '-c', 'tr a-z A-Z; exit 4'], { stdin: 'over spdy\n', env: spdy });
  assert.equal(r.stdout, 'OVER SPDY\n');
  assert.equal(r.code, 4, r.stderr);
  const old = await kubectl(['exec', '-i', 'box', '--', 'cat'], { stdin: 'old kubectl\n', bin: OLD_KUBECTL });
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, 'old kubectl\n');
  const pf = await portForward('box', 8080, spdy);
  try {
    const c = await curl(pf.port, '/index.html');
    assert.equal(c.code, 0, c.stderr + pf.output());
    assert.equal(c.stdout, 'hello-from-box\n');
  } finally {
    pf.child.kill('SIGTERM');
  }
});
